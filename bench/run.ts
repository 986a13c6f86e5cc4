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
import { WARM_GAP_MS } from "./warm.ts";
import { findRuntimes } from "./runtimes.ts";
import { round } from "./stats.ts";
import { PROGRAMS } from "./programs.ts";
import { log, RUN_ORDER, SECTIONS } from "./run-sections.ts";
import type { BenchContext, Section } from "./run-sections.ts";
import { markdown, print, summarise } from "./report.ts";
import type { Results } from "./report.ts";

/** The command line, parsed: the sections' options, and what only the command uses. */
type Config =
  & Pick<
    BenchContext,
    | "quick"
    | "reps"
    | "repsHeavy"
    | "throughputSeconds"
    | "pyodideFreshReps"
    | "memoryConcurrency"
    | "pyperformance"
    | "native"
  >
  & {
    sections: Set<Section>;
    save: boolean;
    python: string | undefined;
    /** Re-print (and, for latest.json, re-write latest.md) a saved result without measuring. */
    render: string | undefined;
  };

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

/** Whether parsed JSON has the parts of a saved run the report reads before any section. */
function isSavedRun(x: unknown): x is Results {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Partial<Results>;
  return r.schema === 1 && typeof r.machine === "object" && r.machine !== null && Array.isArray(r.errors);
}

/** Prints a saved result again; latest.json also gets its summary and latest.md rewritten. */
function renderSaved(file: string): void {
  let saved: Results;
  try {
    saved = JSON.parse(readFileSync(file, "utf8")) as Results;
  } catch (e) {
    usage(`--render ${file}: ${(e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ")}`);
  }
  if (!isSavedRun(saved)) usage(`--render ${file}: not a bench result (schema 1 with machine and errors)`);
  saved.summary = summarise(saved);
  print(saved);
  if (basename(file) === "latest.json") {
    writeFileSync(file, JSON.stringify(saved, null, 2) + "\n");
    writeFileSync(join(dirname(file), "latest.md"), markdown(saved));
  }
}

/** The machine, its runtimes and an empty result for this run: what every section starts from. */
function plan(cfg: Config): BenchContext {
  const root = repoRoot();
  const python = cfg.python ?? resolvePython();
  const { runtimes, missing } = findRuntimes(root);
  const deno = runtimes.find((rt) => rt.kind === "deno")?.exe;
  const machine = describeMachine(root, python, deno);
  log(
    `machine: ${machine.cpus} cpus, load ${machine.loadAverageStart.join(" ")}; mode ${
      cfg.quick ? "quick" : "full"
    }, reps ${cfg.reps}/${cfg.repsHeavy}`,
  );
  const errors = missing.map((m) => `runtimes: ${m}`);
  const results: Results = {
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
    runtimes: runtimes.map((rt) => rt.name),
  };
  return { ...cfg, root, python, runtimes, results, errors };
}

/** Writes bench/results/<timestamp>.json, and latest.json/latest.md for a full run of every section. */
function save(ctx: BenchContext, cfg: Config): void {
  const r = ctx.results;
  const dir = join(ctx.root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stamp = r.date.replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z");
  const json = JSON.stringify(r, null, 2) + "\n";
  const file = join(dir, `${stamp}${cfg.quick ? "-quick" : ""}.json`);
  writeFileSync(file, json);
  const overrides = Object.keys(r.machine.interpreterOverrides).length;
  if (!cfg.quick && cfg.sections.size === SECTIONS.length && overrides === 0) {
    writeFileSync(join(dir, "latest.json"), json);
    writeFileSync(join(dir, "latest.md"), markdown(r));
  }
  log(`results: ${file}`);
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  if (cfg.render !== undefined) return renderSaved(cfg.render);
  const ctx = plan(cfg);
  for (const [name, measure] of RUN_ORDER) if (cfg.sections.has(name)) await measure(ctx);
  ctx.results.machine.loadAverageEnd = loadavg().map((x) => round(x, 2));
  ctx.results.summary = summarise(ctx.results);
  print(ctx.results);
  if (cfg.save) save(ctx, cfg);
  process.exit(ctx.errors.length > 0 ? 1 : 0);
}

await main();
