import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cryptoFill, RANDOM_POOL_BYTES, RandomPool } from "../../src/wasi/random-pool.ts";

/** A source that writes a running counter and records the size of every call. */
function countingSource(): { fill: (buf: Uint8Array) => void; calls: number[] } {
  let next = 0;
  const calls: number[] = [];
  return {
    calls,
    fill: (buf) => {
      calls.push(buf.length);
      for (let i = 0; i < buf.length; i++) buf[i] = next++ & 0xff;
    },
  };
}

describe("random pool", () => {
  // A 64-byte pool: [request sizes, source calls after the pool's own fill, bytes left in the pool]
  const cases: [number[], number[], number][] = [
    [[16, 16, 16], [], 16],
    [[100], [100], 64],
    // A spent pool draws a fresh one (one source call per pool, not one per small request).
    [[64, 1], [64], 63],
    [[10, 60], [64], 4],
    [[40, 40, 40], [64, 64], 24],
    [[0, 64], [], 0],
  ];
  for (const [requests, fallbackCalls, left] of cases) {
    it(`requests of ${requests.join(", ")} bytes`, () => {
      const src = countingSource();
      const pool = new RandomPool(64, src.fill);
      assert.deepEqual(src.calls, [64], "the pool is filled once, when made");
      const seen: number[] = [];
      for (const n of requests) {
        const buf = new Uint8Array(n);
        pool.fill(buf);
        seen.push(...buf);
      }
      assert.deepEqual(src.calls.slice(1), fallbackCalls);
      assert.equal(pool.left, left);
      // The counter never repeats below 256 bytes: every byte handed out was handed out once.
      assert.equal(new Set(seen).size, seen.length);
    });
  }

  it("zeroes what it gave out, so no byte can be given twice", () => {
    const src = countingSource();
    const pool = new RandomPool(8, (b) => {
      src.fill(b);
      b.fill(0xaa);
    });
    const a = new Uint8Array(4);
    pool.fill(a);
    assert.deepEqual([...a], [0xaa, 0xaa, 0xaa, 0xaa]);
    const internal = (pool as unknown as { bytes: Uint8Array }).bytes;
    assert.deepEqual([...internal], [0, 0, 0, 0, 0xaa, 0xaa, 0xaa, 0xaa]);
  });

  it("the default source is Web Crypto: two pools differ, and a large fill is not all zero", () => {
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    new RandomPool().fill(a);
    new RandomPool().fill(b);
    assert.notDeepEqual(a, b);
    const big = new Uint8Array(RANDOM_POOL_BYTES * 40); // > 64 KiB: Web Crypto's per-call cap
    cryptoFill(big);
    assert.ok(big.subarray(big.length - 64).some((x) => x !== 0));
  });
});
