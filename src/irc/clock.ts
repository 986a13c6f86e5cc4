/**
 * Timers for the IRC code, injected like the clock: the connection (reconnects, keep-alive, QUIT
 * wait), the client (nick retries, regain, rejoin) and the paced output all schedule through a
 * `Timers`, so tests run hours of protocol time with a fake clock instead of sleeping. The
 * default is the runtime's own setTimeout/clearTimeout (standard on Node and Deno alike).
 */

/** A scheduled callback, as the Timers that made it knows it. */
export type TimerHandle = unknown;

/**
 * One-shot timers (intervals are built from them with `repeat`).
 *
 * @example
 * ```ts
 * const h = systemTimers.setTimeout(() => console.log("later"), 1000);
 * systemTimers.clearTimeout(h);
 * ```
 */
export interface Timers {
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a callback not yet run (a handle already run or cancelled is ignored). */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The runtime's timers.
 *
 * @example
 * ```ts
 * const fx = { connect, now: Date.now, random: Math.random, log, timers: systemTimers };
 * ```
 */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Runs `fn` every `ms` milliseconds until the returned function is called.
 *
 * @example
 * ```ts
 * const stop = repeat(systemTimers, 60_000, () => console.log("tick"));
 * stop();
 * ```
 */
export function repeat(timers: Timers, ms: number, fn: () => void): () => void {
  let handle: TimerHandle;
  let stopped = false;
  const arm = () => {
    handle = timers.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    timers.clearTimeout(handle);
  };
}
