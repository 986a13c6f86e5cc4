/**
 * What one numeric option is (flag, config key, unit, parser, default, bounds, help line) and the
 * three things every caller does with it: read flag or config-file text, check a number, and
 * describe it. The tables (limits.ts for run limits, irc.ts for the bot) are lists of these, so
 * the CLI, the IRC flags, the config file, the help and the messages cannot disagree.
 */
import {
  groupThousands,
  parseByteSize,
  parseCount,
  parseDecimal,
  parseFuel,
  parseSecondsToMs,
  showByteSize,
} from "./parse.ts";

/** How values of one kind are read and shown. */
export interface ValueKind {
  /** Flag text (or a config string) → value in the program's unit; `undefined` if not of this kind. */
  parse(text: string): number | undefined;
  /** A config-file number, in the unit its key names → value in the program's unit. */
  fromNumber(n: number): number | undefined;
  /** A value in the program's unit → as the flag would take it (messages). */
  show(value: number): string;
  /** A default as the help shows it (may group digits or use k/M). */
  showDefault(value: number): string;
  /** Said after the range in messages, e.g. ` or "unlimited"`. */
  note: string;
  /** Whether `Infinity` (unlimited) is a valid value. */
  unlimited: boolean;
  /** Whether values must be whole numbers (in the program's unit). */
  integer: boolean;
}

const wholeNumber = (n: number) => (Number.isSafeInteger(n) ? n : undefined);

/** Whole numbers (counts, MiB, ms). */
export const COUNT: ValueKind = {
  parse: parseCount,
  fromNumber: wholeNumber,
  show: String,
  showDefault: String,
  note: "",
  unlimited: false,
  integer: true,
};
/** Fuel units: whole numbers or unlimited. */
export const FUEL: ValueKind = {
  parse: parseFuel,
  fromNumber: wholeNumber,
  show: (v) => (v === Infinity ? "unlimited" : String(v)),
  showDefault: (v) => (v === Infinity ? "unlimited" : groupThousands(v)),
  note: ' or "unlimited"',
  unlimited: true,
  integer: true,
};
/** Seconds on the outside (flags, config keys named ...Seconds), milliseconds inside. */
export const SECONDS: ValueKind = {
  parse: parseSecondsToMs,
  fromNumber: (n) => (Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : undefined),
  show: (ms) => String(ms / 1000),
  showDefault: (ms) => String(ms / 1000),
  note: "",
  unlimited: false,
  integer: true,
};
/** Byte counts, k/M suffixes allowed. */
export const BYTES: ValueKind = {
  parse: parseByteSize,
  fromNumber: wholeNumber,
  show: String,
  showDefault: showByteSize,
  note: " (k and M suffixes allowed)",
  unlimited: false,
  integer: true,
};
/** Non-negative decimals (rates, fractions). */
export const DECIMAL: ValueKind = {
  parse: parseDecimal,
  fromNumber: (n) => (Number.isFinite(n) ? n : undefined),
  show: String,
  showDefault: String,
  note: "",
  unlimited: false,
  integer: false,
};

/** One numeric option. Defaults and bounds are in the program's unit (ms for SECONDS). */
export interface OptionSpec {
  /** Name in the API and the resolved config, unit in the name: `timeoutMs`. */
  key: string;
  /** Key in the IRC config file, unit as the flag takes it: `timeoutSeconds`. */
  configKey: string;
  /** Long flag without dashes: `timeout`. */
  flag: string;
  /** One-letter flag, if any. */
  short?: string;
  kind: ValueKind;
  /** Placeholder in the help: `SECONDS`. */
  valueName: string;
  /** The unit in words, for messages: `seconds`. */
  unit: string;
  default: number;
  min: number;
  max: number;
  /** What it means, for the help (the default and range are added). */
  help: string;
}

/** A flag or config value that is not of the option's kind or out of its range. */
export class OptionError extends Error {
  override name = "OptionError";
  /** The option as the user wrote it: `--timeout` or `bot.json: timeoutSeconds`. */
  readonly option: string;
  constructor(message: string, option: string) {
    super(message);
    this.option = option;
  }
}

