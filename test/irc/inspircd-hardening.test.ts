/**
 * Issue 21's bot items against a real InspIRCd 3, the bot on its DEFAULT connect class (about
 * one command a second with fakelag): a 60-CTCP VERSION flood from a client that then quits
 * does not delay another user's `!py 6*7`; a server nick length of 5 with `--nick wasipybot`
 * registers as `wasip` after a few paced attempts; an overloaded requester gets one "busy" and no
 * evaluation whose reply would be dropped; `!more` gives the next part of a cut reply. The
 * evaluator is a stand-in (the sandbox is tested elsewhere): what is under test is the IRC side.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startBot } from "../../src/irc/start.ts";
import type { Evaluator } from "../../src/irc/bot.ts";
import { formatIrcReply } from "../../src/format/messages.ts";
import { startInspircd } from "../helpers/inspircd.ts";
import type { InspircdServer } from "../helpers/inspircd.ts";
import { TestIrcUser } from "../helpers/ngircd.ts";
import { result } from "../helpers/run-result.ts";
import { testIrcConfig } from "../helpers/irc-config.ts";

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}

/** `6*7` → 42; `print('x' * N)` → N x's; anything else → "ran CODE"; each after 50 ms. */
const standIn: Evaluator = (code) => {
  const m = /^print\('(.)' \* (\d+)\)$/.exec(code);
  const stdout = code === "6*7" ? "42\n" : m ? m[1]!.repeat(Number(m[2])) + "\n" : `ran ${code}\n`;
  const r = result({ stdout, wallMs: 50 });
  return new Promise((resolve) => setTimeout(() => resolve(r), 50));
};

function launch(port: number, over: Record<string, unknown> = {}) {
  const cfg = testIrcConfig(`127.0.0.1:${port}`, {
    channels: ["#h"],
    workers: 2,
    reconnectMinMs: 500,
    reconnectMaxMs: 4000,
    ...over,
  });
  const log: string[] = [];
  const evals: string[] = [];
  const t0 = Date.now();
  const parts = startBot(
    cfg,
    (code, l) => (evals.push(code), standIn(code, l)),
    formatIrcReply,
    (lvl, t) => log.push(`${Date.now() - t0} ${lvl} ${t}`),
  );
  cleanups.push(() => parts.stop());
  return { ...parts, log, evals };
}

async function user(port: number, nick: string, channels: string[]): Promise<TestIrcUser> {
  const u = await TestIrcUser.connect(port, nick, channels);
  cleanups.push(() => u.quit());
  return u;
}

async function until(cond: () => boolean, timeoutMs: number, what: string, log: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log.slice(-15).join("\n")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("issue 21 on InspIRCd (default connect class)", () => {
  let server: InspircdServer;
  before(async () => {
    server = await startInspircd();
  });
  afterEach(cleanUp);
  after(async () => {
    await server?.close();
  });

  it("a 60-CTCP VERSION flood then a quit does not delay another user's !py 6*7", async () => {
    const b = launch(server.port);
    await until(() => b.client.channels.has("#h"), 20_000, "the join", b.log);
    const spammer = await user(server.userPort, "spammer", ["#h"]);
    const alice = await user(server.userPort, "alice", ["#h"]);
    for (let i = 0; i < 60; i++) spammer.raw("PRIVMSG pybot :\x01VERSION\x01");
    spammer.raw("PRIVMSG #h :\x01VERSION\x01"); // to the channel: never answered
    await spammer.waitFor((l) => /NOTICE spammer :\x01VERSION/.test(l), 10_000);
    await spammer.quit();
    const mark = alice.lines.length;
    const asked = Date.now();
    alice.say("#h", "!py 6*7");
    await alice.waitFor((l) => l.endsWith("PRIVMSG #h :alice: 42"), 30_000, mark);
    const delayMs = Date.now() - asked;
    assert.ok(delayMs < 10_000, `alice waited ${delayMs} ms`);
    const versions = spammer.lines.filter((l) => /NOTICE spammer :\x01VERSION/.test(l)).length;
    assert.ok(versions <= 5, `${versions} VERSION answers`);
    assert.ok(!alice.lines.some((l) => /NOTICE #h/.test(l)), "no answer to the channel CTCP");
    assert.ok(!b.log.some((l) => / warn disconnected/.test(l)), b.log.join("\n"));
  });

  it("an overloaded requester gets one 'busy' and no evaluation whose reply would be dropped", async () => {
    const b = launch(server.port, { evalsPerWindow: 100, maxEvalsPerWindow: 100, maxQueuedPerRequester: 6 });
    await until(() => b.client.channels.has("#h"), 20_000, "the join", b.log);
    const u = await user(server.userPort, "heavy", ["#h"]);
    for (let i = 0; i < 10; i++) u.say("#h", `!py print('${i}' * 1200)`);
    await u.waitFor((l) => /NOTICE heavy :Busy right now/.test(l), 20_000);
    await until(() => b.bot.pending === 0 && b.client.queuedLines === 0, 60_000, "the replies", b.log);
    // The ten arrive together: two replies fill the backlog of six lines, the rest are refused unevaluated.
    assert.ok(b.evals.length >= 2 && b.evals.length < 10, b.evals.join(", "));
    assert.equal(b.bot.stats.droppedAfterEval, 0);
    const notices = u.lines.filter((l) => /NOTICE heavy :Busy right now/.test(l)).length;
    assert.equal(notices, b.log.filter((l) => /busy: refused heavy/.test(l)).length, "one log line per lock-out");
    assert.ok(notices >= 1 && notices <= 10 - b.evals.length, b.log.join("\n"));
    // The server relays the bot's lines at its own pace (fakelag): wait for them to arrive.
    const replies = () => u.messagesFrom("pybot").filter((m) => m.target === "#h").length;
    await until(() => replies() >= 3 * b.evals.length, 30_000, "the replies to arrive", b.log);
    assert.equal(replies(), 3 * b.evals.length, "every evaluated reply arrives whole");
  });

  it("!more gives the next part of a cut reply, where it is asked", async () => {
    const b = launch(server.port);
    await until(() => b.client.channels.has("#h"), 20_000, "the join", b.log);
    const u = await user(server.userPort, "reader", ["#h"]);
    u.say("#h", "!py print('a' * 3000)");
    await u.waitFor((l) => /more bytes: !more\)$/.test(l), 30_000);
    const mark = u.lines.length;
    u.say("#h", "!more");
    const next = await u.waitFor((l) => / PRIVMSG #h :reader: a+/.test(l), 30_000, mark);
    assert.match(next, /reader: a{100,}/);
  });
});

describe("issue 21 on InspIRCd with a nick length of 5", () => {
  let server: InspircdServer;
  before(async () => {
    server = await startInspircd({ maxNick: 5 });
  });
  afterEach(cleanUp);
  after(async () => {
    await server?.close();
  });

  it("--nick wasipybot registers as wasip after a few paced refusals", async () => {
    const b = launch(server.port, { nick: "wasipybot", channels: [] });
    await until(() => b.client.registered, 30_000, "registration", b.log);
    assert.equal(b.client.nick, "wasip");
    const refusals = b.log.filter((l) => /warn nick \S+ erroneous/.test(l)).length;
    assert.ok(refusals >= 1 && refusals <= 5, b.log.join("\n"));
  });
});
