/**
 * Where a cold wasi-py start goes, measured inside one fresh process of each runtime (run as a
 * child: `node build/bench/cold-breakdown.js --child` or `deno run -A bench/cold-breakdown.ts
 * --child`, prints one JSON line). Marks are ms since the runtime's time origin (performance.now(),
 * about the process start), so the first one includes the runtime's own start-up.
 */
import process from "node:process";
import { spawnSync } from "node:child_process";
import { roundSummary, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";
import { interpreter } from "./interpreter.ts";
import { scriptArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";

export interface Breakdown {
  /** Node running, this script's imports resolved. */
  scriptStart: number;
  /** src/sandbox/mod.ts and its dependencies imported. */
  imported: number;
  /** Sandbox.create done: assets read, module compiled. */
  created: number;
  /** First print(1) finished (worker started, instance made, CPython ran). */
  firstRun: number;
  /** A second print(1) on the same sandbox. */
  secondRun: number;
}

async function measure(): Promise<Breakdown> {
  const scriptStart = performance.now();
  const { Sandbox } = await import("../src/sandbox/mod.ts");
  const imported = performance.now();
  const sb = await Sandbox.create({ ...interpreter(), workers: 1 });
  const created = performance.now();
  const a = await sb.run("print(1)");
  const firstRun = performance.now();
  const b = await sb.run("print(1)");
  const secondRun = performance.now();
  await sb.close();
  if (a.stdout !== "1\n" || b.stdout !== "1\n") throw new Error(`print(1) printed ${JSON.stringify(a.stdout)}`);
  return { scriptStart, imported, created, firstRun, secondRun };
}

export type BreakdownSummary = { [K in keyof Breakdown]: Summary };

/** Runs the child on `rt` `reps` times (after one untimed run); medians of each mark. */
export function runBreakdown(rt: Runtime, root: string, reps: number): BreakdownSummary {
  const rows: Breakdown[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const r = spawnSync(rt.exe, scriptArgs(rt, root, "cold-breakdown", ["--child"]), {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.status !== 0) {
      throw new Error(
        `cold breakdown child: exit ${r.status ?? r.signal}: ${
          String(r.stderr).trim().split("\n").slice(-2).join(" | ")
        }`,
      );
    }
    if (i > 0) rows.push(JSON.parse(r.stdout) as Breakdown); // the first fills OS caches
  }
  const keys = ["scriptStart", "imported", "created", "firstRun", "secondRun"] as const;
  return Object.fromEntries(
    keys.map((k) => [k, roundSummary(summarize(rows.map((b) => b[k])), 1)]),
  ) as BreakdownSummary;
}

if (process.argv[2] === "--child") {
  process.stdout.write(JSON.stringify(await measure()) + "\n");
  process.exit(0);
}
