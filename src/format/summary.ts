/**
 * One-line summaries of how a run ended, shared by the CLI (stderr notes, --verbose), the IRC bot
 * (the first reply line) and the service (Piston's message): `Timed out after 10 s`, `Out of
 * fuel after 1,000,000,000 units`, `Used 763,689 fuel units (<0.1%) in 2 ms`, each naming the
 * run's own limits (RunResult.limits); and those limits as JSON answers carry them. Pure; it
 * sits above the sandbox (it reads its results), beside messages.ts.
 */

import { LIMIT_KEYS } from "../limits/mod.ts";
import type { RunLimitKey, RunLimits } from "../limits/mod.ts";
import type { RunResult } from "../sandbox/mod.ts";

/** What a summary says besides how the run ended (the limits it names are the run's own, RunResult.limits). */
export interface SummaryOptions {
  /** Add the fuel/time line; a crash says the interpreter's message. */
  verbose?: boolean;
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

/**
 * The status line for how the run ended, naming the limit it hit as the run had it
 * (`Timed out after 2 s`), or undefined when it just finished with exit code 0.
 */
export function statusLine(result: RunResult, options: SummaryOptions = {}): string | undefined {
  const { limits } = result;
  switch (result.outcome) {
    case "timeout":
      return `Timed out after ${formatSeconds(limits.timeoutMs)}`;
    case "fuel_exhausted":
      return `Out of fuel after ${groupDigits(Number.isFinite(limits.fuel) ? limits.fuel : result.fuelUsed)} units`;
    case "memory_exhausted":
      return `Out of memory (limit ${groupDigits(limits.memoryMiB)} MiB)`;
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
 * `Used 12,345,678 fuel units (1.2%) in 34 ms`, the share of the run's own fuel budget (none when
 * unlimited); `Used at least …` when the count is a lower bound (a run stopped from outside while
 * it computed, see RunResult.fuelUsedIsLowerBound).
 */
export function usageLine(result: RunResult): string {
  const budget = result.limits.fuel;
  let pct = "";
  if (Number.isFinite(budget) && budget > 0) {
    const p = (result.fuelUsed / budget) * 100;
    pct = p > 0 && p < 0.1 ? " (<0.1%)" : ` (${p.toFixed(1)}%)`;
  }
  const atLeast = result.fuelUsedIsLowerBound ? "at least " : "";
  return `Used ${atLeast}${groupDigits(result.fuelUsed)} fuel units${pct} in ${
    groupDigits(Math.round(result.wallMs))
  } ms`;
}

/** A run's limits as JSON carries them: unlimited fuel (Infinity, which JSON lacks) is null. */
export type LimitsJson = Record<RunLimitKey, number | null>;

/**
 * RunResult.limits for a JSON answer (`-f json`, `--batch`, the service's /v1/run): every limit,
 * in the order of RunLimits, unlimited fuel as null.
 *
 * @example
 * limitsJson({ ...DEFAULT_LIMITS, fuel: Infinity }).fuel; // null (DEFAULT_LIMITS: src/limits/mod.ts)
 */
export function limitsJson(limits: RunLimits): LimitsJson {
  return Object.fromEntries(LIMIT_KEYS.map((k) => [k, Number.isFinite(limits[k]) ? limits[k] : null])) as LimitsJson;
}

function firstLine(s: string): string {
  const line = s.split("\n", 1)[0]!.trim();
  return line.length > 120 ? line.slice(0, 120) + "…" : line;
}
