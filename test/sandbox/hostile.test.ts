/**
 * Hostile programs against the sandbox: each attempt must be contained, classified as a user would
 * expect, end within a generous wall-time bound, and leave the sandbox serving: the evaluation
 * right after it (on the same Sandbox) must still print 42.
 *
 * One table, one loop. The cases run on one shared Sandbox with two workers, two at a time (each
 * followed by its `print(6*7)` check); every `it` then asserts on its own case's results.
 * Fuel figures are never hard-coded: the interpreter build may change how much a program costs.
 * Set WASI_PY_HOSTILE_TABLE=1 to print the table of outcomes and wall times after the run.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GUEST_ENV, Sandbox, STACK_EXHAUSTED_DETAIL } from "../../src/sandbox/mod.ts";
import type { Outcome, RunOptions, RunResult } from "../../src/sandbox/mod.ts";
import { DEFAULT_LIMITS } from "../../src/limits/mod.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

/** A value the host process has in its environment; the guest must never see it. */
const MARKER_NAME = "WASI_PY_HOSTILE_MARKER";
const MARKER_VALUE = `host-secret-${Math.random().toString(36).slice(2)}`;
process.env[MARKER_NAME] = MARKER_VALUE;
/** A file that certainly exists on the host: this test itself. */
const HOST_FILE = fileURLToPath((import.meta as unknown as { url: string }).url); // typed: Deno checks with lib ES2023

interface Case {
  name: string;
  code: string;
  opts?: RunOptions;
  /** The outcome a user would expect. */
  outcome: Outcome;
  /** Matched against the last non-empty line of stderr (the exception, for `error`). */
  err?: RegExp;
  /** Exact stdout, or a pattern. */
  stdout?: string | RegExp;
  /** Upper bound on wallMs (generous: the machine is shared). Default 30 s. */
  maxWallMs?: number;
  /** Lower bound on wallMs (timeouts must not end early). */
  minWallMs?: number;
  /** Anything else to assert. */
  check?: (r: RunResult) => void;
}

const FUEL_BOUND = 120_000; // default fuel (1e9 units) takes about a second; allow a busy machine
/** The wall clock of a fuel case: far beyond what 1e9 fuel takes even on a loaded 2-core machine. */
const FUEL_CASE_TIMEOUT_MS = 120_000;
const BIG_FUEL = { fuel: 100_000_000_000, timeoutMs: 90_000 };
const errLine = (s: string) => s.trimEnd().split("\n").pop() ?? "";
const onlyReplacementChars = (s: string) => /^\uFFFD+$/.test(s);

