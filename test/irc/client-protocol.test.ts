/**
 * The IRC client's failures (loud and bounded), SASL (with and without CAP) and protocol details, on
 * an in-memory server and a fake clock (moved from bot.test.ts and behaviour.test.ts). The bot's
 * hardening cases on the same harness are in client.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveIrcConfig } from "../../src/irc/config.ts";
import { startBot } from "../../src/irc/start.ts";
import { IrcAuthError, IrcSaslError } from "../../src/irc/client.ts";
import { formatIrcReply } from "../../src/format/messages.ts";
import { FakeClock } from "./fake-clock.ts";
import { fakeNet, welcoming } from "./fake-net.ts";
import type { ScriptTools } from "./fake-net.ts";
import { IrcSerialiseError } from "../../src/irc/message.ts";
import type { IrcMessage } from "../../src/irc/message.ts";
import { quickEval, rig, stop } from "./_client-harness.ts";
import type { Rig } from "./_client-harness.ts";

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
