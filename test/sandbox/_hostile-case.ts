/**
 * What a hostile case of test/sandbox/hostile.test.ts is, and the bounds and helpers its tables
 * share: the case tables are split by kind of attack (_hostile-cases-*.ts), one runner runs them all
 * on one Sandbox. Not a test file itself.
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Outcome, RunOptions, RunResult } from "../../src/sandbox/mod.ts";

/** A value the host process has in its environment; the guest must never see it. */
export const MARKER_NAME = "WASI_PY_HOSTILE_MARKER";
/** The marker's value, random per run so no guest can know it in advance. */
export const MARKER_VALUE = `host-secret-${Math.random().toString(36).slice(2)}`;
process.env[MARKER_NAME] = MARKER_VALUE;
/** A file that certainly exists on the host: the test file hostile.test.ts (or .js once built), beside this module. */
export const HOST_FILE = fileURLToPath((import.meta as unknown as { url: string }).url) // typed: Deno checks with lib ES2023
  .replace(/_hostile-case\.(ts|js)$/, "hostile.test.$1");

/** One hostile program and what a user would expect of it. */
export interface Case {
  name: string;
  code: string;
  opts?: RunOptions;
  /** The outcome a user would expect. */
  outcome: Outcome;
  /** Matched against the last non-empty line of stderr (the exception, for `error`). */
  err?: RegExp;
  /** Exact stdout, or a pattern. */
  stdout?: string | RegExp;
  /** Upper bound on wallMs (generous: the machine is shared). Default 30 s. */
  maxWallMs?: number;
  /** Lower bound on wallMs (timeouts must not end early). */
  minWallMs?: number;
  /** Anything else to assert. */
  check?: (r: RunResult) => void;
}

/** The default upper bound on a case's wallMs. */
export const FUEL_BOUND = 120_000; // default fuel (1e9 units) takes about a second; allow a busy machine
/** The wall clock of a fuel case: far beyond what 1e9 fuel takes even on a loaded 2-core machine. */
export const FUEL_CASE_TIMEOUT_MS = 120_000;
/** Fuel and a clock for cases that must end by another limit than fuel. */
export const BIG_FUEL = { fuel: 100_000_000_000, timeoutMs: 90_000 };
/** The last non-empty line of stderr (the exception). */
export const errLine = (s: string) => s.trimEnd().split("\n").pop() ?? "";
/** Whether a string is only U+FFFD (bytes that were not UTF-8). */
export const onlyReplacementChars = (s: string) => /^\uFFFD+$/.test(s);
