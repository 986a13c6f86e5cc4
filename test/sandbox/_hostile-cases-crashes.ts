/**
 * Hostile programs that try to crash the interpreter itself: C stack overflows, deep nesting,
 * corrupt bytecode, aborts and signals, huge sources. Each must end as a classified outcome and
 * never take the worker or the host down.
 */
import assert from "node:assert/strict";
import { STACK_EXHAUSTED_DETAIL } from "../../src/sandbox/mod.ts";
import { BIG_FUEL, type Case } from "./_hostile-case.ts";

/** The cases, in the order they run. */
export const CRASH_CASES: Case[] = [
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
