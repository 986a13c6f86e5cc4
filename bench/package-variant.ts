/**
 * Whether a snapshot variant with a package pre-imported pays (issue 25 item 5): the committed
 * interpreter (BASE `-`, or another build) against a variant with `sympy` pre-imported for the
 * Debian test image (scripts/build-package-snapshot.sh), each run warm in a library sandbox (one
 * worker, the image mounted): `pass`, `print('sympy' in sys.modules)` (it must stay hidden until
 * imported), and `import sympy`; wall time per run (pool round trip) and fuel, medians of REPS,
 * the two interpreters alternated; `print(sum(range(1000)))` ten times back to back (what a run
 * that does not use the package pays for the larger snapshot), median; and the host RSS with each,
 * in a fresh process (this file with `--rss WASM`) after five `pass` runs, median of 3.
 *
 *   scripts/build-package-snapshot.sh --pybuild WASI_FULL --image IMAGE -o VARIANT.wasm sympy
 *   node build/bench/package-variant.js - VARIANT.wasm [REPS]
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { DEBIAN_IMAGE } from "../test/helpers/debian-image.ts";
import { fmtMiB, fmtMs, round, summarize, table } from "./stats.ts";

const PROGRAMS = ["pass", "import sys; print('sympy' in sys.modules)", "import sympy"] as const;
/** A run that does not touch the package, timed back to back (no idle time to prepare the next instance). */
const BACK_TO_BACK = "print(sum(range(1000)))";
const LIMITS = { fuel: Infinity, timeoutMs: 600_000, memoryMiB: 512 };

interface Cell {
  ms: number[];
  fuel: number[];
  stdout: string;
}

async function measure(path: string, reps: number, cells: Map<string, Cell>, label: string): Promise<void> {
  const sb = await Sandbox.create({ ...wasmOption(path), workers: 1, packages: [DEBIAN_IMAGE] });
  try {
    for (const code of PROGRAMS) await sb.run(code, LIMITS); // warm: loads the files, compiles
    for (let i = 0; i < reps; i++) {
      for (const code of PROGRAMS) {
        const t = performance.now();
        const r = await sb.run(code, LIMITS);
        const ms = performance.now() - t;
        if (r.outcome !== "ok") throw new Error(`${label} ${code}: ${r.outcome} ${r.stderr.slice(-300)}`);
        const key = `${label}\t${code}`;
        const cell = cells.get(key) ?? { ms: [], fuel: [], stdout: r.stdout };
        cell.ms.push(ms);
        cell.fuel.push(r.fuelUsed);
        cells.set(key, cell);
      }
    }
    const key = `${label}\t${BACK_TO_BACK} (back to back)`;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await sb.run(BACK_TO_BACK, LIMITS);
      const cell = cells.get(key) ?? { ms: [], fuel: [], stdout: r.stdout };
      cell.ms.push(performance.now() - t);
      cell.fuel.push(r.fuelUsed);
      cells.set(key, cell);
    }
  } finally {
    await sb.close();
  }
}

/** Sandbox.create's `wasm` for the interpreter at `path` (`-`: the committed one). */
function wasmOption(path: string): { wasm?: Uint8Array } {
  return path === "-" ? {} : { wasm: new Uint8Array(readFileSync(path)) };
}

/** Host RSS of a fresh process after five `pass` runs with the interpreter at `path`, bytes. */
async function rssAfterRuns(path: string): Promise<number> {
  const sb = await Sandbox.create({ ...wasmOption(path), workers: 1, packages: [DEBIAN_IMAGE] });
  for (let i = 0; i < 5; i++) await sb.run("pass", LIMITS);
  const rss = process.memoryUsage().rss;
  await sb.close();
  return rss;
}

/** rssAfterRuns in a child process (this file, `--rss`): its RSS is that interpreter's alone. */
function childRss(path: string): number {
  const r = spawnSync(process.execPath, [process.argv[1]!, "--rss", path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`--rss ${path}: ${r.stderr.trim().split("\n").pop()}`);
  return Number(r.stdout);
}

if (process.argv[2] === "--rss") {
  process.stdout.write(`${await rssAfterRuns(process.argv[3]!)}\n`);
  process.exit(0);
}
const [basePath, variantPath, repsText] = process.argv.slice(2);
if (basePath === undefined || variantPath === undefined) {
  throw new Error("usage: package-variant BASE.wasm VARIANT.wasm [REPS]");
}
const reps = Number(repsText ?? 5);
const paths = { base: basePath, variant: variantPath };
const cells = new Map<string, Cell>();
for (let round = 0; round < 2; round++) {
  for (const label of ["base", "variant"] as const) await measure(paths[label], Math.ceil(reps / 2), cells, label);
}
const rss: Record<string, number[]> = { base: [], variant: [] };
for (let i = 0; i < 3; i++) for (const label of ["base", "variant"] as const) rss[label]!.push(childRss(paths[label]));
const rows = [...cells].map(([key, c]) => {
  const [label, code] = key.split("\t");
  return [
    label!,
    code!,
    JSON.stringify(c.stdout.trim()),
    fmtMs(round(summarize(c.ms).median, 2)),
    summarize(c.fuel).median.toLocaleString("en"),
  ];
});
process.stdout.write(table([["interpreter", "program", "stdout", "run (wall)", "fuel"], ...rows]) + "\n");
for (const label of ["base", "variant"]) {
  process.stdout.write(`${label}: host RSS after five runs, fresh process ${fmtMiB(summarize(rss[label]!).median)}\n`);
}
