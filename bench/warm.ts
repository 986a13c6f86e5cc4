/**
 * Warm evaluation: the module is already compiled and the pool's workers are running (the IRC
 * bot's situation). Latency is measured from sb.run() to its result, as a caller sees it. Requests
 * to a bot arrive apart, so the warm loop leaves an untimed idle gap between runs (the worker may
 * use it to prepare the next instance); back-to-back load is what the throughput figure measures.
 */
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import type { RunResult } from "../src/sandbox/mod.ts";
import { round, roundSummary, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";
import { PROGRAMS, STDIN_8MIB } from "./programs.ts";
import type { Program } from "./programs.ts";
import { interpreter } from "./interpreter.ts";

/** Generous limits so the CPU-bound program is measured, not stopped. */
export const BENCH_LIMITS = { fuel: Infinity, timeoutMs: 120_000 } as const;

export interface WarmRow {
  program: string;
  ms: Summary;
  /** The sandbox's own wallMs (inside the pool, without the caller's promise hop). */
  sandboxWallMs: Summary;
  /** Distinct fuelUsed values seen (one value = deterministic). */
  fuelUsed: number[];
  /** Peak guest linear memory (RunResult.memoryBytes), MiB, median; null if not reported. */
  guestMemoryMiB: number | null;
}

export interface ThroughputRow {
  /** The runtime that ran it (absent in results older than issue 23: the machine's Node). */
  runtime?: string;
  /** The program (absent in older results: print(1)). */
  program?: string;
  workers: number;
  /** Evaluations kept in flight. */
  concurrency: number;
  runs: number;
  seconds: number;
  runsPerSecond: number;
  /** CPU time of this process (all threads) over wall time: how many cores the pool kept busy. */
  coresBusy: number;
  /** CPU time of this process (all threads) per run, ms: what a run costs whatever the machine's load. */
  cpuMsPerRun?: number;
}

export async function checkedRun(sb: Sandbox, p: Program): Promise<RunResult> {
  const r = await sb.run(p.code, { ...BENCH_LIMITS, stdin: p.stdin });
  if (r.outcome !== "ok" || r.stdout !== p.expected) {
    throw new Error(
      `${p.name}: outcome ${r.outcome}, stdout ${JSON.stringify(r.stdout.slice(0, 80))}, stderr ${
        JSON.stringify(r.stderr.slice(-200))
      }`,
    );
  }
  return r;
}

/** Idle time between two warm runs (untimed). */
export const WARM_GAP_MS = 100;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The warm section's programs: the shared ones, and large stdin. */
const WARM_PROGRAMS: readonly Program[] = [...PROGRAMS, STDIN_8MIB];
/** Programs run only repsHeavy times (long, or heavy on memory). */
const HEAVY = new Set(["cpu-primes", STDIN_8MIB.name]);

export async function runWarm(reps: number, repsHeavy: number, log: (s: string) => void): Promise<WarmRow[]> {
  const sb = await Sandbox.create({ ...interpreter(), workers: 1 });
  try {
    for (const p of WARM_PROGRAMS) await checkedRun(sb, p); // warm-up: worker started, code paths hot
    const samples = new Map<string, { ms: number[]; wall: number[]; fuel: Set<number>; mem: number[] }>(
      WARM_PROGRAMS.map((p) => [p.name, { ms: [], wall: [], fuel: new Set(), mem: [] }]),
    );
    log(`warm: ${reps} reps (${repsHeavy} for the CPU-bound and stdin programs), 1 worker, ${WARM_GAP_MS} ms apart`);
    for (let rep = 0; rep < reps; rep++) {
      for (const p of WARM_PROGRAMS) {
        if (HEAVY.has(p.name) && rep >= repsHeavy) continue;
        await pause(WARM_GAP_MS);
        const t0 = performance.now();
        const r = await checkedRun(sb, p);
        const ms = performance.now() - t0;
        const s = samples.get(p.name)!;
        s.ms.push(ms);
        s.wall.push(r.wallMs);
        s.fuel.add(r.fuelUsed);
        if (typeof r.memoryBytes === "number") s.mem.push(r.memoryBytes);
      }
    }
    return WARM_PROGRAMS.map((p) => {
      const s = samples.get(p.name)!;
      return {
        program: p.name,
        ms: roundSummary(summarize(s.ms)),
        sandboxWallMs: roundSummary(summarize(s.wall)),
        fuelUsed: [...s.fuel],
        guestMemoryMiB: s.mem.length > 0 ? round(summarize(s.mem).median / 1048576, 1) : null,
      };
    });
  } finally {
    await sb.close();
  }
}

/**
 * Closed-loop throughput of a program: `concurrency` callers each submit the next evaluation as
 * soon as theirs returns, for `seconds`; the pool has `workers` threads. With one caller the runs
 * are back to back (the worker never idles between them).
 */
export async function runThroughput(
  workers: number,
  concurrency: number,
  seconds: number,
  p: Program,
): Promise<ThroughputRow> {
  const sb = await Sandbox.create({ ...interpreter(), workers });
  try {
    await Promise.all(Array.from({ length: workers * 2 }, () => checkedRun(sb, p))); // start every worker
    let runs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    const lane = async () => {
      while (performance.now() < end) {
        await checkedRun(sb, p);
        runs++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const coresBusy = (cpu.user + cpu.system) / 1e6 / elapsed;
    return {
      program: p.name,
      workers,
      concurrency,
      runs,
      seconds: round(elapsed, 2),
      runsPerSecond: round(runs / elapsed, 2),
      coresBusy: round(coresBusy, 2),
      cpuMsPerRun: round((cpu.user + cpu.system) / 1000 / runs, 2),
    };
  } finally {
    await sb.close();
  }
}
