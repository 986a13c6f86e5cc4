/**
 * The benchmark's summary: the figures the project has targets for, each with its value, ratio and
 * whether the target was met. One function per bench section, listed in SUMMARY_SECTIONS in the
 * order the summary prints them, so a section's figures are read (and changed) in one place.
 */
import { fmtSpread } from "./fuel-overhead.ts";
import { fmtMs, ratio, round } from "./stats.ts";
import { PRINT1, PROGRAMS } from "./programs.ts";
import type { MemoryRow } from "./memory.ts";
import { isError } from "./results.ts";
import type { Results, SummaryLine } from "./results.ts";

/** The targets the summary checks (ratios are ours / the baseline's). */
export const TARGETS = {
  coldVsPython: 5,
  warmPrint1Ms: 2,
  fuelOverhead: 1.15,
  hostCostRatio: 3,
  backToBackRunsPerSec: 200,
  pyperfLibrary: 2.0,
  pyperfOneShot: 2.5,
};

/** The cold row of one program under one runner, if measured. */
const coldRow = (r: Results, program: string, runner: string) =>
  r.cold?.find((c) => c.program === program && c.runner === runner);

/** The runtime that ran the bench (sections measured in-process are from it). */
const firstRuntime = (r: Results): string | undefined => r.runtimes?.[0];

function coldVsPython(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  for (const rt of r.runtimes ?? []) {
    const c = coldRow(r, PRINT1.name, `wasi-py ${rt}`);
    if (!c?.ms) continue;
    lines.push({
      figure: `cold print(1) vs python3, ${rt}`,
      value: fmtMs(c.ms.median),
      ratio: c.vsPython,
      target: `<= ${TARGETS.coldVsPython}x`,
      met: c.vsPython === null ? null : c.vsPython <= TARGETS.coldVsPython,
    });
  }
  return lines;
}

function warmPrint1(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  const runtimes = r.runtimes ?? [];
  for (const rt of runtimes) {
    const rows = rt === runtimes[0] ? r.warm : r.warmOther?.[rt];
    const x = rows && !isError(rows) ? rows.find((y) => y.program === PRINT1.name) : undefined;
    if (!x) continue;
    lines.push({
      figure: `warm print(1) median, ${rt}`,
      value: fmtMs(x.ms.median),
      ratio: null,
      target: `<= ${TARGETS.warmPrint1Ms} ms`,
      met: x.ms.median <= TARGETS.warmPrint1Ms,
    });
  }
  return lines;
}

function backToBack(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  for (const t of r.throughput ?? []) {
    if (t.workers !== 1 || t.concurrency !== 1 || (t.program ?? PRINT1.name) !== PRINT1.name) continue;
    lines.push({
      figure: `print(1) back to back, 1 worker, ${t.runtime ?? firstRuntime(r) ?? "node"}`,
      value: `${t.runsPerSecond} runs/s (${fmtMs(1000 / t.runsPerSecond)}; CPU ${t.cpuMsPerRun ?? "-"} ms/run)`,
      ratio: null,
      target: `>= ${TARGETS.backToBackRunsPerSec} runs/s`,
      met: t.runsPerSecond >= TARGETS.backToBackRunsPerSec,
    });
  }
  return lines;
}

function fuelOverhead(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  for (const [rt, f] of Object.entries(r.fuelOverhead ?? {})) {
    if (isError(f)) continue;
    lines.push({
      figure: `fuel overhead, CPU time at top tier, ${rt}`,
      value: `${fmtSpread(f.ratio)} (median, p10-p90 of ${f.ratio.n} pairs)`,
      ratio: f.ratio.median,
      target: `<= ${TARGETS.fuelOverhead}x`,
      met: f.ratio.median <= TARGETS.fuelOverhead,
    });
  }
  return lines;
}

/** The pyperformance geometric means' kinds, their targets and how the summary names them. */
const PYPERF_KINDS = [
  ["library", TARGETS.pyperfLibrary, "library (warm)"],
  ["oneShot", TARGETS.pyperfOneShot, "one-shot command (>= 1 s)"],
] as const;

function pyperformance(r: Results): SummaryLine[] {
  const pp = r.pyperformance;
  if (!pp || !("rows" in pp)) return [];
  return PYPERF_KINDS.flatMap(([kind, target, label]) =>
    Object.entries(pp.geomean[kind]).map(([rt, g]): SummaryLine => ({
      figure: `pyperformance geometric mean, ${label}, ${rt}`,
      value: `vs native ${pp.native.version}`,
      ratio: g,
      target: `<= ${target}x`,
      met: g === null ? null : g <= target,
    }))
  );
}