const CASES: Case[] = [
  // ---- endless computation: fuel ----
  { name: "while True: pass", code: "while True: pass", outcome: "fuel_exhausted" },
  { name: "for over an endless iterator", code: "for _ in iter(int, 1): pass", outcome: "fuel_exhausted" },
  { name: "itertools.count", code: "import itertools\nfor _ in itertools.count(): pass", outcome: "fuel_exhausted" },
  {
    name: "endless generator",
    code: "def g():\n    while True:\n        yield 1\nfor x in g(): pass",
    outcome: "fuel_exhausted",
  },
  {
    name: "recursion caught in a loop",
    code:
      "def f():\n    while True:\n        try:\n            f()\n        except RecursionError:\n            pass\nf()",
    outcome: "fuel_exhausted",
  },
  {
    name: "exceptions raised and caught forever",
    code: "while True:\n    try:\n        1/0\n    except ZeroDivisionError:\n        pass",
    outcome: "fuel_exhausted",
  },
  {
    name: "regex catastrophic backtracking",
    code: "import re\nre.match(r'(a+)+$', 'a' * 40 + 'b')",
    outcome: "fuel_exhausted",
  },
  { name: "sum(range(10**12))", code: "sum(range(10**12))", outcome: "fuel_exhausted" },
  { name: "power tower 9**9**9", code: "9**9**9", outcome: "fuel_exhausted" },
  { name: "2**(2**33)", code: "x = 2**(2**33)", outcome: "fuel_exhausted" },
  { name: "doubling an int forever", code: "x = 1\nwhile x: x *= 2", outcome: "fuel_exhausted" },
  {
    name: "str(10**1000000): CPython's int max str digits limit",
    code: "str(10**1000000)",
    opts: BIG_FUEL,
    outcome: "error",
    err: /^ValueError: Exceeds the limit \(4300 digits\) for integer string conversion/,
    maxWallMs: 90_000,
  },
  {
    name: "int() of a 5000-digit string",
    code: "int('9' * 5000)",
    outcome: "error",
    err: /^ValueError: Exceeds the limit \(4300 digits\)/,
  },
  {
    name: "threading.Event().wait() with no other thread spins on fuel",
    code: "import threading\nthreading.Event().wait()",
    outcome: "fuel_exhausted",
  },
  { name: "time.sleep(0) in a loop", code: "import time\nwhile True: time.sleep(0)", outcome: "fuel_exhausted" },
  {
    name: "sys.setrecursionlimit(10**6) then recursion: fuel runs out first",
    code: "import sys\nsys.setrecursionlimit(10**6)\ndef f(n): return f(n + 1)\nf(0)",
    outcome: "fuel_exhausted",
  },

  // ---- wall clock: timeout ----
  {
    name: "busy loop with unlimited fuel",
    code: "print('started', flush=True)\nwhile True: pass",
    opts: { fuel: Infinity, timeoutMs: 1500 },
    outcome: "timeout",
    stdout: "started\n",
    minWallMs: 1400,
    maxWallMs: 20_000,
  },
  {
    name: "time.sleep(10**6)",
    code: "import time\ntime.sleep(10**6)",
    opts: { timeoutMs: 1500 },
    outcome: "timeout",
    minWallMs: 1400,
    maxWallMs: 20_000,
  },
  {
    name: "select() with a huge timeout",
    code: "import select\nselect.select([], [], [], 10**6)",
    opts: { timeoutMs: 1500 },
    outcome: "timeout",
    minWallMs: 1400,
    maxWallMs: 20_000,
  },
  {
    name: "fuel-free host work (os.urandom) in a loop",
    code: "import os\nwhile True: os.urandom(10**7)",
    opts: { fuel: Infinity, timeoutMs: 1500 },
    outcome: "timeout",
    minWallMs: 1400,
    maxWallMs: 20_000,
  },

  // ---- memory bombs ----
  // Outcomes come from host facts only (issue 11): memory_exhausted means the host refused a
  // memory.grow (the module counts refusals in wasi_py_grow_refused) and the program then failed.
  // A request CPython rejects by its size before asking the allocator ([0]*10**9: more than
  // PY_SSIZE_T_MAX bytes of pointers; 2**31-1 bytes: beyond what wasm32's sbrk tries) reaches no
  // memory.grow: the program's own error.
  { name: "[0]*10**9", code: "[0] * 10**9", outcome: "error", err: /^MemoryError$/ },
  { name: "b'x'*10**9", code: "b'x' * 10**9", outcome: "memory_exhausted", err: /^MemoryError$/ },
  { name: "'x'*2**30", code: "'x' * 2**30", outcome: "memory_exhausted", err: /^MemoryError$/ },
  { name: "bytearray(2**31-1)", code: "bytearray(2**31 - 1)", outcome: "error", err: /^MemoryError$/ },
  {
    name: "a refused growth caught, then success",
    code: "try:\n    b'x' * 10**9\nexcept MemoryError:\n    print('caught')",
    outcome: "ok",
    stdout: "caught\n",
  },
  { name: "bytearray(10**10) does not fit wasm32", code: "bytearray(10**10)", outcome: "error", err: /^OverflowError/ },
  {
    name: "list of megabyte strings",
    code: "l = []\nwhile True: l.append('x' * 10**6)",
    opts: { memoryMiB: 64 },
    outcome: "memory_exhausted",
  },
  {
    // Each += copies into a new buffer: the last copy asks for more than is left, refused.
    name: "growing bytearray",
    code: "x = bytearray()\nwhile True: x += b'x' * 10**6",
    opts: { memoryMiB: 64 },
    outcome: "memory_exhausted",
    err: /^MemoryError$/,
  },
  {
    name: "dict growth",
    code: "d = {}\ni = 0\nwhile True:\n    d[i] = i\n    i += 1",
    opts: { memoryMiB: 32 },
    outcome: "memory_exhausted",
  },
  {
    // The failing table doubling leaves a gap below the limit, but its growth was refused.
    name: "set growth",
    code: "s = set()\ni = 0\nwhile True:\n    s.add(i)\n    i += 1",
    opts: { memoryMiB: 32 },
    outcome: "memory_exhausted",
    err: /^MemoryError$/,
  },
  {
    name: "deep nesting x = [x] forever",
    code: "x = None\nwhile True: x = [x]",
    opts: { memoryMiB: 32, fuel: 20_000_000_000 },
    outcome: "memory_exhausted",
    maxWallMs: 60_000,
  },

  // ---- output floods ----
  {
    name: "stdout flood in a loop",
    code: "import sys\nwhile True: sys.stdout.write('x' * 10000)",
    outcome: "fuel_exhausted",
    check: (r) => {
      assert.equal(r.truncated.stdout, true);
      assert.equal(r.stdout.length, DEFAULT_LIMITS.maxOutputBytes);
    },
  },
  {
    name: "stderr flood in a loop",
    code: "import sys\nwhile True: sys.stderr.write('e' * 10000)",
    outcome: "fuel_exhausted",
    check: (r) => {
      assert.equal(r.truncated.stderr, true);
      assert.equal(r.stderr.length, DEFAULT_LIMITS.maxOutputBytes);
    },
  },
  {
    name: "one huge line",
    code: "print('y' * 10**7)\nprint('after', file=__import__('sys').stderr)",
    outcome: "output_truncated",
    check: (r) => {
      assert.equal(r.stdout, "y".repeat(DEFAULT_LIMITS.maxOutputBytes));
      assert.equal(r.stderr, "after\n", "the program kept running");
    },
  },
  {
    name: "many short lines",
    code: "for i in range(30000): print(i)",
    outcome: "output_truncated",
    check: (r) => {
      assert.ok(r.stdout.startsWith("0\n1\n2\n"));
      assert.equal(r.stdout.length, DEFAULT_LIMITS.maxOutputBytes);
    },
  },
  {
    name: "invalid UTF-8 flood via sys.stdout.buffer",
    code: "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\xc3' * 100000)",
    outcome: "output_truncated",
    check: (r) => assert.ok(onlyReplacementChars(r.stdout), "every invalid byte is U+FFFD"),
  },
  {
    name: "a multi-byte character cut at the output cap",
    code: "import os\nos.write(1, b'\\xe2\\x82' * 50000)",
    outcome: "output_truncated",
    check: (r) => assert.ok(onlyReplacementChars(r.stdout)),
  },
  {
    name: "every byte value",
    code: "import sys\nn = sys.stdout.buffer.write(bytes(range(128)))",
    outcome: "ok",
    check: (r) => assert.equal(r.stdout, String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i))),
  },
  { name: "maxOutputBytes 0", code: "print(1)", opts: { maxOutputBytes: 0 }, outcome: "output_truncated", stdout: "" },

  // ---- escapes ----
  {
    name: "read /etc/passwd",
    code: "open('/etc/passwd').read()",
    outcome: "error",
    err: /^FileNotFoundError: .*'\/etc\/passwd'$/,
  },
  {
    name: "read this test file by its host path",
    code: `open(${JSON.stringify(HOST_FILE)}).read()`,
    outcome: "error",
    err: /^FileNotFoundError/,
  },
  {
    name: "read /proc/self/environ",
    code: "open('/proc/self/environ').read()",
    outcome: "error",
    err: /^FileNotFoundError/,
  },
  {
    name: "traverse out of /tmp",
    code: "open('/tmp/../../etc/passwd').read()",
    outcome: "error",
    err: /^FileNotFoundError/,
  },
  {
    name: "os.listdir('/')",
    code: "import os\nprint(sorted(os.listdir('/')), sorted(os.listdir('/tmp/../..')))",
    outcome: "ok",
    stdout: "['home', 'tmp', 'usr'] ['home', 'tmp', 'usr']\n",
  },
  {
    name: "host environment variables",
    code: "import os\nfor k, v in sorted(os.environ.items()): print(k + '=' + v)",
    outcome: "ok",
    check: (r) => {
      assert.ok(
        !r.stdout.includes(MARKER_NAME) && !r.stdout.includes(MARKER_VALUE),
        "the host's marker variable leaked",
      );
      assert.deepEqual(r.stdout.trimEnd().split("\n"), [...GUEST_ENV].sort());
    },
  },
  {
    name: "write outside /tmp",
    code: "open('/x', 'w')",
    outcome: "error",
    err: /^OSError: \[Errno \d+\] Read-only file system: '\/x'$/,
  },
  {
    name: "write into the stdlib via /tmp/..",
    code: "open('/tmp/../usr/evil.py', 'w')",
    outcome: "error",
    err: /Read-only file system/,
  },
  {
    name: "symlink to a host path",
    code: "import os\nos.symlink('/etc/passwd', '/tmp/l')",
    outcome: "error",
    err: /^PermissionError: .*Operation not permitted/,
  },
  {
    name: "fill /tmp with one file",
    code: "f = open('/tmp/x', 'wb')\nwhile True: f.write(b'x' * 2**20)",
    outcome: "error",
    err: /^OSError: \[Errno \d+\] No space left on device$/,
  },
  {
    name: "fill /tmp with files",
    code: "for i in range(10**6): open(f'/tmp/f{i}', 'w')",
    outcome: "error",
    err: /^OSError: .*No space left on device/,
  },
  {
    name: "sparse file far past the quota",
    code: "f = open('/tmp/x', 'wb')\nf.seek(10**12)\nf.write(b'x')\nf.close()",
    outcome: "error",
    err: /No space left on device/,
  },
  {
    name: "truncate to a terabyte",
    code: "import os\nopen('/tmp/x', 'w').close()\nos.truncate('/tmp/x', 2**40)",
    outcome: "error",
    err: /No space left on device/,
  },
  {
    name: "file descriptor exhaustion",
    code: "import os\nfor i in range(10**5): os.open('/usr/local/lib/python3.13/os.py', os.O_RDONLY)",
    outcome: "error",
    err: /^OSError: \[Errno 24\] Too many open files/,
  },
  {
    name: "deep directory tree",
    code: "import os\nos.makedirs('/tmp' + '/a' * 3000)",
    outcome: "error",
    err: /^(RecursionError|OSError)/,
  },
  {
    name: "import ctypes",
    code: "import ctypes",
    outcome: "error",
    err: /^ModuleNotFoundError: No module named '_ctypes'$/,
  },
  {
    name: "import _socket is harmless, socket() is not supported",
    code: "import _socket, socket\nsocket.socket()",
    outcome: "error",
    err: /^OSError: \[Errno 95\] Operation not supported$/,
  },
  {
    name: "connect to the host's loopback",
    code: "import socket\nsocket.create_connection(('127.0.0.1', 22))",
    outcome: "error",
    err: /^AttributeError: module '_socket' has no attribute 'getaddrinfo'$/,
  },
  {
    name: "subprocess",
    code: "import subprocess\nsubprocess.run(['ls'])",
    outcome: "error",
    err: /^OSError: .*wasi does not support processes/,
  },
  {
    name: "os.system",
    code: "import os\nos.system('ls')",
    outcome: "error",
    err: /^AttributeError: module 'os' has no attribute 'system'$/,
  },
  {
    name: "threads",
    code: "import threading\nt = threading.Thread(target=print)\nt.start()",
    outcome: "error",
    err: /^RuntimeError: can't start new thread$/,
  },
  {
    name: "os.fork",
    code: "import os\nos.fork()",
    outcome: "error",
    err: /^AttributeError: module 'os' has no attribute 'fork'$/,
  },
  {
    name: "os.kill",
    code: "import os\nos.kill(os.getpid(), 9)",
    outcome: "error",
    err: /^AttributeError: module 'os' has no attribute 'kill'$/,
  },
  {
    name: "signal.alarm",
    code: "import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)\nsignal.alarm(1)",
    outcome: "error",
    err: /^AttributeError: module 'signal' has no attribute 'alarm'$/,
  },
  {
    name: "multiprocessing",
    code: "import multiprocessing\nmultiprocessing.Pool(2)",
    outcome: "error",
    err: /^AttributeError/,
  },
  {
    name: "poisoning builtins and sys.modules stays in this run",
    code: "import builtins, sys\nbuiltins.print = None\nsys.modules['os'] = None",
    outcome: "ok",
  },

  // ---- interpreter crashes ----
  {
    // Recursion CPython does not guard ends at the module's stack budget, the same call everywhere.
    name: "C stack overflow: a chain of 200k filters",
    code: "it = iter([1])\nfor i in range(2 * 10**5): it = filter(None, it)\nprint(next(it))",
    opts: BIG_FUEL,
    outcome: "crashed",
    check: (r) => assert.equal(r.detail, STACK_EXHAUSTED_DETAIL),
    maxWallMs: 90_000,
  },
  {
    name: "C stack overflow: hash of 300k nested tuples",
    code: "x = ()\nfor i in range(3 * 10**5): x = (x,)\nhash(x)",
    opts: BIG_FUEL,
    outcome: "crashed",
    check: (r) => assert.equal(r.detail, STACK_EXHAUSTED_DETAIL),
    maxWallMs: 90_000,
  },
  {
    name: "repr of 100k nested lists",
    code: "x = []\nfor i in range(10**5): x = [x]\nprint(x)",
    outcome: "error",
    err: /^RecursionError/,
  },
  {
    name: "repr of nested lists after sys.setrecursionlimit(10**6)",
    code: "import sys\nsys.setrecursionlimit(10**6)\nx = []\nfor i in range(10**5): x = [x]\nprint(x)",
    outcome: "error",
    err: /^RecursionError/,
  },
  {
    name: "json.dumps of nested lists",
    code: "import json\nx = []\nfor i in range(10**5): x = [x]\njson.dumps(x)",
    outcome: "error",
    err: /^RecursionError/,
  },
  {
    name: "eval of deeply nested brackets",
    code: "eval('[' * 100000 + ']' * 100000)",
    outcome: "error",
    err: /^MemoryError: Parser stack overflowed - Python source too complex to parse$/,
  },
  {
    name: "eval of a very long sum",
    code: "eval('1' + '+1' * 100000)",
    opts: BIG_FUEL,
    outcome: "error",
    err: /^RecursionError: maximum recursion depth exceeded during compilation$/,
    maxWallMs: 90_000,
  },
  {
    name: "corrupt bytecode",
    code: "f = lambda: 0\nf.__code__ = f.__code__.replace(co_code=b'\\xff\\x00' * 8)\nf()",
    outcome: "error",
    err: /^SystemError: .*unknown opcode/,
  },
  { name: "os.abort()", code: "import os\nos.abort()", outcome: "crashed" },
  {
    name: "segfault via faulthandler",
    code: "import faulthandler\nfaulthandler._sigsegv()",
    outcome: "crashed",
    err: /Segmentation fault/,
  },
  {
    name: "raise_signal(SIGTERM)",
    code: "import signal\nsignal.raise_signal(signal.SIGTERM)",
    outcome: "crashed",
    err: /termination signal/,
  },
  { name: "EOF on input()", code: "input()", outcome: "error", err: /^EOFError: EOF when reading a line$/ },
  { name: "50 MB of source code", code: "#" + "x".repeat(50_000_000) + "\nprint(1)", outcome: "fuel_exhausted" },
  {
    // The snapshot's entry point cannot get memory for the source (the host refused the growth):
    // it says "out of memory" and exits 70.
    name: "source code larger than memoryMiB",
    code: "#" + "x".repeat(20_000_000) + "\nprint(1)",
    opts: { memoryMiB: 32 },
    outcome: "memory_exhausted",
    check: (r) => assert.equal(r.exitCode, 70),
  },
];

