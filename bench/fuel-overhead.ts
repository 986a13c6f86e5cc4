/**
 * Cost of fuel metering: the same programs on the metered interpreter (what ships) and on the
 * unmetered one (assets/python-unmetered.wasm, or $WASI_PY_BENCH_UNMETERED), through the public
 * Sandbox API (its `wasm` option), runs interleaved. Besides whole-run ratios, the CPU-bound
 * program is also compared net of print(1), i.e. on the user's own code without interpreter start.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { readAsset } from "../src/sandbox/assets.ts";
import { ratio, round, roundSummary, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";
import { CPU, PRINT1 } from "./programs.ts";
import { checkedRun } from "./warm.ts";
import { interpreter } from "./interpreter.ts";

export interface FuelOverhead {
  unmeteredSource: string;
  metered: { print1: Summary; cpu: Summary };
  unmetered: { print1: Summary; cpu: Summary };
  /** Median of metered over median of unmetered, whole runs of the CPU-bound program. */
  cpuRatio: number | null;
  /** (cpu - print(1)) metered over the same unmetered: the user's code only. */
  cpuNetRatio: number | null;
  print1Ratio: number | null;
}

function unmeteredWasm(): { bytes: Uint8Array; source: string } {
  const override = process.env["WASI_PY_BENCH_UNMETERED"];
  if (override) return { bytes: new Uint8Array(readFileSync(override)), source: override };
  return { bytes: readAsset("python-unmetered.wasm"), source: "assets/python-unmetered.wasm.br" };
}

export async function runFuelOverhead(reps: number, log: (s: string) => void): Promise<FuelOverhead> {
  const un = unmeteredWasm();
  const metered = await Sandbox.create({ ...interpreter(), workers: 1 });
  const unmetered = await Sandbox.create({ ...interpreter(), workers: 1, wasm: un.bytes });
  try {
    if (!metered.metered) throw new Error("the default interpreter is not metered");
    if (unmetered.metered) throw new Error(`${un.source} is metered`);
    for (const sb of [metered, unmetered]) {
      await checkedRun(sb, PRINT1);
      await checkedRun(sb, CPU);
    }
    log(`fuel overhead: ${reps} reps, metered and unmetered interleaved`);
    const t = { mp: [] as number[], mc: [] as number[], up: [] as number[], uc: [] as number[] };
    const time = async (sb: Sandbox, p: typeof CPU, into: number[]) => {
      const t0 = performance.now();
      await checkedRun(sb, p);
      into.push(performance.now() - t0);
    };
    for (let i = 0; i < reps; i++) {
      // Alternate which goes first, so neither always runs right after the other's CPU burst.
      if (i % 2 === 0) {
        await time(metered, CPU, t.mc);
        await time(unmetered, CPU, t.uc);
      } else {
        await time(unmetered, CPU, t.uc);
        await time(metered, CPU, t.mc);
      }
      await time(metered, PRINT1, t.mp);
      await time(unmetered, PRINT1, t.up);
    }
    const s = { mp: summarize(t.mp), mc: summarize(t.mc), up: summarize(t.up), uc: summarize(t.uc) };
    const net = ratio(s.mc.median - s.mp.median, s.uc.median - s.up.median);
    const r = (x: number | null) => (x === null ? null : round(x, 3));
    return {
      unmeteredSource: un.source,
      metered: { print1: roundSummary(s.mp), cpu: roundSummary(s.mc) },
      unmetered: { print1: roundSummary(s.up), cpu: roundSummary(s.uc) },
      cpuRatio: r(ratio(s.mc.median, s.uc.median)),
      cpuNetRatio: r(net),
      print1Ratio: r(ratio(s.mp.median, s.up.median)),
    };
  } finally {
    await metered.close();
    await unmetered.close();
  }
}