function hostCost(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  for (const [rt, h] of Object.entries(r.hostCost ?? {})) {
    if (isError(h)) continue;
    lines.push({
      figure: `host CPU per fuel unit, worst pattern / Python loop, ${rt}`,
      value: `${h.worst.ratio}x (${h.worst.name})`,
      ratio: h.worst.ratio,
      target: `<= ${TARGETS.hostCostRatio}x`,
      met: h.worst.ratio <= TARGETS.hostCostRatio,
    });
  }
  return lines;
}

function pyodideWarm(r: Results): SummaryLine[] {
  const py = r.pyodide;
  const warm = r.warm;
  if (!py || isError(py) || !warm) return [];
  const lines = PROGRAMS.map((p): SummaryLine => {
    const ours = warm.find((x) => x.program === p.name)?.ms.median;
    const theirs = py.warm.find((x) => x.program === p.name)?.ms.median;
    return {
      figure: `warm ${p.name}: wasi-py / pyodide (shared interp.), ${firstRuntime(r)}`,
      value: `${fmtMs(ours)} vs ${fmtMs(theirs)}`,
      ratio: ratio(ours, theirs),
      target: "< 1x to beat",
      met: ours === undefined || theirs === undefined ? null : ours < theirs,
    };
  });
  const ours = warm.find((x) => x.program === PRINT1.name)?.ms.median;
  const fresh = py.freshPrint1Ms.median;
  lines.push({
    figure: `isolated print(1): wasi-py warm / pyodide fresh load, ${firstRuntime(r)}`,
    value: `${fmtMs(ours)} vs ${fmtMs(fresh)}`,
    ratio: ratio(ours, fresh),
    target: "< 1x to beat",
    met: ours === undefined ? null : ours < fresh,
  });
  return lines;
}

function memory(r: Results): SummaryLine[] {
  const mem = (r.memory ?? []).filter((x): x is MemoryRow => !("error" in x));
  const lines: SummaryLine[] = [];
  if (mem.length >= 2) {
    // Each pool worker keeps its next instance prepared, so "idle" already holds one instance per
    // worker; the slope of peak RSS over N is the full cost of one more concurrent evaluation.
    const a = mem[0]!, b = mem[mem.length - 1]!;
    const slope = (b.rssPeakMiB - a.rssPeakMiB) / (b.concurrent - a.concurrent);
    lines.push({
      figure:
        `memory: host RSS per added concurrent evaluation (N ${a.concurrent}..${b.concurrent}, worker included), ${
          firstRuntime(r)
        }`,
      value: `${round(slope, 1)} MiB`,
      ratio: null,
      target: "-",
      met: null,
    });
  }
  for (const x of mem) {
    lines.push({
      figure: `memory, ${x.concurrent} concurrent: host RSS peak, per evaluation`,
      value: `${x.rssPeakMiB} MiB, +${x.perEvalMiB} MiB each (guest ${x.instanceMemoryMiB ?? "?"} MiB)`,
      ratio: null,
      target: "-",
      met: null,
    });
  }
  return lines;
}

function pyodideCold(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  for (const p of PROGRAMS) {
    const ours = coldRow(r, p.name, `wasi-py ${firstRuntime(r)}`)?.ms?.median;
    const theirs = coldRow(r, p.name, "pyodide node")?.ms?.median;
    if (ours === undefined || theirs === undefined) continue;
    lines.push({
      figure: `cold ${p.name}: wasi-py / pyodide, ${firstRuntime(r)}`,
      value: `${fmtMs(ours)} vs ${fmtMs(theirs)}`,
      ratio: ratio(ours, theirs),
      target: "< 1x to beat",
      met: ours < theirs,
    });
  }
  return lines;
}

function irc(r: Results): SummaryLine[] {
  if (!r.irc || isError(r.irc)) return [];
  const dropped = r.irc.overload.evaluatedThenDropped;
  return [{
    figure: "IRC overload: replies evaluated, then dropped (fake clock)",
    value: String(dropped),
    ratio: null,
    target: "0",
    met: dropped === 0,
  }];
}

/** Each section's summary figures, in the order the summary lists them. */
const SUMMARY_SECTIONS: ReadonlyArray<readonly [string, (r: Results) => SummaryLine[]]> = [
  ["cold", coldVsPython],
  ["warm", warmPrint1],
  ["throughput", backToBack],
  ["fuel overhead", fuelOverhead],
  ["pyperformance", pyperformance],
  ["hostCost", hostCost],
  ["pyodide warm", pyodideWarm],
  ["memory", memory],
  ["pyodide cold", pyodideCold],
  ["irc", irc],
];

/** The summary lines of a run: every section's figures with their targets. */
export function summarise(r: Results): SummaryLine[] {
  return SUMMARY_SECTIONS.flatMap(([, figures]) => figures(r));
}