interface Observed {
  result: RunResult;
  next: RunResult;
}

describe("hostile programs against the sandbox", () => {
  let sb: Sandbox;
  const observed = new Map<string, Promise<Observed>>();
  const table: string[] = [];

  before(async () => {
    const names = new Set(CASES.map((c) => c.name));
    assert.equal(names.size, CASES.length, "case names are unique");
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 2, warm: true });
    // Two lanes, each running a case and then the health check, so both workers stay busy.
    const pending = [...CASES];
    const resolvers = new Map<string, (o: Observed) => void>();
    const rejecters = new Map<string, (e: unknown) => void>();
    for (const c of CASES) {
      observed.set(
        c.name,
        new Promise<Observed>((res, rej) => {
          resolvers.set(c.name, res);
          rejecters.set(c.name, rej);
        }),
      );
      observed.get(c.name)!.catch(() => {}); // reported by its own test
    }
    const lane = async () => {
      for (let c = pending.shift(); c !== undefined; c = pending.shift()) {
        try {
          // A fuel case must not race the default 10 s wall clock on a loaded machine: its clock is generous.
          const opts = c.outcome === "fuel_exhausted" && c.opts?.timeoutMs === undefined
            ? { ...c.opts, timeoutMs: FUEL_CASE_TIMEOUT_MS }
            : c.opts;
          const result = await sb.run(c.code, opts);
          const next = await sb.run("print(6*7)");
          resolvers.get(c.name)!({ result, next });
        } catch (e) {
          rejecters.get(c.name)!(e);
        }
      }
    };
    void lane();
    void lane();
  });

  after(async () => {
    await sb?.close();
    if (process.env["WASI_PY_HOSTILE_TABLE"]) process.stdout.write(table.join("\n") + "\n");
  });

  it("has at least 40 distinct hostile programs", () => assert.ok(CASES.length >= 40, String(CASES.length)));

  for (const c of CASES) {
    it(c.name, async () => {
      const { result: r, next } = await observed.get(c.name)!;
      const expected = c;
      table.push(`| ${c.name} | ${r.outcome} | ${Math.round(r.wallMs)} |`);
      const info = `${c.name}: outcome ${r.outcome}, exit ${r.exitCode}, ${r.wallMs} ms, stderr ends ${
        JSON.stringify(errLine(r.stderr).slice(0, 200))
      }${r.detail ? `, detail ${r.detail}` : ""}`;
      assert.equal(r.outcome, expected.outcome, info);
      if (expected.err) assert.match(errLine(r.stderr), expected.err, info);
      if (typeof c.stdout === "string") assert.equal(r.stdout, c.stdout, info);
      else if (c.stdout) assert.match(r.stdout, c.stdout, info);
      assert.ok(r.wallMs <= (c.maxWallMs ?? FUEL_BOUND), `wall time ${r.wallMs} ms over the bound; ${info}`);
      if (c.minWallMs !== undefined) assert.ok(r.wallMs >= c.minWallMs, `ended early, ${r.wallMs} ms; ${info}`);
      const budget = c.opts?.fuel ?? DEFAULT_LIMITS.fuel;
      if (r.outcome === "fuel_exhausted") assert.equal(r.fuelUsed, budget);
      if (budget !== Infinity) assert.ok(r.fuelUsed <= budget, `fuelUsed ${r.fuelUsed} over the budget`);
      assert.ok(
        !r.stdout.includes("\uD800") && r.stdout.length <= (c.opts?.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes),
      );
      c.check?.(r);
      // The sandbox still serves, with nothing left over from the attempt.
      assert.deepEqual([next.outcome, next.stdout, next.stderr], ["ok", "42\n", ""], `after ${c.name}`);
    });
  }

  it("metadata changes to the shared stdlib image are refused or do not outlive the run", async () => {
    await Promise.all(observed.values());
    const stat =
      "import os\np = '/usr/local/lib/python3.13/os.py'\nst = os.stat(p)\nprint(st.st_mtime, st.st_mode, st.st_size)";
    const before = await sb.run(stat);
    const attempt = await sb.run(`import os
p = '/usr/local/lib/python3.13/os.py'
for f in [lambda: os.utime(p, (0, 12345)), lambda: os.chmod(p, 0o777), lambda: os.utime('/usr', (1, 1)),
          lambda: os.link(p, '/tmp/h'), lambda: os.rename(p, p + '2'), lambda: os.truncate(p, 0)]:
    try:
        f()
    except OSError:
        pass`);
    assert.equal(attempt.outcome, "ok", attempt.stderr);
    const after = await sb.run(stat);
    assert.equal(after.stdout, before.stdout);
  });

  it("runaway recursion ends as RecursionError with CPython's exact traceback, not out of fuel", async () => {
    // Golden output of a native CPython 3.13 (test/fixtures/hostile/README.md). Python-level
    // recursion matches byte for byte. A runaway __getattr__ recurses through C as well (two C
    // levels per call), and our C recursion limit (1600, scripts/build-cpython.sh: what Deno's
    // stack allows) stops it before Python's limit of 1000 does natively: the same traceback and
    // message, but "[Previous line repeated 796 more times]" where native CPython says 996.
    const dir = join(repoRoot(), "test", "fixtures", "hostile");
    const repeated = { recursion_getattr: 796, recursion_mutual: undefined } as const;
    for (const [name, ours] of Object.entries(repeated)) {
      const code = readFileSync(join(dir, `${name}.py`), "utf8");
      const r = await sb.run(code, { maxOutputBytes: 1 << 20 });
      assert.equal(r.outcome, "error", `${name}: ${r.outcome} after ${r.fuelUsed} fuel`);
      let golden = readFileSync(join(dir, `${name}.stderr`), "utf8");
      if (ours !== undefined) {
        const native = /\[Previous line repeated \d+ more times\]/;
        assert.match(golden, native, `${name}: the golden file has the repeat line`);
        golden = golden.replace(native, `[Previous line repeated ${ours} more times]`);
      }
      assert.equal(r.stderr, golden, name);
      assert.ok(r.fuelUsed < DEFAULT_LIMITS.fuel / 2, `${name}: the traceback alone cost ${r.fuelUsed} fuel`);
    }
  });

  it("misuse of the API is refused up front and leaves the sandbox serving", async () => {
    await assert.rejects(sb.run("print(1)\0import os"), /NUL/);
    await assert.rejects(sb.run(42 as unknown as string), TypeError);
    await assert.rejects(sb.run("1", { stdin: new Uint8Array(64 * 2 ** 20 + 1) }), /stdin/);
    for (
      const bad of [{ fuel: -1 }, { fuel: NaN }, { timeoutMs: 0 }, { memoryMiB: 1 }, { memoryMiB: 5000 }, {
        maxOutputBytes: 2 ** 40,
      }]
    ) {
      await assert.rejects(sb.run("1", bad as RunOptions), /must be/, JSON.stringify(bad));
    }
    assert.equal((await sb.run("print(6*7)")).stdout, "42\n");
  });

  it("the host process stays healthy", async () => {
    await Promise.all(observed.values());
    const r = await sb.run("import os\nprint(os.listdir('/tmp'), 6*7)");
    assert.equal(r.stdout, "[] 42\n", "no /tmp file survives a run");
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    assert.ok(rssMiB < 3000, `host RSS ${rssMiB.toFixed(0)} MiB`);
  });
});
