/**
 * The programs every part of the benchmark runs, with the output each must print (a run whose
 * output differs is an error, not a data point).
 */

export interface Program {
  /** Short key used in tables and JSON. */
  name: string;
  code: string;
  expected: string;
  /** The program's stdin, when it reads one. */
  stdin?: Uint8Array;
}

export const PRINT1: Program = { name: "print(1)", code: "print(1)", expected: "1\n" };

export const IMPORTS: Program = {
  name: "imports",
  code: "import json, re, collections, datetime\nprint(len(json.dumps({'a': [1, 2]})))",
  expected: "13\n",
};

/**
 * Pure-Python CPU work: trial-division primes below 100 000 (function calls, while loops, integer
 * arithmetic, a generator). Tuned to take roughly half a second in the sandbox.
 */
export const CPU: Program = {
  name: "cpu-primes",
  code: [
    "def is_prime(n):",
    "    if n < 2:",
    "        return False",
    "    i = 2",
    "    while i * i <= n:",
    "        if n % i == 0:",
    "            return False",
    "        i += 1",
    "    return True",
    "print(sum(n for n in range(100000) if is_prime(n)))",
  ].join("\n"),
  expected: "454396537\n",
};

export const PROGRAMS: readonly Program[] = [PRINT1, IMPORTS, CPU];

/**
 * 8 MiB of stdin, read and counted: what handing a run large input costs (the bytes cross to the
 * worker in shared memory; Deno's worker_threads took 6 s to post them as a Uint8Array). Warm
 * section only, next to print(1).
 */
export const STDIN_8MIB: Program = {
  name: "stdin-8MiB",
  code: "import sys; print(len(sys.stdin.buffer.read()))",
  expected: "8388608\n",
  stdin: new Uint8Array(8 * 1024 * 1024).fill(0x61),
};

/**
 * The fuel-overhead section's programs: CPU-bound and long enough (about a second each
 * unmetered) that V8 has tiered the hot code up to TurboFan, the steady state a long program
 * sees. One is integer arithmetic in loops and calls, the other string and dict work.
 */
export const FUEL_PROGRAMS: readonly Program[] = [
  {
    name: "primes-250k",
    code: CPU.code.replace("range(100000)", "range(250000)"),
    expected: "2623031151\n",
  },
  {
    name: "dict-str-1.5M",
    code: [
      "d = {}",
      "for i in range(1500000):",
      "    k = str(i * 7919 % 100003)",
      "    d[k] = d.get(k, 0) + len(k)",
      "print(sum(d.values()))",
    ].join("\n"),
    expected: "7333399\n",
  },
];

/**
 * A program of the size and kind of a HumanEval task with its checks (our own, not from the data
 * set): a 20-line function over strings and lists, then a handful of asserts.
 */
export const HUMANEVAL_SIZED: Program = {
  name: "humaneval-sized",
  code: [
    "from typing import List",
    "",
    "def split_groups(text: str) -> List[str]:",
    '    """Split balanced top-level bracket groups, ignoring spaces."""',
    "    groups, depth, current = [], 0, []",
    "    for ch in text:",
    "        if ch == ' ':",
    "            continue",
    "        current.append(ch)",
    "        depth += 1 if ch == '(' else -1",
    "        if depth == 0:",
    "            groups.append(''.join(current))",
    "            current = []",
    "    return groups",
    "",
    "def check(f):",
    "    assert f('(()()) ((())) () ((())()())') == ['(()())', '((()))', '()', '((())()())']",
    "    assert f('() (()) ((())) (((())))') == ['()', '(())', '((()))', '(((())))']",
    "    assert f('(()(())((())))') == ['(()(())((())))']",
    "    assert f('( ) (( )) (( )( ))') == ['()', '(())', '(()())']",
    "    assert f('') == []",
    "",
    "check(split_groups)",
    "print('ok')",
  ].join("\n"),
  expected: "ok\n",
};
