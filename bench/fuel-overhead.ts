/**
 * Cost of fuel metering, by one method: the CPU time of long CPU-bound programs (FUEL_PROGRAMS)
 * on the metered interpreter (what ships) and on the unmetered one (assets/python-unmetered.wasm,
 * or $WASI_PY_BENCH_UNMETERED), through the Sandbox the product uses. Each (interpreter, program)
 * is first run until two runs in a row agree within 3% (at most MAX_WARMUP runs), so the hot code
 * has reached V8's top tier; then metered and unmetered runs alternate in pairs. The figure is the
 * median of the per-pair ratios, reported with their 10th-90th percentiles as the spread.
 *
 * CPU time (process.cpuUsage: every thread of the process, i.e. the worker running the guest and
 * V8's background compilers) rather than wall time, and long runs rather than short ones: the
 * bench before this measured wall time of a 0.4 s program (1.13x) while a separate node:wasi
 * harness measured steady-state CPU time (1.28x); start-up and not-yet-optimised code diluted the
 * first. A 150 ms idle gap before every timed run keeps the worker's preparation of its next
 * instance out of the measurement.
 *
 * Runs in a child process of each runtime: `<runtime> fuel-overhead --child LABEL REPS` prints one
 * JSON line (FuelOverhead).
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { readAsset } from "../src/sandbox/assets.ts";
import { round, roundSummary, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";
import { FUEL_PROGRAMS } from "./programs.ts";
import type { Program } from "./programs.ts";
import { interpreter } from "./interpreter.ts";

const MAX_WARMUP = 6;
const GAP_MS = 150;

export interface FuelProgramRow {
  program: string;
  meteredCpuMs: Summary;
  unmeteredCpuMs: Summary;
  /** metered / unmetered CPU time, one value per pair. */
  ratio: Summary;
  /** Warm-up runs it took each interpreter to settle (metered, unmetered). */
  warmupRuns: [number, number];
  fuelUsed: number;
}

export interface FuelOverhead {
  runtime: string;
  unmeteredSource: string;
  programs: FuelProgramRow[];
  /** All pair ratios of all programs together: the one overhead figure. */
  ratio: Summary;
}

function unmeteredWasm(): { bytes: Uint8Array; source: string } {
  const override = process.env["WASI_PY_BENCH_UNMETERED"];
  if (override) return { bytes: new Uint8Array(readFileSync(override)), source: override };
  return { bytes: readAsset("python-unmetered.wasm"), source: "assets/python-unmetered.wasm.br" };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ms of one run (after an idle gap); throws when the program does not print what it must. */
async function cpuRun(sb: Sandbox, p: Program): Promise<{ ms: number; fuel: number | undefined }> {
  await sleep(GAP_MS);
  const c0 = process.cpuUsage();
  const r = await sb.run(p.code, { fuel: Infinity, timeoutMs: 600_000 });
  const c = process.cpuUsage(c0);
  if (r.outcome !== "ok" || r.stdout !== p.expected) {
    throw new Error(
      `${p.name}: ${r.outcome}, printed ${JSON.stringify(r.stdout.slice(0, 60))}: ${r.stderr.slice(-200)}`,
    );
  }
  return { ms: (c.user + c.system) / 1000, fuel: r.fuelUsed };
}

/** Runs until two consecutive CPU times agree within 3%; returns the number of runs. */
async function warmUp(sb: Sandbox, p: Program): Promise<number> {
  let last = (await cpuRun(sb, p)).ms;
  for (let n = 2; n <= MAX_WARMUP; n++) {
    const t = (await cpuRun(sb, p)).ms;
    if (Math.abs(t - last) <= 0.03 * last) return n;
    last = t;
  }
  return MAX_WARMUP;
}

export async function runFuelOverhead(label: string, reps: number): Promise<FuelOverhead> {
  const un = unmeteredWasm();
  const metered = await Sandbox.create({ ...interpreter(), workers: 1 });
  const unmetered = await Sandbox.create({ ...interpreter(), workers: 1, wasm: un.bytes });
  try {
    if (!metered.metered) throw new Error("the default interpreter is not metered");
    if (unmetered.metered) throw new Error(`${un.source} is metered`);
    const rows: FuelProgramRow[] = [];
    const all: number[] = [];
    for (const p of FUEL_PROGRAMS) {
      const warm: [number, number] = [await warmUp(metered, p), await warmUp(unmetered, p)];
      const m: number[] = [], u: number[] = [], ratios: number[] = [];
      let fuel = 0;
      for (let i = 0; i < reps; i++) {
        // Alternate which goes first, so neither always runs right after the other.
        const first = i % 2 === 0 ? metered : unmetered;
        const a = await cpuRun(first, p);
        const b = await cpuRun(first === metered ? unmetered : metered, p);
        const [mr, ur] = first === metered ? [a, b] : [b, a];
        m.push(mr.ms);
        u.push(ur.ms);
        ratios.push(mr.ms / ur.ms);
        fuel = mr.fuel ?? 0;
      }
      all.push(...ratios);
      rows.push({
        program: p.name,
        meteredCpuMs: roundSummary(summarize(m), 1),
        unmeteredCpuMs: roundSummary(summarize(u), 1),
        ratio: roundSummary(summarize(ratios), 3),
        warmupRuns: warm,
        fuelUsed: fuel,
      });
    }
    return { runtime: label, unmeteredSource: un.source, programs: rows, ratio: roundSummary(summarize(all), 3) };
  } finally {
    await metered.close();
    await unmetered.close();
  }
}

/** "1.22x (1.18-1.27x)": median and 10th-90th percentile. */
export function fmtSpread(s: Summary): string {
  return `${round(s.median, 2).toFixed(2)}x (${round(s.p10, 2).toFixed(2)}-${round(s.p90, 2).toFixed(2)}x)`;
}

if (process.argv[2] === "--child") {
  const label = process.argv[3] ?? "?";
  const reps = Number(process.argv[4] ?? "5");
  process.stdout.write(JSON.stringify(await runFuelOverhead(label, reps)) + "\n");
  process.exit(0);
}
