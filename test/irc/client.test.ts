/**
 * The client and the bot together on an in-memory server and a fake clock (issue 21's bot items):
 * a CTCP flood that cannot delay another user, nick refusals that are fitted, paced and bounded,
 * "busy" decided before evaluating, `!more`, long exception lines, replies that follow a nick
 * change, and kicks. No sleeps: minutes of backoff and expiry pass on the fake clock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IrcNickError } from "../../src/irc/client.ts";
import type { Evaluator } from "../../src/irc/bot.ts";
import { settle } from "./fake-clock.ts";
import type { FakeClock } from "./fake-clock.ts";
import { welcoming } from "./fake-net.ts";
import type { ScriptTools } from "./fake-net.ts";
import type { IrcMessage } from "../../src/irc/message.ts";
import { result, rig, stop } from "./_client-harness.ts";

describe("CTCP floods (issue 21 item 1)", () => {
  it("60 VERSIONs then a quit: rate-limited, no priority, dropped on quit; another user's !py is not delayed", async () => {
    const r = await rig();
    assert.ok(r.parts.client.channels.has("#py"));
    for (let i = 0; i < 60; i++) r.from("spammer", "PRIVMSG pybot :\x01VERSION\x01");
    r.from("spammer", "QUIT :bye");
    const asked = r.clock.now();
    r.from("alice", "PRIVMSG #py :!py 6*7");
    let answeredAt: number | undefined;
    for (let t = 0; t < 60_000 && answeredAt === undefined; t += 100) {
      await r.clock.tick(100);
      answeredAt = r.net.sent.find((s) => s.line === "PRIVMSG #py :alice: 42")?.at;
    }
    assert.ok(answeredAt !== undefined, "alice answered");
    assert.ok(answeredAt! - asked <= 2000, `alice waited ${answeredAt! - asked} ms`);
    const toSpammer = r.to("spammer", "NOTICE");
    assert.ok(toSpammer.length <= 6, `at most the rate limit (5) and one notice: ${toSpammer.length}`);
    assert.ok(r.log.some((l) => /rate limit: spammer!/.test(l)));
    await stop(r);
  });

  it("a CTCP sent to a channel gets no answer; the answers wait behind other requesters' lines", async () => {
    const r = await rig({ evalsPerWindow: 50, maxEvalsPerWindow: 100 });
    r.from("spammer", "PRIVMSG #py :\x01VERSION\x01");
    await r.clock.tick(5000);
    assert.deepEqual(r.to("#py", "NOTICE"), []);
    assert.deepEqual(r.to("spammer", "NOTICE"), []);
    // Both queue at once: the one requester's CTCP answers do not all go before alice's reply.
    for (let i = 0; i < 10; i++) r.from("spammer", "PRIVMSG pybot :\x01VERSION\x01");
    r.from("alice", "PRIVMSG #py :!py 6*7");
    await r.clock.tick(30_000);
    const order = r.net.sent.filter((s) => /^NOTICE spammer|^PRIVMSG #py :alice/.test(s.line)).map((s) => s.line);
    const alice = order.indexOf("PRIVMSG #py :alice: 42");
    assert.ok(alice >= 0 && alice <= 5, order.join("\n"));
    await stop(r);
  });
});

describe("nick refusals (issue 21 item 2)", () => {
  it("a server nick length of 5: the nick is shortened before any suffix, and registration follows", async () => {
    const r = await rig({ nick: "wasipybot" }, welcoming({ nickLen: 5 }));
    await r.clock.tick(30_000);
    assert.equal(r.parts.client.registered, true, r.log.join("\n"));
    assert.equal(r.parts.client.nick, "wasip");
    const nicks = r.net.sent.filter((s) => s.msg.command === "NICK").length;
    assert.ok(nicks <= 6, `${nicks} NICKs`);
    await stop(r);
  });

  it("every nick refused: paced with backoff, then one clear fatal error after the refusal limit", async () => {
    const refuseAll = (m: IrcMessage, t: ScriptTools) => {
      if (m.command === "NICK") t.send(`:srv 432 * ${m.params[0]} :Erroneous Nickname`);
    };
    const r = await rig({ nick: "wasipybot", nickRefusalLimit: 8 }, refuseAll);
    let fatal: Error | undefined;
    r.parts.client.on("fatal", (e) => (fatal = e));
    await r.clock.tick(30_000);
    const in30s = r.net.sent.filter((s) => s.msg.command === "NICK").length;
    assert.ok(in30s <= 10, `${in30s} NICKs in 30 s`);
    await r.clock.tick(600_000);
    assert.ok(fatal instanceof IrcNickError, r.log.join("\n"));
    assert.match(fatal!.message, /refused 8 nicks in a row .*choose --nick/);
    assert.equal(r.log.filter((l) => / error /.test(l)).length, 1, r.log.join("\n"));
    assert.ok(r.net.sent.filter((s) => s.msg.command === "NICK").length <= 8);
    await stop(r);
  });
});

describe("overload (issue 21 item 3)", () => {
  it("a request whose reply the backlog cannot take is refused before evaluation, 'busy' once per lock-out", async () => {
    const r = await rig({
      evalsPerWindow: 100,
      maxEvalsPerWindow: 100,
      maxQueuedPerRequester: 6,
      maxLines: 3,
      floodGlobalRatePerSec: 0.2,
      floodRatePerSec: 0.2,
    });
    for (let i = 0; i < 10; i++) r.from("alice", `PRIVMSG #py :!py print('${i}' * 1000)`);
    await r.clock.tick(100);
    assert.equal(r.evals.length, 2, `evaluated: ${r.evals.join(", ")}`);
    assert.equal(r.parts.bot.stats.droppedAfterEval, 0);
    assert.equal(r.to("alice", "NOTICE").filter((m) => /Busy/.test(m.params[1]!)).length, 1);
    assert.equal(r.log.filter((l) => /busy: refused alice/.test(l)).length, 1, r.log.join("\n"));
    // Once the lines are out, alice is served again (a new lock-out would notify again).
    await r.clock.tick(60_000);
    r.from("alice", "PRIVMSG #py :!py 6*7");
    await r.clock.tick(10_000);
    assert.ok(r.to("#py").some((m) => m.params[1] === "alice: 42"));
    await stop(r);
  });

  it("after a reconnect, no 'dropped' note to someone who left; lines for a nick that quit or parted go", async () => {
    const r = await rig({
      floodGlobalRatePerSec: 0.1,
      floodRatePerSec: 0.1,
      floodGlobalBurst: 1,
      floodBurst: 1,
      staleReplyMs: 0,
    });
    await r.clock.tick(20_000); // the JOIN's token back
    for (const n of ["alice", "bob"]) r.parts.client.say(n, "private line", "PRIVMSG", { requester: `@${n}`, nick: n });
    for (let i = 0; i < 4; i++) r.parts.client.say("#py", `bob: ${i}`, "PRIVMSG", { requester: "@bob", nick: "bob" });
    const before = r.parts.client.queuedLines;
    r.from("bob", "PART #py");
    await settle();
    assert.equal(r.parts.client.queuedLines, before - 4, "bob's channel lines dropped when he parted");
    r.from("bob", "QUIT :gone");
    await settle();
    assert.equal(r.parts.client.queuedLines, before - 5, "and his private line when he quit");
    // A reconnect with lines waiting for alice (present) and carol (not on the channel any more).
    for (const n of ["alice", "carol"]) {
      r.parts.client.say("#py", `${n}: x`, "PRIVMSG", { requester: `@${n}`, nick: n });
    }
    await r.clock.tick(1);
    r.net.drop();
    await r.clock.tick(30_000);
    assert.equal(r.parts.client.registered, true);
    const notes = r.net.sent.filter((s) => /dropped after a reconnect/.test(s.line)).map((s) => s.line);
    assert.ok(notes.some((l) => /^PRIVMSG #py :alice: \(\d+ reply lines? dropped/.test(l)), notes.join("\n"));
    assert.ok(!notes.some((l) => /carol|bob/.test(l)), notes.join("\n"));
    await stop(r);
  });
});

describe("requesters who leave (issue 21 item 1)", () => {
  it("a quit drops their waiting requests unevaluated, and a running one does not reply", async () => {
    const box: { clock?: FakeClock } = {};
    const slow: Evaluator = (code) =>
      new Promise((res) => box.clock!.setTimeout(() => res(result(`ran ${code}\n`)), 1000));
    const r = await rig({ workers: 1 }, undefined, (code, l) => slow(code, l));
    box.clock = r.clock;
    r.from("carol", "PRIVMSG pybot :1+1");
    r.from("bob", "PRIVMSG #py :!py 2+2");
    await r.clock.tick(10);
    r.from("carol", "QUIT :bye");
    r.from("bob", "PART #py");
    await r.clock.tick(10_000);
    assert.deepEqual(r.evals, ["1+1"], "bob's request was dropped before evaluation");
    assert.deepEqual(r.to("carol"), [], "no reply to carol, who quit");
    assert.ok(r.log.some((l) => /bob left #py: dropped 1 waiting requests/.test(l)), r.log.join("\n"));
    await stop(r);
  });
});

describe("!more (issue 21 item 4)", () => {
  it("the cut line says !more; !more and 'pybot: more' give the next parts to the same host, then expire", async () => {
    const r = await rig({ moreExpiryMs: 120_000 });
    r.from("alice", "PRIVMSG #py :!py print('a' * 5000)");
    await r.clock.tick(20_000);
    const first = r.to("#py").map((m) => m.params[1]!);
    assert.match(first[first.length - 1]!, /more bytes: !more\)$/);
    const mark = r.net.sent.length;
    r.from("alice2", "PRIVMSG #py :!more", "alice.example"); // same host, another nick
    await r.clock.tick(20_000);
    const page = r.to("#py", "PRIVMSG", mark).map((m) => m.params[1]!);
    assert.ok(page.length >= 1 && page[0]!.startsWith("alice2: aaa"), page.join("\n"));
    r.from("bob", "PRIVMSG #py :!more");
    await r.clock.tick(5000);
    assert.ok(r.to("#py").some((m) => /^bob: nothing more to show/.test(m.params[1]!)));
    const mark2 = r.net.sent.length;
    r.from("alice", "PRIVMSG pybot :more");
    await r.clock.tick(20_000);
    assert.ok(r.to("alice", "PRIVMSG", mark2).some((m) => /^a+/.test(m.params[1]!)), "answered in private");
    await r.clock.tick(200_000);
    const mark3 = r.net.sent.length;
    r.from("alice", "PRIVMSG #py :pybot: more");
    await r.clock.tick(5000);
    assert.ok(r.to("#py", "PRIVMSG", mark3).some((m) => /nothing more to show/.test(m.params[1]!)), "expired");
    await stop(r);
  });

  it("memory is bounded per requester and in total", async () => {
    const r = await rig({ moreMaxBytes: 2048, moreTotalBytes: 4096, evalsPerWindow: 50, maxEvalsPerWindow: 100 });
    for (const n of ["u1", "u2", "u3", "u4"]) r.from(n, "PRIVMSG #py :!py print('z' * 20000)");
    await r.clock.tick(200);
    const kept = r.parts.bot.moreKept;
    assert.ok(kept.bytes <= 4096, JSON.stringify(kept));
    assert.ok(kept.requesters <= 2, JSON.stringify(kept));
    await stop(r);
  });
});

describe("a long exception keeps its type (issue 21 item 5)", () => {
  it("ValueError with a 3 KB message: the reply ends with 'ValueError:' and the message's end", async () => {
    const stderr = 'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n' +
      `ValueError: ${"m".repeat(3000)}THE END\n`;
    const r = await rig({}, undefined, () => Promise.resolve(result("", { stderr, exitCode: 1, outcome: "error" })));
    r.from("alice", "PRIVMSG #py :!py raise ValueError('m' * 3000 + 'THE END')");
    await r.clock.tick(20_000);
    const text = r.to("#py").map((m) => m.params[1]!).join(" | ");
    assert.match(text, /ValueError: m+ \[… [\d,]+ bytes cut …\] m/);
    assert.match(text, /THE END$/);
    await stop(r);
  });
});

describe("nick changes and 401 (issue 21 item 6)", () => {
  it("a private reply follows the requester's new nick; a 401 is logged", async () => {
    let release: () => void = () => {};
    const slow: Evaluator = () => new Promise((res) => (release = () => res(result("42\n"))));
    const r = await rig({}, undefined, slow);
    r.from("alice", "PRIVMSG pybot :6*7");
    await r.clock.tick(10);
    r.from("alice", "NICK :alice_");
    release();
    await r.clock.tick(5000);
    assert.deepEqual(r.to("alice_").map((m) => m.params[1]), ["42"]);
    assert.deepEqual(r.to("alice"), []);
    r.net.send(":srv 401 pybot ghost :No such nick/channel");
    await settle();
    assert.ok(r.log.some((l) => /warn cannot send to ghost: No such nick\/channel/.test(l)), r.log.join("\n"));
    await stop(r);
  });
});

describe("kicks (issue 21 item 7)", () => {
  it("logs who and why, rejoins once after the delay, then backs off; every join is logged", async () => {
    const r = await rig({ rejoinAfterKickMs: 3000, joinRetryMinMs: 30_000 });
    assert.ok(r.log.some((l) => / info joined #py$/.test(l)), r.log.join("\n"));
    const joins = () => r.net.sent.filter((s) => s.msg.command === "JOIN").length;
    const j0 = joins();
    r.net.send(":op!~op@op.example KICK #py pybot :behave");
    await settle();
    assert.ok(r.log.some((l) => /warn kicked from #py by op \(behave\); rejoining in 3 s/.test(l)), r.log.join("\n"));
    await r.clock.tick(2900);
    assert.equal(joins(), j0, "not before the delay");
    await r.clock.tick(200);
    assert.equal(joins(), j0 + 1);
    r.net.send(":op!~op@op.example KICK #py pybot :again");
    await settle();
    await r.clock.tick(20_000);
    assert.equal(joins(), j0 + 1, "a second kick soon after backs off");
    await r.clock.tick(30_000);
    assert.equal(joins(), j0 + 2);
    await stop(r);
  });

  it("rejoin-after-kick-ms 0: no rejoin", async () => {
    const r = await rig({ rejoinAfterKickMs: 0 });
    const j0 = r.net.sent.filter((s) => s.msg.command === "JOIN").length;
    r.net.send(":op!~op@op.example KICK #py pybot :out");
    await r.clock.tick(600_000);
    assert.equal(r.net.sent.filter((s) => s.msg.command === "JOIN").length, j0);
    assert.ok(r.log.some((l) => /not rejoining \(rejoin-after-kick-ms is 0\)/.test(l)));
    await stop(r);
  });
});
