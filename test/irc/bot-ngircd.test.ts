/**
 * The IRC bot end to end: a real ngIRCd, the real sandbox and formatter, test users on the server
 * (round trip, injection, line lengths, load, a fuel bomb, nick collisions, reconnects, TLS, SASL
 * refusal, the server password). Waits are for events (test/irc/markers.ts), never fixed sleeps.
 * The bot's unit tests with a fake connection are in bot.test.ts.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Evaluator, Formatter } from "../../src/irc/bot.ts";
import { startBot } from "../../src/irc/start.ts";
import { Sandbox } from "../../src/sandbox/pool.ts";
import { formatIrc } from "../../src/format/messages.ts";
import { startNgircd, TestIrcUser } from "../helpers/ngircd.ts";
import type { NgircdServer } from "../helpers/ngircd.ts";
import { botHasRead, BotTap, CountingTimers, settled, waitUntil } from "./markers.ts";
import { testIrcConfig } from "../helpers/irc-config.ts";

// ---------- end to end: a real ngIRCd ----------

interface Engine {
  evaluate: Evaluator;
  format: Formatter;
  close(): Promise<void>;
}

let engineP: Promise<Engine> | undefined;
/** One evaluator for all e2e tests (the worker pool is costly to start). */
function engine(): Promise<Engine> {
  engineP ??= makeEngine();
  return engineP;
}

type BotLog = string[];

function testConfig(port: number, over: Record<string, unknown> = {}) {
  return testIrcConfig(`127.0.0.1:${port}`, {
    workers: 2,
    reconnectMinMs: 200,
    reconnectMaxMs: 1000,
    timeoutMs: 60_000, // the machine may be busy; the fuel bomb test sets its own
    ...over,
  });
}

/** Bots and users a test started, stopped after it whatever happened (so a failure does not cascade). */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}

async function launch(port: number, over: Record<string, unknown> = {}) {
  const e = await engine();
  const log: BotLog = [];
  const [timers, tap] = [new CountingTimers(), new BotTap()];
  const fx = { timers, connect: tap.connect };
  const parts = startBot(testConfig(port, over), e.evaluate, e.format, (lvl, t) => log.push(`${lvl} ${t}`), fx);
  cleanups.push(() => parts.stop());
  return { ...parts, log, timers, tap };
}

