/**
 * The programs every part of the benchmark runs, with the output each must print (a run whose
 * output differs is an error, not a data point).
 */

export interface Program {
  /** Short key used in tables and JSON. */
  name: string;
  code: string;
  expected: string;
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
