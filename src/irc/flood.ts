/**
 * Outgoing flood control and fairness. Servers penalise bursts (ngIRCd relays about 3 commands
 * a second and stalls the rest; InspIRCd's default class allows about one a second with fakelag,
 * then kills with "Excess Flood" or "RecvQ exceeded"), so the client paces lines with token
 * buckets: one per target and one for the connection, whose rate the client lowers while the
 * server lags. Lines wait in one queue per (target, requester); the next line sent is the one of
 * the requester served least recently (a newcomer first), among targets whose bucket allows, so
 * one user's long answer never holds back another's short one; a requester's backlog is capped. Pure with respect to time: the caller passes `now` (ms).
 */

/**
 * One token bucket's size and refill rate.
 *
 * @example
 * ```ts
 * const perTarget: BucketOptions = { burst: 4, ratePerSec: 1 };
 * ```
 */
export interface BucketOptions {
  /** Lines that may be sent back to back. */
  burst: number;
  /** Sustained lines per second. */
  ratePerSec: number;
}

/**
 * A token bucket: `burst` tokens, refilled at `ratePerSec`.
 *
 * @example
 * ```ts
 * const b = new TokenBucket({ burst: 2, ratePerSec: 1 }, 0);
 * b.tryTake(0); b.tryTake(0); // true, true
 * b.waitMs(0); // 1000
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly burst: number;
  ratePerSec: number;

  constructor(opts: BucketOptions, now: number) {
    if (!(opts.burst >= 1)) throw new RangeError("token bucket burst must be >= 1");
    if (!(opts.ratePerSec > 0)) throw new RangeError("token bucket rate must be > 0");
    this.burst = opts.burst;
    this.ratePerSec = opts.ratePerSec;
    this.#tokens = opts.burst;
    this.#last = now;
  }

  #refill(now: number): void {
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.ratePerSec);
      this.#last = now;
    }
  }

  /** Milliseconds until one token is available (0 = now). */
  waitMs(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) return 0;
    return Math.ceil(((1 - this.#tokens) / this.ratePerSec) * 1000);
  }

  /** Takes a token if one is available; returns whether it did. */
  tryTake(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Changes the refill rate from now on (tokens earned so far are kept). */
  setRate(ratePerSec: number, now: number): void {
    if (!(ratePerSec > 0)) throw new RangeError("token bucket rate must be > 0");
    this.#refill(now);
    this.ratePerSec = ratePerSec;
  }

  /** Takes a token even when none is left (a command sent unpaced, e.g. PONG), down to -burst. */
  charge(now: number): void {
    this.#refill(now);
    this.#tokens = Math.max(-this.burst, this.#tokens - 1);
  }

  /** True when the bucket is full again (nothing to remember for this target). */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst;
  }
}

/**
 * The scheduler's settings: the per-target and connection-wide buckets and the backlog cap.
 *
 * @example
 * ```ts
 * const o: SchedulerOptions = {
 *   perTarget: { burst: 4, ratePerSec: 1 }, global: { burst: 4, ratePerSec: 1 }, maxQueuedPerRequester: 12,
 * };
 * ```
 */
export interface SchedulerOptions {
  perTarget: BucketOptions;
  global: BucketOptions;
  /** Lines one requester may have waiting per target; more are refused. */
  maxQueuedPerRequester: number;
}

/**
 * One waiting line with where it goes, for whom, and since when.
 *
 * @example
 * ```ts
 * const q: Queued<string> = { item: "PRIVMSG #py :hi", target: "#py", requester: "@host", queuedAt: 0 };
 * ```
 */
export interface Queued<T> {
  item: T;
  target: string;
  /** Who the line answers ("" for the bot's own lines). */
  requester: string;
  queuedAt: number;
}

/**
 * Per-(target, requester) queues: each line goes to the requester served least recently (a new
 * one first; the bot's own lines before all), among targets whose bucket has a token, all behind
 * one connection-wide bucket.
 *
 * @example
 * ```ts
 * const out = new OutgoingScheduler<string>(
 *   { perTarget: { burst: 4, ratePerSec: 1 }, global: { burst: 4, ratePerSec: 1 }, maxQueuedPerRequester: 12 }, 0);
 * out.push("#py", "@alice.host", "PRIVMSG #py :hello", 0);
 * const { send, nextMs } = out.drain(0); // send[0].item: "PRIVMSG #py :hello", nextMs: undefined
 * ```
 */
export class OutgoingScheduler<T> {
  #opts: SchedulerOptions;
  #global: TokenBucket;
  #buckets = new Map<string, TokenBucket>();
  /** Queues by `target NUL requester`, in arrival order of their first line. */
  #pairs = new Map<string, Queued<T>[]>();
  /** Serial of each waiting requester's last line sent (absent: not served since it began waiting). */
  #lastServed = new Map<string, number>();
  /** Serial of each target's last line sent: a tie between requesters goes to the target waiting longest. */
  #targetServed = new Map<string, number>();
  #serial = 0;
  #size = 0;

  constructor(opts: SchedulerOptions, now: number) {
    this.#opts = opts;
    this.#global = new TokenBucket(opts.global, now);
  }

  /** Queues one line; false (and nothing queued) when this requester's backlog for the target is full. */
  push(target: string, requester: string, item: T, now: number): boolean {
    const key = `${target}\0${requester}`;
    let q = this.#pairs.get(key);
    if (!q) {
      q = [];
      this.#pairs.set(key, q);
    }
    if (requester !== "" && q.length >= this.#opts.maxQueuedPerRequester) {
      if (q.length === 0) this.#pairs.delete(key);
      return false;
    }
    q.push({ item, target, requester, queuedAt: now });
    this.#size++;
    return true;
  }

  /** Lines waiting, over all targets. */
  get size(): number {
    return this.#size;
  }

  /** The connection-wide rate now (lines a second). */
  get ratePerSec(): number {
    return this.#global.ratePerSec;
  }

  /** Sets the connection-wide rate (the client lowers it while the server lags). */
  setRate(ratePerSec: number, now: number): void {
    this.#global.setRate(ratePerSec, now);
  }

  /** Accounts for a command sent outside the queue (PONG, PING, JOIN): it costs a token too. */
  charge(now: number): void {
    this.#global.charge(now);
  }

  /** Drops every waiting line. */
  clear(): void {
    this.#pairs.clear();
    this.#lastServed.clear();
    this.#size = 0;
  }

  /** Removes and returns the lines queued before `cutoff` (stale after a reconnect). */
  dropQueuedBefore(cutoff: number): Queued<T>[] {
    return this.removeWhere((x) => x.queuedAt < cutoff);
  }

  /** Removes and returns the waiting lines `drop` selects (e.g. those for a nick that quit). */
  removeWhere(drop: (x: Queued<T>) => boolean): Queued<T>[] {
    const dropped: Queued<T>[] = [];
    for (const [key, q] of this.#pairs) {
      const keep = q.filter((x) => !drop(x));
      if (keep.length === q.length) continue;
      for (const x of q) if (drop(x)) dropped.push(x);
      if (keep.length) this.#pairs.set(key, keep);
      else this.#pairs.delete(key);
    }
    this.#size -= dropped.length;
    this.#forgetIdle();
    return dropped;
  }

  /** Moves the lines waiting for target `from` to target `to` (a nick change), in order. */
  retarget(from: string, to: string): void {
    if (from === to) return;
    for (const [key, q] of [...this.#pairs]) {
      if (q[0]!.target !== from) continue;
      this.#pairs.delete(key);
      const moved = q.map((x) => ({ ...x, target: to }));
      const newKey = `${to}\0${q[0]!.requester}`;
      const merged = [...(this.#pairs.get(newKey) ?? []), ...moved].sort((a, b) => a.queuedAt - b.queuedAt);
      this.#pairs.set(newKey, merged);
    }
  }

  /** Rewrites every waiting line's item (e.g. for a requester's new nick). */
  update(fn: (x: Queued<T>) => T): void {
    for (const q of this.#pairs.values()) for (const x of q) x.item = fn(x);
  }

  /** Lines waiting for `target` from `requester`. */
  queuedFor(target: string, requester: string): number {
    return this.#pairs.get(`${target}\0${requester}`)?.length ?? 0;
  }

  #forgetIdle(): void {
    const waiting = new Set<string>();
    for (const q of this.#pairs.values()) waiting.add(q[0]!.requester);
    for (const r of this.#lastServed.keys()) if (!waiting.has(r)) this.#lastServed.delete(r);
  }

  #bucket(target: string, now: number): TokenBucket {
    let b = this.#buckets.get(target);
    if (!b) {
      b = new TokenBucket(this.#opts.perTarget, now);
      this.#buckets.set(target, b);
    }
    return b;
  }

  /** The queue to serve next: its target has a token, its requester was served least recently. */
  #pick(now: number): string | undefined {
    let best: string | undefined;
    let bestRank = [Infinity, Infinity, Infinity];
    for (const [key, q] of this.#pairs) {
      const head = q[0]!;
      if (this.#bucket(head.target, now).waitMs(now) > 0) continue;
      const rank = [
        head.requester === "" ? -1 : (this.#lastServed.get(head.requester) ?? 0),
        this.#targetServed.get(head.target) ?? 0,
        head.queuedAt,
      ];
      const better = rank[0]! < bestRank[0]! ||
        (rank[0] === bestRank[0] && (rank[1]! < bestRank[1]! || (rank[1] === bestRank[1] && rank[2]! < bestRank[2]!)));
      if (better) {
        best = key;
        bestRank = rank;
      }
    }
    return best;
  }

  /**
   * Returns the lines that may be sent now, in order, and how long to wait before calling
   * again (undefined when nothing is queued).
   */
  drain(now: number): { send: Queued<T>[]; nextMs: number | undefined } {
    const send: Queued<T>[] = [];
    while (this.#global.waitMs(now) === 0) {
      const key = this.#pick(now);
      if (key === undefined) break;
      const q = this.#pairs.get(key)!;
      const x = q.shift()!;
      if (q.length === 0) {
        this.#pairs.delete(key);
        this.#forgetIdle();
      }
      this.#size--;
      this.#bucket(x.target, now).tryTake(now);
      this.#global.tryTake(now);
      this.#serial++;
      if (x.requester !== "" && this.#stillWaiting(x.requester)) this.#lastServed.set(x.requester, this.#serial);
      this.#targetServed.set(x.target, this.#serial);
      send.push(x);
    }
    for (const [t, b] of this.#buckets) {
      if (b.isFull(now) && !this.#hasTarget(t)) {
        this.#buckets.delete(t);
        this.#targetServed.delete(t);
      }
    }
    if (this.#pairs.size === 0) return { send, nextMs: undefined };
    let next = Infinity;
    for (const q of this.#pairs.values()) next = Math.min(next, this.#bucket(q[0]!.target, now).waitMs(now));
    next = Math.max(next, this.#global.waitMs(now));
    return { send, nextMs: Math.max(1, next) };
  }

  #stillWaiting(requester: string): boolean {
    for (const q of this.#pairs.values()) if (q[0]!.requester === requester) return true;
    return false;
  }

  #hasTarget(target: string): boolean {
    for (const q of this.#pairs.values()) if (q[0]!.target === target) return true;
    return false;
  }
}
