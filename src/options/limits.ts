/**
 * The run limits as options: what the command line, the IRC bot (flags and config file), the
 * service and the help say about each limit (flag, config key, unit, parser, help line), on top
 * of its numbers (default and bounds), which come from src/limits/mod.ts, below both this and the
 * sandbox. Where the bot's default differs on purpose it says so in irc.ts, next to the bot's settings;
 * the `irc` format's own limits are in format.ts.
 *
 * Bounds were unified (they disagreed in four places before): the timeout is 1 ms to 24 h
 * everywhere (the bot allowed 600 s; its ceiling option is the policy knob), output up to 64 MiB
 * (the bot allowed 16 MiB), fuel from 0 (the bot required 1) or unlimited, and --max-lines up to
 * 100 (the bot allowed 20). The wider bound won each time, so no setting that worked is refused.
 */
import { BYTES, COUNT, FUEL, SECONDS } from "./spec.ts";
import type { OptionSpec } from "./spec.ts";
import { LIMIT_RANGES } from "../limits/mod.ts";
import type { RunLimitKey } from "../limits/mod.ts";

/** A limit's default and bounds, from the one table of numbers. */
function numbers(key: RunLimitKey): Pick<OptionSpec, "default" | "min" | "max"> {
  const { default: value, min, max } = LIMIT_RANGES[key];
  return { default: value, min, max };
}

/** The limits of one evaluation, by their API name. */
export const RUN_LIMITS = {
  fuel: {
    key: "fuel",
    configKey: "fuel",
    flag: "fuel",
    kind: FUEL,
    valueName: "N|unlimited",
    unit: "fuel units",
    ...numbers("fuel"),
    help: "fuel budget in units (1e9, 1_000_000 allowed)",
  },
  timeoutMs: {
    key: "timeoutMs",
    configKey: "timeoutSeconds",
    flag: "timeout",
    short: "t",
    kind: SECONDS,
    valueName: "SECONDS",
    unit: "seconds",
    ...numbers("timeoutMs"),
    help: "wall-clock limit in seconds, fractions allowed",
  },
  memoryMiB: {
    key: "memoryMiB",
    configKey: "memoryMiB",
    flag: "memory",
    short: "m",
    kind: COUNT,
    valueName: "MiB",
    unit: "MiB",
    ...numbers("memoryMiB"),
    help: "memory limit of the interpreter, MiB",
  },
  maxOutputBytes: {
    key: "maxOutputBytes",
    configKey: "maxOutputBytes",
    flag: "max-output",
    kind: BYTES,
    valueName: "BYTES",
    unit: "bytes",
    ...numbers("maxOutputBytes"),
    help: "output kept per stream, k/M suffixes ok",
  },
  tmpQuotaBytes: {
    key: "tmpQuotaBytes",
    configKey: "tmpQuotaBytes",
    flag: "tmp-quota",
    kind: BYTES,
    valueName: "BYTES",
    unit: "bytes",
    ...numbers("tmpQuotaBytes"),
    help: "bytes the program may keep in /tmp and /home, k/M suffixes ok",
  },
  tmpMaxFiles: {
    key: "tmpMaxFiles",
    configKey: "tmpMaxFiles",
    flag: "tmp-max-files",
    kind: COUNT,
    valueName: "N",
    unit: "files",
    ...numbers("tmpMaxFiles"),
    help: "files and directories the program may create in /tmp and /home (library API only)",
  },
} as const satisfies Record<RunLimitKey, OptionSpec>;

/**
 * The command line's fuel budget. The table's 1e9 is what the IRC bot gives strangers; on your own
 * terminal a 10**7-iteration loop (about 2.3e10 units) should finish, so the command allows 5e10:
 * roughly 6-15 s of CPU on a 2024 server core, about when the default 10-s timeout would end a
 * runaway loop anyway, but deterministic (the same program stops at the same point everywhere).
 */
export const CLI_FUEL_DEFAULT = 50_000_000_000;

/**
 * The least memory the bundled interpreter starts with, MiB: its imported memory's initial pages
 * / 16, rounded up (test/package/readme.test.ts checks it against assets/python.wasm). The
 * library keeps the table's 1 (a caller's own module may need less; Sandbox.run refuses less than
 * its module needs); the command line, its batch mode, the bot and the service always run the bundled
 * interpreter, so their memory options start here (BUNDLED_RUN_LIMITS) and the help, the
 * validation and the README say the same range.
 */
export const BUNDLED_MEMORY_MIN_MIB = 20;

/**
 * The run limits as the front ends that always run the bundled interpreter offer them: the command
 * line, its batch mode, the IRC bot (per evaluation, admin and ceiling) and the service; the same
 * specs as RUN_LIMITS, with memory from BUNDLED_MEMORY_MIN_MIB (less could never run).
 */
export const BUNDLED_RUN_LIMITS: { readonly [K in RunLimitKey]: OptionSpec & { key: K } } = {
  ...RUN_LIMITS,
  memoryMiB: { ...RUN_LIMITS.memoryMiB, min: BUNDLED_MEMORY_MIN_MIB },
};

/** The command line's --memory (and a batch line's `memory`): the table's, from BUNDLED_MEMORY_MIN_MIB. */
export const CLI_MEMORY_LIMIT: OptionSpec = BUNDLED_RUN_LIMITS.memoryMiB;

/** The run limits the command line offers (tmpMaxFiles is the library's only), with its own fuel default. */
export const CLI_RUN_LIMITS: readonly OptionSpec[] = [
  { ...RUN_LIMITS.fuel, default: CLI_FUEL_DEFAULT },
  RUN_LIMITS.timeoutMs,
  CLI_MEMORY_LIMIT,
  RUN_LIMITS.maxOutputBytes,
  RUN_LIMITS.tmpQuotaBytes,
];
