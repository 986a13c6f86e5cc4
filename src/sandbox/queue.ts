/**
 * The bound on a sandbox's queue (issue 22): how many runs may wait for a worker (`maxQueue`) and
 * for how long (`queueTimeoutMs`), and the two rejections a caller tells apart by type, so that a
 * service answers 429 (full: try later) or 503 (waited too long: overloaded) with Retry-After
 * instead of letting memory and latency grow without end. The pool applies them; this file holds
 * the option checks and the error classes.
 */
import { LimitError, mustBeNumber } from "../limits/mod.ts";

/** Most runs a sandbox may hold waiting (SandboxOptions.maxQueue's upper bound). */
export const MAX_QUEUE = 1_000_000;
/** Longest queue timeout, ms (a day, as the run timeout). */
export const MAX_QUEUE_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * Raised (as a rejection) by `Sandbox.run` when `maxQueue` runs are already waiting for a worker:
 * the run was not queued. A service answers it 429 with Retry-After.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueFullError, Sandbox } from "wasi-py";
 *
 * const sb = await Sandbox.create({ workers: 1, maxQueue: 0 });
 * const first = sb.run("pass");
 * await assert.rejects(sb.run("pass"), QueueFullError);
 * await first;
 * await sb.close();
 * ```
 */
export class QueueFullError extends Error {
  /** Always "QueueFullError". */
  override name = "QueueFullError";
  /**
   * The error for a queue holding `maxQueue` runs.
   *
   * @param maxQueue The bound that was reached (SandboxOptions.maxQueue), kept on the error.
   */
  constructor(readonly maxQueue: number) {
    super(`the queue is full (${maxQueue} runs waiting)`);
  }
}

/**
 * Raised (as a rejection) by `Sandbox.run` for a run that waited `queueTimeoutMs` without a worker
 * taking it: it never started. A service answers it 503 with Retry-After.
 *
 * @example
 * ```ts
 * import { QueueTimeoutError, Sandbox } from "wasi-py";
 *
 * const sb = await Sandbox.create({ workers: 1, queueTimeoutMs: 5_000 });
 * try {
 *   await sb.run("print(1)");
 * } catch (e) {
 *   if (!(e instanceof QueueTimeoutError)) throw e;
 *   // busy for 5 s: the run never started; try again later
 * } finally {
 *   await sb.close();
 * }
 * ```
 */
export class QueueTimeoutError extends Error {
  /** Always "QueueTimeoutError". */
  override name = "QueueTimeoutError";
  /**
   * The error for a run that waited `queueTimeoutMs`.
   *
   * @param queueTimeoutMs The wait that passed (SandboxOptions.queueTimeoutMs), kept on the error.
   */
  constructor(readonly queueTimeoutMs: number) {
    super(`no worker took the run within ${queueTimeoutMs} ms`);
  }
}

/** The queue's bounds, checked. */
export interface QueueBounds {
  maxQueue: number;
  queueTimeoutMs: number;
}

/**
 * Checks the queue options (TypeError for a non-number, LimitError for one out of range); both default to unbounded (Infinity).
 *
 * @example
 * queueBounds({ maxQueue: 10 }); // { maxQueue: 10, queueTimeoutMs: Infinity }
 */
export function queueBounds(options: { maxQueue?: number; queueTimeoutMs?: number }): QueueBounds {
  const bounds = { maxQueue: options.maxQueue ?? Infinity, queueTimeoutMs: options.queueTimeoutMs ?? Infinity };
  const check = (key: keyof QueueBounds, min: number, max: number) => {
    const v = bounds[key];
    mustBeNumber(key, v);
    if (v !== Infinity && !(Number.isSafeInteger(v) && v >= min && v <= max)) {
      throw new LimitError(`${key} must be an integer from ${min} to ${max} (or Infinity), got ${String(v)}`);
    }
  };
  check("maxQueue", 0, MAX_QUEUE);
  check("queueTimeoutMs", 1, MAX_QUEUE_TIMEOUT_MS);
  return bounds;
}