/**
 * The accepted values in words: `seconds from 0.001 to 86400`.
 *
 * @example
 * rangeText(RUN_LIMITS.memoryMiB); // "MiB from 1 to 4096"
 */
export function rangeText(spec: OptionSpec): string {
  const k = spec.kind;
  return `${spec.unit} from ${k.show(spec.min)} to ${k.show(spec.max)}${k.note}`;
}

function inRange(spec: OptionSpec, v: number | undefined): v is number {
  if (v === undefined || Number.isNaN(v)) return false;
  if (v === Infinity) return spec.kind.unlimited;
  return v >= spec.min && v <= spec.max && (!spec.kind.integer || Number.isInteger(v));
}

/** Longest piece of a refused value quoted back in a message (a config string may be megabytes long). */
const MAX_QUOTED_CHARS = 40;

/**
 * Text the user gave, for a one-line message: cut to MAX_QUOTED_CHARS characters (with "…") and
 * JSON-quoted, so neither a megabyte of it nor a line break in it reaches the message. Every
 * front end quotes refused names and values with this (flags, batch lines, config files).
 *
 * @example
 * quoteShort("a\nb"); // "\"a\\nb\""
 */
export function quoteShort(text: string): string {
  return JSON.stringify(cutShort(text));
}

/**
 * Text the user gave cut to MAX_QUOTED_CHARS characters (with "…"), for where it is shown
 * unquoted (an unknown `--name`).
 *
 * @example
 * cutShort("x".repeat(50)).length; // 41
 */
export function cutShort(text: string): string {
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

/**
 * Reads an option's text (a flag value, or a string in the config file); throws OptionError
 * naming `as` (default `--flag`).
 *
 * @example
 * readOptionText(RUN_LIMITS.timeoutMs, "2.5"); // 2500
 */
export function readOptionText(spec: OptionSpec, text: string, as = `--${spec.flag}`): number {
  const v = spec.kind.parse(text);
  if (!inRange(spec, v)) throw new OptionError(`${as} wants ${rangeText(spec)}, got ${quoteShort(text)}`, as);
  return v;
}

/**
 * Reads a config-file number given in the unit its key names (`timeoutSeconds: 2.5` → 2500 ms).
 *
 * @example
 * readOptionNumber(RUN_LIMITS.timeoutMs, 2.5); // 2500
 */
export function readOptionNumber(spec: OptionSpec, n: number, as = spec.configKey): number {
  const v = spec.kind.fromNumber(n);
  if (!inRange(spec, v)) throw new OptionError(`${as} wants ${rangeText(spec)}, got ${n}`, as);
  return v;
}

/**
 * Whether a value in the program's unit (from code, not from a user) is valid for the option.
 *
 * @example
 * isValidValue(RUN_LIMITS.memoryMiB, 0); // false
 */
export function isValidValue(spec: OptionSpec, v: unknown): boolean {
  return typeof v === "number" && inRange(spec, v);
}

/**
 * The flag column of a help row: `-t, --timeout SECONDS`.
 *
 * @example
 * flagColumn(RUN_LIMITS.memoryMiB); // "-m, --memory MiB"
 */
export function flagColumn(spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : "    "}--${spec.flag} ${spec.valueName}`;
}

/**
 * The text column of a help row: meaning, default and range.
 *
 * @example
 * helpLine(RUN_LIMITS.memoryMiB); // "memory limit of the interpreter, MiB (default 256; 1-4096)"
 */
export function helpLine(spec: OptionSpec, defaultText = spec.kind.showDefault(spec.default)): string {
  const k = spec.kind;
  const range = k.unlimited ? `${k.show(spec.min)} or more, or unlimited` : `${k.show(spec.min)}-${k.show(spec.max)}`;
  return `${spec.help} (default ${defaultText}; ${range})`;
}
