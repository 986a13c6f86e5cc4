/**
 * Hostile programs that try to exhaust a limit: endless computation (fuel), the wall clock
 * (timeout), memory bombs and output floods. Each must end with the limit's outcome.
 */
import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../src/limits/mod.ts";
import { BIG_FUEL, type Case, onlyReplacementChars } from "./_hostile-case.ts";

/** The cases, in the order they run. */
export const LIMIT_CASES: Case[] = [
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
];
