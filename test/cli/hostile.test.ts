/**
 * Hostile input to the wasi-py command, end to end on the runtime running the tests (Node:
 * `node build/cli.js`; Deno: `deno run -A cli.ts`): limits map to their documented exit codes
 * within a wall-time bound, hostile output cannot leave the chosen format (irc: no control
 * characters, bounded lines; json: one parseable object; raw: the cap holds), bad input is one
 * line and exit 2, and nothing of the host (its environment) reaches the program.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { EXIT } from "../../src/options/exit-codes.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { JSON_RESULT_KEYS } from "../helpers/run-result.ts";

const MARKER_NAME = "WASI_PY_HOSTILE_CLI_MARKER";
const MARKER_VALUE = `cli-secret-${Math.random().toString(36).slice(2)}`;

interface Ran {
  stdout: Uint8Array;
  text: string;
  stderr: string;
  status: number | null;
  ms: number;
}

/** Runs wasi-py; `input` undefined: stdin is /dev/null. */
function wasiPy(args: string[], input?: string | Uint8Array): Ran {
  const [cmd, argv] = cliCommand(args);
  const t = performance.now();
  const r = spawnSync(cmd, argv, {
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", [MARKER_NAME]: MARKER_VALUE },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const stdout = new Uint8Array(r.stdout);
  return {
    stdout,
    text: new TextDecoder().decode(stdout),
    stderr: r.stderr.toString("utf8"),
    status: r.status,
    ms: performance.now() - t,
  };
}

const strict = new TextDecoder("utf-8", { fatal: true });
/** Every control character except the newline that ends each IRC message. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const STACK_TRACE = /\n\s+at |node:internal|\.ts:\d+:\d+/;

interface Case {
  name: string;
  args: string[];
  input?: string | Uint8Array;
  status: number;
  /** Wall bound for the whole process (start-up included). */
  maxMs?: number;
  check?: (r: Ran) => void;
}

/** Asserts a usage error: exit 2, exactly one line on stderr naming wasi-py, nothing on stdout, no stack trace. */
function usageError(pattern: RegExp): (r: Ran) => void {
  return (r) => {
    assert.equal(r.text, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^wasi-py: /);
    assert.match(lines[0]!, pattern);
    assert.ok(!STACK_TRACE.test(r.stderr), r.stderr);
  };
}

/** Asserts IRC-format output: at most `maxLines` messages of at most `maxBytes` bytes, whole characters, no controls. */
function ircSafe(maxLines = 2, maxBytes = 400): (r: Ran) => void {
  return (r) => {
    const text = strict.decode(r.stdout); // valid UTF-8: no split character
    const lines = text.replace(/\n$/, "").split("\n");
    assert.ok(lines.length >= 1 && lines.length <= maxLines, text);
    for (const l of lines) {
      assert.ok(new TextEncoder().encode(l).length <= maxBytes, l);
      assert.ok(!CONTROL.test(l), JSON.stringify(l));
    }
  };
}

const CASES: Case[] = [
  {
    name: "fuel bomb: exit 123 and the out-of-fuel line",
    args: ["--fuel", "1e9", "while True: pass"],
    status: EXIT.fuel,
    check: (r) => assert.match(r.text, /^Out of fuel after 1,000,000,000 units\n$/),
  },
  {
    name: "sleeping forever: exit 124 at --timeout",
    args: ["--timeout", "1", "import time\ntime.sleep(10**6)"],
    status: EXIT.timeout,
    check: (r) => {
      assert.match(r.text, /^Timed out after 1 s\n$/);
      assert.ok(r.ms >= 1000, `${r.ms} ms`);
    },
  },
  {
    // Memory that really reaches its limit (the host refused a memory.grow; one request CPython
    // rejects by its size alone, like [0] * 10**9, is an error: outcomes come from host facts).
    name: "memory bomb: exit 122",
    args: ["--memory", "64", "l = []\nwhile True: l.append(bytearray(10**6))"],
    status: EXIT.memory,
    check: (r) => assert.match(r.text, /^Out of memory \(limit 64 MiB\)/),
  },
  {
    name: "one huge request the host refuses: exit 122",
    args: ["b'x' * 10**9"],
    status: EXIT.memory,
    check: (r) =>
      assert.match(r.text, /^MemoryError ⏎ Out of memory \(limit 256 MiB\)|Out of memory \(limit 256 MiB\)/),
  },
  {
    name: "one huge request CPython rejects by its size: exit 1",
    args: ["[0] * 10**9"],
    status: 1,
    check: (r) => assert.match(r.text, /MemoryError/),
  },
  {
    name: "interpreter crash (os.abort): exit 121",
    args: ["import os\nos.abort()"],
    status: EXIT.crashed,
    check: (r) => assert.match(r.text, /^Crashed/),
  },
  {
    name: "injection in irc output: CR/LF/NUL/CTCP/ESC/bidi stay on bounded lines",
    args: ["print('x\\r\\nQUIT :bye\\x00\\x01ACTION hi\\x01\\x1b[2J\\u202e\\u2028' * 40)"],
    status: 0,
    check: (r) => {
      ircSafe()(r);
      assert.match(r.text, /␍ ⏎ QUIT :bye␀␁ACTION hi␁␛\[2J<U\+202E><U\+2028>/);
    },
  },
  {
    name: "invalid UTF-8 via sys.stdout.buffer, irc format",
    args: ["import sys\nn = sys.stdout.buffer.write(bytes(range(256)) * 50)"],
    status: 0,
    check: ircSafe(),
  },
  {
    name: "emoji and combining marks at the cut point, irc format",
    args: ["--max-bytes", "61", "--max-lines", "3", "print('e\\u0301' * 7 + '👩‍👩‍👧‍👦' * 30 + 'ש' * 100)"],
    status: 0,
    check: (r) => {
      ircSafe(3, 61)(r);
      assert.ok(!r.text.includes("\ufffd"));
    },
  },
  {
    name: "json format with hostile output: one parseable line",
    args: [
      "--format",
      "json",
      "import sys\nsys.stdout.buffer.write(b'\\xff\\x00\\r\\n}\"' * 1000)\nprint('\\u2028', file=sys.stderr)",
    ],
    status: 0,
    check: (r) => {
      const lines = strict.decode(r.stdout).trimEnd().split("\n");
      assert.equal(lines.length, 1);
      const o = JSON.parse(lines[0]!) as { stdout: string; stderr: string; outcome: string; exitCode: number };
      assert.deepEqual(Object.keys(o), [...JSON_RESULT_KEYS]);
      assert.ok(o.stdout.startsWith('\ufffd\u0000\r\n}"'));
      assert.equal(o.stderr, "\u2028\n");
    },
  },
  {
    name: "raw format output flood: capped at --max-output, with a note on stderr",
    args: ["--format", "raw", "--max-output", "1k", "print('x' * 10**7)"],
    status: 0,
    check: (r) => {
      assert.equal(r.text, "x".repeat(1024));
      assert.match(r.stderr, /truncated/);
    },
  },
  {
    name: "the host environment is not visible",
    args: ["--format", "raw", "import os\nprint(sorted(os.environ))"],
    status: 0,
    check: (r) => {
      assert.ok(!r.text.includes(MARKER_NAME) && !r.text.includes(MARKER_VALUE));
      assert.ok(!r.text.includes("PATH"), r.text);
    },
  },
  {
    name: "a 1 MB program on stdin",
    args: ["--format", "raw"],
    input: "s = '" + "x".repeat(1_000_000) + "'\nprint(len(s))\n",
    status: 0,
    maxMs: 90_000,
    check: (r) => assert.equal(r.text, "1000000\n"),
  },
  {
    name: "a NUL in the program: usage error",
    args: [],
    input: "print(1)\0print(2)",
    status: EXIT.usage,
    check: usageError(/NUL/),
  },
  {
    name: "program on stdin is not UTF-8: usage error",
    args: [],
    input: new Uint8Array([0x70, 0x72, 0xff, 0x0a]),
    status: EXIT.usage,
    check: usageError(/UTF-8/),
  },
  { name: "negative fuel: usage error", args: ["--fuel", "-1", "1"], status: EXIT.usage, check: usageError(/--fuel/) },
  {
    name: "absurd memory: usage error",
    args: ["--memory", "99999999", "1"],
    status: EXIT.usage,
    check: usageError(/--memory/),
  },
  {
    name: "timeout that is not a number: usage error",
    args: ["--timeout", "soon", "1"],
    status: EXIT.usage,
    check: usageError(/--timeout/),
  },
  {
    name: "output cap beyond its bound: usage error",
    args: ["--max-output", "1T", "1"],
    status: EXIT.usage,
    check: usageError(/--max-output/),
  },
  {
    name: "code that looks like an option after --",
    args: ["--format", "raw", "--", "-1"],
    status: 0,
    check: (r) => assert.equal(r.text, "-1\n"),
  },
  {
    // The exit status is the code's low 8 bits, as native python3 -c gives a shell (issue 11).
    name: "sys.exit(-1) maps to 255 as in a shell, and says 255",
    args: ["import sys\nsys.exit(-1)"],
    status: 255,
    check: (r) => assert.equal(r.text, "Exited with code 255\n"),
  },
  {
    name: "zero fuel",
    args: ["--fuel", "0", "print(1)"],
    status: EXIT.fuel,
    check: (r) => assert.equal(r.text, "Out of fuel after 0 units\n"),
  },
  {
    name: "a one-millisecond timeout",
    args: ["--timeout", "0.001", "print(1)"],
    status: EXIT.timeout,
    check: (r) => assert.equal(r.text, "Timed out after 0.001 s\n"),
  },
  {
    name: "memory below what the interpreter needs: usage error naming the range",
    args: ["--memory", "1", "1"],
    status: EXIT.usage,
    check: usageError(/--memory wants MiB from 20 to 4096, got "1"/),
  },
  {
    name: "memory one MiB below the interpreter's floor: refused the same way",
    args: ["--memory", "19", "1"],
    status: EXIT.usage,
    check: usageError(/--memory wants MiB from 20 to 4096, got "19"/),
  },
];

describe("hostile input to the wasi-py command", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const r = wasiPy(c.args, c.input);
      const info = `${c.name}: status ${r.status}, ${Math.round(r.ms)} ms, stdout ${
        JSON.stringify(r.text.slice(0, 300))
      }, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`;
      assert.equal(r.status, c.status, info);
      assert.ok(r.ms < (c.maxMs ?? 60_000), info);
      assert.ok(!STACK_TRACE.test(r.stderr), info);
      c.check?.(r);
    });
  }

  it("a closed pipe on stdout ends quietly (no stack trace)", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasi-py-pipe-"));
    try {
      const [cmd, argv] = cliCommand(["--format", "raw", "for i in range(10**5): print('x' * 100)"]);
      const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const errFile = join(dir, "err");
      const r = spawnSync("sh", [
        "-c",
        `${[cmd, ...argv].map(quote).join(" ")} 2>${quote(errFile)} | head -c 10 >/dev/null`,
      ], { timeout: 60_000 });
      assert.equal(r.status, 0);
      const err = readFileSync(errFile, "utf8");
      assert.ok(!STACK_TRACE.test(err), err);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
