/**
 * Randomness drawn ahead of time. Every run reseeds `random` from 2,496 random bytes, which
 * wasi-libc's getentropy asks for in ten 256-byte random_get calls; each Web Crypto call costs
 * 3-13 µs, together ~0.13 ms of a 1.5 ms warm print(1). A host fills a pool once when it is made
 * (the sandbox makes the next run's host while the worker is idle) and serves small requests from
 * it, drawing a fresh pool when it is spent; larger requests go to Web Crypto directly.
 * Each pool belongs to one host, so no byte is ever given out twice.
 */

/** Web Crypto, present on Node 20+ and Deno (typed here: tsconfig's lib has no DOM types). */
const webCrypto = (globalThis as unknown as { crypto: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;

/** Bytes drawn up front: one reseed of `random` (2,496) with room to spare. */
export const RANDOM_POOL_BYTES = 4096;

/**
 * Fills `buf` with cryptographically strong random bytes, straight from Web Crypto (which fills
 * at most 64 KiB per call).
 *
 * @example
 * ```ts
 * const key = new Uint8Array(32);
 * cryptoFill(key);
 * ```
 */
export function cryptoFill(buf: Uint8Array): void {
  for (let i = 0; i < buf.length; i += 65536) {
    webCrypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)));
  }
}

/**
 * A one-owner pool of random bytes, filled when made.
 *
 * @example
 * ```ts
 * const pool = new RandomPool();
 * const seed = new Uint8Array(256);
 * pool.fill(seed); // copied from the pool: no Web Crypto call
 * ```
 */
export class RandomPool {
  private readonly bytes: Uint8Array;
  private used = 0;

  /** `source` fills the pool now and serves what the pool cannot (default: Web Crypto). */
  constructor(size = RANDOM_POOL_BYTES, private readonly source: (buf: Uint8Array) => void = cryptoFill) {
    this.bytes = new Uint8Array(size);
    source(this.bytes);
  }

  /** Bytes the pool can still give. */
  get left(): number {
    return this.bytes.length - this.used;
  }

  /**
   * Fills `buf` from the pool, drawing a fresh pool when this one holds too little (one source
   * call per pool, not one per request); requests larger than a pool go to the source. Never
   * repeats a byte.
   */
  fill(buf: Uint8Array): void {
    if (buf.length > this.bytes.length) {
      this.source(buf);
      return;
    }
    if (buf.length > this.left) {
      this.source(this.bytes);
      this.used = 0;
    }
    buf.set(this.bytes.subarray(this.used, this.used + buf.length));
    this.bytes.fill(0, this.used, this.used + buf.length);
    this.used += buf.length;
  }
}
