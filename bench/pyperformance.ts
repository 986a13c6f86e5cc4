/**
 * CPU speed on a suite nobody here wrote: 15 pure-Python benchmarks of python/pyperformance, run
 * from a local checkout the caller names (`npm run bench -- --pyperformance DIR`; the bench has no
 * network, and none of their code is in this repository). Each benchmark's run_benchmark.py runs
 * unchanged, with its own parameters, behind our stand-in for pyperf (bench/pyperf_shim.py), which
 * times it inside the program. Two figures per benchmark, each against a native CPython running
 * the very same program:
 * - library: time per iteration inside one warm Sandbox run (metered, fuel unlimited; the shim's
 *   calibration and warm-up iterations run first, so V8 has tiered the interpreter up), median of
 *   the samples, against the same median natively;
 * - one-shot command: a whole `wasi-py` process running the benchmark for a fixed number of
 *   loops (enough for native to take ~1 s) against a whole native process.
 * Both are interleaved: each round runs the native program (after a pause that lets V8's background
 * compiles finish) and then each runtime's, benchmark by
 * benchmark, and a figure is the median over the rounds of each round's ratio. A two-core machine's
 * load drifts within minutes; measured minutes apart (all native runs first, as the section once
 * did), a ratio mostly measured the drift (the native nbody took 241 ms an iteration at 13:20 on
 * 2026-12-06 and 70 ms at 18:40).
 */
import { spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Sandbox } from "../src/sandbox/mod.ts";
import { repoRoot } from "../src/sandbox/assets.ts";
import { cliArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";
import { interpreter } from "./interpreter.ts";
import { round, summarize } from "./stats.ts";

/** The benchmarks, by their pyperformance names (bm_<name>/run_benchmark.py). */
export const PYPERFORMANCE_BENCHMARKS = [
  "nbody",
  "richards",
  "fannkuch",
  "float",
  "spectral_norm",
  "chaos",
  "deltablue",
  "go",
  "hexiom",
  "nqueens",
  "raytrace",
  "json_dumps",
  "json_loads",
  "regex_v8",
  "unpack_sequence",
] as const;

/** The pyperformance commit these figures were first measured with (any checkout works; its files' sha256 are recorded). */
export const PYPERFORMANCE_COMMIT = "1d3e21798ebf2420b62c1eded4ce94453ba15151";

/** One benchmark's source, as read from the checkout. */
export interface BenchSource {
  name: string;
  source: string;
  sha256: string;
}

/** What the shim printed for one run. */
export interface ShimResult {
  name: string;
  loops: number;
  inner: number;
  perIterationS: number;
  samplesS: number[];
}

/**
 * What each library sandbox runs before the first round (~1 s of CPU natively ~0.3 s): V8 tiers
 * the interpreter's hot code up in its background threads now, not while a native round runs.
 */
const WARM_UP = "d = {}\nfor i in range(2 * 10**6):\n    d[i % 1000] = d.get(i % 1000, 0) + i * 3 // 2\nprint(len(d))";
/** Pause before each native run, so that V8's background compiles started by the runs before it are done. */
const SETTLE_MS = 1000;

/** Samples per benchmark and the shortest sample (the shim doubles its loops until one takes this long). */
const SAMPLES = { samples: 3, minSampleS: 0.2 };
/** The whole-process runs last at least this long natively. */
const ONE_SHOT_NATIVE_S = 1.0;

/** The benchmark files under `dir` (a pyperformance checkout, or its benchmarks folder); throws naming what is missing. */
export function readBenchSources(dir: string): BenchSource[] {
  const roots = [join(dir, "pyperformance", "data-files", "benchmarks"), dir];
  const root = roots.find((r) => existsSync(join(r, "bm_nbody", "run_benchmark.py")));
  if (root === undefined) throw new Error(`no pyperformance benchmarks under ${dir} (bm_nbody/run_benchmark.py)`);
  return PYPERFORMANCE_BENCHMARKS.map((name) => {
    const source = readFileSync(join(root, `bm_${name}`, "run_benchmark.py"), "utf8");
    return { name, source, sha256: createHash("sha256").update(source).digest("hex") };
  });
}

let shimText: string | undefined;

/** bench/pyperf_shim.py (read from the sources, for the compiled bench too). */
function shim(): string {
  shimText ??= readFileSync(join(repoRoot(), "bench", "pyperf_shim.py"), "utf8");
  return shimText;
}

/** The program run for one benchmark: the mode line, the shim, the benchmark's own file. */
export function benchProgram(b: BenchSource, mode: { loops: number } | "samples"): string {
  const config = mode === "samples"
    ? { mode: "samples", samples: SAMPLES.samples, min_sample_s: SAMPLES.minSampleS }
    : { mode: "fixed", loops: mode.loops };
  return `_WASI_PY_BENCH = ${JSON.stringify(config)}\n${shim()}\n${b.source}`;
}

/** The shim's report in a program's output; throws with the output's tail if there is none. */
export function parseShim(stdout: string, stderr: string): ShimResult {
  const line = stdout.split("\n").find((l) => l.startsWith("@@bench "));
  if (line === undefined) throw new Error(`no benchmark result: ${(stderr || stdout).trim().slice(-300)}`);
  return JSON.parse(line.slice("@@bench ".length)) as ShimResult;
}

/** One runtime's warm sandbox running benchmarks on request (bench/pyperf-child.ts, or in-process). */
export interface LibraryRunner {
  /** Resolves once the sandbox is up (so that its start does not load the first native round). */
  ready(): Promise<void>;
  run(b: BenchSource): Promise<ShimResult>;
  close(): Promise<void>;
}

/** A warm Sandbox (this runtime) that runs benchmarks one at a time, each as one run. */
export async function openLibrary(): Promise<LibraryRunner> {
  const sb = await Sandbox.create({ ...interpreter(), workers: 1, warm: true });
  return {
    async ready() {
      const r = await sb.run(WARM_UP, { fuel: Infinity, timeoutMs: 900_000 });
      if (r.outcome !== "ok") throw new Error(`warm-up: ${r.outcome}: ${r.stderr.trim().slice(-300)}`);
    },
    async run(b) {
      const r = await sb.run(benchProgram(b, "samples"), {
        fuel: Infinity,
        timeoutMs: 900_000,
        maxOutputBytes: 1 << 20,
      });
      if (r.outcome !== "ok") throw new Error(`${b.name}: ${r.outcome}: ${r.stderr.trim().slice(-300)}`);
      return parseShim(r.stdout, r.stderr);
    },
    close: () => sb.close(),
  };
}

/** Runs a program through `python -` (stdin); its shim result and the whole process's wall time. */
export function runNative(python: string, program: string): { result: ShimResult; wallMs: number } {
  const t0 = performance.now();
  const r = spawnSync(python, ["-"], { input: program, encoding: "utf8", timeout: 900_000, maxBuffer: 1 << 24 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) {
    throw new Error(`native ${python}: exit ${r.status ?? r.signal}: ${String(r.stderr).slice(-300)}`);
  }
  return { result: parseShim(r.stdout, r.stderr), wallMs };
}

/** Loops of a fixed-length run that make the native process last about ONE_SHOT_NATIVE_S. */
export function oneShotLoops(native: ShimResult): number {
  return Math.max(1, Math.ceil(ONE_SHOT_NATIVE_S / (native.perIterationS * native.inner)));
}

/** Geometric mean of positive ratios (null if there are none). */
export function geometricMean(values: readonly number[]): number | null {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  if (ok.length === 0) return null;
  return round(Math.exp(ok.reduce((s, v) => s + Math.log(v), 0) / ok.length), 3);
}

/** Median of per-round ratios `a[i] / b[i]` (rounds where either side is missing are left out); null if none. */
export function medianRatio(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): number | null {
  const ratios = a.flatMap((x, i) => {
    const y = b[i];
    return x !== undefined && y !== undefined && x > 0 && y > 0 ? [x / y] : [];
  });
  return ratios.length === 0 ? null : round(summarize(ratios).median, 3);
}

/** One benchmark's figures: native time per iteration, and wasi-py's ratios per runtime. */
export interface PyperfRow {
  name: string;
  nativePerIterationMs: number;
  /** Per runtime: library time per iteration / native (median of the rounds' ratios). */
  library: Record<string, number | null>;
  /**
   * Per runtime: whole wasi-py process / whole native process, for `loops` loops (native ≥ ~1 s);
   * milliseconds are the medians of the rounds, the ratio the median of the rounds' ratios.
   */
  oneShot: Record<string, { loops: number; nativeMs: number; wasiPyMs: number; ratio: number } | null>;
  /** Each round's figures (absent in results from before rounds were interleaved). */
  rounds?: {
    nativePerIterationMs: number[];
    library: Record<string, number[]>;
    nativeMs: number[];
    oneShotMs: Record<string, number[]>;
  };
}

export interface PyperfReport {
  native: { exe: string; version: string };
  /** Interleaved rounds per benchmark (absent: one pass, native first, from before 2026-12-06 19:00). */
  rounds?: number;
  sourcesSha256: Record<string, string>;
  rows: PyperfRow[];
  geomean: { library: Record<string, number | null>; oneShot: Record<string, number | null> };
  errors: string[];
}

/**
 * `rounds` rounds of: a pause (SETTLE_MS), `native()`, then each side in turn. Every side gets an
 * entry per round, undefined where it threw (the error goes to `note`, labelled `what` and the side).
 */
async function interleave(
  rounds: number,
  native: () => number,
  sides: ReadonlyMap<string, () => number | Promise<number>>,
  what: string,
  note: (what: string, e: unknown) => void,
): Promise<{ native: number[]; sides: Record<string, (number | undefined)[]> }> {
  const out = {
    native: [] as number[],
    sides: Object.fromEntries([...sides.keys()].map((k) => [k, [] as (number | undefined)[]])),
  };
  for (let r = 0; r < rounds; r++) {
    await sleep(SETTLE_MS);
    out.native.push(native());
    for (const [name, run] of sides) {
      try {
        out.sides[name]!.push(await run());
      } catch (e) {
        out.sides[name]!.push(undefined);
        note(`${what} ${name}`, e);
      }
    }
  }
  return out;
}

/**
 * The section. Per benchmark, `rounds` rounds of: the native samples, then the same program in
 * each runtime's warm sandbox (`library(rt)`, started once per runtime and kept); then per
 * benchmark `rounds` rounds of a whole native process and a whole `wasi-py` process per runtime.
 */
export async function runPyperformance(
  dir: string,
  native: string,
  runtimes: readonly Runtime[],
  root: string,
  rounds: number,
  library: (rt: Runtime) => LibraryRunner,
  log: (s: string) => void,
): Promise<PyperfReport> {
  const sources = readBenchSources(dir);
  const version = spawnSync(native, ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" });
  const errors: string[] = [];
  const note = (what: string, e: unknown) => errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  const libraries = new Map<string, LibraryRunner>();
  for (const rt of runtimes) {
    try {
      libraries.set(rt.name, library(rt));
    } catch (e) {
      note(`library ${rt.name}`, e);
    }
  }
  for (const [name, runner] of libraries) {
    await runner.ready().catch((e) => {
      libraries.delete(name);
      note(`library ${name}`, e);
    });
  }
  const rows: PyperfRow[] = [];
  const medianNative: ShimResult[] = [];
  try {
    for (const b of sources) {
      log(`pyperformance: ${b.name}: ${rounds} round(s) of native, then the library on each runtime`);
      const nat: ShimResult[] = [];
      const sides = new Map(
        [...libraries].map(([name, runner]) => [name, async () => (await runner.run(b)).perIterationS]),
      );
      const got = await interleave(
        rounds,
        () => {
          const r = runNative(native, benchProgram(b, "samples")).result;
          nat.push(r);
          return r.perIterationS;
        },
        sides,
        `library ${b.name}`,
        note,
      );
      const med = summarize(got.native).median;
      const near = (n: ShimResult) => Math.abs(n.perIterationS - med);
      medianNative.push(nat.reduce((best, n) => (near(n) < near(best) ? n : best)));
      rows.push({
        name: b.name,
        nativePerIterationMs: round(med * 1000, 4),
        library: Object.fromEntries(runtimes.map((rt) => [rt.name, medianRatio(got.sides[rt.name] ?? [], got.native)])),
        oneShot: {},
        rounds: {
          nativePerIterationMs: got.native.map((x) => round(x * 1000, 4)),
          library: Object.fromEntries(
            Object.entries(got.sides).map((
              [k, v],
            ) => [k, v.flatMap((x) => (x === undefined ? [] : [round(x * 1000, 4)]))]),
          ),
          nativeMs: [],
          oneShotMs: {},
        },
      });
    }
  } finally {
    await Promise.all([...libraries.values()].map((l) => l.close().catch(() => {})));
  }
  for (const [i, b] of sources.entries()) {
    const loops = oneShotLoops(medianNative[i]!);
    const program = benchProgram(b, { loops });
    const row = rows[i]!;
    log(`pyperformance: one-shot ${b.name}, ${loops} loop(s), ${rounds} round(s)`);
    const sides = new Map(runtimes.map((rt) => [rt.name, () => runCli(rt, root, program)]));
    const got = await interleave(rounds, () => runNative(native, program).wallMs, sides, `one-shot ${b.name}`, note);
    for (const rt of runtimes) {
      const ms = got.sides[rt.name]!.flatMap((x) => (x === undefined ? [] : [x]));
      const ratio = medianRatio(got.sides[rt.name]!, got.native);
      row.oneShot[rt.name] = ratio === null ? null : {
        loops,
        nativeMs: round(summarize(got.native).median, 0),
        wasiPyMs: round(summarize(ms).median, 0),
        ratio,
      };
      row.rounds!.oneShotMs[rt.name] = ms.map((x) => round(x, 0));
    }
    row.rounds!.nativeMs = got.native.map((x) => round(x, 0));
  }
  const geo = (pick: (r: PyperfRow) => number | null | undefined) => geometricMean(rows.map((r) => pick(r) ?? NaN));
  return {
    native: { exe: native, version: version.stdout.trim() },
    rounds,
    sourcesSha256: Object.fromEntries(sources.map((b) => [b.name, b.sha256])),
    rows,
    geomean: {
      library: Object.fromEntries(runtimes.map((rt) => [rt.name, geo((r) => r.library[rt.name])])),
      oneShot: Object.fromEntries(runtimes.map((rt) => [rt.name, geo((r) => r.oneShot[rt.name]?.ratio)])),
    },
    errors,
  };
}

/** A whole `wasi-py` process running `program` from stdin (no fuel or memory limit in the way); wall ms. */
function runCli(rt: Runtime, root: string, program: string): number {
  const args = cliArgs(rt, root, ["--fuel", "unlimited", "-t", "900", "-m", "1024", "-f", "raw", "-"]);
  const t0 = performance.now();
  const r = spawnSync(rt.exe, args, {
    cwd: root,
    input: program,
    encoding: "utf8",
    timeout: 900_000,
    maxBuffer: 1 << 24,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`exit ${r.status ?? r.signal}: ${String(r.stderr).trim().slice(-300)}`);
  parseShim(r.stdout, r.stderr);
  return ms;
}

/** The section's lines for the printed report. */
export function pyperfReport(p: PyperfReport): string[] {
  const rts = Object.keys(p.geomean.library);
  const how = p.rounds === undefined ? "" : `, median of ${p.rounds} interleaved round(s)`;
  const out = [
    `pyperformance (15 benchmarks, their own parameters) against native ${p.native.version} (${p.native.exe})${how}`,
  ];
  const head = ["benchmark", "native ms/iter", ...rts.map((r) => `library ${r}`), ...rts.map((r) => `one-shot ${r}`)];
  const cell = (x: number | null | undefined) => (x === null || x === undefined ? "-" : `${x.toFixed(2)}x`);
  const rows = p.rows.map((r) => [
    r.name,
    String(r.nativePerIterationMs),
    ...rts.map((rt) => cell(r.library[rt])),
    ...rts.map((rt) => cell(r.oneShot[rt]?.ratio)),
  ]);
  rows.push([
    "geometric mean",
    "",
    ...rts.map((rt) => cell(p.geomean.library[rt])),
    ...rts.map((rt) => cell(p.geomean.oneShot[rt])),
  ]);
  return [...out, ...[head, ...rows].map((r) => r.join(" | ")), ...p.errors.map((e) => `  error: ${e}`)];
}
