/**
 * The wasi-py command: argument parsing and rendering as tables, then end to end on the runtime
 * running the tests (Node: `node build/cli.js`; Deno: `deno run -A cli.ts`), with the real sandbox.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { parseCliArgs } from "../../src/cli/args.ts";
import { EXIT } from "../../src/options/exit-codes.ts";
import { exitCodeFor } from "../../src/cli/exit-status.ts";
import { jsonView, rawNotes, renderResult } from "../../src/cli/output.ts";
import type { RunResult } from "../../src/sandbox/result.ts";
import { VERSION } from "../../src/version.ts";
import { CLI_FUEL_DEFAULT } from "../../src/options/limits.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { JSON_RESULT_KEYS, result as finished } from "../helpers/run-result.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** A finished run of 1,000 fuel units in 5 ms (test/helpers/run-result.ts's) with `over` applied. */
function result(over: Partial<RunResult> = {}): RunResult {
  return finished({ fuelUsed: 1000, wallMs: 5, ...over });
}

describe("argument parsing", () => {
  it("defaults", async () => {
    const p = await parseCliArgs(["1+1"]);
    assert.deepEqual(p, {
      kind: "run",
      options: {
        code: "1+1",
        format: "irc",
        fuel: CLI_FUEL_DEFAULT,
        timeoutMs: 10_000,
        memoryMiB: 256,
        maxOutputBytes: 65_536,
        tmpQuotaBytes: 8 * 1024 * 1024,
        maxLines: 2,
        maxBytes: 400,
        maxLineBytes: 8 * 1024 * 1024,
        verbose: false,
        noStdin: false,
        batch: false,
        args: [],
        packages: [],
      },
    });
  });
  it("no code means stdin", async () => {
    const p = await parseCliArgs(["--format", "json"]);
    assert.equal(p.kind, "run");
    assert.equal(p.kind === "run" && p.options.code, undefined);
  });
  const good: Array<[string[], Record<string, unknown>]> = [
    [["--packages", "a.whl", "--packages=b/", "x"], { packages: ["a.whl", "b/"] }],
    [["-f", "raw", "x"], { format: "raw" }],
    [["--format=json", "x"], { format: "json" }],
    [["--fuel", "1e8", "x"], { fuel: 100_000_000 }],
    [["--fuel", "1_000", "x"], { fuel: 1000 }],
    [["--fuel", "unlimited", "x"], { fuel: Infinity }],
    [["--timeout", "0.25", "x"], { timeoutMs: 250 }],
    [["-t", "3", "x"], { timeoutMs: 3000 }],
    [["--memory", "64", "x"], { memoryMiB: 64 }],
    [["--max-output", "1k", "x"], { maxOutputBytes: 1024 }],
    [["--max-output", "2M", "x"], { maxOutputBytes: 2 * 1024 * 1024 }],
    [["--tmp-quota", "64k", "x"], { tmpQuotaBytes: 64 * 1024 }],
    [["--max-lines", "5", "--max-bytes", "100", "x"], { maxLines: 5, maxBytes: 100 }],
    [["-V", "x"], { verbose: true }],
    [["--no-stdin", "x"], { noStdin: true }],
    [["--", "-1"], { code: "-1" }],
    [["--", "--help"], { code: "--help" }],
    [["print('--help')"], { code: "print('--help')" }],
  ];
  for (const [argv, want] of good) {
    it(`accepts ${argv.join(" ")}`, async () => {
      const p = await parseCliArgs(argv);
      assert.equal(p.kind, "run", JSON.stringify(p));
      if (p.kind === "run") {
        for (const [k, v] of Object.entries(want)) assert.deepEqual(p.options[k as keyof typeof p.options], v, k);
      }
    });
  }
  it("help and version", async () => {
    assert.deepEqual(await parseCliArgs(["--help"]), { kind: "help" });
    assert.deepEqual(await parseCliArgs(["-h", "x"]), { kind: "help" });
    assert.deepEqual(await parseCliArgs(["--version"]), { kind: "version" });
  });
  const bad: Array<[string[], RegExp]> = [
    [["--bogus", "x"], /^unknown option --bogus/],
    [["-1"], /^unknown option -1/],
    [["--fule", "1", "x"], /^unknown option --fule \(did you mean --fuel\?\)$/],
    [["--no-stdn", "x"], /^unknown option --no-stdin|^unknown option --no-stdn \(did you mean --no-stdin\?\)$/],
    [["-c"], /^-c needs a value/],
    [["--verbose=1", "x"], /^--verbose takes no value$/],
    [["--fuel"], /^--fuel needs a value$/],
    [["-t"], /^-t needs a value$/],
    [["--fuel=", "x"], /^--fuel needs a value$/],
    [["--fuel", "abc", "x"], /^--fuel wants/],
    [["--fuel", "-5", "x"], /^--fuel wants/],
    [["--fuel", "1.5", "x"], /^--fuel wants/],
    [["--timeout", "0", "x"], /^--timeout wants/],
    [["--timeout", "abc", "x"], /^--timeout wants/],
    [["--timeout", "100000", "x"], /^--timeout wants/],
    [["--memory", "0", "x"], /^--memory wants/],
    [["--memory", "5000", "x"], /^--memory wants/],
    [["--max-output", "1G", "x"], /^--max-output wants/],
    [["--tmp-quota", "2048M", "x"], /^--tmp-quota wants/],
    [["--tmp-quota"], /^--tmp-quota needs a value$/],
    [["--max-lines", "0", "x"], /^--max-lines wants/],
    [["--max-bytes", "10", "x"], /^--max-bytes wants/],
    [["--format", "xml", "x"], /^--format wants one of irc, raw, json/],
    [["--fuel", "1", "--fuel", "2", "x"], /^--fuel given more than once$/],
    [["--timeout", "100000", "x"], /^--timeout wants seconds from 0\.001 to 86400, got "100000"$/],
    [["--max-lines", "101", "x"], /^--max-lines wants a number of messages from 1 to 100, got "101"$/],
  ];
  for (const [argv, re] of bad) {
    it(`rejects ${argv.join(" ")} in one line`, async () => {
      const p = await parseCliArgs(argv);
      assert.equal(p.kind, "error", JSON.stringify(p));
      if (p.kind === "error") {
        assert.match(p.message, re);
        assert.ok(!p.message.includes("\n"));
      }
    });
  }
  it("after the code, everything is the program's (as python3 has it)", async () => {
    const p = await parseCliArgs(["x", "-t", "--fuel", "a b"]);
    assert.equal(p.kind, "run");
    assert.deepEqual(p.kind === "run" && [p.options.code, p.options.args, p.options.timeoutMs], [
      "x",
      ["-t", "--fuel", "a b"],
      10_000,
    ]);
  });
});

