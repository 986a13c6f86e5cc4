// `wasi-py prog.py [ARG...]` runs the file as python3 does (issue 22): the rule as a table, then end
// to end on the runtime running the tests.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProgramFile } from "../../src/cli/program-file.ts";
import { cliCommand } from "../helpers/cli-command.ts";

describe("isProgramFile", () => {
  const exists = (p: string) => p === "prog.py" || p === "dir/x.py";
  const cases: [string[], string | undefined, boolean][] = [
    [["prog.py"], "prog.py", true],
    [["prog.py", "a", "b"], "prog.py", true],
    [["--fuel", "1e6", "dir/x.py"], "dir/x.py", true],
    [["-c", "prog.py"], "prog.py", false],
    [["-Vc", "prog.py"], "prog.py", false],
    [["missing.py"], "missing.py", false],
    [["prog.pyc"], "prog.pyc", false],
    [["print(1)"], "print(1)", false],
    [[], undefined, false],
  ];
  for (const [argv, code, expected] of cases) {
    it(`${JSON.stringify(argv)} → ${expected}`, () => assert.equal(isProgramFile(argv, code, exists), expected));
  }
});

describe("wasi-py FILE.py", () => {
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-file-"));
  const prog = join(dir, "prog.py");
  writeFileSync(prog, "import sys\nprint('from file', sys.argv[1:])\n");
  const bad = join(dir, "bad.py");
  writeFileSync(bad, new Uint8Array([0x70, 0xff, 0x0a]));
  const run = (args: string[]) => {
    const [cmd, argv] = cliCommand(args);
    return spawnSync(cmd, argv, { encoding: "utf8", timeout: 120_000, input: "" });
  };

  it("runs the file with its arguments", () => {
    const p = run(["-fraw", prog, "a", "b c"]);
    assert.equal(p.stdout, "from file ['a', 'b c']\n", p.stderr);
    assert.equal(p.status, 0);
  });
  it("with -c the argument is code, as for python3", () => {
    const p = run(["-fraw", "-c", prog]);
    assert.match(p.stderr, /SyntaxError/);
    assert.equal(p.status, 1);
  });
  it("a file that is not UTF-8 is a usage error", () => {
    const p = run([bad]);
    assert.match(p.stderr, /bad\.py: not valid UTF-8/);
    assert.equal(p.status, 2);
    rmSync(dir, { recursive: true, force: true });
  });
});
