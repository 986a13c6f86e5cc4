/**
 * Host CPU per fuel unit (issue 21, item 16): fuel must price the host's work, so that no program
 * makes the host spend much more CPU per unit than plain Python does. Each pattern loops on one
 * kind of host call until its fuel budget runs out; the figure is the process's CPU time (every
 * thread, user + system: the worker running the guest, the kernel zeroing pages) per fuel unit,
 * as a ratio to a plain Python loop's, measured alternately in the same process. The goal: no
 * pattern above 3x.
 *
 *   node build/bench/host-cost.js --child [--reps N] [--fuel N] [--only NAME,…]
 *   deno run -A bench/host-cost.ts --child …
 * prints one JSON line (HostCost); `npm run bench -- --only hostcost` runs it on every runtime.
 */
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { round, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";

/** One looping program: `setup`, then `body` forever (fuel ends it). */
interface Pattern {
  name: string;
  setup: string;
  body: string;
}

const SETUP_FILE = "import os\nfd = os.open('/tmp/f', os.O_CREAT | os.O_RDWR)";

/** The baseline first; then every kind of host call whose cost could outgrow its fuel. */
export const PATTERNS: readonly Pattern[] = [
  { name: "python loop", setup: "i = 0", body: "i += 1" },
  { name: "ftruncate 8 MiB / 0", setup: SETUP_FILE, body: "os.ftruncate(fd, 8 << 20); os.ftruncate(fd, 0)" },
  { name: "ftruncate 64 KiB / 0", setup: SETUP_FILE, body: "os.ftruncate(fd, 65536); os.ftruncate(fd, 0)" },
  {
    name: "truncate by path 8 MiB / 0",
    setup: SETUP_FILE,
    body: "os.truncate('/tmp/f', 8 << 20); os.truncate('/tmp/f', 0)",
  },
  {
    name: "pwrite past the end 8 MiB",
    setup: SETUP_FILE,
    body: "os.pwrite(fd, b'x', (8 << 20) - 1); os.ftruncate(fd, 0)",
  },
  { name: "write 1 byte", setup: SETUP_FILE, body: "os.write(fd, b'x')" },
  { name: "write 64 KiB", setup: SETUP_FILE + "\nb = bytes(65536)", body: "os.pwrite(fd, b, 0)" },
  { name: "read 64 KiB", setup: SETUP_FILE + "\nos.write(fd, bytes(65536))", body: "os.pread(fd, 65536, 0)" },
  { name: "python call", setup: "", body: "abs(1)" },
  { name: "lseek", setup: SETUP_FILE, body: "os.lseek(fd, 0, 0)" },
  { name: "open/close", setup: SETUP_FILE, body: "os.close(os.open('/tmp/f', os.O_RDONLY))" },
  {
    name: "create/unlink",
    setup: "import os",
    body: "os.close(os.open('/tmp/g', os.O_CREAT | os.O_WRONLY)); os.unlink('/tmp/g')",
  },
  { name: "stat", setup: "import os", body: "os.stat('/tmp')" },
  { name: "rename", setup: SETUP_FILE, body: "os.rename('/tmp/f', '/tmp/h'); os.rename('/tmp/h', '/tmp/f')" },
  {
    name: "listdir of 1000 files",
    setup: "import os\nfor i in range(1000): os.close(os.open(f'/tmp/{i:0>40}', os.O_CREAT | os.O_WRONLY))",
    body: "os.listdir('/tmp')",
  },
  { name: "listdir of the stdlib", setup: "import os", body: "os.listdir('/usr/local/lib/python3.13')" },
  { name: "urandom 64 KiB", setup: "import os", body: "os.urandom(65536)" },
  { name: "urandom 1 byte", setup: "import os", body: "os.urandom(1)" },
  { name: "monotonic clock", setup: "import time", body: "time.monotonic()" },
  { name: "select timeout 0", setup: "import select, sys", body: "select.select([sys.stdin], [], [], 0)" },
  { name: "memory reuse 4 MiB", setup: "", body: "b = bytearray(4 << 20); del b" },
  { name: "memory grow 1 MiB at a time", setup: "keep = []", body: "keep.append(bytearray(1 << 20))" },
  { name: "print 1 line", setup: "", body: "print(1)" },
];

export interface HostCostRow {
  name: string;
  /** CPU nanoseconds per fuel unit, per run. */
  nsPerFuel: Summary;
  /** nsPerFuel / the python loop's, per alternated pair. */
  ratio: Summary;
}

export interface HostCost {
  runtime: string;
  fuel: number;
  rows: HostCostRow[];
  worst: { name: string; ratio: number };
}

/** Idle time before each run: the worker prepares its next instance then, outside the measurement. */
const GAP_MS = 400;

const code = (p: Pattern) => `${p.setup}\nwhile True:\n    ${p.body}\n`;

/** CPU ns per fuel unit of one run of `p` that must end by running out of `fuel`. */
async function nsPerFuel(sb: Sandbox, p: Pattern, fuel: number): Promise<number> {
  await new Promise((r) => setTimeout(r, GAP_MS));
  const c0 = process.cpuUsage();
  const r = await sb.run(code(p), { fuel, timeoutMs: 600_000, maxOutputBytes: 1024, tmpQuotaBytes: 64 << 20 });
  const c = process.cpuUsage(c0);
  if (r.outcome !== "fuel_exhausted" && r.outcome !== "output_truncated") {
    throw new Error(`${p.name}: ${r.outcome}: ${r.stderr.slice(-300)}`);
  }
  return ((c.user + c.system) * 1000) / r.fuelUsed;
}

/** Measures every pattern (or those named) `reps` times, each run paired with a baseline run. */
export async function measureHostCost(reps: number, fuel: number, only?: string[]): Promise<HostCost> {
  const sb = await Sandbox.create({ workers: 1 });
  try {
    const [base, ...rest] = PATTERNS;
    const chosen = rest.filter((p) => only === undefined || only.includes(p.name));
    await nsPerFuel(sb, base!, fuel); // warm-up: the loop's code reaches the top tier
    const rows: HostCostRow[] = [];
    const baseRuns: number[] = [];
    for (const p of chosen) {
      const runs: number[] = [];
      const ratios: number[] = [];
      for (let i = 0; i < reps; i++) {
        const b = await nsPerFuel(sb, base!, fuel);
        const t = await nsPerFuel(sb, p, fuel);
        baseRuns.push(b);
        runs.push(t);
        ratios.push(t / b);
      }
      rows.push({ name: p.name, nsPerFuel: summarize(runs), ratio: summarize(ratios) });
    }
    rows.unshift({ name: base!.name, nsPerFuel: summarize(baseRuns), ratio: summarize(baseRuns.map(() => 1)) });
    const worst = rows.reduce((a, b) => (b.ratio.median > a.ratio.median ? b : a));
    return {
      runtime: "Deno" in globalThis ? "deno" : "node",
      fuel,
      rows,
      worst: { name: worst.name, ratio: round(worst.ratio.median, 2) },
    };
  } finally {
    await sb.close();
  }
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (process.argv[2] === "--child") {
  const argv = process.argv.slice(3);
  const reps = Number(option(argv, "--reps") ?? 3);
  const fuel = Number(option(argv, "--fuel") ?? 1e8);
  const only = option(argv, "--only")?.split(",");
  const result = await measureHostCost(reps, fuel, only);
  process.stdout.write(JSON.stringify(result) + "\n");
}
