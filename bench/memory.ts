/**
 * Memory with N evaluations at once. Run as a child process per N (clean RSS):
 *   node --expose-gc build/bench/memory.js N
 * It prints one JSON line. Host RSS is sampled while N programs run at once on an N-worker pool;
 * the guest's linear memory per instance is the result's memoryBytes (its peak).
 */
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { IMPORTS, PRINT1 } from "./programs.ts";
import type { Program } from "./programs.ts";
import { checkedRun } from "./warm.ts";
import { round, summarize } from "./stats.ts";
import { interpreter } from "./interpreter.ts";

/** Holds its instance (after the import-heavy program's work) while the others start. */
const HOLD: Program = {
  name: "imports+sleep",
  code: `${IMPORTS.code}\nimport time\ntime.sleep(0.6)`,
  expected: IMPORTS.expected,
};

export interface MemoryRow {
  concurrent: number;
  /** RSS before the sandbox exists (node + our modules). */
  rssStartMiB: number;
  /** After the pool of N workers is started and warmed, idle, after GC. */
  rssIdleMiB: number;
  /** Highest RSS while N evaluations ran at once. */
  rssPeakMiB: number;
  /** (peak - idle) / N. */
  perEvalMiB: number;
  /** (peak - start) / N: everything the sandbox added, shared parts (compiled module, stdlib image) included. */
  perEvalWithWorkerMiB: number;
  /** Guest linear memory (peak) of one evaluation, median over the N; null if not reported. */
  instanceMemoryMiB: number | null;
  note?: string;
}

const MiB = 1048576;
const rss = () => process.memoryUsage.rss();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function child(n: number): Promise<MemoryRow> {
  collect();
  const rssStart = rss();
  const sb = await Sandbox.create({ ...interpreter(), workers: n });
  try {
    for (let i = 0; i < 2; i++) await Promise.all(Array.from({ length: n }, () => checkedRun(sb, PRINT1)));
    collect();
    await sleep(300);
    collect();
    const rssIdle = rss();
    let peak = rss();
    const timer = setInterval(() => {
      peak = Math.max(peak, rss());
    }, 5);
    const results = await Promise.all(Array.from({ length: n }, () => checkedRun(sb, HOLD)));
    clearInterval(timer);
    peak = Math.max(peak, rss());
    const sizes = results.map((r) => r.memoryBytes).filter((x): x is number => typeof x === "number");
    const instance = sizes.length > 0 ? summarize(sizes).median : null;
    const note = sizes.length > 0 ? undefined : "RunResult.memoryBytes not reported";
    const row: MemoryRow = {
      concurrent: n,
      rssStartMiB: round(rssStart / MiB, 1),
      rssIdleMiB: round(rssIdle / MiB, 1),
      rssPeakMiB: round(peak / MiB, 1),
      perEvalMiB: round((peak - rssIdle) / n / MiB, 1),
      perEvalWithWorkerMiB: round((peak - rssStart) / n / MiB, 1),
      instanceMemoryMiB: instance === null ? null : round(instance / MiB, 1),
    };
    if (note) row.note = note;
    return row;
  } finally {
    await sb.close();
  }
}

/** Runs the child for each N, one fresh process each. */
/** This module's URL (cast: Deno type-checks with tsconfig's lib, whose ImportMeta has no url). */
const OWN_URL = (import.meta as unknown as { url: string }).url;

export function runMemory(
  concurrency: readonly number[],
  log: (s: string) => void,
): (MemoryRow | { concurrent: number; error: string })[] {
  const self = fileURLToPath(OWN_URL);
  return concurrency.map((n) => {
    log(`memory: ${n} concurrent evaluation(s)`);
    const r = spawnSync(process.execPath, ["--expose-gc", self, String(n)], { encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) {
      return {
        concurrent: n,
        error: `exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-2).join(" | ")}`,
      };
    }
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as MemoryRow;
  });
}

if (process.argv[1] !== undefined && OWN_URL === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write("usage: memory.js N\n");
    process.exit(2);
  }
  const row = await child(n);
  process.stdout.write(JSON.stringify(row) + "\n");
  process.exit(0);
}
