/**
 * The command's options as data, without cmd-ts (tens of ms to load): the numeric ones from the
 * option tables, the boolean ones (CLI_SWITCHES), --format's spelling, and every flag as the argv normaliser and the mode check in
 * main.ts need to know it (long name, short letter, whether it takes a value).
 */
import { CLI_RUN_LIMITS } from "../options/limits.ts";
import { FORMAT_LIMITS } from "../options/format.ts";
import { BATCH_LIMITS } from "../options/batch.ts";
import { PACKAGES_OPTION } from "../options/packages.ts";
import type { OptionSpec } from "../options/spec.ts";
import type { KnownOption } from "./argv.ts";

/** Every numeric option of the command, in help order: the run limits, the irc format's, the batch's. */
export const CLI_NUMERIC_OPTIONS: readonly OptionSpec[] = [
  ...CLI_RUN_LIMITS,
  FORMAT_LIMITS.maxLines,
  FORMAT_LIMITS.maxBytes,
  BATCH_LIMITS.maxLineBytes,
];

/** --format's spelling (not numeric, so not in the table). */
export const FORMAT_OPTION = { flag: "format", short: "f" } as const;

/** A boolean setting of the command (off unless given). */
export interface CliSwitch {
  /** Name in CliOptions: `noStdin`. */
  key: "verbose" | "noStdin" | "batch";
  /** Long flag without dashes: `no-stdin`. */
  flag: string;
  short?: string;
  /** What it does, for the help. */
  help: string;
}

/** The command's boolean settings, in help order: the parser, the help and the plain-run defaults read this. */
export const CLI_SWITCHES: readonly CliSwitch[] = [
  { key: "verbose", flag: "verbose", short: "V", help: "also report fuel used and time" },
  { key: "noStdin", flag: "no-stdin", help: "do not read stdin; the program's input is empty" },
  { key: "batch", flag: "batch", help: "JSON Lines of programs on stdin, one JSON result per line (below)" },
];

/** Every option of the command as the argv normaliser needs to know it. */
export const KNOWN_OPTIONS: readonly KnownOption[] = [
  { long: FORMAT_OPTION.flag, short: FORMAT_OPTION.short, takesValue: true },
  ...CLI_NUMERIC_OPTIONS.map((s) => ({ long: s.flag, short: s.short, takesValue: true })),
  ...CLI_SWITCHES.map((s) => ({ long: s.flag, short: s.short, takesValue: false })),
  { long: PACKAGES_OPTION.flag, takesValue: true },
  { long: "irc", takesValue: false },
  { long: "help", short: "h", takesValue: false },
  { long: "version", takesValue: false },
];
