/**
 * How `npm run bench` measures each section: one function per section, listed in RUN_ORDER in the
 * order they run (child-process sections first, before the bench's own process grows; Pyodide is
 * loaded late). Each writes its part of the results and records a failure in `errors` instead of
 * stopping the run, so one broken section never costs the others' figures.
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { runCold } from "./cold-cli.ts";
import { runBreakdown } from "./cold-breakdown.ts";
import { runWarm } from "./warm.ts";
import type { ThroughputRow, WarmRow } from "./warm.ts";
import type { FuelOverhead } from "./fuel-overhead.ts";
import type { HostCost } from "./host-cost.ts";
import { scriptArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";
import { runPyodide } from "./pyodide.ts";
import { runMemory } from "./memory.ts";
import { runBatchBench } from "./batch.ts";
import { runPyperformance } from "./pyperformance.ts";
import type { LibraryRunner, ShimResult } from "./pyperformance.ts";
import { lineChild } from "./line-child.ts";
import { packagesTable, runPackagesBench } from "./packages.ts";
import { packageMountTable, runPackageMountBench } from "./package-mount.ts";
import { runServeBench } from "./serve.ts";
import { runIrcHardeningBench } from "./irc.ts";
import { isError } from "./results.ts";
import type { Results } from "./results.ts";

/** The sections `--only` selects, in the order the usage lists them. */
export const SECTIONS = [
  "cold",
  "warm",
  "throughput",
  "batch",
  "fuel",
  "hostcost",
  "pyperformance",
  "pyodide",
  "memory",
  "packages",
  "serve",
  "irc",
] as const;
export type Section = (typeof SECTIONS)[number];

/** What the sections need: the parsed options, the machine's runtimes, and the results they fill. */
export interface BenchContext {
  quick: boolean;
  reps: number;
  repsHeavy: number;
  throughputSeconds: number;
  pyodideFreshReps: number;
  memoryConcurrency: number[];
  /** A pyperformance checkout, and the native CPython its benchmarks are compared with. */
  pyperformance: string | undefined;
  native: string | undefined;
  root: string;
  /** The native floor, a real python3 executable. */
  python: string;
  runtimes: Runtime[];
  results: Results;
  errors: string[];
}

