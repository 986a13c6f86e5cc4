/**
 * Per-client rate limit: a token bucket per key (the client's token, or its address when the
 * service has no token), refilled at `perMinute` up to `burst`. Pure: the clock is a parameter.
 * The map of buckets is bounded: full (idle) buckets are dropped when it grows past `maxClients`.
 */

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * The limiter.
 *
 * @example
 * const rl = new RateLimiter(60, 2);
 * rl.take("a", 0); // 0 (allowed)
 * rl.take("a", 0); // 0
 * rl.take("a", 0); // 1000 (ms to wait: refused)
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly maxClients = 100_000,
  ) {}

  /** Takes one request for `key` at `nowMs`: 0 when allowed, else the ms until one would be. */
  take(key: string, nowMs: number): number {
    if (this.perMinute === 0) return 0;
    const perMs = this.perMinute / 60_000;
    const cap = Math.max(1, this.burst);
    const b = this.buckets.get(key) ?? { tokens: cap, atMs: nowMs };
    b.tokens = Math.min(cap, b.tokens + (nowMs - b.atMs) * perMs);
    b.atMs = nowMs;
    this.buckets.delete(key); // re-inserted last: the map's order is least recently used first
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxClients) this.evict();
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / perMs);
  }

  /** Drops the least recently used half. */
  private evict(): void {
    let n = Math.floor(this.buckets.size / 2);
    for (const key of this.buckets.keys()) {
      if (n-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
