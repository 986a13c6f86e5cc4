/**
 * The run clock: when the worker started and finished a run, and who decided how it ended, in a
 * SharedArrayBuffer both threads see. It exists so that a timeout is decided by the run's own
 * duration, measured on the worker's thread, never by when the main thread got round to its timer:
 * a bot whose main thread was busy for 16 s must not report a 1 s run as timed out (issue 11).
 *
 * The worker marks the run started and, at its end, claims it as finished; the pool's timer claims
 * it as killed only if it is still running and has run for the whole timeout by the shared clock.
 * The claim is one compare-and-swap, so exactly one side decides.
 *
 * The worker also notes when it last entered a host call, and marks the time it spends blocked in
 * one (a sleep, a stdin read, a poll) as "in a host call". Such a run reaches the deadline in the
 * host, where the worker ends it itself and reads the exact fuel it spent; the pool's timer gives
 * it a grace (hostGraceMs) to do so before terminating the thread (which leaves only a sampled
 * count).
 */

/** The run's state cell. */
export const RunState = Object.freeze({
  /** Posted; the worker has not begun (the timeout does not count yet). */
  pending: 0,
  running: 1,
  /** The worker finished it (its done message is on its way). */
  finished: 2,
  /** The pool declared a timeout and terminates the worker. */
  killed: 3,
});

/** Int32 cells first (the state), then Float64 cells (start, end, last host call) at these byte offsets. */
const LAYOUT = Object.freeze({ bytes: 32, stateIndex: 0, startByte: 8, endByte: 16, hostByte: 24 });

/**
 * How long past the deadline the pool waits for a worker that is in a host call or made one this
 * recently: it notices the deadline at its next host call (or when its wait ends) and ends the run
 * with an exact fuel count. A computing run (no host calls) is terminated at the deadline.
 */
export const HOST_GRACE_MS = 100;
/**
 * How long past the deadline the pool waits for a worker blocked in a host call (sleep, stdin,
 * poll): such a wait ends at the deadline by itself, so only a thread slow to wake on a loaded
 * machine needs this long.
 */
export const HOST_WAIT_GRACE_MS = 2000;

/** Milliseconds on a clock both threads share (epoch-based, sub-millisecond). */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One run's clock, over a buffer made by `RunClock.create()` and posted to the worker.
 *
 * @example
 * ```ts
 * const clock = RunClock.create();
 * const inWorker = new RunClock(clock.buffer);
 * inWorker.start();
 * inWorker.finish(); // true: the worker decided
 * clock.kill(); // false: too late
 * ```
 */
export class RunClock {
  private readonly state: Int32Array;
  private readonly times: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 1);
    this.times = new Float64Array(buffer, LAYOUT.startByte, 3);
  }

  static create(): RunClock {
    return new RunClock(new SharedArrayBuffer(LAYOUT.bytes));
  }

  /** Pool: makes a settled run's clock pending again, for the next run on the same worker. */
  reset(): void {
    this.times.fill(0);
    Atomics.store(this.state, LAYOUT.stateIndex, RunState.pending);
  }

  /** Worker: the run begins now; returns the start time. */
  start(): number {
    const now = sharedNowMs();
    this.times[0] = now;
    Atomics.store(this.state, LAYOUT.stateIndex, RunState.running);
    return now;
  }

  /** Worker: a host call begins now (`blocking`: it may wait; call `hostReturned` after the wait). */
  hostCalled(nowMs: number, blocking = false): void {
    this.times[2] = blocking ? Infinity : nowMs;
  }

  /** Worker: a blocking host call's wait is over. */
  hostReturned(): void {
    this.times[2] = sharedNowMs();
  }

  /**
   * Pool: how long past the deadline to wait for the worker to end the run itself: while it is
   * blocked in a host call HOST_WAIT_GRACE_MS, if it entered one within the last HOST_GRACE_MS
   * that long, else 0.
   */
  hostGraceMs(): number {
    const last = this.times[2]!;
    if (last === Infinity) return HOST_WAIT_GRACE_MS;
    return sharedNowMs() - last < HOST_GRACE_MS ? HOST_GRACE_MS : 0;
  }

  /** Worker: claims the run as finished; false if the pool already declared a timeout. */
  finish(): boolean {
    this.times[1] = sharedNowMs();
    return Atomics.compareExchange(this.state, LAYOUT.stateIndex, RunState.running, RunState.finished) ===
      RunState.running;
  }

  /** Pool: claims the run as timed out; false if the worker finished first or never started. */
  kill(): boolean {
    return Atomics.compareExchange(this.state, LAYOUT.stateIndex, RunState.running, RunState.killed) ===
      RunState.running;
  }

  get current(): number {
    return Atomics.load(this.state, LAYOUT.stateIndex);
  }

  /** Milliseconds the run has taken by the shared clock (0 before it starts; fixed once finished). */
  elapsedMs(): number {
    const s = this.current;
    if (s === RunState.pending) return 0;
    const end = s === RunState.finished ? this.times[1]! : sharedNowMs();
    return end - this.times[0]!;
  }
}

/**
 * Pool: calls `onTimeout` once the run has been running for `timeoutMs` by the shared clock and the
 * pool won the claim. A timer that fires late (a busy main thread) decides nothing by itself: it
 * re-arms while the run has not begun or has time left, and does nothing if the worker finished.
 * Returns a function that cancels it.
 *
 * @example
 * ```ts
 * const clock = RunClock.create();
 * const cancel = armTimeout(clock, 2000, () => console.log("timed out"));
 * cancel();
 * ```
 */
export function armTimeout(clock: RunClock, timeoutMs: number, onTimeout: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const check = () => {
    const state = clock.current;
    if (state === RunState.finished || state === RunState.killed) return;
    const left = state === RunState.pending ? timeoutMs : timeoutMs - clock.elapsedMs();
    if (left > 0) timer = setTimeout(check, Math.ceil(left));
    // A worker in (or just out of) a host call ends the run itself, with its exact fuel.
    else if (-left < clock.hostGraceMs()) timer = setTimeout(check, 5);
    else if (clock.kill()) onTimeout();
  };
  timer = setTimeout(check, timeoutMs);
  return () => clearTimeout(timer);
}
