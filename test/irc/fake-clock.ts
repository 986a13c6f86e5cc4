/**
 * A fake clock with timers for the IRC tests, after Deno std's testing/time.ts FakeTime (our
 * own, smaller): `now` only moves when a test calls `tick`, and timers fire in due order as it
 * moves, with the promise jobs they queue run in between, so a test can pass 30 s of backoff
 * or a 5-minute expiry in microseconds without racing the wall clock.
 */
import type { TimerHandle, Timers } from "../../src/irc/clock.ts";

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets queued promise jobs (and the jobs they queue, a few levels deep) run. */
export async function settle(rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/**
 * Time that moves only on `tick`; implements the IRC code's `Timers`.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(1_000_000);
 * clock.setTimeout(() => console.log("fired"), 500);
 * await clock.tick(500); // fired
 * ```
 */
export class FakeClock implements Timers {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** The fake time in ms (bound, so it can be passed as `now`). */
  now = (): number => this.#now;

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#pending.length;
  }

  /** Schedules `fn` at now + `ms` of fake time. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#pending.push({ id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  /** Cancels a timer not yet fired. */
  clearTimeout(handle: TimerHandle): void {
    this.#pending = this.#pending.filter((p) => p.id !== handle);
  }

  /** Moves time forward by `ms`, firing due timers in order (promise jobs run after each). */
  async tick(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.#pending) if (p.at <= end && (!next || p.at < next.at)) next = p;
      if (!next) break;
      this.#pending = this.#pending.filter((p) => p !== next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}
