/**
 * Issue 21, items 9-11: a batch line that cannot be answered (a 10,000-deep "id", an id or a
 * value too large to echo, a line over --max-line) gets its error object and the batch goes on;
 * after the code, every argument is the program's (`--irc`, `--batch`, `--help`, `--version`
 * included), also after `-` and `-c`. Tables for the pure parts, then the command end to end on
 * the runtime running the tests.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { optionPart } from "../../src/cli/argv.ts";
import { KNOWN_OPTIONS } from "../../src/cli/known.ts";
import { BAD_ID_MESSAGE, MAX_ID_CHARS, parseBatchLine, splitLines } from "../../src/cli/batch.ts";
import { parseCliArgs } from "../../src/cli/args.ts";
import { BATCH_LIMITS } from "../../src/options/batch.ts";
import { EXIT } from "../../src/options/exit-codes.ts";
import { cliCommand } from "../helpers/cli-command.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

const deep = (levels: number, leaf = "1") => '{"a":'.repeat(levels) + leaf + "}".repeat(levels);

describe("our options end where the code starts", () => {
  const cases: Array<[string[], string[]]> = [
    [["CODE", "--irc", "--version"], []],
    [["-t", "1", "CODE", "--irc"], ["-t", "1"]],
    [["-t1", "-fjson", "CODE", "--batch"], ["-t1", "-fjson"]],
    [["-Vf", "raw", "CODE", "--help"], ["-Vf", "raw"]],
    [["--timeout=1", "--", "--irc"], ["--timeout=1"]],
    [["-", "--irc"], []],
    [["-c", "CODE", "--irc"], []],
    [["-cCODE", "--batch"], []],
    [["--batch", "--fuel", "1e9"], ["--batch", "--fuel", "1e9"]],
    [["--irc", "--nick", "pybot"], ["--irc", "--nick", "pybot"]],
    // the bot's options are unknown here: their values are skipped, so --irc after them still counts
    [["--nick", "pybot", "--tls", "--irc"], ["--nick", "pybot", "--tls", "--irc"]],
    [["--fuel", "--irc"], ["--fuel", "--irc"]], // --irc is --fuel's value (then refused as a number)
  ];
  for (const [argv, opts] of cases) {
    it(JSON.stringify(argv), () => assert.deepEqual(optionPart(argv, KNOWN_OPTIONS), opts));
  }
  it("--help and --version after the code are the program's even when an option is wrong", async () => {
    assert.deepEqual(await parseCliArgs(["--fule", "1", "--", "x", "--help"]), {
      kind: "error",
      message: "unknown option --fule (did you mean --fuel?)",
    });
    const p = await parseCliArgs(["x", "--version", "--help"]);
    assert.deepEqual(p.kind === "run" && p.options.args, ["--version", "--help"]);
  });
});

describe("batch lines that cannot be answered as given", () => {
  const cases: Array<[string, RegExp]> = [
    [
      `{"id":${deep(10_000)},"code":"1"}`,
      /^"id" must be a string of at most 256 characters, a number or null, got an object$/,
    ],
    [`{"id":[1],"code":"1"}`, /got an array$/],
    [`{"id":true,"code":"1"}`, /got true$/],
    [`{"id":1e400,"code":"1"}`, /got a number$/],
    [`{"id":"${"i".repeat(MAX_ID_CHARS + 1)}","code":"1"}`, /got a string$/],
  ];
  for (const [line, re] of cases) {
    it(`bad id ${line.slice(0, 40)}…`, () => {
      const j = parseBatchLine(line, {});
      assert.equal(j.kind, "bad");
      assert.equal(j.id, null);
      assert.match(j.kind === "bad" ? j.message : "", re);
      assert.ok(JSON.stringify(j).length < 300, "the answer never echoes the value");
    });
  }
  it("ids that are echoed: a short string, a number, null", () => {
    for (
      const [id, want] of [[`"${"i".repeat(MAX_ID_CHARS)}"`, "i".repeat(MAX_ID_CHARS)], ["-2.5", -2.5], ["null", null]]
    ) {
      const j = parseBatchLine(`{"id":${id},"code":"1"}`, {});
      assert.deepEqual([j.kind, j.id], ["run", want]);
    }
    assert.match(BAD_ID_MESSAGE, /^"id" must be/);
  });
  const values: Array<[string, RegExp]> = [
    [`{"id":1,"code":"1","fuel":${deep(10_000)}}`, /^fuel must be a number or a string, got an object$/],
    [`{"id":1,"code":"1","timeout":"${"9".repeat(100_000)}"}`, /^timeout wants seconds from .*, got "9{40}…"$/],
    [`{"id":1,"code":"1","${"k".repeat(100_000)}":${deep(10_000)}}`, /^unknown key "k{40}…"/],
    [`{"id":1,"code":${deep(10_000)}}`, /^"code" must be a string$/],
    [`{"id":1,"code":"1","args":[${deep(10_000)}]}`, /^"args" must be an array of strings$/],
  ];
  for (const [line, re] of values) {
    it(`bad value ${line.slice(0, 40)}…: a short message, the id kept`, () => {
      const j = parseBatchLine(line, {});
      assert.deepEqual([j.kind, j.id], ["bad", 1]);
      const message = j.kind === "bad" ? j.message : "";
      assert.match(message, re);
      assert.ok(message.length < 300, message.slice(0, 300));
    });
  }
  it("a line over the cap is an Error and its bytes are not kept; the next line is whole", async () => {
    const cap = 1024;
    async function* chunks() {
      yield new TextEncoder().encode('"a"\n' + "x".repeat(600));
      for (let i = 0; i < 100; i++) yield new Uint8Array(4096).fill(0x79);
      yield new TextEncoder().encode('y\n"b"\n');
    }
    const got: string[] = [];
    for await (const l of splitLines(chunks(), cap)) got.push(typeof l === "string" ? l : `Error: ${l.message}`);
    assert.deepEqual(got, ['"a"', "Error: line longer than 1024 bytes (--max-line)", '"b"']);
  });
  it("--max-line is a documented option with a default well below 128 MiB", async () => {
    const spec = BATCH_LIMITS.maxLineBytes;
    assert.ok(spec.default <= 16 * 1024 * 1024);
    const p = await parseCliArgs(["--batch", "--max-line", "64k"]);
    assert.deepEqual(p.kind === "run" && p.options.maxLineBytes, 65_536);
    const bad = await parseCliArgs(["--batch", "--max-line", "129M"]);
    assert.match(bad.kind === "error" ? bad.message : "", /^--max-line wants bytes from 1024 to 134217728/);
  });
});

function wasiPy(args: string[], input?: string) {
  const [cmd, argv] = cliCommand(args);
  const r = spawnSync(cmd, argv, {
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r;
}

describe(`items 9-11 end to end on ${isDeno ? "Deno" : "Node"}`, () => {
  it("--batch: a 10,000-deep id and a line over --max-line get their error objects; the batch goes on", () => {
    const input = [
      `{"id":${deep(10_000)},"code":"print(0)"}`,
      JSON.stringify({ id: "long", code: "print(1)", stdin: "s".repeat(100_000) }),
      JSON.stringify({ id: "next", code: "print(2)" }),
    ].join("\n") + "\n";
    const r = wasiPy(["--batch", "--max-line", "64k"], input);
    assert.equal(r.status, EXIT.usage, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.id, l.line, l.error ?? l.stdout]), [
      [null, 1, `${BAD_ID_MESSAGE}, got an object`],
      [null, 2, "line longer than 65536 bytes (--max-line)"],
      ["next", undefined, "2\n"],
    ]);
  });
  it("after the code, --irc --version, --batch and --help are the program's arguments", () => {
    const code = "import sys; print(sys.argv[1:])";
    const a = wasiPy(["-fraw", code, "--irc", "--version"]);
    assert.deepEqual([a.stdout, a.status], ["['--irc', '--version']\n", 0], a.stderr);
    const b = wasiPy(["-fraw", "-", "--batch", "--help"], code);
    assert.deepEqual([b.stdout, b.status], ["['--batch', '--help']\n", 0], b.stderr);
    const c = wasiPy(["-fraw", "-c", code, "--irc"]);
    assert.deepEqual([c.stdout, c.status], ["['--irc']\n", 0], c.stderr);
  });
});

describe("no JSON input elsewhere can blow the stack or echo megabytes", () => {
  it("the bot's config file: 100,000-deep values and megabyte strings give one short line", async () => {
    const { readConfigFile, IrcConfigError } = await import("../../src/irc/config.ts");
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "wasi-py-json-"));
    try {
      const cases: Array<[string, RegExp]> = [
        [`{"nick":${deep(100_000)}}`, /"nick" must be a string$/],
        [`{"channels":[${deep(100_000)}]}`, /"channels" must be a list of strings$/],
        [`{"timeoutSeconds":${deep(100_000)}}`, /timeoutSeconds must be a number/],
        [`[${deep(100_000)}]`, /must be a JSON object$/],
        [`{"timeoutSeconds":"${"9".repeat(1_000_000)}"}`, /wants seconds from .*, got "9{40}…"$/],
      ];
      for (const [text, re] of cases) {
        const path = join(dir, "bot.json");
        writeFileSync(path, text, { mode: 0o600 });
        assert.throws(() => readConfigFile(path), (e: unknown) => {
          assert.ok(e instanceof IrcConfigError, String(e));
          assert.match(e.message, re);
          assert.ok(e.message.length < 300 + path.length, `${e.message.length} characters`);
          return true;
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
