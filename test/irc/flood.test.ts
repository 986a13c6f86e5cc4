import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OutgoingScheduler, TokenBucket } from "../../src/irc/flood.ts";
import { PacedOutput } from "../../src/irc/output.ts";
import type { OutLine } from "../../src/irc/output.ts";
import { FakeClock } from "./fake-clock.ts";

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
  const opts = {
    perTarget: { burst: 2, ratePerSec: 1 },
    global: { burst: 3, ratePerSec: 2 },
    maxQueuedPerRequester: 50,
  };
  const items = <T>(r: { send: { item: T }[] }) => r.send.map((x) => x.item);
  it("paces one target and reports when to come back", () => {
    const s = new OutgoingScheduler<string>(opts, 0);
    for (const x of ["a", "b", "c", "d"]) s.push("#c", "u", x, 0);
    const r0 = s.drain(0);
    assert.deepEqual(items(r0), ["a", "b"]);
    assert.equal(r0.nextMs, 1000);
    assert.deepEqual(items(s.drain(999)), []);
    assert.deepEqual(items(s.drain(1000)), ["c"]);
    assert.deepEqual(items(s.drain(2000)), ["d"]);
    assert.equal(s.drain(2000).nextMs, undefined);
    assert.equal(s.size, 0);
  });
  it("serves targets round-robin behind the connection-wide bucket", () => {
    const s = new OutgoingScheduler<string>(opts, 0);
    for (const x of ["a1", "a2", "a3"]) s.push("#a", "u", x, 0);
    s.push("#b", "u", "b1", 0);
    assert.deepEqual(items(s.drain(0)), ["a1", "b1", "a2"]); // global burst of 3
    assert.deepEqual(items(s.drain(400)), []);
    assert.deepEqual(items(s.drain(1000)), ["a3"]);
  });
  it("serves requesters of one target round-robin: a short answer is not stuck behind long ones", () => {
    const one = {
      perTarget: { burst: 1, ratePerSec: 1 },
      global: { burst: 1, ratePerSec: 1 },
      maxQueuedPerRequester: 50,
    };
    const s = new OutgoingScheduler<string>(one, 0);
    for (const u of ["u1", "u2", "u3"]) for (let i = 0; i < 10; i++) s.push("#c", u, `${u}-${i}`, 0);
    s.push("#c", "late", "late-0", 500);
    const order: string[] = [];
    for (let t = 0; t <= 40_000; t += 100) order.push(...items(s.drain(t)));
    assert.equal(order.length, 31);
    assert.ok(order.indexOf("late-0") <= 4, `late answer at ${order.indexOf("late-0")}: ${order.slice(0, 6)}`);
    assert.deepEqual(order.slice(0, 3).map((x) => x.split("-")[0]), ["u1", "u2", "u3"]);
  });
  it("caps a requester's backlog per target", () => {
    const s = new OutgoingScheduler<number>({ ...opts, maxQueuedPerRequester: 3 }, 0);
    const ok = [1, 2, 3, 4].map((i) => s.push("#c", "u", i, 0));
    assert.deepEqual(ok, [true, true, true, false]);
    assert.equal(s.push("#c", "other", 9, 0), true);
  });
  it("drops and returns lines queued before a cutoff (stale after a reconnect)", () => {
    const s = new OutgoingScheduler<string>(opts, 0);
    s.push("#c", "u", "old1", 0);
    s.push("#c", "u", "old2", 10);
    s.push("#c", "v", "new", 5000);
    const dropped = s.dropQueuedBefore(1000);
    assert.deepEqual(dropped.map((d) => d.item), ["old1", "old2"]);
    assert.deepEqual(items(s.drain(6000)), ["new"]);
  });
  it("a lower rate and unpaced commands slow the drain", () => {
    const s = new OutgoingScheduler<number>(opts, 0);
    for (let i = 0; i < 20; i++) s.push(`#t${i % 4}`, "u", i, 0);
    s.setRate(0.5, 0);
    s.charge(0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 50) sent += s.drain(t).send.length;
    assert.ok(sent <= 2 + 5, `sent ${sent}`);
  });
  it("total output over time never exceeds the global rate", () => {
    const s = new OutgoingScheduler<number>(opts, 0);
    for (let i = 0; i < 100; i++) s.push(`#t${i % 5}`, `u${i % 3}`, i, 0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 50) sent += s.drain(t).send.length;
    assert.ok(sent <= 3 + 2 * 10, `sent ${sent}`);
    assert.ok(sent >= 20, `sent ${sent}`);
  });
});

const line = (text: string, requester: string): OutLine => ({
  command: "PRIVMSG",
  to: "#c",
  text,
  meta: { requester },
});

describe("PacedOutput", () => {
  it("measures lag with a PING while lines wait: slows down when the server lags, recovers when it answers fast", () => {
    // Time moves by hand, and the pump's timers never fire: only push and pong drive it.
    let now = 0;
    const clock = new FakeClock(0);
    const pings: string[] = [];
    const written: string[] = [];
    const logs: string[] = [];
    const out = new PacedOutput({
      flood: {
        perTarget: { burst: 1, ratePerSec: 1 },
        global: { burst: 1, ratePerSec: 1 },
        maxQueuedPerRequester: 100,
      },
      staleReplyMs: 30_000,
      lagThresholdMs: 2000,
      lagProbeIntervalMs: 1000,
    }, {
      now: () => now,
      timers: clock,
      log: (l, t) => logs.push(`${l} ${t}`),
      write: (l) => written.push(l.text),
      ping: (t) => pings.push(t),
      present: () => true,
    });
    try {
      out.resume();
      for (let i = 0; i < 10; i++) out.push("#c", line(`${i}`, "u"));
      assert.equal(written.length, 1);
      assert.equal(pings.length, 1, "a lag probe while lines wait");
      now = 3000;
      out.pong(pings[0]!);
      assert.equal(out.ratePerSec, 0.5);
      assert.ok(logs.some((l) => /server lag 3000 ms: pacing at 0\.5 lines\/s/.test(l)), logs.join("\n"));
      out.push("#c", line("x", "v")); // pumps: a new probe goes out
      assert.equal(pings.length, 2);
      now = 3010;
      out.pong(pings[1]!);
      assert.equal(out.ratePerSec, 0.75);
      out.pong("unrelated");
      assert.equal(out.ratePerSec, 0.75);
    } finally {
      out.pause();
    }
  });
});
