/**
 * Same program, same ending, same fuel, on Node and Deno (issue 11, items 2 and 5). Runs the probe
 * programs (test/helpers/cross-runtime-probe.ts: deep C recursion, host-heavy work) here and, as a
 * child process, on the other runtime (Node runs build/, so under Deno `npx tsc` must have built
 * it), then compares row by row: outcome, fuel, last line of stderr, crash detail. Deno runs both
 * kinds of worker thread it can: node:worker_threads in its own test run, web Workers (the CLI's,
 * SandboxOptions.exitsWhenDone) as Node's child.
 *
 * Recursion CPython guards ends as RecursionError (its C recursion limit fits the stack budget);
 * recursion it does not guard (hash of nested tuples, nested filter iterators) ends when the
 * metered module's stack budget runs out (src/wasm/meter/stack.ts), at the same call on both
 * runtimes, whatever each one's native stack size: `crashed`, with the same fuel and detail.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { probe, PROBE_PROGRAMS } from "../helpers/cross-runtime-probe.ts";
import type { ProbeRow } from "../helpers/cross-runtime-probe.ts";
import { STACK_EXHAUSTED_DETAIL } from "../../src/sandbox/module-shape.ts";

const IS_DENO = "Deno" in globalThis;
/** Rows of recursion CPython does not guard: they must end by the module's stack budget. */
const UNGUARDED = new Set([
  "hash of 300k nested tuples",
  "next() through 200k nested filters",
  "next() through 200k nested maps",
]);

/** The probe's rows from the other runtime, run as a child process. */
function otherRuntime(): Promise<ProbeRow[]> {
  const root = repoRoot();
  const [cmd, args] = IS_DENO
    ? ["node", [join(root, "build/test/helpers/cross-runtime-probe.js")]]
    : [join(root, "node_modules/.bin/deno"), ["run", "-A", join(root, "test/helpers/cross-runtime-probe.ts")]];
  if (IS_DENO && !existsSync(args[0]!)) {
    return Promise.reject(new Error(`${args[0]} is missing: run \`npx tsc -p tsconfig.json\` first`));
  }
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      // Deno as a child runs the CLI's kind of threads (web Workers), Deno running this test the
      // library's (node:worker_threads): both must agree with Node.
      {
        cwd: root,
        env: { ...process.env, WASI_PY_PROBE: "1", WASI_PY_PROBE_DISPOSABLE: IS_DENO ? "0" : "1" },
        timeout: 900_000,
        maxBuffer: 1 << 20,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} probe failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as ProbeRow[]);
      },
    );
  });
}

describe("the same program ends the same way on Node and Deno", () => {
  const here = IS_DENO ? "deno" : "node";
  const there = IS_DENO ? "node" : "deno";
  // One after the other: the machine is shared, and each side already runs one evaluation at a time.
  const rows = probe().then(async (mine) => ({ mine, theirs: await otherRuntime() }));
  rows.catch(() => {}); // reported by each test

  for (const [i, p] of PROBE_PROGRAMS.entries()) {
    it(p.name, async () => {
      const { mine, theirs } = await rows;
      const a = mine[i]!;
      const b = theirs[i]!;
      assert.equal(b.name, a.name);
      const show = (r: ProbeRow) => `${r.outcome}, ${r.fuelUsed} fuel${r.error ? `, ${r.error}` : ""}`;
      const info = `${here}: ${show(a)}; ${there}: ${show(b)}`;
      assert.equal(a.outcome, b.outcome, info);
      assert.equal(a.fuelUsed, b.fuelUsed, info);
      assert.equal(a.error, b.error, info);
      assert.equal(a.detail, b.detail, info);
      if (UNGUARDED.has(p.name)) {
        assert.equal(a.outcome, "crashed", info);
        assert.equal(a.detail, STACK_EXHAUSTED_DETAIL, info);
      } else if (/recursion|nested/.test(p.name)) {
        assert.match(a.error, /^RecursionError|^MemoryError|^SyntaxError/, info);
      }
    });
  }
});
