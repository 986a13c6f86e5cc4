/**
 * The shape of one benchmark run as saved in bench/results/ (bench/run.ts writes it, bench/report.ts
 * renders it), apart from both so the summary and the report's sections can share it without
 * importing each other.
 */
import type { Machine } from "./machine.ts";
import type { BreakdownSummary } from "./cold-breakdown.ts";
import type { ColdRow } from "./cold-cli.ts";
import type { ThroughputRow, WarmRow } from "./warm.ts";
import type { FuelOverhead } from "./fuel-overhead.ts";
import type { HostCost } from "./host-cost.ts";
import type { PyodideWarm } from "./pyodide.ts";
import type { MemoryRow } from "./memory.ts";
import type { PyperfReport } from "./pyperformance.ts";
import type { BatchBench } from "./batch.ts";
import type { PackageBenchRow } from "./packages.ts";
import type { MountRow } from "./package-mount.ts";
import type { ServeBench } from "./serve.ts";
import type { IrcHardening } from "./irc.ts";

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
