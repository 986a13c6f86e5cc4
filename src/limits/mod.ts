/**
 * The run limits in numbers, below both the sandbox and the front ends' option vocabulary: the
 * RunLimits shape, each limit's default and bounds (one table, LIMIT_RANGES), their check, and
 * LimitError. The sandbox enforces them; options/limits.ts adds what the command line, the bot's
 * config and the help say about each (flag, config key, unit, help) to these numbers, so neither
 * imports the other. Imports nothing. Messages name the API's keys (`memoryMiB`); front ends say
 * them as their own options through LimitError's `limit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOUNDS, DEFAULT_LIMITS, LimitError } from "wasi-py";
 *
 * assert.equal(DEFAULT_LIMITS.timeoutMs, 10_000);
 * assert.equal(BOUNDS.memoryMiB, 4096);
 * assert.ok(new LimitError("must be at least 8", { limit: "memoryMiB" }) instanceof RangeError);
 * ```
 *
 * @module
 */

/**
 * Limits for one evaluation.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS, Sandbox } from "wasi-py";
 * import type { RunLimits } from "wasi-py";
 *
 * const strict: RunLimits = { ...DEFAULT_LIMITS, fuel: 10_000_000, timeoutMs: 1_000 };
 * const sb = await Sandbox.create({ workers: 1 });
 * const r = await sb.run("print(1)", strict);
 * await sb.close();
 * ```
 */
export interface RunLimits {
  /**
   * Fuel units (wasmtime cost model) the program may spend; `Infinity` = unlimited (2^63-1).
   *
   * @default {1_000_000_000}
   */
  fuel: number;
  /**
   * Wall-clock limit in milliseconds; the worker running the program is terminated at the deadline.
   *
   * @default {10_000}
   */
  timeoutMs: number;
  /**
   * Maximum size of the guest's linear memory in MiB (metered module only).
   *
   * @default {256}
   */
  memoryMiB: number;
  /**
   * Bytes kept per output stream (stdout, stderr); further output is dropped, the program keeps running.
   *
   * @default {65_536}
   */
  maxOutputBytes: number;
  /**
   * Bytes the program may keep in its writable /tmp and /home together, files given in
   * RunOptions.files included (ENOSPC beyond).
   *
   * @default {8_388_608}
   */
  tmpQuotaBytes: number;
  /**
   * Files and directories the program may have in /tmp and /home together (ENOSPC beyond).
   *
   * @default {1000}
   */
  tmpMaxFiles: number;
}

/**
 * The name of a run limit: a key of RunLimits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOUNDS, DEFAULT_LIMITS } from "wasi-py";
 * import type { RunLimitKey } from "wasi-py";
 *
 * const key: RunLimitKey = "memoryMiB";
 * assert.ok(DEFAULT_LIMITS[key] <= BOUNDS[key]);
 * ```
 */
export type RunLimitKey = keyof RunLimits;

/** One limit in numbers: its default, least and most value (whole numbers), and whether Infinity is allowed. */
export interface LimitRange {
  /** The value a run gets when the caller gives none. */
  default: number;
  /** The least value allowed. */
  min: number;
  /** The most value allowed (besides Infinity, where `unlimited`). */
  max: number;
  /** Infinity (no limit) is a valid value. */
  unlimited: boolean;
}

/** Largest finite fuel budget: the metered module's counter is an i64, but results are JS numbers. */
export const MAX_FINITE_FUEL: number = Number.MAX_SAFE_INTEGER;

/** Largest stdin a run accepts, bytes (not an option: a bound on host memory). */
export const MAX_STDIN_BYTES: number = 64 * 1024 * 1024;

/**
 * Every run limit's default and bounds, in the API's units: the one place these numbers are
 * written. Bounds keep one run's host-side memory bounded whatever a caller asks.
 */
export const LIMIT_RANGES: Readonly<Record<RunLimitKey, Readonly<LimitRange>>> = Object.freeze({
  fuel: { default: 1_000_000_000, min: 0, max: MAX_FINITE_FUEL, unlimited: true },
  timeoutMs: { default: 10_000, min: 1, max: 24 * 60 * 60 * 1000, unlimited: false },
  memoryMiB: { default: 256, min: 1, max: 4096, unlimited: false }, // wasm32: 65536 pages of 64 KiB
  maxOutputBytes: { default: 65_536, min: 0, max: 64 * 1024 * 1024, unlimited: false },
  tmpQuotaBytes: { default: 8 * 1024 * 1024, min: 0, max: 1024 * 1024 * 1024, unlimited: false },
  tmpMaxFiles: { default: 1000, min: 0, max: 1_000_000, unlimited: false },
});

/** The limits' names, in RunLimits order. */
export const LIMIT_KEYS: readonly RunLimitKey[] = Object.freeze(Object.keys(LIMIT_RANGES) as RunLimitKey[]);

