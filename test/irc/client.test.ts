/**
 * The client and the bot together on an in-memory server and a fake clock (issue 21's bot items):
 * a CTCP flood that cannot delay another user, nick refusals that are fitted, paced and bounded,
 * "busy" decided before evaluating, `!more`, long exception lines, replies that follow a nick
 * change, and kicks. No sleeps: minutes of backoff and expiry pass on the fake clock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveIrcConfig } from "../../src/irc/config.ts";
import { startBot } from "../../src/irc/start.ts";
import type { BotParts } from "../../src/irc/start.ts";
import { IrcAuthError, IrcNickError, IrcSaslError } from "../../src/irc/client.ts";
import type { Evaluator } from "../../src/irc/bot.ts";
import { formatIrcReply } from "../../src/format/messages.ts";
import type { RunResult } from "../../src/sandbox/result.ts";
import { FakeClock, settle } from "./fake-clock.ts";
import { fakeNet, welcoming } from "./fake-net.ts";
import type { ScriptTools } from "./fake-net.ts";
import { IrcSerialiseError } from "../../src/irc/message.ts";
import type { IrcMessage } from "../../src/irc/message.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

function result(stdout: string, extra: Partial<RunResult> = {}): RunResult {
  return {
    stdout,
    stderr: "",
    exitCode: 0,
    outcome: "ok",
    fuelUsed: 1,
    wallMs: 1,
    truncated: { stdout: false, stderr: false },
    limits: { ...DEFAULT_LIMITS },
    ...extra,
  };
}

/** Evaluates `6*7` and `print('x'*N)` like Python would; anything else prints "ran CODE". */
const quickEval: Evaluator = (code) => {
  if (code === "6*7") return Promise.resolve(result("42\n"));
  const m = /^print\('(.)' \* (\d+)\)$/.exec(code);
  if (m) return Promise.resolve(result(m[1]!.repeat(Number(m[2])) + "\n"));
  return Promise.resolve(result(`ran ${code}\n`));
};

interface Rig {
  clock: FakeClock;
  net: ReturnType<typeof fakeNet>;
  parts: BotParts;
  log: string[];
  evals: string[];
  /** What the client's "fatal" event delivered. */
  fatals: Error[];
  /** A line from a user, as the server relays it. */
  from(nick: string, line: string, host?: string): void;
  /** Lines the bot sent to `target` with this command, after index `since`. */
  to(target: string, command?: string, since?: number): IrcMessage[];
}

async function rig(
  over: Record<string, unknown> = {},
  script: (m: IrcMessage, t: ScriptTools) => void = welcoming({ members: ["alice", "spammer", "bob"] }),
  evaluate: Evaluator = quickEval,
): Promise<Rig> {
  const clock = new FakeClock();
  const net = fakeNet(clock.now, script);
  const cfg = resolveIrcConfig(
    {},
    {
      server: "irc.test:6667",
      nick: "pybot",
      channels: ["#py"],
      workers: 2,
      reconnectMinMs: 1000,
      reconnectMaxMs: 60_000,
      ...over,
    } as never,
    {},
    2,
  );
  const log: string[] = [];
  const evals: string[] = [];
  const parts = startBot(
    cfg,
    (code, l) => (evals.push(code), evaluate(code, l)),
    formatIrcReply,
    (lvl, t) => log.push(`${clock.now()} ${lvl} ${t}`),
    { connect: net.connect, now: clock.now, timers: clock, random: () => 0.5 },
  );
  const fatals: Error[] = [];
  parts.client.on("fatal", (e) => fatals.push(e));
  await clock.tick(10);
  return {
    fatals,
    clock,
    net,
    parts,
    log,
    evals,
    from: (nick, line, host = `${nick}.example`) => net.send(`:${nick}!~${nick}@${host} ${line}`),
    to: (target, command = "PRIVMSG", since = 0) =>
      net.sent.slice(since).map((s) => s.msg).filter((m) => m.command === command && m.params[0] === target),
  };
}

async function stop(r: Rig): Promise<void> {
  const q = r.parts.stop();
  await r.clock.tick(5000);
  await q;
}

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

