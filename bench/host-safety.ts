/**
 * Host safety figures (issue 11): what a hostile guest costs the host process. Run as
 *   node --expose-gc build/bench/host-safety.js [truncate|growshrink|recycle|all]
 * (or `deno run -A bench/host-safety.ts …`). Prints one JSON line per scenario:
 * - truncate: the create/truncate(8 MiB)/truncate(0) loop under default limits (fuel
 *   unlimited, 10 s); host RSS peak (sampled every 20 ms) against guest memory limit + /tmp quota.
 * - churn: the same loop with an unlink, and every 8th file kept open after its unlink (closed
 *   100 files later), so it never reaches the file limit: it runs the whole 10 s.
 * - growshrink: ftruncate(512 MiB)/ftruncate(0) forever with fuel 5,000,000 and a 512 MiB quota:
 *   seconds until it ends, and how (before host calls cost fuel it ran until the deadline).
 * - recycle: two runs that grow guest memory to ~200 MiB, then idle host RSS after GC.
 */
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";

const MiB = 1 << 20;
const rssMiB = () => Math.round(process.memoryUsage().rss / MiB);
const gc = (globalThis as unknown as { gc?: () => void }).gc;

const TRUNCATE = `import os
i=0
while True:
    p=f"/tmp/{i}"; os.close(os.open(p, os.O_CREAT|os.O_WRONLY))
    os.truncate(p, 8<<20); os.truncate(p, 0); i+=1`;

const CHURN = `import os
i=0
held=[]
while True:
    p=f"/tmp/{i}"; fd=os.open(p, os.O_CREAT|os.O_RDWR)
    try:
        os.truncate(p, 8<<20)
    except OSError:
        pass
    os.truncate(p, 0); os.unlink(p)
    if i % 8 == 0:
        try:
            os.ftruncate(fd, 1<<20)
        except OSError:
            pass
        held.append(fd)
    else:
        os.close(fd)
    if len(held) > 12: os.close(held.pop(0))
    i+=1`;

const GROW_SHRINK = `import os
fd = os.open("/tmp/f", os.O_CREAT|os.O_WRONLY)
while True:
    os.ftruncate(fd, 512<<20); os.ftruncate(fd, 0)`;

const BIG = "x = bytearray(200 << 20)\nprint(len(x))";

async function sampled<T>(work: Promise<T>): Promise<{ value: T; peakMiB: number }> {
  let peak = rssMiB();
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB())), 20);
  try {
    const value = await work;
    return { value, peakMiB: Math.max(peak, rssMiB()) };
  } finally {
    clearInterval(timer);
  }
}

async function truncate(): Promise<object> {
  return await rssUnder("truncate", TRUNCATE);
}

async function churn(): Promise<object> {
  return await rssUnder("churn", CHURN);
}

async function rssUnder(scenario: string, code: string): Promise<object> {
  const sb = await Sandbox.create({ workers: 1, warm: true });
  try {
    const idle = rssMiB();
    const { value: r, peakMiB } = await sampled(sb.run(code, { timeoutMs: 10_000, fuel: Infinity }));
    const limits = { memoryMiB: 256, tmpQuotaMiB: 8 };
    return {
      scenario,
      outcome: r.outcome,
      wallMs: r.wallMs,
      rssIdleMiB: idle,
      rssPeakMiB: peakMiB,
      growthMiB: peakMiB - idle,
      ceilingMiB: limits.memoryMiB + limits.tmpQuotaMiB,
    };
  } finally {
    await sb.close();
  }
}

async function growShrink(): Promise<object> {
  const sb = await Sandbox.create({ workers: 1, warm: true });
  try {
    const idle = rssMiB();
    const opts = { fuel: 5_000_000, tmpQuotaBytes: 512 * MiB, timeoutMs: 60_000 };
    const { value: r, peakMiB } = await sampled(sb.run(GROW_SHRINK, opts));
    return {
      scenario: "growshrink",
      outcome: r.outcome,
      fuelUsed: r.fuelUsed,
      seconds: r.wallMs / 1000,
      rssIdleMiB: idle,
      rssPeakMiB: peakMiB,
    };
  } finally {
    await sb.close();
  }
}

async function recycle(): Promise<object> {
  const sb = await Sandbox.create({ workers: 1, warm: true });
  try {
    gc?.();
    const baseline = rssMiB();
    const outcomes = [];
    for (let i = 0; i < 2; i++) outcomes.push((await sb.run(BIG, { memoryMiB: 512 })).outcome);
    await new Promise((r) => setTimeout(r, 1000));
    gc?.();
    await new Promise((r) => setTimeout(r, 500));
    return { scenario: "recycle", outcomes, rssBaselineMiB: baseline, rssAfterMiB: rssMiB() };
  } finally {
    await sb.close();
  }
}

const SCENARIOS: Record<string, () => Promise<object>> = { truncate, churn, growshrink: growShrink, recycle };
const which = process.argv[2] ?? "all";
for (const [name, fn] of Object.entries(SCENARIOS)) {
  if (which === "all" || which === name) console.log(JSON.stringify(await fn()));
}
