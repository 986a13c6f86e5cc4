/**
 * Memory with N evaluations at once. Run as a child process per N (clean RSS):
 *   node --expose-gc --require <probe.cjs> build/bench/memory.js N
 * It prints one JSON line. Host RSS is sampled while N programs run at once on an N-worker pool;
 * the guest's linear memory per instance is reported by a probe preloaded into every worker
 * thread (node's --require reaches workers): it notes each instance's memory and records its size
 * when the worker posts its result. The probe only observes; src/ is used as shipped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";
import { Sandbox } from "../src/sandbox.ts";
import { IMPORTS, PRINT1 } from "./programs.ts";
import type { Program } from "./programs.ts";
import { checkedRun } from "./warm.ts";
import { round, summarize } from "./stats.ts";

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
  /** (peak - start) / N: including the worker thread and its compiled code. */
  perEvalWithWorkerMiB: number;
  /** Guest linear memory at the end of an evaluation (median over those probed), or null. */
  instanceMemoryMiB: number | null;
  probeNote?: string;
}

const PROBE_CJS = String.raw`
const wt = require("node:worker_threads");
const fs = require("node:fs");
const out = process.env.WASI_PY_BENCH_MEMFILE;
if (!wt.isMainThread && out && wt.parentPort) {
  let current;
  const note = (imports, instance) => {
    const m = (imports && imports.env && imports.env.memory) || (instance && instance.exports && instance.exports.memory);
    if (m instanceof WebAssembly.Memory) current = m;
  };
  const Orig = WebAssembly.Instance;
  WebAssembly.Instance = class extends Orig {
    constructor(module, imports) { super(module, imports); note(imports, this); }
  };
  const origInstantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (src, imports) {
    const r = await origInstantiate.call(WebAssembly, src, imports);
    note(imports, r.instance || r);
    return r;
  };
  const port = wt.parentPort;
  const post = port.postMessage.bind(port);
  port.postMessage = (msg, transfer) => {
    if (msg && msg.type === "done" && current) {
      fs.appendFileSync(out, current.buffer.byteLength + "\n");
      current = undefined;
    }
    return post(msg, transfer);
  };
}
`;

const MiB = 1048576;
const rss = () => process.memoryUsage.rss();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function child(n: number): Promise<MemoryRow> {
  collect();
  const rssStart = rss();
  const sb = await Sandbox.create({ workers: n });
  try {
    for (let i = 0; i < 2; i++) await Promise.all(Array.from({ length: n }, () => checkedRun(sb, PRINT1)));
    collect();
    await sleep(300);
    collect();
    const rssIdle = rss();
    const memFile = process.env["WASI_PY_BENCH_MEMFILE"];
    if (memFile) writeFileSync(memFile, "");
    let peak = rss();
    const timer = setInterval(() => { peak = Math.max(peak, rss()); }, 5);
    await Promise.all(Array.from({ length: n }, () => checkedRun(sb, HOLD)));
    clearInterval(timer);
    peak = Math.max(peak, rss());
    let instance: number | null = null;
    let probeNote: string | undefined;
    if (memFile) {
      const sizes = readFileSync(memFile, "utf8").split("\n").filter(Boolean).map(Number);
      if (sizes.length > 0) instance = summarize(sizes).median;
      else probeNote = "the probe saw no instance memory (the worker may instantiate differently)";
    } else {
      probeNote = "no probe file";
    }
    const row: MemoryRow = {
      concurrent: n,
      rssStartMiB: round(rssStart / MiB, 1),
      rssIdleMiB: round(rssIdle / MiB, 1),
      rssPeakMiB: round(peak / MiB, 1),
      perEvalMiB: round((peak - rssIdle) / n / MiB, 1),
      perEvalWithWorkerMiB: round((peak - rssStart) / n / MiB, 1),
      instanceMemoryMiB: instance === null ? null : round(instance / MiB, 1),
    };
    if (probeNote) row.probeNote = probeNote;
    return row;
  } finally {
    await sb.close();
  }
}

/** Runs the child for each N, one fresh process each. */
export function runMemory(concurrency: readonly number[], log: (s: string) => void): (MemoryRow | { concurrent: number; error: string })[] {
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-bench-"));
  const probe = join(dir, "probe.cjs");
  writeFileSync(probe, PROBE_CJS);
  const self = new URL(import.meta.url).pathname;
  try {
    return concurrency.map((n) => {
      log(`memory: ${n} concurrent evaluation(s)`);
      const memFile = join(dir, `sizes-${n}.txt`);
      const r = spawnSync(process.execPath, ["--expose-gc", "--require", probe, self, String(n)], {
        encoding: "utf8",
        env: { ...process.env, WASI_PY_BENCH_MEMFILE: memFile },
        timeout: 300_000,
      });
      if (r.status !== 0) return { concurrent: n, error: `exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-2).join(" | ")}` };
      return JSON.parse(r.stdout.trim().split("\n").pop()!) as MemoryRow;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write("usage: memory.js N\n");
    process.exit(2);
  }
  const row = await child(n);
  process.stdout.write(JSON.stringify(row) + "\n");
  process.exit(0);
}
