/**
 * `npm run bench`: every figure of the benchmark, measured in one run so that ratios compare
 * like with like (same machine, same load). Prints a compact table and writes
 * bench/results/<timestamp>.json (+ latest.json for full runs).
 *
 *   npm run bench                     full run (several minutes)
 *   npm run bench -- --quick          smoke run: few repetitions, results written as *-quick.json
 *   npm run bench -- --only cold,warm sections: cold, warm, throughput, batch, fuel, hostcost, pyperformance, pyodide, memory,
 *                                     packages, serve, irc
 *   npm run bench -- --reps N         repetitions of the cheap programs (heavy ones scale with it)
 *   npm run bench -- --no-save        print only
 *   npm run bench -- --python PATH    the native floor (default: the executable behind python3)
 *   npm run bench -- --pyperformance DIR [--native PATH]
 *                                     a python/pyperformance checkout (no network here) and the native
 *                                     CPython to compare with (default: the floor's); else skipped
 *   npm run bench -- --render FILE    print a saved result again (latest.json: also rewrites latest.md)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { repoRoot } from "../src/sandbox/assets.ts";
import { describeMachine } from "./machine.ts";
import { runCold } from "./cold-cli.ts";
import { runBreakdown } from "./cold-breakdown.ts";
import { runWarm, WARM_GAP_MS } from "./warm.ts";
import type { ThroughputRow, WarmRow } from "./warm.ts";
import type { FuelOverhead } from "./fuel-overhead.ts";
import type { HostCost } from "./host-cost.ts";
import { findRuntimes, scriptArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";
import { runPyodide } from "./pyodide.ts";
import { runMemory } from "./memory.ts";
import { round } from "./stats.ts";
import { PROGRAMS } from "./programs.ts";
import { runBatchBench } from "./batch.ts";
import { runPyperformance } from "./pyperformance.ts";
import type { ShimResult } from "./pyperformance.ts";
import { packagesTable, runPackagesBench } from "./packages.ts";
import { packageMountTable, runPackageMountBench } from "./package-mount.ts";
import { runServeBench } from "./serve.ts";
import { runIrcHardeningBench } from "./irc.ts";
import { isError, markdown, print, summarise } from "./report.ts";
import type { Results } from "./report.ts";

const SECTIONS = [
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
type Section = (typeof SECTIONS)[number];

interface Config {
  quick: boolean;
  reps: number;
  repsHeavy: number;
  throughputSeconds: number;
  pyodideFreshReps: number;
  memoryConcurrency: number[];
  sections: Set<Section>;
  save: boolean;
  python: string | undefined;
  /** A pyperformance checkout, and the native CPython its benchmarks are compared with. */
  pyperformance: string | undefined;
  native: string | undefined;
  /** Re-print (and, for latest.json, re-write latest.md) a saved result without measuring. */
  render: string | undefined;
}

