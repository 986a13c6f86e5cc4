/**
 * Batch throughput: `wasi-py --batch` running N copies of `print(1)` in one process (the pool
 * uses one worker per core), against the one-process-per-program way a shell loop or `xargs -P`
 * would do it, measured in the same run. Whole processes are timed (start to exit), so the batch
 * figure includes its one cold start; the marginal rate (2N minus N programs) shows the steady
 * state without it.
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { round } from "./stats.ts";
import { HUMANEVAL_SIZED, PRINT1 } from "./programs.ts";
import type { Program } from "./programs.ts";

export interface BatchBench {
  programs: number;
  cores: number;
  /** N programs through one `--batch` process, start to exit. */
  batchMs: number;
  batchPerSec: number;
  /** Programs/s between a batch of N and one of 2N (no cold start in it). */
  batchMarginalPerSec: number;
  /** One process per program, one after another. */
  singleSequentialPerSec: number;
  /** One process per program, `cores` at a time (as `xargs -P cores`). */
  singleParallelPerSec: number;
  singleRuns: number;
  /** The HumanEval-sized program (programs.ts): N through one --batch process, start to exit, and marginal. */
  humanEvalBatchPerSec?: number;
  humanEvalBatchMarginalPerSec?: number;
}

function cliCommand(root: string): [string, string[]] {
  return [process.execPath, [join(root, "build", "cli.js")]];
}

/** Times one --batch process over `n` copies of a program (print(1) by default); checks every result. */
function timeBatch(root: string, n: number, p: Program = PRINT1): number {
  const [cmd, base] = cliCommand(root);
  const input = `${JSON.stringify(p.code)}\n`.repeat(n);
  const t0 = performance.now();
  const r = spawnSync(cmd, [...base, "--batch"], { input, encoding: "utf8", timeout: 600_000, maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`--batch exit ${r.status}: ${String(r.stderr).trim().slice(-300)}`);
  const lines = r.stdout.trim().split("\n");
  const ok = lines.filter((l) => (JSON.parse(l) as { stdout: string }).stdout === p.expected).length;
  if (lines.length !== n || ok !== n) {
    throw new Error(`--batch: ${ok} of ${n} results were ${JSON.stringify(p.expected)}`);
  }
  return ms;
}

/** One `wasi-py 'print(1)'` process; resolves with nothing, rejects when it fails. */
function oneProcess(root: string): Promise<void> {
  const [cmd, base] = cliCommand(root);
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, [...base, "print(1)"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.on("close", (code) => (code === 0 && out === "1\n" ? resolve() : reject(new Error(`exit ${code}: ${out}`))));
  });
}

/** `runs` single-program processes, `parallel` at a time; programs/s. */
async function singleRate(root: string, runs: number, parallel: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < runs) {
      next++;
      await oneProcess(root);
    }
  }));
  return runs / ((performance.now() - t0) / 1000);
}

/**
 * Measures batch and one-process-per-program throughput of `print(1)`.
 *
 * @example
 * const b = await runBatchBench(repoRoot(), 200, 20, console.error);
 */
export async function runBatchBench(
  root: string,
  programs: number,
  singleRuns: number,
  log: (s: string) => void,
): Promise<BatchBench> {
  const cores = availableParallelism();
  log(`batch: one --batch process with ${programs} and ${2 * programs} programs`);
  timeBatch(root, 4); // the cache and the OS's file cache are warm for both ways
  const batchMs = timeBatch(root, programs);
  const doubleMs = timeBatch(root, 2 * programs);
  log(`batch: ${programs} and ${2 * programs} HumanEval-sized programs`);
  const heMs = timeBatch(root, programs, HUMANEVAL_SIZED);
  const heDoubleMs = timeBatch(root, 2 * programs, HUMANEVAL_SIZED);
  log(`batch: ${singleRuns} single processes, sequential, then ${cores} at a time`);
  const singleSequentialPerSec = await singleRate(root, singleRuns, 1);
  const singleParallelPerSec = await singleRate(root, singleRuns, cores);
  return {
    programs,
    cores,
    batchMs: round(batchMs, 1),
    batchPerSec: round(programs / (batchMs / 1000), 1),
    batchMarginalPerSec: round(programs / (Math.max(1, doubleMs - batchMs) / 1000), 1),
    singleSequentialPerSec: round(singleSequentialPerSec, 2),
    singleParallelPerSec: round(singleParallelPerSec, 2),
    singleRuns,
    humanEvalBatchPerSec: round(programs / (heMs / 1000), 1),
    humanEvalBatchMarginalPerSec: round(programs / (Math.max(1, heDoubleMs - heMs) / 1000), 1),
  };
}

/** The section's lines for the printed report. */
export function batchReport(b: BatchBench): string[] {
  return [
    `Batch throughput of print(1) (${b.cores} cores; whole processes, start to exit)`,
    `  wasi-py --batch, ${b.programs} programs in one process: ${b.batchPerSec} programs/s (${b.batchMs} ms; ` +
    `marginal ${b.batchMarginalPerSec} programs/s without the cold start)`,
    `  one process per program: ${b.singleSequentialPerSec} programs/s sequential, ` +
    `${b.singleParallelPerSec} programs/s ${b.cores} at a time (${b.singleRuns} runs each)`,
    `  batch / one-process-per-program (${b.cores} at a time): ${round(b.batchPerSec / b.singleParallelPerSec, 1)}x`,
    ...(b.humanEvalBatchPerSec === undefined ? [] : [
      `  HumanEval-sized program through --batch: ${b.humanEvalBatchPerSec} programs/s (marginal ${b.humanEvalBatchMarginalPerSec})`,
    ]),
  ];
}
