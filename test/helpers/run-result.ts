/**
 * A RunResult for formatter and bot tests that need no sandbox: a plain successful run,
 * with the fields a case cares about overridden.
 */
import type { RunResult } from "../../src/sandbox/result.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

/** A finished run (exit 0, no output, 1 fuel unit, 1 ms, the default limits) with `over` applied. */
export function result(over: Partial<RunResult> = {}): RunResult {
  return {
    stdout: "",
    stderr: "",
    exitCode: 0,
    outcome: "ok",
    fuelUsed: 1,
    wallMs: 1,
    truncated: { stdout: false, stderr: false },
    limits: { ...DEFAULT_LIMITS },
    ...over,
  };
}

/**
 * The keys of a result on the command's JSON output (`-fjson`, a batch line after its `id`), in
 * order, as the README documents them: one list for every test that checks them.
 */
export const JSON_RESULT_KEYS: readonly string[] = [
  "stdout",
  "stderr",
  "exitCode",
  "outcome",
  "fuelUsed",
  "fuelUsedIsLowerBound",
  "wallMs",
  "truncated",
  "limits",
];
