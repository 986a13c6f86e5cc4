/**
 * The bundle's stand-in for chalk (src/cli/_chalk.ts, issue 26 item 8): every style cmd-ts calls,
 * found by reading cmd-ts's own code, exists and keeps the text; chained styles too. A cmd-ts
 * upgrade that calls a style the stand-in lacks fails here, not on a user's terminal.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import chalk from "../../src/cli/_chalk.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";

/** `chalk.a` and `chalk.a.b` uses in cmd-ts's ES modules, as [a] or [a, b]. */
function stylesCmdTsCalls(): string[][] {
  const dir = join(repoRoot(), "node_modules", "cmd-ts", "dist", "esm");
  const found = new Set<string>();
  const visit = (path: string) => {
    for (const e of readdirSync(path, { withFileTypes: true })) {
      const p = join(path, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith(".js")) {
        for (const m of readFileSync(p, "utf8").matchAll(/\bchalk((?:\.[a-zA-Z]+)+)\s*\(/g)) found.add(m[1]!.slice(1));
      }
    }
  };
  visit(dir);
  return [...found].sort().map((s) => s.split("."));
}

describe("chalk made of picocolors", () => {
  const uses = stylesCmdTsCalls();

  it("finds cmd-ts's uses of chalk", () => {
    assert.ok(uses.length >= 5, `found ${uses.length}`);
    assert.ok(uses.some((u) => u.length === 2), "a chained style (red.bold)");
  });

  for (const path of uses) {
    it(`chalk.${path.join(".")}(text) keeps the text`, () => {
      let f: unknown = chalk;
      for (const name of path) f = (f as Record<string, unknown>)[name];
      assert.equal(typeof f, "function");
      // Off a terminal (as here) picocolors adds nothing; on one it adds only SGR sequences.
      const out = (f as (...t: unknown[]) => string)("some", 42);
      assert.equal(out.replace(/\x1b\[[0-9;]*m/g, ""), "some 42");
    });
  }
});