describe("exit codes and rendering", () => {
  const cases: Array<[Partial<RunResult>, number]> = [
    [{}, 0],
    [{ exitCode: 1, outcome: "error" }, 1],
    [{ exitCode: 3, outcome: "error" }, 3],
    [{ exitCode: 263, outcome: "error" }, 7],
    [{ exitCode: 130, outcome: "error" }, 130],
    [{ outcome: "output_truncated" }, 0],
    [{ exitCode: -1, outcome: "timeout" }, EXIT.timeout],
    [{ exitCode: -1, outcome: "fuel_exhausted" }, EXIT.fuel],
    [{ exitCode: 1, outcome: "memory_exhausted" }, EXIT.memory],
    [{ exitCode: -1, outcome: "crashed" }, EXIT.crashed],
  ];
  for (const [over, code] of cases) {
    it(`${over.outcome ?? "ok"} exit ${over.exitCode ?? 0} -> ${code}`, () =>
      assert.equal(exitCodeFor(result(over)), code));
  }
  it("codes are distinct", () => {
    const codes = Object.values(EXIT);
    assert.equal(new Set(codes).size, codes.length);
  });
  const shown = { format: "raw" as const, maxLines: 2, maxBytes: 400, verbose: false };
  /** The limits the results below ran under: the notes name these, not the command's options. */
  const ran = { limits: { ...DEFAULT_LIMITS, fuel: 1_000_000, timeoutMs: 2000, memoryMiB: 64, maxOutputBytes: 100 } };
  it("json has exactly the documented keys", () => {
    const text = renderResult(result({ stdout: "x" }), { ...shown, format: "json" }).stdout;
    assert.ok(text.endsWith("\n") && !text.slice(0, -1).includes("\n"));
    assert.deepEqual(Object.keys(JSON.parse(text)), [...JSON_RESULT_KEYS]);
    assert.deepEqual(Object.keys(jsonView(result())), [...JSON_RESULT_KEYS]);
  });
  it("raw passes output through and adds notes for limits only", () => {
    assert.deepEqual(renderResult(result({ stdout: "a\r\n\0", stderr: "e" }), shown), {
      stdout: "a\r\n\0",
      stderr: "e",
    });
    assert.deepEqual(renderResult(result({ stderr: "e", exitCode: 1, outcome: "error" }), shown), {
      stdout: "",
      stderr: "e",
    });
    assert.deepEqual(renderResult(result({ stderr: "e", exitCode: -1, outcome: "timeout", ...ran }), shown), {
      stdout: "",
      stderr: "e\nwasi-py: Timed out after 2 s\n",
    });
    assert.deepEqual(
      rawNotes(result({ outcome: "output_truncated", truncated: { stdout: true, stderr: false }, ...ran }), shown),
      [
        "stdout truncated after 100 bytes (--max-output)",
      ],
    );
    assert.deepEqual(rawNotes(result({ fuelUsed: 500_000, ...ran }), { ...shown, verbose: true }), [
      "Used 500,000 fuel units (50.0%) in 5 ms",
    ]);
  });
  it("irc is one message per line", () => {
    assert.equal(
      renderResult(result({ stdout: "y".repeat(30) }), { ...shown, format: "irc", maxBytes: 20 }).stdout,
      "y".repeat(20) + "\n" + "y".repeat(10) + "\n",
    );
  });
});

