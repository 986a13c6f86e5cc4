/**
 * The run limits the command's options set (CLI_RUN_LIMITS), as the sandbox takes them and as a
 * result reports them: one place that maps CliOptions to RunLimits for a run, a batch's defaults,
 * a run stopped before it started and a service's answer that lacks them.
 */
import { DEFAULT_LIMITS } from "../limits/mod.ts";
import type { RunLimits } from "../limits/mod.ts";
import { CLI_RUN_LIMITS } from "../options/limits.ts";
import type { CliOptions } from "./args.ts";

/**
 * The limits a run gets from the command's options: each limit the command offers, the library's
 * default for the rest (tmpMaxFiles).
 *
 * @example
 * cliRunLimits(options).timeoutMs; // 10000 unless --timeout was given
 */
export function cliRunLimits(options: CliOptions): RunLimits {
  const given = Object.fromEntries(CLI_RUN_LIMITS.map((s) => [s.key, options[s.key as keyof CliOptions] as number]));
  return { ...DEFAULT_LIMITS, ...given };
}
