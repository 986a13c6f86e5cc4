/**
 * The terminal report's sections: one function per bench section, each turning its part of a saved
 * run into lines (a title and a table), listed in REPORT_SECTIONS in the order they print. A
 * section absent from the run prints nothing.
 */
import { WARM_GAP_MS } from "./warm.ts";
import type { WarmRow } from "./warm.ts";
import { fmtSpread } from "./fuel-overhead.ts";
import { fmtMs, fmtRatio, ratio, table } from "./stats.ts";
import { PRINT1 } from "./programs.ts";
import { batchReport } from "./batch.ts";
import { pyperfReport } from "./pyperformance.ts";
import { serveReport } from "./serve.ts";
import { ircHardeningReport } from "./irc.ts";
import { isError } from "./results.ts";
import type { Results } from "./results.ts";

/** A failed row's cell: its error, cut to fit the table. */
const errorCell = (error: string) => `ERROR ${error.slice(0, 60)}`;

function header(r: Results): string[] {
  const m = r.machine;
  const out = [
    `wasi-py bench (${r.mode}, ${r.date}) on ${m.cpus} x ${m.cpuModel}, ${m.memTotalMiB} MiB, load average at start ${
      m.loadAverageStart.join(" ")
    }, at end ${(m.loadAverageEnd ?? []).join(" ")}`,
  ];
  const ov = Object.entries(m.interpreterOverrides);
  if (ov.length > 0) {
    const list = ov.map(([k, v]) => `${k}=${v}`).join(" ");
    out.push(`Sandbox-API sections use ${list} (the cold CLI rows use the committed assets)`);
  }
  out.push(
    `runtimes: ${(r.runtimes ?? [m.node]).join(", ")}; ${m.python3 ?? "no python3"} (${m.python3Path}), commit ${
      m.gitCommit ?? "?"
    }${m.gitDirty ? " (dirty tree)" : ""}`,
  );
  return out;
}

function cold(r: Results): string[] {
  if (!r.cold) return [];
  const rows = [["program", "runner", "median", "p90", "n", "vs python3"]];
  for (const c of r.cold) {
    rows.push([
      c.program,
      c.runner,
      fmtMs(c.ms?.median),
      fmtMs(c.ms?.p90),
      String(c.ms?.n ?? 0),
      c.error ? errorCell(c.error) : fmtRatio(c.vsPython),
    ]);
  }
  return ["", "Cold: whole process, ms (median / p90), ratio = median / python3's median", table(rows)];
}

const BREAKDOWN_HEADER = [
  "runtime",
  "n",
  "script running",
  "+ sandbox imported",
  "+ Sandbox.create",
  "+ 1st print(1)",
  "+ 2nd print(1)",
];

function coldBreakdown(r: Results): string[] {
  if (!r.coldBreakdown) return [];
  const rows = [BREAKDOWN_HEADER];
  for (const [rt, b] of Object.entries(r.coldBreakdown)) {
    if (isError(b)) rows.push([rt, errorCell(b.error)]);
    else {
      const steps = [b.scriptStart, b.imported, b.created, b.firstRun, b.secondRun];
      rows.push([rt, String(b.created.n), ...steps.map((x) => fmtMs(x.median))]);
    }
  }
  return ["", "Cold start inside one fresh process (median ms since the runtime's time origin)", table(rows)];
}

/** "yes" when every other runtime used exactly the fuel this one did on the program. */
function sameFuel(w: WarmRow, others: (WarmRow | undefined)[]): string {
  const same = others.every((d) =>
    d !== undefined && d.fuelUsed.length === 1 && w.fuelUsed.length === 1 && d.fuelUsed[0] === w.fuelUsed[0]
  );
  return same ? "yes" : "NO";
}

function warm(r: Results): string[] {
  if (!r.warm) return [];
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
    rows.push([
      w.program,
      fmtMs(w.ms.median),
      fmtMs(w.ms.p90),
      String(w.ms.n),
      ...o.flatMap((d) => [fmtMs(d?.ms.median), fmtMs(d?.ms.p90)]),
      w.fuelUsed.join("|"),
      sameFuel(w, o),
      w.guestMemoryMiB === null ? "-" : `${w.guestMemoryMiB} MiB`,
      fmtMs(theirs),
      fmtRatio(ratio(w.ms.median, theirs)),
    ]);
  }
  return ["", `Warm (module loaded, 1 worker, Sandbox.run, runs ${WARM_GAP_MS} ms apart), ms`, table(rows)];
}