function fromTable(pick: (key: RunLimitKey) => number): RunLimits {
  return Object.fromEntries(LIMIT_KEYS.map((k) => [k, pick(k)])) as unknown as RunLimits;
}

/**
 * The defaults of every limit (the table's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMITS } from "wasi-py";
 *
 * assert.equal(DEFAULT_LIMITS.timeoutMs, 10_000); // what a run gets when it names no timeout
 * ```
 */
export const DEFAULT_LIMITS: Readonly<RunLimits> = Object.freeze(fromTable((k) => LIMIT_RANGES[k].default));

/**
 * Upper bounds that keep a single run's host-side memory bounded whatever the caller asks (the
 * table's maxima, and stdin's).
 *
 * @example
 * ```ts
 * import { BOUNDS } from "wasi-py";
 *
 * const asked = 8192; // MiB, from a user
 * const memoryMiB = Math.min(asked, BOUNDS.memoryMiB); // 4096: a larger value would be a LimitError
 * ```
 */
export const BOUNDS: Readonly<RunLimits & { stdinBytes: number }> = Object.freeze({
  ...fromTable((k) => LIMIT_RANGES[k].max),
  stdinBytes: MAX_STDIN_BYTES,
});

/**
 * Whether `value` is allowed for the limit: a whole number within its bounds, or Infinity where
 * the limit may be unlimited.
 *
 * @example
 * isAllowedLimit("fuel", Infinity); // true
 * isAllowedLimit("memoryMiB", 0); // false
 */
export function isAllowedLimit(key: RunLimitKey, value: number): boolean {
  const range = LIMIT_RANGES[key];
  if (value === Infinity) return range.unlimited;
  return Number.isInteger(value) && value >= range.min && value <= range.max;
}

/**
 * Raised for an option value a caller got wrong (out of range, too long, a bad path); `message`
 * is one line meant for the user. A RangeError, as the built-ins raise for a value of the right
 * type that is not allowed; a value of the wrong type is a TypeError. `limit` names the RunLimits
 * key at fault and `detail` is the message without that name, so a front end can say it as its
 * own option (`--memory must be at least 8`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LimitError } from "wasi-py";
 *
 * const e = new LimitError("must be at least 8", { limit: "memoryMiB" });
 * assert.equal(e.message, "memoryMiB must be at least 8");
 * assert.ok(e instanceof RangeError);
 * ```
 */
export class LimitError extends RangeError {
  /** Always "LimitError". */
  override name = "LimitError";
  /** The limit at fault, if the error is about one. */
  readonly limit: RunLimitKey | undefined;
  /** The reason without the limit's name (the whole message when there is no limit). */
  readonly detail: string;
  /**
   * A LimitError saying `message`, after the limit's name when `options.limit` names one.
   *
   * @param message The reason, without the limit's name when `limit` is given.
   * @param options `limit`: the RunLimits key at fault, put before the message.
   */
  constructor(message: string, options: { limit?: RunLimitKey } = {}) {
    super(options.limit === undefined ? message : `${options.limit} ${message}`);
    this.limit = options.limit;
    this.detail = message;
  }
}

/**
 * A value's type in words, for a TypeError (never the value itself, which may be megabytes long).
 *
 * @example
 * typeWords("1e9"); // "a string"
 */
export function typeWords(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  return t === "undefined" ? "undefined" : `${/^[aeiou]/.test(t) ? "an" : "a"} ${t}`;
}

/**
 * Throws a TypeError unless `value` is a number.
 *
 * @example
 * mustBeNumber("workers", "2"); // throws TypeError: workers must be a number, got a string
 */
export function mustBeNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeWords(value)}`);
}

/**
 * Throws a TypeError unless `value` is an options object (not null, not an array).
 *
 * @example
 * mustBeObject("options", "fast"); // throws TypeError: options must be an object, got a string
 */
export function mustBeObject(name: string, value: unknown): asserts value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${typeWords(value)}`);
  }
}

function checked(key: RunLimitKey, value: unknown): number {
  mustBeNumber(key, value);
  if (!isAllowedLimit(key, value)) {
    const range = LIMIT_RANGES[key];
    const what = range.unlimited ? "an integer (or Infinity)" : "an integer";
    throw new LimitError(`must be ${what} from ${range.min} to ${range.max}, got ${String(value)}`, { limit: key });
  }
  return value;
}

/**
 * Fills defaults and checks every limit against the table's bounds; throws TypeError for a value
 * that is not a number, LimitError for one out of range, with a one-line message.
 *
 * @example
 * resolveLimits({ timeoutMs: 500 }).memoryMiB; // 256
 */
export function resolveLimits(options: Partial<RunLimits> = {}): RunLimits {
  const given = options as Record<string, unknown>;
  return fromTable((k) => checked(k, given[k] === undefined ? DEFAULT_LIMITS[k] : given[k]));
}
