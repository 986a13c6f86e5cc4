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
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Sandbox } from "../src/sandbox/mod.ts";
import { repoRoot } from "../src/sandbox/assets.ts";
import { cliArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";
import { interpreter } from "./interpreter.ts";
import { round } from "./stats.ts";

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

/** Runs every benchmark once in one warm Sandbox (this runtime): the shim's results. */
export async function runLibrary(sources: BenchSource[]): Promise<ShimResult[]> {
  const sb = await Sandbox.create({ ...interpreter(), workers: 1, warm: true });
  try {
    const out: ShimResult[] = [];
    for (const b of sources) {
      const r = await sb.run(benchProgram(b, "samples"), {
        fuel: Infinity,
        timeoutMs: 900_000,
        maxOutputBytes: 1 << 20,
      });
      if (r.outcome !== "ok") throw new Error(`${b.name}: ${r.outcome}: ${r.stderr.trim().slice(-300)}`);
      out.push(parseShim(r.stdout, r.stderr));
    }
    return out;
  } finally {
    await sb.close();
  }
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

/** One benchmark's figures: native time per iteration, and wasi-py's ratios per runtime. */
export interface PyperfRow {
  name: string;
  nativePerIterationMs: number;
  /** Per runtime: library time per iteration / native. */
  library: Record<string, number | null>;
  /** Per runtime: whole wasi-py process / whole native process, for `loops` loops (native ≥ ~1 s). */
  oneShot: Record<string, { loops: number; nativeMs: number; wasiPyMs: number; ratio: number } | null>;
}

export interface PyperfReport {
  native: { exe: string; version: string };
  sourcesSha256: Record<string, string>;
  rows: PyperfRow[];
  geomean: { library: Record<string, number | null>; oneShot: Record<string, number | null> };
  errors: string[];
}

/**
 * The section: native samples, then per runtime the library (a child process running
 * bench/pyperf-child.ts) and the one-shot command, benchmark by benchmark.
 */
export async function runPyperformance(
  dir: string,
  native: string,
  runtimes: readonly Runtime[],
  root: string,
  library: (rt: Runtime) => Promise<ShimResult[]>,
  log: (s: string) => void,
): Promise<PyperfReport> {
  const sources = readBenchSources(dir);
  const version = spawnSync(native, ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" });
  const errors: string[] = [];
  log(`pyperformance: ${sources.length} benchmarks natively (${native})`);
  const nativeResults = sources.map((b) => runNative(native, benchProgram(b, "samples")).result);
  const rows: PyperfRow[] = sources.map((b, i) => ({
    name: b.name,
    nativePerIterationMs: round(nativeResults[i]!.perIterationS * 1000, 4),
    library: {},
    oneShot: {},
  }));
  for (const rt of runtimes) {
    log(`pyperformance: library on ${rt.name}`);
    try {
      const got = await library(rt);
      got.forEach((g, i) => (rows[i]!.library[rt.name] = round(g.perIterationS / nativeResults[i]!.perIterationS, 3)));
    } catch (e) {
      errors.push(`library ${rt.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const [i, b] of sources.entries()) {
    const loops = oneShotLoops(nativeResults[i]!);
    const program = benchProgram(b, { loops });
    log(`pyperformance: one-shot ${b.name}, ${loops} loop(s)`);
    const nativeMs = runNative(native, program).wallMs;
    for (const rt of runtimes) {
      try {
        const wasiPyMs = runCli(rt, root, program);
        rows[i]!.oneShot[rt.name] = {
          loops,
          nativeMs: round(nativeMs, 0),
          wasiPyMs: round(wasiPyMs, 0),
          ratio: round(wasiPyMs / nativeMs, 3),
        };
      } catch (e) {
        rows[i]!.oneShot[rt.name] = null;
        errors.push(`one-shot ${b.name} ${rt.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  const geo = (pick: (r: PyperfRow) => number | null | undefined) => geometricMean(rows.map((r) => pick(r) ?? NaN));
  return {
    native: { exe: native, version: version.stdout.trim() },
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
  const out = [
    `pyperformance (15 benchmarks, their own parameters) against native ${p.native.version} (${p.native.exe})`,
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
