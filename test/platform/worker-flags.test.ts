// Worker threads never inherit the parent's Node flags that stop a worker from starting (issue 22):
// the pure filter by table, and on Node the case that used to kill the host process.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { workerExecArgv } from "../../src/platform/worker.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

describe("workerExecArgv", () => {
  const cases: [string, string[], string[]][] = [
    ["nothing", [], []],
    ["eval with input type", ["--input-type=module", "-e", "import x from 'y'"], []],
    ["eval value after a separate flag", ["--eval", "--max-old-space-size=1"], []],
    ["print", ["-p", "1+1"], []],
    ["test runner and watch", ["--test", "--watch", "--test-reporter", "dot"], []],
    ["import and require hooks", ["--import", "./hook.mjs", "-r", "x"], []],
    ["memory tuning kept", ["--max-old-space-size=512", "--stack-size=2000"], [
      "--max-old-space-size=512",
      "--stack-size=2000",
    ]],
    ["mixed", ["--expose-gc", "--input-type", "module", "-e", "c"], ["--expose-gc"]],
  ];
  for (const [name, given, kept] of cases) it(name, () => assert.deepEqual(workerExecArgv(given), kept));
});

describe("node --input-type=module -e with Sandbox.run()", () => {
  it("runs the program instead of killing the host process", (t) => {
    const mod = join(repoRoot(), "build", "src", "sandbox", "mod.js");
    if (IS_DENO || !existsSync(mod)) {
      t.skip(IS_DENO ? "execArgv is Node's: Deno's workers take none" : `not built: ${mod}`);
      return;
    }
    const code = `import { Sandbox } from ${JSON.stringify(mod)};
const sb = await Sandbox.create({ workers: 1 });
const r = await sb.run("print(6 * 7)");
await sb.close();
console.log(r.outcome, r.stdout.trim());`;
    const p = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 60_000 });
    assert.equal(p.stderr, "");
    assert.equal(p.stdout, "ok 42\n");
    assert.equal(p.status, 0);
  });
});