describe("IrcClient failures are loud and bounded (moved from behaviour.test.ts, now on the fake clock)", () => {
  it("a nick refused as too long: the fallbacks fit the RFC length, then ISUPPORT NICKLEN is read", async () => {
    const script = (m: IrcMessage, t: ScriptTools) => {
      if (m.command === "NICK" && m.params[0]!.length > 9) t.send(`:srv 432 * ${m.params[0]} :Erroneous Nickname`);
      else if (m.command === "NICK") {
        t.send(`:srv 001 ${m.params[0]} :Welcome ${m.params[0]}!~wasipy@bot.example`);
        t.send(`:srv 005 ${m.params[0]} NICKLEN=9 CHANTYPES=# :are supported by this server`);
      }
    };
    const r = await rig({ nick: "averylongbotnick", channels: [] }, script);
    await r.clock.tick(1000);
    assert.equal(r.parts.client.isupport("NICKLEN"), "9");
    assert.equal(r.parts.client.nick, "averylong");
    assert.ok(
      r.log.some((l) =>
        /nick averylongbotnick erroneous \(too long for this server, or banned\); trying averylong$/.test(l)
      ),
      r.log.join("\n"),
    );
    await stop(r);
  });

  it("join refusals are logged and retried with backoff; a send refusal pauses the channel", async () => {
    let joins = 0;
    const base = welcoming();
    const script = (m: IrcMessage, t: ScriptTools) => {
      if (m.command !== "JOIN") return base(m, t);
      if (++joins === 1) t.send(":srv 474 pybot #py :Cannot join channel (you're banned)");
      else {
        t.send(":pybot!~wasipy@bot.example JOIN :#py");
        t.send(":srv 404 pybot #py :Cannot send to channel (+m)");
      }
    };
    const r = await rig({ joinRetryMinMs: 30_000 }, script);
    assert.ok(
      r.log.some((l) => /warn cannot join #py: banned \(\+b\), 474; retrying in \d+ s$/.test(l)),
      r.log.join("\n"),
    );
    assert.equal(r.parts.client.channels.has("#py"), false);
    await r.clock.tick(40_000);
    assert.equal(r.parts.client.channels.has("#py"), true);
    assert.equal(r.parts.client.canSend("#py"), false);
    assert.ok(
      r.log.some((l) => /warn cannot send to #py: Cannot send to channel \(\+m\); not evaluating there/.test(l)),
    );
    r.from("alice", "PRIVMSG #py :!py 1");
    await r.clock.tick(1000);
    assert.deepEqual(r.evals, [], "no evaluation for a paused channel");
    await stop(r);
  });

  it("a connection that dies within seconds keeps the backoff", async () => {
    const clockRef: { clock?: FakeClock } = {};
    const base = welcoming();
    const script = (m: IrcMessage, t: ScriptTools) => {
      base(m, t);
      if (m.command === "USER") clockRef.clock?.setTimeout(() => t.close(), 50);
    };
    const r = await rig({ channels: [], reconnectMinMs: 100, reconnectMaxMs: 60_000 }, (m, t) => script(m, t));
    clockRef.clock = r.clock;
    r.net.drop();
    await r.clock.tick(10_000);
    const delays = r.log.filter((l) => /reconnecting in/.test(l)).map((l) => Number(/in (\d+) ms/.exec(l)![1]));
    assert.ok(delays.length >= 3 && delays[2]! > delays[0]!, `delays grow: ${delays}`);
    assert.ok(r.log.some((l) => /lasted only 0 s: keeping the reconnect backoff/.test(l)));
    await stop(r);
  });

  it("a refused password gives up with the hint after --auth-failure-limit attempts", async () => {
    const script = (m: IrcMessage, t: ScriptTools) => {
      if (m.command !== "USER") return;
      t.send(":srv 464 * :Password incorrect");
      t.send("ERROR :Closing link: (Bad password)");
      t.close();
    };
    const r = await rig({ channels: [], authFailureLimit: 3 }, script);
    let fatal: Error | undefined;
    r.parts.client.on("fatal", (e) => (fatal = e));
    await r.clock.tick(120_000);
    assert.ok(fatal instanceof IrcAuthError, r.log.join("\n"));
    assert.equal(r.net.connections, 3);
    assert.ok(
      r.log.some((l) => / error the server refused the password .*WASI_PY_IRC_PASSWORD.*giving up after 3/.test(l)),
    );
    await stop(r);
  });

  it("reconnects when the server stops answering PINGs (moved from bot.test.ts)", async () => {
    const base = welcoming();
    const silent = (m: IrcMessage, t: ScriptTools) => m.command !== "PING" && base(m, t);
    const r = await rig({ channels: [], pingIntervalMs: 1000, pingTimeoutMs: 1000 }, silent);
    await r.clock.tick(10_000);
    assert.ok(r.net.connections >= 2, `${r.net.connections} connections`);
    assert.ok(r.net.sent.some((s) => /^PING wasi-py-\d+$/.test(s.line)));
    assert.ok(r.log.some((l) => /no reply from the server for 1000 ms; reconnecting/.test(l)), r.log.join("\n"));
    await stop(r);
  });
});

describe("SASL on a server without CAP (moved from behaviour.test.ts, now on the fake clock)", () => {
  for (const optional of [false, true]) {
    it(`${optional ? "registers with a warning when saslOptional" : "refuses by default"}`, async () => {
      const r = await rig(
        { saslMechanism: "PLAIN", saslAccount: "pybot", saslPassword: "pw", saslOptional: optional },
        welcoming(), // no CAP answer at all
      );
      await r.clock.tick(1000);
      if (optional) {
        assert.ok(r.log.some((l) => /registered as pybot/.test(l)), r.log.join("\n"));
        assert.ok(r.log.some((l) => / warn the server has no CAP: registered WITHOUT SASL/.test(l)));
      } else {
        assert.equal(r.fatals.length, 1);
        assert.ok(r.fatals[0] instanceof IrcSaslError);
        assert.match(r.fatals[0]!.message, /no CAP.*refusing to run unauthenticated/);
        assert.ok(!r.net.sent.some((s) => s.msg.command === "JOIN"), "never joined unauthenticated");
      }
      await stop(r);
    });
  }
});

/** A server offering SASL (moved from bot.test.ts): `accept` judges the AUTHENTICATE payload. */
function saslScript(mechanism: string, accept: (payload: string) => boolean) {
  return (m: IrcMessage, t: ScriptTools) => {
    if (m.command === "CAP" && m.params[0] === "LS") {
      t.send(":srv CAP * LS :multi-prefix sasl=PLAIN,EXTERNAL account-tag");
    } else if (m.command === "CAP" && m.params[0] === "REQ") t.send(`:srv CAP * ACK :${m.params[1]}`);
    else if (m.command === "AUTHENTICATE" && m.params[0] === mechanism) t.send("AUTHENTICATE +");
    else if (m.command === "AUTHENTICATE") {
      if (accept(m.params[0]!)) {
        t.send(":srv 900 saslbot saslbot!u@h acc :You are now logged in as acc");
        t.send(":srv 903 saslbot :SASL authentication successful");
      } else t.send(":srv 904 saslbot :SASL authentication failed");
    } else if (m.command === "CAP" && m.params[0] === "END") {
      t.send(":srv 001 saslbot :Welcome saslbot!~wasipy@sasl.example");
    } else if (m.command === "QUIT") t.close();
  };
}

describe("SASL (moved from bot.test.ts, now on the fake clock)", () => {
  const lines = (r: Rig) => r.net.sent.map((s) => s.line);

  it("PLAIN: sends account\\0account\\0password in base64 and registers", async () => {
    const r = await rig(
      { nick: "saslbot", channels: [], saslMechanism: "PLAIN", saslAccount: "acc", saslPassword: "pw" },
      saslScript("PLAIN", (p) => atob(p) === "acc\0acc\0pw"),
    );
    assert.equal(r.parts.client.registered, true, r.log.join("\n"));
    assert.deepEqual(lines(r).slice(0, 4), [
      "CAP LS 302",
      "NICK saslbot",
      "USER wasipy 0 * :wasi-py eval bot (!py <code>)",
      "CAP REQ :sasl account-tag multi-prefix",
    ]);
    assert.ok(lines(r).includes("AUTHENTICATE PLAIN"));
    assert.ok(lines(r).indexOf("CAP END") > lines(r).indexOf("AUTHENTICATE PLAIN"));
    assert.equal(r.parts.client.selfPrefix, "saslbot!~wasipy@sasl.example");
    assert.ok(r.parts.client.caps.has("account-tag"));
    await stop(r);
  });

  it("EXTERNAL: answers the challenge with +", async () => {
    // EXTERNAL needs a client certificate over TLS in real use (the config insists); the exchange is what is tested here
    const clock = new FakeClock();
    const net = fakeNet(clock.now, saslScript("EXTERNAL", (p) => p === "+"));
    const cfg = {
      ...resolveIrcConfig({}, { server: "irc.test:6667", nick: "saslbot", channels: [], workers: 1 } as never, {}, 2),
      sasl: { mechanism: "EXTERNAL" as const },
    };
    const parts = startBot(cfg, quickEval, formatIrcReply, () => {}, {
      connect: net.connect,
      now: clock.now,
      timers: clock,
      random: () => 0.5,
    });
    await clock.tick(10);
    assert.equal(parts.client.registered, true);
    const sent = net.sent.map((s) => s.line);
    assert.ok(sent.includes("AUTHENTICATE EXTERNAL") && sent.includes("AUTHENTICATE +"));
    const q = parts.stop();
    await clock.tick(5000);
    await q;
  });

  it("a rejected password stops the bot with a clear error instead of retrying forever", async () => {
    const r = await rig(
      { nick: "saslbot", channels: [], saslMechanism: "PLAIN", saslAccount: "acc", saslPassword: "wrong" },
      saslScript("PLAIN", () => false),
    );
    await r.clock.tick(600_000);
    assert.ok(r.log.some((l) => / error SASL PLAIN failed: SASL authentication failed$/.test(l)), r.log.join("\n"));
    assert.equal(r.parts.client.registered, false);
    assert.equal(r.fatals.length, 1);
    assert.equal(lines(r).filter((l) => l === "CAP LS 302").length, 1, "no reconnect");
    await stop(r);
  });
});

describe("IrcClient protocol details (moved from bot.test.ts, now on the fake clock)", () => {
  it("splits incoming lines on a bare CR too, answers PING at once, and walks the alternate nicks", async () => {
    const script = (m: IrcMessage, t: ScriptTools) => {
      if (m.command === "CAP" && m.params[0] === "LS") {
        t.send(":srv CAP * LS * :away-notify");
        t.send(":srv CAP * LS :multi-prefix");
      } else if (m.command === "CAP" && m.params[0] === "REQ") t.send(`:srv CAP * ACK :${m.params[1]}`);
      else if (m.command === "NICK" && (m.params[0] === "pybot" || m.params[0] === "pybot_")) {
        t.send(`:srv 433 * ${m.params[0]} :Nickname is already in use`);
      } else if (m.command === "NICK") t.send(`:srv 001 ${m.params[0]} :Welcome ${m.params[0]}!~wasipy@10.0.0.1`);
      else if (m.command === "JOIN") {
        // one write with a bare CR between two commands, then a PING
        t.send(`:pybot__!~wasipy@cloak/bot JOIN ${m.params[0]}\r:alice!~a@h PRIVMSG ${m.params[0]} :!py 1`);
        t.send("PING :tok123");
      }
    };
    const r = await rig({}, script);
    await r.clock.tick(5000);
    const sent = r.net.sent.map((s) => s.line);
    assert.ok(sent.includes("PONG tok123"));
    assert.ok(sent.some((l) => l.startsWith("PRIVMSG #py :alice: ran 1")), sent.join("\n"));
    assert.equal(r.net.connections, 1);
    assert.deepEqual(sent.filter((l) => l.startsWith("NICK")), ["NICK pybot", "NICK pybot_", "NICK pybot__"]);
    assert.ok(sent.includes("CAP REQ multi-prefix"), "requested a cap from the second LS line");
    const c = r.parts.client;
    assert.equal(c.nick, "pybot__");
    assert.equal(c.selfPrefix, "pybot__!~wasipy@cloak/bot"); // learned from the JOIN echo, after 001
    assert.equal(
      c.maxTextBytes("PRIVMSG", "#py"),
      512 - 2 - ":pybot__!~wasipy@cloak/bot ".length - "PRIVMSG #py :".length,
    );
    // the last line of defence: unsafe text is refused, over-long text cut to the budget
    for (const bad of ["a\r\nQUIT :x", "a\rb", "a\nb", "a\0b", "\x01ACTION x\x01"]) {
      assert.throws(() => c.say("#py", bad), IrcSerialiseError);
    }
    c.say("#py", "é".repeat(400));
    await r.clock.tick(10_000);
    const long = r.net.sent.map((s) => s.msg).find((m) => m.command === "PRIVMSG" && m.params[1]!.startsWith("éé"));
    const budget = c.maxTextBytes("PRIVMSG", "#py");
    assert.equal(new TextEncoder().encode(long!.params[1]!).length, budget - (budget % 2)); // whole characters only
    await stop(r);
  });

  it("asks WHOIS for its own prefix when the welcome does not show it", async () => {
    const script = (m: IrcMessage, t: ScriptTools) => {
      if (m.command === "CAP" && m.params[0] === "LS") t.send(":srv CAP * LS :");
      else if (m.command === "CAP" && m.params[0] === "END") t.send(":srv 001 pybot :Welcome to the test network");
      else if (m.command === "WHOIS") {
        t.send(`:srv 311 pybot ${m.params[0]} ~wasipy some.very.long.cloaked.host.example * :real name`);
      }
    };
    const r = await rig({ channels: [] }, script);
    assert.equal(r.parts.client.registered, true);
    assert.equal(r.parts.client.selfPrefix, "pybot!~wasipy@some.very.long.cloaked.host.example");
    assert.ok(r.net.sent.some((s) => s.line === "WHOIS pybot"));
    await stop(r);
  });
});
