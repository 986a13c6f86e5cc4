/**
 * Token buckets for outgoing flood control. Servers penalise bursts (ngIRCd relays
 * about 3 commands a second and stalls the rest; others kill the connection), so the
 * client paces lines: a burst of `burst` lines, then `ratePerSec` lines a second.
 * Pure with respect to time: the caller passes `now` (ms).
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
  readonly ratePerSec: number;

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

  /** True when the bucket is full again (nothing to remember for this target). */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst;
  }
}

/**
 * Per-target queues of outgoing lines, each paced by its own bucket, all behind one
 * connection-wide bucket. Targets are served round-robin so a long answer in one
 * channel does not hold back a short one elsewhere.
 *
 * @example
 * ```ts
 * const out = new OutgoingScheduler<string>({ perTarget: { burst: 4, ratePerSec: 1 }, global: { burst: 8, ratePerSec: 2 } }, 0);
 * out.push("#py", "PRIVMSG #py :hello");
 * const { send, nextMs } = out.drain(0); // send: ["PRIVMSG #py :hello"], nextMs: undefined
 * ```
 */
export class OutgoingScheduler<T> {
  #perTarget: BucketOptions;
  #global: TokenBucket;
  #buckets = new Map<string, TokenBucket>();
  #queues = new Map<string, T[]>();
  #order: string[] = [];

  constructor(opts: { perTarget: BucketOptions; global: BucketOptions }, now: number) {
    this.#perTarget = opts.perTarget;
    this.#global = new TokenBucket(opts.global, now);
  }

  /** Queues one item for a target (behind that target's earlier items). */
  push(target: string, item: T): void {
    let q = this.#queues.get(target);
    if (!q) {
      q = [];
      this.#queues.set(target, q);
      this.#order.push(target);
    }
    q.push(item);
  }

  /** Items waiting, over all targets. */
  get size(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Drops every waiting item. */
  clear(): void {
    this.#queues.clear();
    this.#order = [];
  }

  #bucket(target: string, now: number): TokenBucket {
    let b = this.#buckets.get(target);
    if (!b) {
      b = new TokenBucket(this.#perTarget, now);
      this.#buckets.set(target, b);
    }
    return b;
  }

  /**
   * Returns the items that may be sent now, in order, and how long to wait before
   * calling again (undefined when nothing is queued).
   */
  drain(now: number): { send: T[]; nextMs: number | undefined } {
    const send: T[] = [];
    let progress = true;
    while (progress) {
      progress = false;
      for (const target of [...this.#order]) {
        const q = this.#queues.get(target)!;
        if (this.#global.waitMs(now) > 0) break;
        const b = this.#bucket(target, now);
        if (!b.tryTake(now)) continue;
        this.#global.tryTake(now);
        send.push(q.shift()!);
        progress = true;
        if (q.length === 0) {
          this.#queues.delete(target);
          this.#order = this.#order.filter((t) => t !== target);
        } else {
          // rotate: this target goes to the back
          this.#order = [...this.#order.filter((t) => t !== target), target];
        }
      }
    }
    for (const [t, b] of this.#buckets) if (!this.#queues.has(t) && b.isFull(now)) this.#buckets.delete(t);
    if (this.#order.length === 0) return { send, nextMs: undefined };
    let next = Infinity;
    for (const t of this.#order) next = Math.min(next, this.#bucket(t, now).waitMs(now));
    next = Math.max(next, this.#global.waitMs(now));
    return { send, nextMs: Math.max(1, next) };
  }
}
