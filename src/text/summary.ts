/**
 * One-line summaries of how a run ended, shared by the CLI (stderr notes, --verbose) and the
 * IRC bot (the first reply line): `Timed out after 10 s`, `Out of fuel after 1,000,000,000
 * units`, `Used 763,689 fuel units (<0.1%) in 2 ms`. Pure.
 */

import type { RunResult } from "../sandbox/result.ts";

/** The limits a summary mentions; all optional (a summary without them says less). */
export interface SummaryOptions {
  /** Add the fuel/time line. */
  verbose?: boolean;
  /** The run's fuel budget, for the verbose percentage (Infinity or absent: no percentage). */
  fuelLimit?: number;
  /** The run's time limit in ms, for the timeout line. */
  timeoutMs?: number;
  /** The run's memory limit in MiB, for the out-of-memory line. */
  memoryMiB?: number;
}

/** 1234567 → "1,234,567". */
export function groupDigits(n: number): string {
  const sign = n < 0 ? "-" : "";
  const digits = String(Math.trunc(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 10000 → "10 s", 1500 → "1.5 s", 250 → "0.25 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The status line for how the run ended, or undefined when it just finished with exit code 0. */
export function statusLine(result: RunResult, options: SummaryOptions = {}): string | undefined {
  switch (result.outcome) {
    case "timeout":
      return options.timeoutMs === undefined ? "Timed out" : `Timed out after ${formatSeconds(options.timeoutMs)}`;
    case "fuel_exhausted": {
      const budget = options.fuelLimit !== undefined && Number.isFinite(options.fuelLimit)
        ? options.fuelLimit
        : result.fuelUsed;
      return `Out of fuel after ${groupDigits(budget)} units`;
    }
    case "memory_exhausted":
      return options.memoryMiB === undefined
        ? "Out of memory"
        : `Out of memory (limit ${groupDigits(options.memoryMiB)} MiB)`;
    case "aborted":
      return "Interrupted";
    case "crashed":
      return options.verbose && result.detail
        ? `Crashed (interpreter error: ${firstLine(result.detail)})`
        : "Crashed (interpreter error)";
    default:
      // WASI exit statuses are unsigned 32-bit: sys.exit(-1) arrives as 4294967295; show what the program passed.
      return result.exitCode !== 0 ? `Exited with code ${result.exitCode | 0}` : undefined;
  }
}

/**
 * `Used 12,345,678 fuel units (1.2%) in 34 ms`; `Used at least …` when the count is a lower bound
 * (a run stopped from outside while it computed, see RunResult.fuelUsedIsLowerBound).
 */
export function usageLine(result: RunResult, fuelLimit?: number): string {
  let pct = "";
  if (fuelLimit !== undefined && Number.isFinite(fuelLimit) && fuelLimit > 0) {
    const p = (result.fuelUsed / fuelLimit) * 100;
    pct = p > 0 && p < 0.1 ? " (<0.1%)" : ` (${p.toFixed(1)}%)`;
  }
  const atLeast = result.fuelUsedIsLowerBound ? "at least " : "";
  return `Used ${atLeast}${groupDigits(result.fuelUsed)} fuel units${pct} in ${
    groupDigits(Math.round(result.wallMs))
  } ms`;
}

function firstLine(s: string): string {
  const line = s.split("\n", 1)[0]!.trim();
  return line.length > 120 ? line.slice(0, 120) + "…" : line;
}
