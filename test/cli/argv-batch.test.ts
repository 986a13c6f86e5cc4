/**
 * The pure parts of the command's conventions and of batch mode, as tables (argv normalising,
 * "did you mean", batch lines, line splitting), then `wasi-py --batch` end to end on the runtime
 * running the tests.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { editDistance, normaliseArgv, suggestOption } from "../../src/cli/argv.ts";
import { KNOWN_OPTIONS } from "../../src/cli/known.ts";
import { parseBatchLine, splitLines } from "../../src/cli/batch.ts";
import { EXIT } from "../../src/options/exit-codes.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { startBatch } from "../helpers/batch-process.ts";
import { JSON_RESULT_KEYS } from "../helpers/run-result.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";
import { CLI_FUEL_DEFAULT } from "../../src/options/limits.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

describe("argv normalising", () => {
  const cases: Array<[string[], string[], string[]]> = [
    [["-fjson", "x"], ["--format=json", "--", "x"], []],
    [["-t0.5", "-m", "64", "x"], ["--timeout=0.5", "--memory=64", "--", "x"], []],
    [["-Vfraw", "x"], ["--verbose", "--format=raw", "--", "x"], []],
    [["--fuel", "-5", "x"], ["--fuel=-5", "--", "x"], []],
    [["-c", "code", "a", "b c"], ["--", "code"], ["a", "b c"]],
    [["-ccode", "-x"], ["--", "code"], ["-x"]],
    [["code", "--fuel", "1"], ["--", "code"], ["--fuel", "1"]],
    [["--", "-1", "a"], ["--", "-1"], ["a"]],
    [["-", "a"], [], ["a"]],
    [["--batch", "-V"], ["--batch", "--verbose"], []],
    [[], [], []],
  ];
  for (const [argv, cmdArgs, programArgs] of cases) {
    it(`${JSON.stringify(argv)}`, () => {
      assert.deepEqual(normaliseArgv(argv, KNOWN_OPTIONS), { kind: "ok", cmdArgs, programArgs });
    });
  }
  const errors: Array<[string[], RegExp]> = [
    [["--fule", "x"], /^unknown option --fule \(did you mean --fuel\?\)$/],
    [["--formt=json"], /did you mean --format\?/],
    [["--xyzzy"], /^unknown option --xyzzy \(code starting/],
    [["-q"], /^unknown option -q /],
    [["-f"], /^-f needs a value$/],
    [["--memory"], /^--memory needs a value$/],
    [["--memory="], /^--memory needs a value$/],
    [["--batch=1"], /^--batch takes no value$/],
    [["-c"], /^-c needs a value/],
  ];
  for (const [argv, re] of errors) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      const r = normaliseArgv(argv, KNOWN_OPTIONS);
      assert.equal(r.kind, "error");
      assert.match(r.kind === "error" ? r.message : "", re);
    });
  }
  it("did you mean: edit distance and prefixes", () => {
    assert.equal(editDistance("fule", "fuel"), 1); // a swap counts once
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(suggestOption("timout", ["timeout", "fuel"]), "timeout");
    assert.equal(suggestOption("max-out", ["max-output", "max-lines"]), "max-output");
    assert.equal(suggestOption("max", ["max-output", "max-lines"]), undefined);
    assert.equal(suggestOption("zzzzzz", ["fuel"]), undefined);
  });
});

describe("batch lines", () => {
  const defaults = { fuel: 123, timeoutMs: 5000 };
  it("a JSON string is the code", () => {
    assert.deepEqual(parseBatchLine('"1+1"', defaults), {
      kind: "run",
      id: null,
      code: "1+1",
      options: { ...defaults, stdin: "", args: [] },
    });
  });
  it("an object: every key, in the units of the flags", () => {
    const j = parseBatchLine(
      '{"id":"a","code":"x","stdin":"in","args":["p"],"fuel":"1e6","timeout":0.5,"memory":64}',
      defaults,
    );
    assert.deepEqual(j, {
      kind: "run",
      id: "a",
      code: "x",
      options: { fuel: 1_000_000, timeoutMs: 500, memoryMiB: 64, stdin: "in", args: ["p"] },
    });
    const u = parseBatchLine('{"code":"x","fuel":"unlimited","timeout":"2"}', defaults);
    assert.deepEqual(u.kind === "run" && [u.options.fuel, u.options.timeoutMs], [Infinity, 2000]);
  });
  const bad: Array<[string, RegExp, unknown]> = [
    ["not json", /^not JSON/, null],
    ["[1]", /JSON string \(the code\) or an object/, null],
    ["42", /JSON string \(the code\) or an object/, null],
    ['{"id":1}', /"code" must be a string/, 1],
    ['{"id":2,"code":1}', /"code" must be a string/, 2],
    ['{"id":3,"code":"x","cod":1}', /unknown key "cod"/, 3],
    ['{"id":4,"code":"x","stdin":5}', /"stdin" must be a string/, 4],
    ['{"id":5,"code":"x","args":"a"}', /"args" must be an array of strings/, 5],
    ['{"id":6,"code":"x","timeout":0}', /^timeout wants seconds from 0\.001/, 6],
    ['{"id":7,"code":"x","memory":5000}', /^memory wants MiB from 20 to 4096/, 7],
    ['{"id":9,"code":"x","memory":19}', /^memory wants MiB from 20 to 4096, got 19$/, 9],
    ['{"id":8,"code":"x","fuel":true}', /^fuel must be a number or a string/, 8],
  ];
  for (const [line, re, id] of bad) {
    it(`bad line ${line}`, () => {
      const j = parseBatchLine(line, defaults);
      assert.equal(j.kind, "bad");
      assert.equal(j.id, id);
      assert.match(j.kind === "bad" ? j.message : "", re);
    });
  }
  it("lines split across chunks, a last line without newline, bad UTF-8 and over-long lines", async () => {
    async function* chunks() {
      const enc = new TextEncoder();
      yield enc.encode('"a"\n"b');
      yield enc.encode('c"\n');
      yield new Uint8Array([0xff, 0x0a]);
      yield enc.encode("x".repeat(20));
      yield enc.encode("y".repeat(20) + "\nlast");
    }
    const got: Array<string> = [];
    for await (const l of splitLines(chunks(), 30)) got.push(typeof l === "string" ? l : `Error: ${l.message}`);
    assert.deepEqual(got, [
      '"a"',
      '"bc"',
      "Error: line is not valid UTF-8",
      "Error: line longer than 30 bytes (--max-line)",
      "last",
    ]);
  });
});

function batch(input: string, args: string[] = []) {
  const [cmd, argv] = cliCommand(["--batch", ...args]);
  const r = spawnSync(cmd, argv, { input, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
  if (r.error) throw r.error;
  return {
    lines: r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>),
    status: r.status,
    stderr: r.stderr,
  };
}

describe(`wasi-py --batch end to end on ${isDeno ? "Deno" : "Node"}`, () => {
  it("one result per line, in input order, ids echoed, bad lines in place, exit 2", () => {
    const input = [
      JSON.stringify({ id: "slow", code: "import time; time.sleep(1); print('slow')" }),
      JSON.stringify("print(1)"),
      "{oops",
      JSON.stringify({ id: 4, code: "import sys; print(sys.argv, input())", stdin: "hi\n", args: ["a", "b c"] }),
      "",
      JSON.stringify({ id: 5, code: "while True: pass", fuel: 1e7, timeout: 20 }),
      JSON.stringify({ id: 6, code: "x", memory: 1 }),
      JSON.stringify({ id: 7, code: "1/0" }),
    ].join("\n") + "\n";
    const r = batch(input);
    assert.equal(r.status, EXIT.usage, r.stderr);
    assert.deepEqual(r.lines.map((l) => l.id), ["slow", null, null, 4, 5, 6, 7]);
    assert.equal(r.lines[0]!.stdout, "slow\n");
    assert.equal(r.lines[1]!.stdout, "1\n");
    assert.match(String(r.lines[2]!.error), /^not JSON/);
    assert.equal(r.lines[2]!.line, 3);
    assert.equal(r.lines[3]!.stdout, "['-c', 'a', 'b c'] hi\n");
    assert.equal(r.lines[4]!.outcome, "fuel_exhausted");
    assert.deepEqual(r.lines[4]!.limits, { ...DEFAULT_LIMITS, fuel: 1e7, timeoutMs: 20_000 }, "the line's limits");
    assert.deepEqual(r.lines[1]!.limits, { ...DEFAULT_LIMITS, fuel: CLI_FUEL_DEFAULT }, "the command's defaults");
    assert.match(String(r.lines[5]!.error), /memory/);
    assert.equal(r.lines[6]!.outcome, "error");
    assert.deepEqual(Object.keys(r.lines[1]!), ["id", ...JSON_RESULT_KEYS]);
  });
  it("every program in a fresh instance; all good lines exit 0; flags are the defaults", () => {
    const input = [
      "import builtins; builtins.leak = 1; open('/tmp/f', 'w').write('x'); print('set')",
      "import builtins, os; print(hasattr(builtins, 'leak'), os.path.exists('/tmp/f'))",
      "while True: pass",
    ].map((c) => JSON.stringify(c)).join("\n");
    const r = batch(input, ["--fuel", "1e7"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.lines.map((l) => [l.stdout, l.outcome]), [
      ["set\n", "ok"],
      ["False False\n", "ok"],
      ["", "fuel_exhausted"],
    ]);
    for (const l of r.lines) assert.deepEqual(l.limits, { ...DEFAULT_LIMITS, fuel: 1e7 }, "the flags' limits");
  });
  it("answers each line as soon as it is done, before stdin ends (a producer waiting for each answer)", {
    timeout: 120_000,
  }, async () => {
    const b = startBatch();
    try {
      // Before, the answers were held until 2 x workers lines had come or stdin ended: this waited forever.
      const first = await b.run("print(6 * 7)");
      assert.deepEqual([first.stdout, first.outcome], ["42\n", "ok"]);
      const second = await b.run("import sys; print(sys.version_info[:2])");
      assert.equal(second.stdout, "(3, 13)\n");
    } finally {
      assert.equal(await b.end(), 0);
    }
  });
  it("an empty batch: no output, exit 0", () => {
    const r = batch("");
    assert.deepEqual([r.lines, r.status], [[], 0]);
  });
});
