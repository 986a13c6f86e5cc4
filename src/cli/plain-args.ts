/**
 * The common invocation, `wasi-py 'CODE'` (one argument, no option), recognised without loading
 * cmd-ts: its CommonJS module graph (chalk, debug, ...) costs ~25 ms of a cold start on Node 20,
 * more than a third of what our own modules cost. Anything else goes to args.ts; the result is
 * the same CliOptions that args.ts gives for that argument (a test compares the two).
 */
import type { CliOptions } from "./args.ts";
import { CLI_RUN_LIMITS } from "../options/limits.ts";
import { FORMAT_LIMITS } from "../options/format.ts";
import { BATCH_LIMITS } from "../options/batch.ts";

/**
 * CliOptions for argv = [code] where code is non-empty and does not start with "-";
 * undefined for anything else (options, no code, several arguments).
 *
 * @example
 * plainRun(["print(1)"])?.code; // "print(1)"
 * plainRun(["--fuel", "1e6", "1"]); // undefined
 */
export function plainRun(argv: readonly string[]): CliOptions | undefined {
  if (argv.length !== 1) return undefined;
  const code = argv[0]!;
  if (code === "" || code.startsWith("-")) return undefined;
  const limits = Object.fromEntries(CLI_RUN_LIMITS.map((s) => [s.key, s.default]));
  return {
    code,
    format: "irc",
    fuel: limits.fuel!,
    timeoutMs: limits.timeoutMs!,
    memoryMiB: limits.memoryMiB!,
    maxOutputBytes: limits.maxOutputBytes!,
    tmpQuotaBytes: limits.tmpQuotaBytes!,
    maxLines: FORMAT_LIMITS.maxLines.default,
    maxBytes: FORMAT_LIMITS.maxBytes.default,
    maxLineBytes: BATCH_LIMITS.maxLineBytes.default,
    verbose: false,
    noStdin: false,
    batch: false,
    args: [],
    packages: [],
  };
}