// ---- end to end -----------------------------------------------------------------------------

interface Ran {
  stdout: string;
  stderr: string;
  status: number | null;
  ms: number;
}

/** Runs wasi-py; `input` undefined: stdin is /dev/null (not a terminal, empty). */
function wasiPy(args: string[], input?: string | Uint8Array, env: Record<string, string> = {}): Ran {
  const [cmd, argv] = cliCommand(args);
  const t = performance.now();
  const r = spawnSync(cmd, argv, {
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", ...env },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, ms: performance.now() - t };
}

describe(`wasi-py end to end on ${isDeno ? "Deno" : "Node"}`, () => {
  it("evaluates an argument (last-expression rule)", () => {
    const r = wasiPy(["1+1"]);
    assert.deepEqual([r.stdout, r.stderr, r.status], ["2\n", "", 0]);
  });
  it("prints nothing extra when the program prints", () => {
    const r = wasiPy(['print("hi")\n1+1']);
    assert.deepEqual([r.stdout, r.status], ["hi\n", 0]);
  });
  it("reads the program from stdin when no argument is given", () => {
    const r = wasiPy([], "total = sum(range(10))\ntotal\n");
    assert.deepEqual([r.stdout, r.status], ["45\n", 0]);
  });
  it("gives stdin to the program when the code is an argument", () => {
    const r = wasiPy(["int(input()) * 2"], "5\n");
    assert.deepEqual([r.stdout, r.status], ["10\n", 0]);
  });
  it("--no-stdin leaves stdin alone", () => {
    const r = wasiPy(["--no-stdin", "import sys; sys.stdin.read()"], "data\n");
    assert.deepEqual([r.stdout, r.status], ["''\n", 0]);
  });
  it("--no-stdin without code: one line, exit 2", () => {
    const r = wasiPy(["--no-stdin"], "1+1");
    assert.equal(r.status, EXIT.usage);
    assert.match(r.stderr, /^wasi-py: no code given and --no-stdin/);
  });
  it("empty stdin and no argument: an empty program", () => {
    const r = wasiPy([], "");
    assert.deepEqual([r.stdout, r.status], ["(no output)\n", 0]);
  });
  it("code starting with - after --", () => {
    const r = wasiPy(["--", "-1"]);
    assert.deepEqual([r.stdout, r.status], ["-1\n", 0]);
  });
  it("irc format: exit line, traceback on one line, exit status 1", () => {
    const r = wasiPy(["1/0"]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stdout,
      'Exited with code 1 ⏎ Traceback (most recent call last): ⏎   File "<string>", line 1, in <module> ⏎     1/0 ⏎     ~^~ ⏎ ZeroDivisionError: division by zero\n',
    );
  });
  it("irc format: controls made visible", () => {
    const r = wasiPy(['print("a\\x01b\\rc\\x00d\\x1b[1m")']);
    assert.equal(r.stdout, "a␁b␍c␀d␛[1m\n");
  });
  it("irc format: --max-lines and --max-bytes cut with a mark", () => {
    const r = wasiPy(["--max-lines", "1", "--max-bytes", "60", 'print("y" * 500)']);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1);
    assert.ok(new TextEncoder().encode(lines[0]!).length <= 60);
    assert.match(lines[0]!, /^y+… \(output cut, [\d,]+ more bytes\)$/);
  });
  it("raw format: streams untouched, program's exit status", () => {
    const r = wasiPy(["--format", "raw", 'import sys; print("out"); print("err", file=sys.stderr); sys.exit(3)']);
    assert.deepEqual([r.stdout, r.stderr, r.status], ["out\n", "err\n", 3]);
  });
  it("raw format: sys.exit with a message", () => {
    const r = wasiPy(["-f", "raw", 'import sys; sys.exit("fatal: msg")']);
    assert.deepEqual([r.stdout, r.stderr, r.status], ["", "fatal: msg\n", 1]);
  });
  it("json format: exactly the documented keys", () => {
    const r = wasiPy(["--format", "json", 'print("x"); 1/0']);
    assert.equal(r.status, 1);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), [...JSON_RESULT_KEYS]);
    assert.equal(j.stdout, "x\n");
    assert.match(j.stderr, /ZeroDivisionError: division by zero\n$/);
    assert.equal(j.exitCode, 1);
    assert.equal(j.outcome, "error");
    assert.ok(j.fuelUsed > 0);
    assert.deepEqual(j.truncated, { stdout: false, stderr: false });
    assert.deepEqual(j.limits, { ...DEFAULT_LIMITS, fuel: CLI_FUEL_DEFAULT }, "the command's defaults");
  });
  it("json format: the limits given, and unlimited fuel as null", () => {
    const given = ["--fuel", "5e8", "--timeout", "2.5", "--memory", "100", "--max-output", "1k", "--tmp-quota", "2M"];
    const j = JSON.parse(wasiPy([...given, "-f", "json", "print(1)"]).stdout);
    const limits = { fuel: 5e8, timeoutMs: 2500, memoryMiB: 100, maxOutputBytes: 1024, tmpQuotaBytes: 2 * 1024 * 1024 };
    assert.deepEqual(j.limits, { ...limits, tmpMaxFiles: DEFAULT_LIMITS.tmpMaxFiles });
    assert.equal(JSON.parse(wasiPy(["--fuel", "unlimited", "-fjson", "1"]).stdout).limits.fuel, null);
  });
  it("a limit given shows in the summary text (irc, raw and --verbose)", () => {
    assert.equal(wasiPy(["--fuel", "123456789", "while True: pass"]).stdout, "Out of fuel after 123,456,789 units\n");
    const raw = wasiPy(["-f", "raw", "-V", "--fuel", "1e8", "print(1)"]);
    const m = /^wasi-py: Used ([\d,]+) fuel units \((\d+\.\d)%\) in [\d,]+ ms\n$/.exec(raw.stderr);
    assert.ok(m, raw.stderr);
    const fuel = Number(m[1]!.replaceAll(",", ""));
    assert.equal(m[2], ((fuel / 1e8) * 100).toFixed(1), "the share of the budget given");
  });
  it("--fuel: out of fuel has its own line and exit status", () => {
    const r = wasiPy(["--fuel", "300000000", "while True: pass"]);
    assert.equal(r.stdout, "Out of fuel after 300,000,000 units\n");
    assert.equal(r.status, EXIT.fuel);
  });
  it("--timeout: timed out has its own line and exit status", () => {
    const r = wasiPy(["--timeout", "0.5", "--fuel", "unlimited", "while True: pass"]);
    assert.equal(r.stdout, "Timed out after 0.5 s\n");
    assert.equal(r.status, EXIT.timeout);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  });
  it("--memory: out of memory has its own line and exit status", () => {
    // Memory that really reaches its limit (a single 200 MiB request is an error: issue 11).
    const r = wasiPy(["--memory", "64", "l = []\nwhile True: l.append(bytearray(10**6))"]);
    assert.match(r.stdout, /^Out of memory \(limit 64 MiB\)/);
    assert.equal(r.status, EXIT.memory);
  });
  it("--max-output: output truncated, said so in json", () => {
    const r = wasiPy(["--max-output", "10", "-f", "json", 'print("x" * 100)']);
    const j = JSON.parse(r.stdout);
    assert.equal(j.stdout, "x".repeat(10));
    assert.equal(j.outcome, "output_truncated");
    assert.deepEqual(j.truncated, { stdout: true, stderr: false });
    assert.equal(r.status, 0);
  });
  it("--tmp-quota: writing past it fails in the program with ENOSPC", () => {
    const code = "with open('/tmp/f', 'wb') as f: f.write(b'x' * 5000)\nimport os; os.path.getsize('/tmp/f')";
    const small = wasiPy(["--tmp-quota", "4k", "-f", "json", code]);
    const j = JSON.parse(small.stdout);
    assert.equal(j.exitCode, 1);
    assert.match(j.stderr, /OSError: \[Errno \d+\] No space left on device\n$/);
    const roomy = wasiPy(["--tmp-quota", "8k", code]);
    assert.equal(roomy.stdout, "5000\n");
  });
  it("--verbose: fuel and time", () => {
    const r = wasiPy(["--verbose", "1+1"]);
    assert.match(r.stdout, /^Used [\d,]+ fuel units \((<0\.1|\d+\.\d)%\) in [\d,]+ ms ⏎ 2\n$/);
  });
  it("--version: wasi-py and CPython", () => {
    const r = wasiPy(["--version"]);
    assert.equal(r.stdout, `wasi-py ${VERSION}\nCPython 3.13.15 (wasm32-wasi)\n`);
    assert.equal(r.status, 0);
  });
  it("--help: usage, options, exit codes, examples", () => {
    const r = wasiPy(["--help"]);
    assert.equal(r.status, 0);
    for (
      const s of [
        "Usage",
        "--format",
        "--fuel",
        "--timeout",
        "--memory",
        "--max-output",
        "--max-lines",
        "--max-bytes",
        "Exit status",
        "Examples",
      ]
    ) {
      assert.ok(r.stdout.includes(s), s);
    }
    assert.ok(!r.stdout.includes("\x1b["), "no colour when stdout is not a terminal");
  });
  const usage: string[][] = [
    ["--bogus", "1"],
    ["--fuel", "abc", "1"],
    ["--fuel"],
    ["--format", "xml", "1"],
    ["--timeout", "0", "1"],
  ];
  for (const args of usage) {
    it(`usage error ${JSON.stringify(args)}: one line, exit 2`, () => {
      const r = wasiPy(args);
      assert.equal(r.status, EXIT.usage);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^wasi-py: [^\n]+\n$/);
    });
  }
  it("code on stdin that is not UTF-8: one line, exit 2", () => {
    const r = wasiPy([], new Uint8Array([0x31, 0xff, 0x0a]));
    assert.equal(r.status, EXIT.usage);
    assert.match(r.stderr, /^wasi-py: the code on stdin is not valid UTF-8/);
  });
  it("a limit the sandbox refuses: one line, exit 2", () => {
    const r = wasiPy(["--memory", "1", "1"]);
    assert.equal(r.status, EXIT.usage);
    assert.match(r.stderr, /^wasi-py: [^\n]*memory[^\n]*\n$/);
  });
});

