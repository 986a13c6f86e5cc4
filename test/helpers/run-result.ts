/**
 * A RunResult for formatter and bot tests that need no sandbox: a plain successful run,
 * with the fields a case cares about overridden.
 */
import type { RunResult } from "../../src/sandbox/result.ts";

/** A finished run (exit 0, no output, 1 fuel unit, 1 ms) with `over` applied. */
export function result(over: Partial<RunResult> = {}): RunResult {
  return {
    stdout: "",
    stderr: "",
    exitCode: 0,
    outcome: "ok",
    fuelUsed: 1,
    wallMs: 1,
    truncated: { stdout: false, stderr: false },
    ...over,
  };
}
