// V8 tuning (src/platform/engine.ts): which V8 versions get the wasm inlining flags (a table), and
// on Node, a process that applies them and runs Python writes no "unrecognized flag" line and
// answers right, on whatever Node runs the tests (Node 24 in CI's smoke run: flags applied).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { takesInliningFlags } from "../../src/platform/engine.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

describe("takesInliningFlags", () => {
  const cases: [string, boolean][] = [
    ["11.3.244.8-node.33", false], // Node 20: no call-indirect inlining flag
    ["12.4.254.21-node.33", false],
    ["13.6.233.17-node.40", true], // Node 24
    ["14.6.202.34-node.34", true], // Node 26
    ["15.0.245.2-rusty", true], // Deno 2.9 (which takes them only on its command line)
    ["16.0.1", false], // unknown: the flags may be gone
    ["", false],
    ["garbage", false],
  ];
  for (const [v8, want] of cases) it(`${v8 || "(empty)"} -> ${want}`, () => assert.equal(takesInliningFlags(v8), want));
});

describe("tuneWasmInlining on this Node", () => {
  it("applies the flags without an error line, and Python runs right after", (t) => {
    const mod = join(repoRoot(), "build", "src", "sandbox", "mod.js");
    if (IS_DENO || !existsSync(mod)) {
      t.skip(IS_DENO ? "Deno takes V8 flags only on its command line (--v8-flags)" : `not built: ${mod}`);
      return;
    }
    const code = `import { Sandbox } from ${JSON.stringify(mod)};
const sb = await Sandbox.create({ workers: 1 });
const r = await sb.run("print(sum(i * i for i in range(10**5)))", { fuel: 1e10 });
process.stdout.write(r.stdout);
await sb.close();`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.stderr, "", `V8 ${process.versions.v8}: nothing on stderr`);
    assert.equal(r.stdout, `${[...Array(10 ** 5).keys()].reduce((s, i) => s + i * i, 0)}\n`);
    assert.equal(r.status, 0);
  });
});