function usage(msg: string): never {
  process.stderr.write(
    `bench: ${msg}\nusage: npm run bench -- [--quick] [--reps N] [--only ${
      SECTIONS.join(",")
    }] [--no-save] [--python PATH] [--render FILE]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Config {
  let render: string | undefined;
  let quick = false, reps: number | undefined, only: Section[] | undefined, save = true, python: string | undefined;
  let pyperformance: string | undefined, native: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--no-save") save = false;
    else if (a === "--render") {
      render = argv[++i];
      if (!render) usage("--render needs a results JSON file");
    } else if (a === "--python") {
      python = argv[++i];
      if (!python) usage("--python needs the path of a python3 executable");
    } else if (a === "--pyperformance" || a === "--native") {
      const v = argv[++i];
      if (!v) usage(`${a} needs a path`);
      if (a === "--native") native = v;
      else pyperformance = v;
    } else if (a === "--reps") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) usage("--reps needs an integer from 1 to 10000");
      reps = n;
    } else if (a === "--only") {
      const list = (argv[++i] ?? "").split(",").filter(Boolean);
      for (const s of list) {
        if (!(SECTIONS as readonly string[]).includes(s)) usage(`unknown section ${JSON.stringify(s)}`);
      }
      if (list.length === 0) usage("--only needs a list of sections");
      only = list as Section[];
    } else if (a === "-h" || a === "--help") usage("help");
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  const r = reps ?? (quick ? 5 : 30);
  return {
    quick,
    reps: r,
    repsHeavy: Math.max(2, Math.round(r / 3)),
    throughputSeconds: quick ? 3 : 10,
    pyodideFreshReps: quick ? 1 : 3,
    memoryConcurrency: quick ? [1, 2] : [1, 2, 4, 8],
    sections: new Set(only ?? SECTIONS),
    save,
    python,
    pyperformance,
    native,
    render,
  };
}

/**
 * The real python3 executable behind `python3` on PATH (sys.executable, symlinks resolved): a
 * version-manager shim (pyenv's is a bash script costing ~0.15 s) would inflate the floor and
 * flatter our ratio.
 */
function resolvePython(): string {
  const r = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  const exe = r.status === 0 ? r.stdout.trim() : "";
  if (exe === "") return "python3";
  try {
    return realpathSync(exe);
  } catch {
    return exe;
  }
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

function log(s: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

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

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  if (cfg.render !== undefined) {
    const saved = JSON.parse(readFileSync(cfg.render, "utf8")) as Results;
    saved.summary = summarise(saved);
    print(saved);
    if (basename(cfg.render) === "latest.json") {
      writeFileSync(cfg.render, JSON.stringify(saved, null, 2) + "\n");
      writeFileSync(join(dirname(cfg.render), "latest.md"), markdown(saved));
    }
    return;
  }
  const python = cfg.python ?? resolvePython();
  const { runtimes, missing } = findRuntimes(root);
  const deno = runtimes.find((rt) => rt.kind === "deno")?.exe;
  const machine = describeMachine(root, python, deno);
  log(
    `machine: ${machine.cpus} cpus, load ${machine.loadAverageStart.join(" ")}; mode ${
      cfg.quick ? "quick" : "full"
    }, reps ${cfg.reps}/${cfg.repsHeavy}`,
  );
  const errors: string[] = [];
  const r: Results = {
    schema: 1,
    date: new Date().toISOString(),
    mode: cfg.quick ? "quick" : "full",
    config: {
      warmGapMs: WARM_GAP_MS,
      reps: cfg.reps,
      repsHeavy: cfg.repsHeavy,
      throughputSeconds: cfg.throughputSeconds,
      pyodideFreshReps: cfg.pyodideFreshReps,
      memoryConcurrency: cfg.memoryConcurrency,
    },
    machine,
    programs: PROGRAMS.map((p) => ({ name: p.name, code: p.code })),
    summary: [],
    errors,
  };
  r.runtimes = runtimes.map((rt) => rt.name);
  for (const m of missing) errors.push(`runtimes: ${m}`);
  const has = (s: Section) => cfg.sections.has(s);
  // Child-process sections first, before this process grows (Pyodide is loaded last).
  if (has("memory")) {
    const m = await section("memory", errors, () => runMemory(cfg.memoryConcurrency, log));
    r.memory = isError(m) ? [{ concurrent: 0, error: m.error }] : m;
  }
  if (has("cold")) {
    const c = await section(
      "cold",
      errors,
      () => runCold({ root, reps: cfg.reps, repsHeavy: cfg.repsHeavy, python, runtimes, log }),
    );
    if (!isError(c)) {
      r.cold = c;
      for (const row of c) if (row.error) errors.push(`cold ${row.program} ${row.runner}: ${row.error}`);
    }
  }
  if (has("cold")) {
    r.coldBreakdown = {};
    for (const rt of runtimes) {
      log(`cold breakdown: inside a fresh ${rt.name} process`);
      r.coldBreakdown[rt.name] = await section(
        `cold breakdown ${rt.name}`,
        errors,
        () => runBreakdown(rt, root, Math.max(3, Math.round(cfg.reps / 5))),
      );
    }
  }
  if (has("warm")) {
    const w = await section("warm", errors, () => runWarm(cfg.reps * 2, cfg.repsHeavy, log));
    if (!isError(w)) r.warm = w;
    r.warmOther = {};
    for (const rt of runtimes.slice(1)) {
      log(`warm on ${rt.name}: child process`);
      r.warmOther[rt.name] = await section(
        `warm ${rt.name}`,
        errors,
        () => child<WarmRow[]>(rt, root, "warm-child", [String(cfg.reps * 2), String(cfg.repsHeavy)]),
      );
    }
  }
  if (has("throughput")) {
    const rows: ThroughputRow[] = [];
    for (const rt of runtimes) {
      log(
        `throughput on ${rt.name}: child process, back to back on 1 worker, then 2 workers; ${cfg.throughputSeconds} s each`,
      );
      const t = await section(
        `throughput ${rt.name}`,
        errors,
        () => child<ThroughputRow[]>(rt, root, "throughput-child", [String(cfg.throughputSeconds)]),
      );
      if (!isError(t)) rows.push(...t.map((row) => ({ ...row, runtime: rt.name })));
    }
    r.throughput = rows;
  }
  if (has("batch")) {
    r.batch = await section("batch", errors, () => runBatchBench(root, cfg.quick ? 50 : 300, cfg.quick ? 4 : 20, log));
  }
  if (has("fuel")) {
    r.fuelOverhead = {};
    const pairs = Math.max(3, Math.round(cfg.reps / 4));
    for (const rt of runtimes) {
      log(`fuel overhead on ${rt.name}: child process, ${pairs} pairs per program after warm-up`);
      r.fuelOverhead[rt.name] = await section(
        `fuel overhead ${rt.name}`,
        errors,
        () => child<FuelOverhead>(rt, root, "fuel-overhead", ["--child", rt.name, String(pairs)]),
      );
    }
  }
  if (has("pyperformance")) {
    if (cfg.pyperformance === undefined) {
      const why = "no --pyperformance DIR: a python/pyperformance checkout, which the bench cannot download";
      log(`pyperformance: skipped (${why})`);
      r.pyperformance = { skipped: why };
    } else {
      const dir = cfg.pyperformance;
      const native = cfg.native ?? python;
      const library = (rt: Runtime) => Promise.resolve(child<ShimResult[]>(rt, root, "pyperf-child", [dir]));
      r.pyperformance = await section(
        "pyperformance",
        errors,
        () => runPyperformance(dir, native, runtimes, root, library, log),
      );
    }
  }
  if (has("hostcost")) {
    r.hostCost = {};
    const reps = cfg.quick ? 1 : 3;
    for (const rt of runtimes) {
      log(`host cost on ${rt.name}: child process, ${reps} pairs per pattern`);
      r.hostCost[rt.name] = await section(
        `host cost ${rt.name}`,
        errors,
        () => child<HostCost>(rt, root, "host-cost", ["--child", "--reps", String(reps), "--fuel", "3e8"]),
      );
    }
  }
  if (has("pyodide")) {
    r.pyodide = await section(
      "pyodide",
      errors,
      () => runPyodide(cfg.reps * 2, cfg.repsHeavy, cfg.pyodideFreshReps, log),
    );
  }
  if (has("packages")) {
    r.packages = await section("packages", errors, () => runPackagesBench(python, cfg.quick ? 2 : 5, log));
    if (!isError(r.packages)) log(`packages: import time and fuel\n${packagesTable(r.packages)}`);
    r.packageMount = await section("packages", errors, () => runPackageMountBench(cfg.quick ? 1 : 3, log));
    if (!isError(r.packageMount)) log(`packages: mounting the image\n${packageMountTable(r.packageMount)}`);
  }
  if (has("serve")) {
    const seconds = cfg.quick ? 5 : 20;
    r.serve = await section("serve", errors, () => runServeBench(root, python, seconds, cfg.quick ? 5 : 15, log));
  }
  if (has("irc")) r.irc = await section("irc", errors, () => runIrcHardeningBench(log));
  machine.loadAverageEnd = loadavg().map((x) => round(x, 2));
  r.summary = summarise(r);
  print(r);
  if (cfg.save) {
    const dir = join(root, "bench", "results");
    mkdirSync(dir, { recursive: true });
    const stamp = r.date.replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z");
    const json = JSON.stringify(r, null, 2) + "\n";
    const file = join(dir, `${stamp}${cfg.quick ? "-quick" : ""}.json`);
    writeFileSync(file, json);
    if (!cfg.quick && cfg.sections.size === SECTIONS.length && Object.keys(machine.interpreterOverrides).length === 0) {
      writeFileSync(join(dir, "latest.json"), json);
      writeFileSync(join(dir, "latest.md"), markdown(r));
    }
    log(`results: ${file}`);
  }
  process.exit(errors.length > 0 ? 1 : 0);
}

await main();