function throughput(r: Results): string[] {
  if (!r.throughput) return [];
  const header = [
    "runtime",
    "program",
    "workers",
    "in flight",
    "runs",
    "seconds",
    "runs/s",
    "cores busy",
    "CPU ms/run",
  ];
  const rows = r.throughput.map((t) => [
    t.runtime ?? "-",
    t.program ?? PRINT1.name,
    String(t.workers),
    String(t.concurrency),
    String(t.runs),
    String(t.seconds),
    String(t.runsPerSecond),
    String(t.coresBusy),
    String(t.cpuMsPerRun ?? "-"),
  ]);
  return ["", "Throughput (closed loop; 1 in flight = back to back, the worker never idles)", table([header, ...rows])];
}

function fuelOverhead(r: Results): string[] {
  if (!r.fuelOverhead) return [];
  const rows = [["runtime", "program", "metered CPU", "unmetered CPU", "ratio", "pairs", "warm-up runs"]];
  for (const [rt, f] of Object.entries(r.fuelOverhead)) {
    if (isError(f)) {
      rows.push([rt, errorCell(f.error)]);
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
  return [
    "",
    "Fuel metering overhead: CPU time, metered / unmetered, alternating pairs after warm-up to the top tier (median, p10-p90)",
    table(rows),
  ];
}

function pyodide(r: Results): string[] {
  const p = r.pyodide;
  if (!p) return [];
  if (isError(p)) return ["", `Pyodide: not measured: ${p.error}`];
  const fetches = p.fetches.length === 0 ? "none" : p.fetches.join(", ");
  return [
    "",
    `Pyodide ${p.version} (Python ${p.pythonVersion}): load in a running process ${
      fmtMs(p.loadMs.median)
    }, fresh load + print(1) ${fmtMs(p.freshPrint1Ms.median)} (n=${p.freshPrint1Ms.n}); network fetches: ${fetches}`,
  ];
}

function memory(r: Results): string[] {
  if (!r.memory) return [];
  const rows = [["N", "RSS start", "RSS idle pool", "RSS peak", "per eval", "(peak-start)/N", "guest memory"]];
  for (const x of r.memory) {
    if ("error" in x) rows.push([String(x.concurrent), errorCell(x.error)]);
    else {
      rows.push([
        String(x.concurrent),
        `${x.rssStartMiB} MiB`,
        `${x.rssIdleMiB} MiB`,
        `${x.rssPeakMiB} MiB`,
        `${x.perEvalMiB} MiB`,
        `${x.perEvalWithWorkerMiB} MiB`,
        x.instanceMemoryMiB === null ? `- (${x.note ?? ""})` : `${x.instanceMemoryMiB} MiB`,
      ]);
    }
  }
  return ["", "Memory (node; RSS sampled while N evaluations of the import-heavy program run at once)", table(rows)];
}

const batch = (r: Results): string[] => r.batch && !("error" in r.batch) ? ["", ...batchReport(r.batch)] : [];

function pyperformance(r: Results): string[] {
  const pp = r.pyperformance;
  if (pp && "rows" in pp) return ["", ...pyperfReport(pp)];
  if (pp && "skipped" in pp) return ["", `pyperformance: skipped (${pp.skipped})`];
  return [];
}

const serve = (r: Results): string[] => r.serve && !("error" in r.serve) ? ["", ...serveReport(r.serve)] : [];

const irc = (r: Results): string[] => r.irc && !("error" in r.irc) ? ["", ...ircHardeningReport(r.irc)] : [];

function summary(r: Results): string[] {
  const met = (m: boolean | null) => m === null ? "-" : m ? "yes" : "NO";
  const rows = r.summary.map((s) => [s.figure, s.value, fmtRatio(s.ratio), s.target, met(s.met)]);
  return ["", "Summary", table([["figure", "value", "ratio", "target", "met"], ...rows])];
}

const errors = (r: Results): string[] => r.errors.length > 0 ? ["", "Errors:", ...r.errors.map((e) => `  ${e}`)] : [];

/** Each section's lines of the terminal report, in the order they print. */
export const REPORT_SECTIONS: ReadonlyArray<readonly [string, (r: Results) => string[]]> = [
  ["header", header],
  ["cold", cold],
  ["coldBreakdown", coldBreakdown],
  ["warm", warm],
  ["throughput", throughput],
  ["fuel overhead", fuelOverhead],
  ["pyodide", pyodide],
  ["memory", memory],
  ["batch", batch],
  ["pyperformance", pyperformance],
  ["serve", serve],
  ["irc", irc],
  ["summary", summary],
  ["errors", errors],
];
