/**
 * The benchmark's report (bench/run.ts measures): the results' shape, the summary lines with their
 * targets, the terminal table and the README's short table. Kept apart from the measuring so either
 * can be read, and a saved result re-rendered (--render), without the other.
 */
import process from "node:process";
import type { Machine } from "./machine.ts";
import type { BreakdownSummary } from "./cold-breakdown.ts";
import type { ColdRow } from "./cold-cli.ts";
import { WARM_GAP_MS } from "./warm.ts";
import type { ThroughputRow, WarmRow } from "./warm.ts";
import { fmtSpread } from "./fuel-overhead.ts";
import type { FuelOverhead } from "./fuel-overhead.ts";
import type { HostCost } from "./host-cost.ts";
import type { PyodideWarm } from "./pyodide.ts";
import type { MemoryRow } from "./memory.ts";
import { fmtMs, fmtRatio, ratio, round, table } from "./stats.ts";
import { PRINT1, PROGRAMS } from "./programs.ts";
import { batchReport } from "./batch.ts";
import { pyperfReport } from "./pyperformance.ts";
import type { PyperfReport } from "./pyperformance.ts";
import type { BatchBench } from "./batch.ts";
import type { PackageBenchRow } from "./packages.ts";
import type { MountRow } from "./package-mount.ts";
import { serveReport } from "./serve.ts";
import type { ServeBench } from "./serve.ts";
import { ircHardeningReport } from "./irc.ts";
import type { IrcHardening } from "./irc.ts";

export const TARGETS = {
  coldVsPython: 5,
  warmPrint1Ms: 2,
  fuelOverhead: 1.15,
  hostCostRatio: 3,
  backToBackRunsPerSec: 200,
  pyperfLibrary: 2.0,
  pyperfOneShot: 2.5,
};

/** One run of the benchmark, as saved in bench/results/. */
export interface Results {
  schema: 1;
  date: string;
  mode: "full" | "quick";
  config: {
    warmGapMs: number;
    reps: number;
    repsHeavy: number;
    throughputSeconds: number;
    pyodideFreshReps: number;
    memoryConcurrency: number[];
  };
  machine: Machine;
  programs: { name: string; code: string }[];
  /** The runtimes compared, by name ("node 20.20.2", "node 24.21.0", "deno 2.9.6"); the first runs the bench. */
  runtimes?: string[];
  cold?: ColdRow[];
  /** Per runtime name. */
  coldBreakdown?: Record<string, BreakdownSummary | { error: string }>;
  /** The machine's node, in this process. */
  warm?: WarmRow[];
  /** The same warm section on the other runtimes (child processes), per runtime name. */
  warmOther?: Record<string, WarmRow[] | { error: string }>;
  throughput?: ThroughputRow[];
  batch?: BatchBench | { error: string };
  /** Per runtime name (child processes). */
  fuelOverhead?: Record<string, FuelOverhead | { error: string }>;
  /** Host CPU per fuel unit of host-heavy patterns against a Python loop, per runtime name (child processes). */
  hostCost?: Record<string, HostCost | { error: string }>;
  pyodide?: PyodideWarm | { error: string };
  pyperformance?: PyperfReport | { error: string } | { skipped: string };
  memory?: (MemoryRow | { concurrent: number; error: string })[];
  /** `import NAME` of the Debian package image against native (bench/packages.ts). */
  packages?: PackageBenchRow[] | { error: string };
  /** Mounting the Debian package image: create time and RSS against none (bench/package-mount.ts). */
  packageMount?: MountRow[] | { error: string };
  /** The HTTP service under autocannon, a flood against a full queue, the CLI through it (bench/serve.ts). */
  serve?: ServeBench | { error: string };
  /** The IRC bot under three abuses, on the fake clock (bench/irc-hardening.ts). */
  irc?: IrcHardening | { error: string };
  summary: SummaryLine[];
  errors: string[];
}

