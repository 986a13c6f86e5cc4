/**
 * Pyodide in this process, the peer to compare with:
 * - warm: loaded once, each program run in a fresh globals dict of the SAME interpreter (modules
 *   imported by one run stay imported for the next: no isolation, which flatters Pyodide);
 * - fresh: a new loadPyodide() per evaluation in an already running process, i.e. what per-run
 *   isolation comparable to ours would cost with Pyodide.
 */
import { roundSummary, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";
import { PRINT1, PROGRAMS } from "./programs.ts";
import type { Program } from "./programs.ts";
import { fetchesSeen, runInPyodide, startPyodide } from "./pyodide-runner.ts";

export interface PyodideWarm {
  version: string;
  pythonVersion: string;
  /** loadPyodide() in this (already running) process. */
  loadMs: Summary;
  warm: { program: string; ms: Summary }[];
  /** print(1) with a fresh loadPyodide() each time. */
  freshPrint1Ms: Summary;
  fetches: string[];
}

function checked(out: string, p: Program): void {
  if (out !== p.expected) throw new Error(`pyodide ${p.name}: printed ${JSON.stringify(out.slice(0, 80))}`);
}

export async function runPyodide(
  reps: number,
  repsHeavy: number,
  freshReps: number,
  log: (s: string) => void,
): Promise<PyodideWarm> {
  log(`pyodide: load, ${reps} warm reps (${repsHeavy} CPU-bound), ${freshReps} fresh-instance runs`);
  const loads: number[] = [];
  const fresh: number[] = [];
  let t0 = performance.now();
  const h = await startPyodide();
  loads.push(performance.now() - t0);
  for (const p of PROGRAMS) checked(runInPyodide(h, p.code), p); // warm-up
  const times = new Map<string, number[]>(PROGRAMS.map((p) => [p.name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const p of PROGRAMS) {
      if (p.name === "cpu-primes" && rep >= repsHeavy) continue;
      t0 = performance.now();
      const out = runInPyodide(h, p.code);
      times.get(p.name)!.push(performance.now() - t0);
      checked(out, p);
    }
  }
  const version = h.py.version;
  const pythonVersion = String(h.py.runPython("import sys; sys.version.split()[0]"));
  for (let i = 0; i < freshReps; i++) {
    t0 = performance.now();
    const f = await startPyodide();
    const mid = performance.now();
    checked(runInPyodide(f, PRINT1.code), PRINT1);
    const end = performance.now();
    loads.push(mid - t0);
    fresh.push(end - t0);
  }
  return {
    version,
    pythonVersion,
    loadMs: roundSummary(summarize(loads)),
    warm: PROGRAMS.map((p) => ({ program: p.name, ms: roundSummary(summarize(times.get(p.name)!)) })),
    freshPrint1Ms: roundSummary(summarize(fresh)),
    fetches: [...fetchesSeen],
  };
}