describe("terminal behaviour (through script(1), which gives wasi-py a pseudo-terminal)", () => {
  const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
  const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const inTerminal = (args: string[], env: Record<string, string>) => {
    const [cmd, argv] = cliCommand(args);
    return spawnSync("script", ["-qec", [cmd, ...argv].map(shellQuote).join(" "), "/dev/null"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  };
  it("colours errors on a terminal, not with NO_COLOR", {
    skip: hasScript ? false : "script(1) is not installed (util-linux)",
  }, () => {
    const coloured = inTerminal(["--bogus"], { NO_COLOR: "" });
    assert.equal(coloured.status, EXIT.usage);
    assert.ok(coloured.stdout.includes("\x1b["), JSON.stringify(coloured.stdout));
    const plain = inTerminal(["--bogus"], { NO_COLOR: "1" });
    assert.equal(plain.status, EXIT.usage);
    assert.ok(!plain.stdout.includes("\x1b["), JSON.stringify(plain.stdout));
    assert.match(plain.stdout, /wasi-py: unknown option --bogus/);
  });
  it("no code and stdin a terminal: a usage error, not a hang", {
    skip: hasScript ? false : "script(1) is not installed (util-linux)",
  }, () => {
    const r = inTerminal([], { NO_COLOR: "1" });
    assert.equal(r.status, EXIT.usage);
    assert.match(r.stdout, /no code given/);
  });
});
