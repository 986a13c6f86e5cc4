import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OutgoingScheduler, TokenBucket } from "../../src/irc/flood.ts";

describe("TokenBucket", () => {
  it("allows a burst, then paces at the rate", () => {
    const b = new TokenBucket({ burst: 3, ratePerSec: 2 }, 0);
    assert.deepEqual([b.tryTake(0), b.tryTake(0), b.tryTake(0), b.tryTake(0)], [true, true, true, false]);
    assert.equal(b.waitMs(0), 500);
    assert.equal(b.tryTake(499), false);
    assert.equal(b.tryTake(500), true);
    assert.equal(b.tryTake(999), false);
    assert.equal(b.tryTake(1000), true);
  });
  it("never holds more than the burst", () => {
    const b = new TokenBucket({ burst: 2, ratePerSec: 10 }, 0);
    let n = 0;
    while (b.tryTake(1_000_000)) n++;
    assert.equal(n, 2);
  });
  it("rejects bad settings", () => {
    assert.throws(() => new TokenBucket({ burst: 0, ratePerSec: 1 }, 0), RangeError);
    assert.throws(() => new TokenBucket({ burst: 1, ratePerSec: 0 }, 0), RangeError);
  });
});

describe("OutgoingScheduler", () => {
  const opts = { perTarget: { burst: 2, ratePerSec: 1 }, global: { burst: 3, ratePerSec: 2 } };
  it("paces one target and reports when to come back", () => {
    const s = new OutgoingScheduler<string>(opts, 0);
    for (const x of ["a", "b", "c", "d"]) s.push("#c", x);
    const r0 = s.drain(0);
    assert.deepEqual(r0.send, ["a", "b"]);
    assert.equal(r0.nextMs, 1000);
    assert.deepEqual(s.drain(999).send, []);
    assert.deepEqual(s.drain(1000).send, ["c"]);
    assert.deepEqual(s.drain(2000).send, ["d"]);
    assert.equal(s.drain(2000).nextMs, undefined);
    assert.equal(s.size, 0);
  });
  it("serves targets round-robin behind the connection-wide bucket", () => {
    const s = new OutgoingScheduler<string>(opts, 0);
    for (const x of ["a1", "a2", "a3"]) s.push("#a", x);
    s.push("#b", "b1");
    const r = s.drain(0);
    assert.deepEqual(r.send, ["a1", "b1", "a2"]); // global burst of 3
    assert.deepEqual(s.drain(400).send, []);
    assert.deepEqual(s.drain(1000).send, ["a3"]);
  });
  it("total output over time never exceeds the global rate", () => {
    const s = new OutgoingScheduler<number>(opts, 0);
    for (let i = 0; i < 100; i++) s.push(`#t${i % 5}`, i);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 50) sent += s.drain(t).send.length;
    assert.ok(sent <= 3 + 2 * 10, `sent ${sent}`);
    assert.ok(sent >= 20, `sent ${sent}`);
  });
});
