/**
 * The common invocation, `wasi-py 'CODE'` (one argument, no option), recognised without loading
 * cmd-ts: its CommonJS module graph (chalk, debug, ...) costs ~25 ms of a cold start on Node 20,
 * more than a third of what our own modules cost. Anything else goes to args.ts; the result is
 * the same CliOptions that args.ts gives for that argument (a test compares the two).
 */
import type { CliOptions } from "./args.ts";
import { CLI_NUMERIC_OPTIONS, CLI_SWITCHES } from "./known.ts";
import type { CliSwitch } from "./known.ts";

/** The numeric options' names in CliOptions (each has a spec in CLI_NUMERIC_OPTIONS; a test compares with args.ts). */
type NumericKey =
  | "fuel"
  | "timeoutMs"
  | "memoryMiB"
  | "maxOutputBytes"
  | "tmpQuotaBytes"
  | "maxLines"
  | "maxBytes"
  | "maxLineBytes";

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
  const numbers = Object.fromEntries(CLI_NUMERIC_OPTIONS.map((s) => [s.key, s.default]));
  const switches = Object.fromEntries(CLI_SWITCHES.map((s) => [s.key, false]));
  return {
    ...(numbers as Pick<CliOptions, NumericKey>),
    ...(switches as Pick<CliOptions, CliSwitch["key"]>),
    code,
    format: "irc",
    args: [],
    packages: [],
  };
}
