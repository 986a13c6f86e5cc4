/**
 * The programs whose outcome and fuel must be the same on Node and Deno (issue 11, items 2 and 5):
 * deep C-level recursion (where Deno's smaller worker stack used to crash what Node turned into
 * RecursionError, and recursion CPython does not guard overflowed each runtime's stack at its own
 * depth) and host-heavy work (whose fuel charges must not depend on the runtime).
 * test/sandbox/cross-runtime.test.ts runs them in its own runtime and, through this file as a
 * script (WASI_PY_PROBE=1), in the other one, and compares.
 */
import process from "node:process";
import { Sandbox } from "../../src/sandbox/mod.ts";
import type { RunOptions, SandboxOptions } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "./interpreter.ts";
import type { OneShotOptions } from "../../src/sandbox/sandbox-options.ts";

/** Fuel enough for any of them to end by itself (deep recursion is expensive), and time to spend it. */
const DEEP: RunOptions = { fuel: 20_000_000_000, timeoutMs: 300_000 };

export interface ProbeProgram {
  name: string;
  code: string;
  opts?: RunOptions;
}

export const PROBE_PROGRAMS: readonly ProbeProgram[] = [
  {
    name: "the issue's __eq__ recursion through C",
    code: 'import sys; sys.setrecursionlimit(10**6); C=type("C",(),{"__eq__":lambda s,o: C()==o}); C()==1',
    opts: DEEP,
  },
  {
    name: "json.dumps of 100k nested lists",
    code: "import json\nx = []\nfor i in range(10**5): x = [x]\njson.dumps(x)",
    opts: DEEP,
  },
  { name: "repr of 100k nested lists", code: "x = []\nfor i in range(10**5): x = [x]\nrepr(x)", opts: DEEP },
  {
    name: "pickle of 100k nested lists",
    code: "import pickle\nx = []\nfor i in range(10**5): x = [x]\npickle.dumps(x)",
    opts: DEEP,
  },
  {
    name: "deepcopy with a raised recursion limit",
    code: "import copy, sys\nsys.setrecursionlimit(10**6)\nx = []\nfor i in range(10**5): x = [x]\ncopy.deepcopy(x)",
    opts: DEEP,
  },
  {
    name: "__getattr__ calling getattr, raised recursion limit",
    code: "import sys\nsys.setrecursionlimit(10**6)\nclass A:\n    def __getattr__(s, n): return getattr(s, n)\nA().x",
    opts: DEEP,
  },
  {
    // A host call (fd_write) at every level: the host's own frames at the deepest point must fit
    // in what the stack budget leaves of the engine's stack.
    name: "__getattr__ printing at every level, raised recursion limit",
    code: "import sys\nsys.setrecursionlimit(10**6)\nclass A:\n    def __getattr__(s, n):\n" +
      "        print(n, end='')\n        sys.stdout.flush()\n        return getattr(s, n)\nA().x",
    opts: DEEP,
  },
  {
    name: "__init__ recursion, raised recursion limit",
    code: "import sys\nsys.setrecursionlimit(10**6)\nclass A:\n    def __init__(s): A()\nA()",
    opts: DEEP,
  },
  {
    name: "__str__ recursion of an exception",
    code:
      "import sys\nsys.setrecursionlimit(10**6)\nclass E(Exception):\n    def __str__(s): return str(E())\nstr(E())",
    opts: DEEP,
  },
  { name: "compiling 100k nested parentheses", code: "compile('(' * 100000 + ')' * 100000, 's', 'eval')", opts: DEEP },
  { name: "hash of 300k nested tuples", code: "x = ()\nfor i in range(3 * 10**5): x = (x,)\nhash(x)", opts: DEEP },
  {
    name: "next() through 200k nested filters",
    code: "it = iter([1])\nfor i in range(2 * 10**5): it = filter(None, it)\nprint(next(it))",
    opts: DEEP,
  },
  {
    // The smallest native overflow measured on Deno (src/wasm/meter/stack.ts): the budget must end it first.
    name: "next() through 200k nested maps",
    code: "it = iter([1])\nfor i in range(2 * 10**5): it = map(abs, it)\nprint(next(it))",
    opts: DEEP,
  },
  {
    name: "host-heavy work: files, listing, randomness",
    code: "import os\nopen('/tmp/f', 'wb').write(b'x' * (3 << 20))\nd = open('/tmp/f', 'rb').read()\n" +
      "for i in range(300): open(f'/tmp/{i}', 'w').close()\nprint(len(d), len(os.listdir('/tmp')), len(os.urandom(1 << 20)))",
  },
  {
    name: "grow/shrink loop with fuel 5e6",
    code:
      "import os\nfd = os.open('/tmp/f', os.O_CREAT|os.O_WRONLY)\nwhile True:\n    os.ftruncate(fd, 512<<20); os.ftruncate(fd, 0)",
    opts: { fuel: 5_000_000, tmpQuotaBytes: 512 << 20 },
  },
];

/** What must agree across runtimes. */
export interface ProbeRow {
  name: string;
  outcome: string;
  fuelUsed: number;
  /** The last line of stderr (the exception), cut to 120 characters. */
  error: string;
  /** Why it crashed, for `crashed`. */
  detail?: string;
}

/** Runs every program on this runtime, one at a time, in a sandbox made with `options`. */
export async function probe(options: SandboxOptions = {}): Promise<ProbeRow[]> {
  const sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, ...options });
  try {
    const rows: ProbeRow[] = [];
    for (const p of PROBE_PROGRAMS) {
      const r = await sb.run(p.code, p.opts);
      const error = (r.stderr.trimEnd().split("\n").pop() ?? "").slice(0, 120);
      rows.push({ name: p.name, outcome: r.outcome, fuelUsed: r.fuelUsed, error, detail: r.detail });
    }
    return rows;
  } finally {
    await sb.close();
  }
}

if (process.env["WASI_PY_PROBE"] === "1") {
  // WASI_PY_PROBE_DISPOSABLE=1: the CLI's threads (on Deno, web Workers: SandboxOptions.exitsWhenDone).
  const options: OneShotOptions = { exitsWhenDone: process.env["WASI_PY_PROBE_DISPOSABLE"] === "1" };
  process.stdout.write(JSON.stringify(await probe(options)) + "\n");
}
