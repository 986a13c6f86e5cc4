/**
 * Run limits of the library API: the RunLimits shape, its defaults and its validation, all taken
 * from the one table of limits (options/limits.ts) so the CLI, the IRC bot and the sandbox agree
 * on names, defaults and bounds. Messages name the API's keys (`memoryMiB`); front ends say them
 * as their own options through LimitError's `limit`.
 */
import { MAX_STDIN_BYTES, RUN_LIMITS } from "../options/limits.ts";
import { isValidValue } from "../options/spec.ts";
import type { ReturnFilesOptions, RunFile } from "./run-files.ts";

/** The name of a run limit: a key of RunLimits. */
export type RunLimitKey = keyof RunLimits;

/** Limits for one evaluation. */
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

/** What `run` accepts: any subset of the limits, plus the program's stdin, arguments and listeners. */
export interface RunOptions extends Partial<RunLimits> {
  /**
   * The program's stdin; empty by default. Bytes (or text, encoded as UTF-8) up to 64 MiB, or an
   * async iterable of chunks (e.g. Node's `process.stdin`) read lazily: only when the program
   * reads stdin, only as much as it consumes, at most 64 MiB (past that the program's read fails
   * with EFBIG). A program that never reads stdin never waits for it.
   */
  stdin?: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** The program's arguments, sys.argv[1:] (sys.argv[0] is "-c", as for `python3 -c CODE ARGS`). */
  args?: readonly string[];
  /**
   * Called with the program's output as it is written, while the run goes on: exact bytes (no
   * decoding), in order within each stream, at most maxOutputBytes per stream. The result still
   * holds the whole (decoded) output at the end.
   */
  onOutput?: (stream: "stdout" | "stderr", bytes: Uint8Array) => void;
  /**
   * Ends the run when aborted (e.g. on Ctrl-C): a running program resolves with outcome "aborted"
   * (exitCode 130, as for SIGINT, output so far kept; a program's own `sys.exit(130)` is "error");
   * a queued one rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /**
   * Files written into the program's working folder, `/home`, before it starts: paths relative to
   * it (folders are made as needed; no `..`), contents as text (UTF-8) or bytes. They count in the
   * run's tmpQuotaBytes and tmpMaxFiles, so more than those allow is a LimitError.
   */
  files?: readonly RunFile[];
  /**
   * Return the files the program left in /home (`RunResult.files`), given files it did not change
   * left out. `true` for the default caps (100 files, tmpQuotaBytes in all) or the caps to apply;
   * files beyond them are left out and `RunResult.filesTruncated` says so. Default false.
   */
  returnFiles?: boolean | ReturnFilesOptions;
}

const LIMIT_KEYS = Object.keys(RUN_LIMITS) as RunLimitKey[];

function fromTable(pick: (key: RunLimitKey) => number): RunLimits {
  return Object.fromEntries(LIMIT_KEYS.map((k) => [k, pick(k)])) as unknown as RunLimits;
}

/**
 * The defaults of every limit (the table's).
 *
 * @example
 * DEFAULT_LIMITS.timeoutMs; // 10000
 */
export const DEFAULT_LIMITS: Readonly<RunLimits> = Object.freeze(fromTable((k) => RUN_LIMITS[k].default));

/** The value stored in the fuel counter for "unlimited". */
export const UNLIMITED_FUEL = (1n << 63n) - 1n;

/**
 * Upper bounds that keep a single run's host-side memory bounded whatever the caller asks (the
 * table's maxima, and stdin's).
 *
 * @example
 * BOUNDS.memoryMiB; // 4096
 */
export const BOUNDS: Readonly<RunLimits & { stdinBytes: number }> = Object.freeze({
  ...fromTable((k) => RUN_LIMITS[k].max),
  stdinBytes: MAX_STDIN_BYTES,
});

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

function checked(key: RunLimitKey, value: unknown): number {
  const spec = RUN_LIMITS[key];
  mustBeNumber(key, value);
  if (!isValidValue(spec, value)) {
    const what = spec.kind.unlimited ? "an integer (or Infinity)" : "an integer";
    throw new LimitError(`must be ${what} from ${spec.min} to ${spec.max}, got ${String(value)}`, { limit: key });
  }
  return value as number;
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

/**
 * stdin as bytes, checked against its bound.
 *
 * @example
 * resolveStdin("5\n").length; // 2
 */
export function resolveStdin(stdin: Uint8Array | string | AsyncIterable<Uint8Array> | undefined): Uint8Array {
  const bytes = stdin === undefined
    ? new Uint8Array(0)
    : typeof stdin === "string"
    ? new TextEncoder().encode(stdin)
    : stdin;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`stdin must be a string, a Uint8Array or an async iterable, got ${typeWords(bytes)}`);
  }
  if (bytes.length > BOUNDS.stdinBytes) {
    throw new LimitError(`stdin must be at most ${BOUNDS.stdinBytes} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * The fuel counter's starting value for a budget.
 *
 * @example
 * fuelCounterStart(Infinity); // 9223372036854775807n
 */
export function fuelCounterStart(fuel: number): bigint {
  return fuel === Infinity ? UNLIMITED_FUEL : BigInt(fuel);
}

/**
 * The fuel a run spent, from the counter's start (fuelCounterStart) and what it holds now: the one
 * formula for the worker's exact count and the pool's sample. A counter below zero (the trap that
 * ends a run out of fuel overshoots by a block's cost) counts as the whole budget.
 *
 * @example
 * spentFuel(1000n, 400n); // 600
 * spentFuel(1000n, -7n); // 1000
 */
export function spentFuel(fuelStart: bigint, remaining: bigint): number {
  return Number(fuelStart - (remaining < 0n ? 0n : remaining));
}