/** One figure of the summary: its value, its ratio to the baseline and its target. */
export interface SummaryLine {
  figure: string;
  value: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

/** Whether a section failed (section() in run.ts returns its error). */
export const isError = (x: unknown): x is { error: string } => typeof x === "object" && x !== null && "error" in x;

export function summarise(r: Results): SummaryLine[] {
  const lines: SummaryLine[] = [];
  const cold = (prog: string, runner: string) => r.cold?.find((c) => c.program === prog && c.runner === runner);
  const runtimes = r.runtimes ?? [];
  for (const rt of runtimes) {
    const c = cold(PRINT1.name, `wasi-py ${rt}`);
    if (c?.ms) {
      lines.push({
        figure: `cold print(1) vs python3, ${rt}`,
        value: fmtMs(c.ms.median),
        ratio: c.vsPython,
        target: `<= ${TARGETS.coldVsPython}x`,
        met: c.vsPython === null ? null : c.vsPython <= TARGETS.coldVsPython,
      });
    }
  }
  const w = r.warm?.find((x) => x.program === PRINT1.name);
  for (const rt of runtimes) {
    const rows = rt === runtimes[0] ? r.warm : r.warmOther?.[rt];
    const x = rows && !isError(rows) ? rows.find((y) => y.program === PRINT1.name) : undefined;
    if (x) {
      lines.push({
        figure: `warm print(1) median, ${rt}`,
        value: fmtMs(x.ms.median),
        ratio: null,
        target: `<= ${TARGETS.warmPrint1Ms} ms`,
        met: x.ms.median <= TARGETS.warmPrint1Ms,
      });
    }
  }
  for (const t of r.throughput ?? []) {
    if (t.workers !== 1 || t.concurrency !== 1 || (t.program ?? PRINT1.name) !== PRINT1.name) continue;
    lines.push({
      figure: `print(1) back to back, 1 worker, ${t.runtime ?? runtimes[0] ?? "node"}`,
      value: `${t.runsPerSecond} runs/s (${fmtMs(1000 / t.runsPerSecond)}; CPU ${t.cpuMsPerRun ?? "-"} ms/run)`,
      ratio: null,
      target: `>= ${TARGETS.backToBackRunsPerSec} runs/s`,
      met: t.runsPerSecond >= TARGETS.backToBackRunsPerSec,
    });
  }
  for (const [rt, f] of Object.entries(r.fuelOverhead ?? {})) {
    if (isError(f)) continue;
    const value = `${fmtSpread(f.ratio)} (median, p10-p90 of ${f.ratio.n} pairs)`;
    lines.push({
      figure: `fuel overhead, CPU time at top tier, ${rt}`,
      value,
      ratio: f.ratio.median,
      target: `<= ${TARGETS.fuelOverhead}x`,
      met: f.ratio.median <= TARGETS.fuelOverhead,
    });
  }
  const pp = r.pyperformance;
  if (pp && "rows" in pp) {
    for (const [kind, target] of [["library", TARGETS.pyperfLibrary], ["oneShot", TARGETS.pyperfOneShot]] as const) {
      for (const [rt, g] of Object.entries(pp.geomean[kind])) {
        lines.push({
          figure: `pyperformance geometric mean, ${
            kind === "library" ? "library (warm)" : "one-shot command (>= 1 s)"
          }, ${rt}`,
          value: `vs native ${pp.native.version}`,
          ratio: g,
          target: `<= ${target}x`,
          met: g === null ? null : g <= target,
        });
      }
    }
  }
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
  if (r.pyodide && !isError(r.pyodide) && r.warm) {
    for (const p of PROGRAMS) {
      const ours = r.warm.find((x) => x.program === p.name)?.ms.median;
      const theirs = r.pyodide.warm.find((x) => x.program === p.name)?.ms.median;
      lines.push({
        figure: `warm ${p.name}: wasi-py / pyodide (shared interp.), ${runtimes[0]}`,
        value: `${fmtMs(ours)} vs ${fmtMs(theirs)}`,
        ratio: ratio(ours, theirs),
        target: "< 1x to beat",
        met: ours === undefined || theirs === undefined ? null : ours < theirs,
      });
    }
    const ours = w?.ms.median;
    const fresh = r.pyodide.freshPrint1Ms.median;
    lines.push({
      figure: `isolated print(1): wasi-py warm / pyodide fresh load, ${runtimes[0]}`,
      value: `${fmtMs(ours)} vs ${fmtMs(fresh)}`,
      ratio: ratio(ours, fresh),
      target: "< 1x to beat",
      met: ours === undefined ? null : ours < fresh,
    });
  }
  const mem = (r.memory ?? []).filter((x): x is MemoryRow => !("error" in x));
  if (mem.length >= 2) {
    // Each pool worker keeps its next instance prepared, so "idle" already holds one instance per
    // worker; the slope of peak RSS over N is the full cost of one more concurrent evaluation.
    const a = mem[0]!, b = mem[mem.length - 1]!;
    const slope = (b.rssPeakMiB - a.rssPeakMiB) / (b.concurrent - a.concurrent);
    lines.push({
      figure:
        `memory: host RSS per added concurrent evaluation (N ${a.concurrent}..${b.concurrent}, worker included), ${
          runtimes[0]
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
  for (const p of PROGRAMS) {
    const ours = cold(p.name, `wasi-py ${runtimes[0]}`)?.ms?.median;
    const theirs = cold(p.name, "pyodide node")?.ms?.median;
    if (ours !== undefined && theirs !== undefined) {
      lines.push({
        figure: `cold ${p.name}: wasi-py / pyodide, ${runtimes[0]}`,
        value: `${fmtMs(ours)} vs ${fmtMs(theirs)}`,
        ratio: ratio(ours, theirs),
        target: "< 1x to beat",
        met: ours < theirs,
      });
    }
  }
  if (r.irc && !isError(r.irc)) {
    const dropped = r.irc.overload.evaluatedThenDropped;
    lines.push({
      figure: "IRC overload: replies evaluated, then dropped (fake clock)",
      value: String(dropped),
      ratio: null,
      target: "0",
      met: dropped === 0,
    });
  }
  return lines;
}

export function print(r: Results): void {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `wasi-py bench (${r.mode}, ${r.date}) on ${m.cpus} x ${m.cpuModel}, ${m.memTotalMiB} MiB, load average at start ${
      m.loadAverageStart.join(" ")
    }, at end ${(m.loadAverageEnd ?? []).join(" ")}`,
  );
  const ov = Object.entries(m.interpreterOverrides);
  if (ov.length > 0) {
    out.push(
      `Sandbox-API sections use ${
        ov.map(([k, v]) => `${k}=${v}`).join(" ")
      } (the cold CLI rows use the committed assets)`,
    );
  }
  out.push(
    `runtimes: ${(r.runtimes ?? [m.node]).join(", ")}; ${m.python3 ?? "no python3"} (${m.python3Path}), commit ${
      m.gitCommit ?? "?"
    }${m.gitDirty ? " (dirty tree)" : ""}`,
  );
  if (r.cold) {
    out.push("", "Cold: whole process, ms (median / p90), ratio = median / python3's median");
    const rows = [["program", "runner", "median", "p90", "n", "vs python3"]];
    for (const c of r.cold) {
      rows.push([
        c.program,
        c.runner,
        fmtMs(c.ms?.median),
        fmtMs(c.ms?.p90),
        String(c.ms?.n ?? 0),
        c.error ? `ERROR ${c.error.slice(0, 60)}` : fmtRatio(c.vsPython),
      ]);
    }
    out.push(table(rows));
  }
  if (r.coldBreakdown) {
    out.push("", "Cold start inside one fresh process (median ms since the runtime's time origin)");
    const rows = [[
      "runtime",
      "n",
      "script running",
      "+ sandbox imported",
      "+ Sandbox.create",
      "+ 1st print(1)",
      "+ 2nd print(1)",
    ]];
    for (const [rt, b] of Object.entries(r.coldBreakdown)) {
      if (isError(b)) rows.push([rt, `ERROR ${b.error.slice(0, 60)}`]);
      else {rows.push([
          rt,
          String(b.created.n),
          ...[b.scriptStart, b.imported, b.created, b.firstRun, b.secondRun].map((x) => fmtMs(x.median)),
        ]);}
    }
    out.push(table(rows));
  }
  if (r.warm) {
    out.push("", `Warm (module loaded, 1 worker, Sandbox.run, runs ${WARM_GAP_MS} ms apart), ms`);
    const others = Object.entries(r.warmOther ?? {});
    const rows = [[
      "program",
      `${r.runtimes?.[0] ?? "node"} median`,
      "p90",
      "n",
      ...others.flatMap(([rt]) => [`${rt} median`, "p90"]),
      "fuelUsed",
      "same on all",
      "guest mem",
      "pyodide warm",
      "ours/pyodide",
    ]];
    const py = r.pyodide && !isError(r.pyodide) ? r.pyodide : undefined;
    for (const w of r.warm) {
      const theirs = py?.warm.find((x) => x.program === w.program)?.ms.median;
      const o = others.map(([, rows]) => (isError(rows) ? undefined : rows.find((x) => x.program === w.program)));
      const same = o.every((d) =>
          d !== undefined && d.fuelUsed.length === 1 && w.fuelUsed.length === 1 && d.fuelUsed[0] === w.fuelUsed[0]
        )
        ? "yes"
        : "NO";
      rows.push([
        w.program,
        fmtMs(w.ms.median),
        fmtMs(w.ms.p90),
        String(w.ms.n),
        ...o.flatMap((d) => [fmtMs(d?.ms.median), fmtMs(d?.ms.p90)]),
        w.fuelUsed.join("|"),
        same,
        w.guestMemoryMiB === null ? "-" : `${w.guestMemoryMiB} MiB`,
        fmtMs(theirs),
        fmtRatio(ratio(w.ms.median, theirs)),
      ]);
    }
    out.push(table(rows));
  }
  if (r.throughput) {
    out.push("", "Throughput (closed loop; 1 in flight = back to back, the worker never idles)");
    out.push(
      table([
        ["runtime", "program", "workers", "in flight", "runs", "seconds", "runs/s", "cores busy", "CPU ms/run"],
        ...r.throughput.map((
          t,
        ) => [
          t.runtime ?? "-",
          t.program ?? PRINT1.name,
          String(t.workers),
          String(t.concurrency),
          String(t.runs),
          String(t.seconds),
          String(t.runsPerSecond),
          String(t.coresBusy),
          String(t.cpuMsPerRun ?? "-"),
        ]),
      ]),
    );
  }
  if (r.fuelOverhead) {
    out.push(
      "",
      "Fuel metering overhead: CPU time, metered / unmetered, alternating pairs after warm-up to the top tier (median, p10-p90)",
    );
    const rows = [["runtime", "program", "metered CPU", "unmetered CPU", "ratio", "pairs", "warm-up runs"]];
    for (const [rt, f] of Object.entries(r.fuelOverhead)) {
      if (isError(f)) {
        rows.push([rt, `ERROR ${f.error.slice(0, 60)}`]);
        continue;
      }
      for (const p of f.programs) {
        rows.push([
          rt,
          p.program,
          fmtMs(p.meteredCpuMs.median),
          fmtMs(p.unmeteredCpuMs.median),
          fmtSpread(p.ratio),
          String(p.ratio.n),
          p.warmupRuns.join("/"),
        ]);
      }
      rows.push([rt, "all", "", "", fmtSpread(f.ratio), String(f.ratio.n), ""]);
    }
    out.push(table(rows));
  }
  if (r.pyodide) {
    if (isError(r.pyodide)) out.push("", `Pyodide: not measured: ${r.pyodide.error}`);
    else {
      const p = r.pyodide;
      out.push(
        "",
        `Pyodide ${p.version} (Python ${p.pythonVersion}): load in a running process ${
          fmtMs(p.loadMs.median)
        }, fresh load + print(1) ${fmtMs(p.freshPrint1Ms.median)} (n=${p.freshPrint1Ms.n}); network fetches: ${
          p.fetches.length === 0 ? "none" : p.fetches.join(", ")
        }`,
      );
    }
  }
  if (r.memory) {
    out.push("", "Memory (node; RSS sampled while N evaluations of the import-heavy program run at once)");
    const rows = [["N", "RSS start", "RSS idle pool", "RSS peak", "per eval", "(peak-start)/N", "guest memory"]];
    for (const x of r.memory) {
      if ("error" in x) rows.push([String(x.concurrent), `ERROR ${x.error.slice(0, 60)}`]);
      else {rows.push([
          String(x.concurrent),
          `${x.rssStartMiB} MiB`,
          `${x.rssIdleMiB} MiB`,
          `${x.rssPeakMiB} MiB`,
          `${x.perEvalMiB} MiB`,
          `${x.perEvalWithWorkerMiB} MiB`,
          x.instanceMemoryMiB === null ? `- (${x.note ?? ""})` : `${x.instanceMemoryMiB} MiB`,
        ]);}
    }
    out.push(table(rows));
  }
  if (r.batch && !("error" in r.batch)) out.push("", ...batchReport(r.batch));
  if (r.pyperformance && "rows" in r.pyperformance) out.push("", ...pyperfReport(r.pyperformance));
  if (r.pyperformance && "skipped" in r.pyperformance) {
    out.push("", `pyperformance: skipped (${r.pyperformance.skipped})`);
  }
  if (r.serve && !("error" in r.serve)) out.push("", ...serveReport(r.serve));
  if (r.irc && !("error" in r.irc)) out.push("", ...ircHardeningReport(r.irc));
  out.push("", "Summary");
  out.push(
    table([
      ["figure", "value", "ratio", "target", "met"],
      ...r.summary.map((
        s,
      ) => [s.figure, s.value, fmtRatio(s.ratio), s.target, s.met === null ? "-" : s.met ? "yes" : "NO"]),
    ]),
  );
  if (r.errors.length > 0) out.push("", "Errors:", ...r.errors.map((e) => `  ${e}`));
  process.stdout.write(out.join("\n") + "\n");
}

/** The README's short table: the summary lines and the machine they came from. */
export function markdown(r: Results): string {
  const m = r.machine;
  const lines = [
    `Measured ${r.date.slice(0, 16).replace("T", " ")} UTC on ${m.cpus} x ${m.cpuModel} (load average ${
      m.loadAverageStart.join(" ")
    } at start); runtimes ${
      (r.runtimes ?? [m.node]).join(", ")
    } (each figure names its runtime; the first one runs the bench, so sections measured in-process are from it); native ${
      m.python3 ?? "python3"
    } (${m.python3Path}); commit ${m.gitCommit ?? "?"}. \`npm run bench\` (results in bench/results/).`,
    "",
    "| figure | value | ratio | target | met |",
    "|---|---|---|---|---|",
    ...r.summary.map((s) =>
      `| ${s.figure} | ${s.value} | ${fmtRatio(s.ratio)} | ${s.target} | ${
        s.met === null ? "-" : s.met ? "yes" : "no"
      } |`
    ),
  ];
  return lines.join("\n") + "\n";
}
