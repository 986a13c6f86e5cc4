/**
 * Run limits: option names, defaults and validation. Every limit a caller can set is listed here
 * so the CLI, the IRC bot and the sandbox agree on names and on what "default" means.
 */

/** Limits for one evaluation. */
export interface RunLimits {
  /** Fuel units (wasmtime cost model) the program may spend; `Infinity` = unlimited (2^63-1). */
  fuel: number;
  /** Wall-clock limit in milliseconds; the worker running the program is terminated at the deadline. */
  timeoutMs: number;
  /** Maximum size of the guest's linear memory in MiB (metered module only). */
  memoryMiB: number;
  /** Bytes kept per output stream (stdout, stderr); further output is dropped, the program keeps running. */
  maxOutputBytes: number;
  /** Bytes the program may keep in its writable /tmp (ENOSPC beyond). */
  tmpQuotaBytes: number;
  /** Files and directories the program may create in /tmp (ENOSPC beyond). */
  tmpMaxFiles: number;
}

/** What `run` accepts: any subset of the limits, plus the program's stdin. */
export interface RunOptions extends Partial<RunLimits> {
  /** Bytes (or text, encoded as UTF-8) readable on the program's stdin; empty by default. */
  stdin?: Uint8Array | string;
}

export const DEFAULT_LIMITS: Readonly<RunLimits> = Object.freeze({
  fuel: 1_000_000_000,
  timeoutMs: 10_000,
  memoryMiB: 256,
  maxOutputBytes: 65_536,
  tmpQuotaBytes: 8 * 1024 * 1024,
  tmpMaxFiles: 1000,
});

/** Largest finite fuel budget: the metered module's counter is an i64, but results are JS numbers. */
export const MAX_FINITE_FUEL = Number.MAX_SAFE_INTEGER;
/** The value stored in the fuel counter for "unlimited". */
export const UNLIMITED_FUEL = (1n << 63n) - 1n;

/** Upper bounds that keep a single run's host-side memory bounded whatever the caller asks. */
export const BOUNDS = Object.freeze({
  timeoutMs: 24 * 60 * 60 * 1000,
  memoryMiB: 4096, // wasm32: 65536 pages of 64 KiB
  maxOutputBytes: 64 * 1024 * 1024,
  tmpQuotaBytes: 1024 * 1024 * 1024,
  tmpMaxFiles: 1_000_000,
  stdinBytes: 64 * 1024 * 1024,
});

/** Raised for an option a caller got wrong; `message` is one line meant for the user. */
export class LimitError extends Error {
  override name = "LimitError";
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new LimitError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Fills defaults and checks every limit; throws LimitError with a one-line message. */
export function resolveLimits(options: Partial<RunLimits> = {}): RunLimits {
  const o = { ...DEFAULT_LIMITS, ...stripUndefined(options) };
  const fuel = o.fuel === Infinity ? Infinity : integerIn("fuel", o.fuel, 0, MAX_FINITE_FUEL);
  return {
    fuel,
    timeoutMs: integerIn("timeoutMs", o.timeoutMs, 1, BOUNDS.timeoutMs),
    memoryMiB: integerIn("memoryMiB", o.memoryMiB, 1, BOUNDS.memoryMiB),
    maxOutputBytes: integerIn("maxOutputBytes", o.maxOutputBytes, 0, BOUNDS.maxOutputBytes),
    tmpQuotaBytes: integerIn("tmpQuotaBytes", o.tmpQuotaBytes, 0, BOUNDS.tmpQuotaBytes),
    tmpMaxFiles: integerIn("tmpMaxFiles", o.tmpMaxFiles, 0, BOUNDS.tmpMaxFiles),
  };
}

/** stdin as bytes, checked against its bound. */
export function resolveStdin(stdin: Uint8Array | string | undefined): Uint8Array {
  const bytes = stdin === undefined
    ? new Uint8Array(0)
    : typeof stdin === "string"
    ? new TextEncoder().encode(stdin)
    : stdin;
  if (!(bytes instanceof Uint8Array)) throw new LimitError("stdin must be a string or a Uint8Array");
  if (bytes.length > BOUNDS.stdinBytes) {
    throw new LimitError(`stdin must be at most ${BOUNDS.stdinBytes} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** The fuel counter's starting value for a budget. */
export function fuelCounterStart(fuel: number): bigint {
  return fuel === Infinity ? UNLIMITED_FUEL : BigInt(fuel);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