/** A progress line on stderr, stamped with the time of day. */
export function log(s: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

/** Runs bench/<base> as a child of `rt`; its last stdout line is JSON. */
function child<T>(rt: Runtime, root: string, base: string, args: string[]): T {
  const r = spawnSync(rt.exe, scriptArgs(rt, root, base, args), { cwd: root, encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) {
    throw new Error(
      `${rt.name} ${base}: exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-2).join(" | ")}`,
    );
  }
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as T;
}

/** Runs one measurement; a failure becomes its error (recorded in `errors`), not an exception. */
async function section<T>(name: string, errors: string[], f: () => Promise<T> | T): Promise<T | { error: string }> {
  try {
    return await f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    errors.push(`${name}: ${msg}`);
    log(`${name} FAILED: ${msg}`);
    return { error: msg };
  }
}

/** One measurement per runtime, each in its own child process, keyed by runtime name. */
async function perRuntime<T>(
  ctx: BenchContext,
  runtimes: Runtime[],
  label: string,
  f: (rt: Runtime) => T | Promise<T>,
): Promise<Record<string, T | { error: string }>> {
  const out: Record<string, T | { error: string }> = {};
  for (const rt of runtimes) out[rt.name] = await section(`${label} ${rt.name}`, ctx.errors, () => f(rt));
  return out;
}

async function memory(ctx: BenchContext): Promise<void> {
  const m = await section("memory", ctx.errors, () => runMemory(ctx.memoryConcurrency, log));
  ctx.results.memory = isError(m) ? [{ concurrent: 0, error: m.error }] : m;
}

async function cold(ctx: BenchContext): Promise<void> {
  const { root, reps, repsHeavy, python, runtimes, errors } = ctx;
  const c = await section("cold", errors, () => runCold({ root, reps, repsHeavy, python, runtimes, log }));
  if (!isError(c)) {
    ctx.results.cold = c;
    for (const row of c) if (row.error) errors.push(`cold ${row.program} ${row.runner}: ${row.error}`);
  }
  const n = Math.max(3, Math.round(reps / 5));
  ctx.results.coldBreakdown = await perRuntime(ctx, runtimes, "cold breakdown", (rt) => {
    log(`cold breakdown: inside a fresh ${rt.name} process`);
    return runBreakdown(rt, root, n);
  });
}

async function warm(ctx: BenchContext): Promise<void> {
  const w = await section("warm", ctx.errors, () => runWarm(ctx.reps * 2, ctx.repsHeavy, log));
  if (!isError(w)) ctx.results.warm = w;
  const args = [String(ctx.reps * 2), String(ctx.repsHeavy)];
  ctx.results.warmOther = await perRuntime(ctx, ctx.runtimes.slice(1), "warm", (rt) => {
    log(`warm on ${rt.name}: child process`);
    return child<WarmRow[]>(rt, ctx.root, "warm-child", args);
  });
}

async function throughput(ctx: BenchContext): Promise<void> {
  const rows: ThroughputRow[] = [];
  for (const rt of ctx.runtimes) {
    log(
      `throughput on ${rt.name}: child process, back to back on 1 worker, then 2 workers; ${ctx.throughputSeconds} s each`,
    );
    const t = await section(
      `throughput ${rt.name}`,
      ctx.errors,
      () => child<ThroughputRow[]>(rt, ctx.root, "throughput-child", [String(ctx.throughputSeconds)]),
    );
    if (!isError(t)) rows.push(...t.map((row) => ({ ...row, runtime: rt.name })));
  }
  ctx.results.throughput = rows;
}

async function batch(ctx: BenchContext): Promise<void> {
  const [programs, singleRuns] = ctx.quick ? [50, 4] : [300, 20];
  ctx.results.batch = await section("batch", ctx.errors, () => runBatchBench(ctx.root, programs, singleRuns, log));
}

async function fuel(ctx: BenchContext): Promise<void> {
  const pairs = Math.max(3, Math.round(ctx.reps / 4));
  ctx.results.fuelOverhead = await perRuntime(ctx, ctx.runtimes, "fuel overhead", (rt) => {
    log(`fuel overhead on ${rt.name}: child process, ${pairs} pairs per program after warm-up`);
    return child<FuelOverhead>(rt, ctx.root, "fuel-overhead", ["--child", rt.name, String(pairs)]);
  });
}

async function pyperformance(ctx: BenchContext): Promise<void> {
  const dir = ctx.pyperformance;
  if (dir === undefined) {
    const why = "no --pyperformance DIR: a python/pyperformance checkout, which the bench cannot download";
    log(`pyperformance: skipped (${why})`);
    ctx.results.pyperformance = { skipped: why };
    return;
  }
  const native = ctx.native ?? ctx.python;
  const library = (rt: Runtime): LibraryRunner => {
    const c = lineChild<ShimResult | { error: string }>(
      rt.exe,
      scriptArgs(rt, ctx.root, "pyperf-child", [dir]),
      ctx.root,
    );
    return {
      ready: async () => void (await c.ask("ready")),
      async run(b) {
        const r = await c.ask(b.name);
        if ("error" in r) throw new Error(r.error);
        return r;
      },
      close: () => c.close(),
    };
  };
  const rounds = ctx.quick ? 1 : 3;
  ctx.results.pyperformance = await section(
    "pyperformance",
    ctx.errors,
    () => runPyperformance(dir, native, ctx.runtimes, ctx.root, rounds, library, log),
  );
}

async function hostcost(ctx: BenchContext): Promise<void> {
  const reps = ctx.quick ? 1 : 3;
  const args = ["--child", "--reps", String(reps), "--fuel", "3e8"];
  ctx.results.hostCost = await perRuntime(ctx, ctx.runtimes, "host cost", (rt) => {
    log(`host cost on ${rt.name}: child process, ${reps} pairs per pattern`);
    return child<HostCost>(rt, ctx.root, "host-cost", args);
  });
}

async function pyodide(ctx: BenchContext): Promise<void> {
  ctx.results.pyodide = await section(
    "pyodide",
    ctx.errors,
    () => runPyodide(ctx.reps * 2, ctx.repsHeavy, ctx.pyodideFreshReps, log),
  );
}

async function packages(ctx: BenchContext): Promise<void> {
  const r = ctx.results;
  r.packages = await section("packages", ctx.errors, () => runPackagesBench(ctx.python, ctx.quick ? 2 : 5, log));
  if (!isError(r.packages)) log(`packages: import time and fuel\n${packagesTable(r.packages)}`);
  r.packageMount = await section("packages", ctx.errors, () => runPackageMountBench(ctx.quick ? 1 : 3, log));
  if (!isError(r.packageMount)) log(`packages: mounting the image\n${packageMountTable(r.packageMount)}`);
}

async function serve(ctx: BenchContext): Promise<void> {
  const [seconds, reps] = ctx.quick ? [5, 5] : [20, 15];
  ctx.results.serve = await section("serve", ctx.errors, () => runServeBench(ctx.root, ctx.python, seconds, reps, log));
}

async function irc(ctx: BenchContext): Promise<void> {
  ctx.results.irc = await section("irc", ctx.errors, () => runIrcHardeningBench(log));
}

/** Every section's measurement, in the order they run. */
export const RUN_ORDER: ReadonlyArray<readonly [Section, (ctx: BenchContext) => Promise<void>]> = [
  ["memory", memory],
  ["cold", cold],
  ["warm", warm],
  ["throughput", throughput],
  ["batch", batch],
  ["fuel", fuel],
  ["pyperformance", pyperformance],
  ["hostcost", hostcost],
  ["pyodide", pyodide],
  ["packages", packages],
  ["serve", serve],
  ["irc", irc],
];
