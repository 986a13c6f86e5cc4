/**
 * The command's exit status for a finished run, from the codes in src/options/exit-codes.ts: the
 * rule belongs to the command (and the remote client), not to the option vocabulary, which knows
 * nothing of RunResult.
 */
import type { RunResult } from "../sandbox/mod.ts";
import { EXIT } from "../options/exit-codes.ts";

/**
 * wasi-py's exit status for a finished run.
 *
 * @example
 * exitCodeFor(result); // 124 when result.outcome is "timeout"
 */
export function exitCodeFor(result: RunResult): number {
  switch (result.outcome) {
    case "timeout":
      return EXIT.timeout;
    case "fuel_exhausted":
      return EXIT.fuel;
    case "memory_exhausted":
      return EXIT.memory;
    case "crashed":
      return EXIT.crashed;
    default:
      return result.exitCode < 0 ? EXIT.crashed : result.exitCode & 0xff;
  }
}