async function user(port: number, nick: string, channels: string[] = ["#py"]): Promise<TestIrcUser> {
  const u = await TestIrcUser.connect(port, nick, channels);
  cleanups.push(() => u.quit());
  return u;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the bot is in `chan` as seen by `observer` (its JOIN, or the NAMES list on joining). */
async function botJoined(observer: TestIrcUser, nick = "pybot", from = 0, chan = "#py"): Promise<void> {
  const joined = new RegExp(`^:${nick}!\\S+ JOIN :?${chan}$`, "i");
  const listed = new RegExp(` 353 \\S+ [=*@] ${chan} :(.* )?[~&@%+]?${nick}( |$)`, "i");
  await observer.waitFor((l) => joined.test(l) || listed.test(l), 10_000, from);
}

describe("bot against a real ngIRCd", () => {
  let server: NgircdServer;
  before(async () => {
    server = await startNgircd();
  });
  afterEach(cleanUp);
  after(async () => {
    await server?.close();
    if (engineP) await (await engineP).close();
  });

  it("round trip: !py 1+1 → 'nick: 2', multi-line output, verbose, usage", async () => {
    const alice = await user(server.port, "alice");
    const b = await launch(server.port, { evalsPerWindow: 20 });
    try {
      await botJoined(alice);
      let mark = alice.lines.length;
      alice.say("#py", "!py 1+1");
      assert.equal(
        await alice.waitFor((l) => / PRIVMSG #py :alice: /.test(l), 20_000, mark),
        `:pybot!~wasipy@127.0.0.1 PRIVMSG #py :alice: 2`,
      );

      mark = alice.lines.length;
      alice.say("#py", "!py for i in range(3): print('line', i)");
      assert.match(
        await alice.waitFor((l) => / PRIVMSG #py :alice: /.test(l), 10_000, mark),
        / PRIVMSG #py :alice: line 0 ⏎ line 1 ⏎ line 2$/,
      );

      mark = alice.lines.length;
      alice.say("#py", String.raw`!py print("\n".join(str(i) * 60 for i in range(40)))`);
      await alice.waitFor((l) => /\(output cut, [\d,]+ more bytes: !more\)$/.test(l), 15_000, mark);
      const long = alice.messagesFrom("pybot", mark).map((m) => m.text);
      assert.equal(long.length, 3, long.join("\n")); // maxLines
      assert.ok(long.every((t) => t.startsWith("alice: ")));
      assert.match(long[0], /^alice: 0{60} ⏎ 1{60} ⏎ /);

      mark = alice.lines.length;
      alice.say("#py", "!py:v 6*7");
      assert.match(
        await alice.waitFor((l) => / PRIVMSG #py :alice: /.test(l), 10_000, mark),
        /:alice: Used [\d,]+ fuel units \(<?[\d.]+%\) in \d+ ms ⏎ 42$/,
      );

      mark = alice.lines.length;
      alice.say("#py", "!py");
      assert.match(
        await alice.waitFor((l) => / PRIVMSG #py :/.test(l), 10_000, mark),
        /alice: usage: !py <python code>/,
      );

      mark = alice.lines.length;
      alice.say("pybot", "2**10"); // private query, answered in private
      assert.match(await alice.waitFor((l) => / PRIVMSG alice :/.test(l), 10_000, mark), /PRIVMSG alice :1024$/);

      mark = alice.lines.length;
      alice.raw("NOTICE #py :!py 1+1"); // never answered
      alice.say("#py", "pybot: 3+4");
      await alice.waitFor((l) => / PRIVMSG #py :alice: 7$/.test(l), 10_000, mark);
      assert.equal(alice.messagesFrom("pybot", mark).length, 1);
      assert.ok(b.log.some((l) => /^info eval alice!~alice@127\.0\.0\.\d+ in #py: outcome=ok fuel=\d+ ms=\d+/.test(l)));
    } finally {
      await b.stop();
      await alice.quit();
    }
  });

  it("injection attempts arrive as one harmless PRIVMSG and the bot stays", async () => {
    const alice = await user(server.port, "alice");
    const b = await launch(server.port);
    try {
      await botJoined(alice);
      for (
        const code of [
          String.raw`print("x\r\nQUIT :bye")`,
          String.raw`print("\x01ACTION hi\x01")`,
          String.raw`print("a\rPRIVMSG #py :pwned\n\0b")`,
        ]
      ) {
        const mark = alice.lines.length;
        alice.say("#py", `!py ${code}`);
        await alice.waitFor((l) => /^:pybot!/.test(l), 20_000, mark);
        await settled(b, alice); // anything else the bot might have sent
        const fromBot = alice.lines.slice(mark).filter((l) => l.startsWith(":pybot!"));
        assert.equal(fromBot.length, 1, fromBot.join("\n"));
        assert.match(fromBot[0], /^:pybot!\S+ PRIVMSG #py :alice: /);
        assert.ok(!fromBot[0].includes("\x01"), "no CTCP");
        assert.ok(
          !alice.lines.slice(mark).some((l) => /^:pybot!\S+ (QUIT|PART)/.test(l) || / PRIVMSG #py :pwned/.test(l)),
        );
      }
      const mark = alice.lines.length;
      alice.say("#py", "!py 1+1");
      await alice.waitFor((l) => l.endsWith("PRIVMSG #py :alice: 2"), 10_000, mark);
      assert.ok(b.client.registered);
    } finally {
      await b.stop();
      await alice.quit();
    }
  });

  it("every reply line fits 512 bytes as relayed, even for a long nick and wide characters", async () => {
    const nick = "a_rather_long_nick_for_irc_xy";
    const u = await user(server.port, nick);
    const b = await launch(server.port, { maxLines: 5 });
    try {
      await botJoined(u);
      const mark = u.lines.length;
      u.say("#py", `!py print("é🐍" * 400); print("x" * 2000)`);
      await u.waitFor((l) => l.startsWith(":pybot!"), 20_000, mark);
      await settled(b, u); // every line of the reply
      const fromBot = u.lines.slice(mark).filter((l) => l.startsWith(":pybot!"));
      assert.ok(fromBot.length >= 1);
      for (const l of fromBot) {
        assert.ok(new TextEncoder().encode(l + "\r\n").length <= 512, `${new TextEncoder().encode(l).length}: ${l}`);
      }
      // used most of the budget (the budget is not wastefully small)
      assert.ok(new TextEncoder().encode(fromBot[0] + "\r\n").length > 450);
      assert.ok(b.client.registered);
    } finally {
      await b.stop();
      await u.quit();
    }
  });

  it("30 requests from 3 users in 10 rounds: answered or refused per the limits, no disconnection", async () => {
    const users = await Promise.all(["u1", "u2", "u3"].map((n) => user(server.port, n)));
    const b = await launch(server.port, { evalsPerWindow: 5, rateWindowMs: 60_000 });
    try {
      await botJoined(users[0]);
      const marks = users.map((u) => u.lines.length);
      for (let i = 0; i < 10; i++) {
        users.forEach((u, k) => u.say("#py", `!py ${k * 100 + i}`));
        // the round is in: each user's lines relayed, the bot has read them and run what it took
        for (const u of users) await botHasRead(b.client, u);
        await waitUntil(() => b.bot.pending === 0, `round ${i} evaluated`);
      }
      // 5 answers each (15 lines) + one notice each, paced by the flood control
      await until(
        () => users[0].messagesFrom("pybot", marks[0]).filter((m) => m.command === "PRIVMSG").length >= 15,
        40_000,
        "15 answers",
      );
      await settled(b, users[0], users); // anything more the bot might have sent
      const seen = users[0].messagesFrom("pybot", marks[0]).filter((m) => m.command === "PRIVMSG").map((m) => m.text);
      assert.equal(seen.length, 15, seen.join("\n"));
      users.forEach((u, k) => {
        const answers = seen.filter((t) => t.startsWith(`${u.nick}: `)).map((t) => Number(t.split(": ")[1]));
        assert.deepEqual(answers.sort((x, y) => x - y), [0, 1, 2, 3, 4].map((i) => k * 100 + i));
        const notices = u.messagesFrom("pybot", marks[k]).filter((m) => m.command === "NOTICE");
        assert.equal(notices.length, 1, `${u.nick} notices`);
        assert.match(notices[0].text, /slow down/);
      });
      assert.ok(b.client.registered, "still connected");
      assert.ok(!b.log.some((l) => /disconnected/.test(l)), b.log.join("\n"));
      const mark = users[0].lines.length;
      const u4 = await user(server.port, "u4");
      u4.say("#py", "!py 'still here'");
      await users[0].waitFor((l) => l.endsWith("u4: 'still here'"), 15_000, mark);
      await u4.quit();
    } finally {
      await b.stop();
      await Promise.all(users.map((u) => u.quit()));
    }
  });

  it("a fuel bomb from one user does not delay another user's !py 1", async () => {
    const [eve, bob] = await Promise.all([user(server.port, "eve"), user(server.port, "bob")]);
    const b = await launch(server.port, { fuel: 1e11, timeoutMs: 4000, evalsPerWindow: 20 });
    const roundTrip = async () => {
      const mark = bob.lines.length;
      const t0 = Date.now();
      bob.say("#py", "!py 1");
      await bob.waitFor((l) => / PRIVMSG #py :bob: 1$/.test(l), 15_000, mark);
      return Date.now() - t0;
    };
    try {
      await botJoined(bob);
      await roundTrip(); // warm-up
      const idle = Math.min(await roundTrip(), await roundTrip());
      const mark = bob.lines.length;
      eve.say("#py", "!py while True: pass");
      // the bot has taken the bomb (no PING from the bot here: it would cost a flood-control token and delay bob's reply)
      await waitUntil(() => b.bot.pending === 1, "the bot to take the bomb");
      const busy = await roundTrip();
      // Bob's answer came while the bomb still ran (its 4 s are not over): not queued behind it. No bound on
      // the time itself, which a loaded machine would move; the times are in the message.
      assert.ok(
        !bob.lines.slice(mark).some((l) => / PRIVMSG #py :eve: /.test(l)),
        `the bomb is still running (!py 1 took ${busy} ms during it, ${idle} ms idle)`,
      );
      // the bomb ends at its time limit and says so
      assert.match(await bob.waitFor((l) => / PRIVMSG #py :eve: /.test(l), 20_000, mark), /eve: Timed out after 4 s/);
    } finally {
      await b.stop();
      await Promise.all([eve.quit(), bob.quit()]);
    }
  });

  it("takes an alternate nick on collision and regains the main one later", async () => {
    const squatter = await user(server.port, "pybot");
    const observer = await user(server.port, "watcher");
    const b = await launch(server.port);
    try {
      await botJoined(observer, "pybot_");
      assert.equal(b.client.nick, "pybot_");
      const mark = observer.lines.length;
      await squatter.quit();
      await observer.waitFor((l) => /^:pybot_!\S+ NICK :?pybot$/.test(l), 10_000, mark);
      await until(() => b.client.nick === "pybot", 2000, "nick regained");
      observer.say("#py", "!py 1+1");
      await observer.waitFor((l) => /^:pybot!\S+ PRIVMSG #py :watcher: 2$/.test(l), 10_000, mark);
    } finally {
      await b.stop();
      await observer.quit();
    }
  });

  it("reconnects after the server restarts, and QUITs cleanly on stop", async () => {
    const b = await launch(server.port);
    try {
      await until(() => b.client.registered, 10_000, "registration");
      await until(() => b.client.channels.has("#py"), 10_000, "joined");
      await server.stop();
      await until(() => !b.client.registered, 5000, "disconnect noticed");
      await server.start();
      const alice = await user(server.port, "alice");
      try {
        await botJoined(alice);
        let mark = alice.lines.length;
        alice.say("#py", "!py 1+1");
        await alice.waitFor((l) => l.endsWith("PRIVMSG #py :alice: 2"), 15_000, mark);
        mark = alice.lines.length;
        await b.stop();
        assert.match(
          await alice.waitFor((l) => l.startsWith(":pybot!"), 5000, mark),
          /^:pybot!\S+ QUIT :"?wasi-py signing off"?$/,
        );
      } finally {
        await alice.quit();
      }
      assert.ok(b.log.some((l) => /reconnecting in \d+ ms/.test(l)));
    } finally {
      await b.stop();
    }
  });

  it("TLS: connects with the test CA (--tls-ca), refuses an untrusted certificate by default", async () => {
    const caFile = `${server.dir}/ca.pem`;
    const alice = await user(server.port, "alice");
    const good = await launch(server.tlsPort, { tls: true, tlsCa: caFile, server: `127.0.0.1:${server.tlsPort}` });
    try {
      await botJoined(alice);
      const mark = alice.lines.length;
      alice.say("#py", "!py 1+1");
      await alice.waitFor((l) => l.endsWith("PRIVMSG #py :alice: 2"), 15_000, mark);
    } finally {
      await good.stop();
    }
    const bad = await launch(server.tlsPort, { tls: true, nick: "badbot", server: `127.0.0.1:${server.tlsPort}` });
    try {
      await until(() => bad.log.some((l) => /TLS certificate was not accepted/.test(l)), 10_000, "certificate refusal");
      assert.ok(
        bad.log.some((l) => /^error .*(certificate|self.signed|verify).*--tls-ca FILE.*attempt 1 of/i.test(l)),
        bad.log.join("\n"),
      );
      assert.equal(bad.client.registered, false);
    } finally {
      await bad.stop();
      await alice.quit();
    }
  });

  it("ngIRCd offers no SASL: a bot configured for SASL stops instead of running unauthenticated", async () => {
    const b = await launch(server.port, {
      saslMechanism: "PLAIN",
      saslAccount: "acc",
      saslPassword: "pw",
      nick: "saslbot",
    });
    try {
      await until(
        () => b.log.some((l) => /SASL was configured but the server does not offer it/.test(l)),
        10_000,
        "SASL refusal",
      );
      await until(() => !b.client.connected, 5000, "disconnect");
      // a reconnect loop would keep a timer scheduled: wait for the client to have none left
      await waitUntil(() => b.timers.pending === 0, "no timer left (a reconnect is scheduled)");
      assert.equal(b.client.connected, false, "no reconnect loop");
      assert.equal(b.client.registered, false);
    } finally {
      await b.stop();
    }
  });
});

describe("server password against a real ngIRCd", () => {
  let server: NgircdServer;
  before(async () => {
    server = await startNgircd({ password: "letmein" });
  });
  afterEach(cleanUp);
  after(async () => {
    await server?.close();
  });

  it("registers with the right PASS; a wrong one is retried with backoff, with the hint, then given up", async () => {
    const good = await launch(server.port, { password: "letmein", channels: [] });
    await until(() => good.client.registered, 10_000, "registration with the password");
    const bad = await launch(server.port, { password: "wrong", nick: "badbot", channels: [], authFailureLimit: 3 });
    let fatal: Error | undefined;
    bad.client.on("fatal", (e) => (fatal = e));
    await until(() => fatal !== undefined, 20_000, "giving up");
    assert.equal(bad.log.filter((l) => /reconnecting in \d+ ms/.test(l)).length, 2, bad.log.join("\n"));
    assert.equal(bad.client.registered, false);
    assert.ok(bad.log.some((l) => /server closed the link: .*(password|denied)/i.test(l)), bad.log.join("\n"));
    assert.ok(
      bad.log.some((l) => /^error the server refused the password .*WASI_PY_IRC_PASSWORD.*giving up after 3/.test(l)),
    );
    assert.ok(good.log.some((l) => /server password is sent without TLS/.test(l)));
  });
});

// ---------- SASL against a scripted server (ngIRCd has no SASL) ----------

/** A one-connection fake server that speaks just enough IRCv3 for SASL, scripted per test. */

/** The real sandbox (two workers) and the real IRC formatter. */
async function makeEngine(): Promise<Engine> {
  const sb = await Sandbox.create({ workers: 2 });
  // start both workers before any test measures anything
  await Promise.all([sb.run("pass", { timeoutMs: 120_000 }), sb.run("pass", { timeoutMs: 120_000 })]);
  return { evaluate: (code, l) => sb.run(code, l), format: formatIrc, close: () => sb.close() };
}
