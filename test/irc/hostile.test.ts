/**
 * Hostile input to the IRC bot, against a real ngIRCd with the real sandbox and formatter.
 * Control characters in the output and in the command itself, over-long commands, unicode at
 * the cut point, and a storm of hostile requests: every line the bot sends must be one harmless
 * PRIVMSG/NOTICE within 512 bytes (no NUL, no CTCP \x01, no bare CR, no other C0 control, whole
 * UTF-8 characters), the bot must stay connected, and the next `!py 6*7` must still answer 42.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Sandbox } from "../../src/sandbox/pool.ts";
import { formatIrc } from "../../src/format/messages.ts";
import { startBot } from "../../src/irc/start.ts";
import { startNgircd, TestIrcUser } from "../helpers/ngircd.ts";
import type { NgircdServer } from "../helpers/ngircd.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";
import { BotTap, settled, settledAfterLeaving, userRoundTrip } from "./markers.ts";
import { testIrcConfig } from "../helpers/irc-config.ts";

/** The bot's nick: a new one per test, so a bot still quitting from the last test cannot collide. */
let BOT = "hostbot";
let bots = 0;
const encoder = new TextEncoder();
/** C0 controls and DEL: nothing the bot sends may carry one (CR/LF end a line, \x01 is CTCP, \x02/\x03 format). */
const CONTROL = /[\u0000-\u001f\u007f]/;

describe("hostile input to the IRC bot (real ngIRCd)", () => {
  let server: NgircdServer;
  let sb: Sandbox;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    server = await startNgircd();
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 2, warm: true });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  after(async () => {
    await sb?.close();
    await server?.close();
  });

  function launch(over: Record<string, unknown> = {}) {
    const log: string[] = [];
    const tap = new BotTap();
    BOT = `hostbot${++bots}`;
    const cfg = testIrcConfig(`127.0.0.1:${server.port}`, {
      nick: BOT,
      workers: 2,
      reconnectMinMs: 200,
      reconnectMaxMs: 1000,
      timeoutMs: 30_000,
      evalsPerWindow: 50,
      ...over,
    });
    const parts = startBot(cfg, (code, l) => sb.run(code, l), formatIrc, (lvl, t) => {
      log.push(`${lvl} ${t}`);
      if (process.env["WASI_PY_HOSTILE_IRC_LOG"]) process.stderr.write(`[bot] ${lvl} ${t}\n`);
    }, { connect: tap.connect });
    cleanups.push(() => parts.stop());
    return { ...parts, log, tap };
  }

  async function user(nick: string): Promise<TestIrcUser> {
    const u = await TestIrcUser.connect(server.port, nick, ["#py"]);
    cleanups.push(() => u.quit());
    return u;
  }

  async function botJoined(observer: TestIrcUser): Promise<void> {
    await observer.waitFor(
      (l) =>
        new RegExp(`^:${BOT}!\\S+ JOIN :?#py$`, "i").test(l) ||
        new RegExp(` 353 \\S+ [=*@] #py :(.* )?[~&@%+]?${BOT}( |$)`, "i").test(l),
      15_000,
    );
  }

  /** Every line the bot sent after `from`, as `u` received it: one PRIVMSG/NOTICE each, harmless, within 512 bytes. */
  function assertHarmless(u: TestIrcUser, from: number, outputHadReplacement = false): string[] {
    const fromBot = u.lines.slice(from).filter((l) => l.startsWith(`:${BOT}!`));
    for (const l of fromBot) {
      assert.match(l, new RegExp(`^:${BOT}!\\S+ (PRIVMSG|NOTICE) \\S+ :`), l);
      assert.ok(!CONTROL.test(l), `control character in ${JSON.stringify(l)}`);
      assert.ok(encoder.encode(l + "\r\n").length <= 512, `${encoder.encode(l).length} bytes: ${l}`);
      if (!outputHadReplacement) assert.ok(!l.includes("\ufffd"), `a split character in ${JSON.stringify(l)}`);
    }
    return fromBot;
  }

  /** Sends `!py 6*7` and expects `nick: 42`. */
  async function stillAnswers(u: TestIrcUser): Promise<void> {
    const mark = u.lines.length;
    u.say("#py", "!py 6*7");
    await u.waitFor((l) => l.endsWith(`PRIVMSG #py :${u.nick}: 42`), 30_000, mark);
  }

  /** The bot a test launched, as the markers need it. */
  type Bot = Parameters<typeof settled>[0];

  /** Sends a raw line and waits for the bot's first reply line and every further line it sends for it. */
  async function ask(b: Bot, u: TestIrcUser, raw: string, replaced = false): Promise<string[]> {
    const mark = u.lines.length;
    u.raw(raw);
    await u.waitFor((l) => l.startsWith(`:${BOT}!`), 30_000, mark);
    await settled(b, u);
    return assertHarmless(u, mark, replaced);
  }

  it("control characters in the output: CR/LF/NUL/CTCP/formatting/ESC arrive escaped, one message", async () => {
    const alice = await user("alice");
    const b = await launch({ maxLines: 3 });
    await botJoined(alice);
    const payloads = [
      String.raw`print("x\r\nQUIT :bye\r\nPRIVMSG #py :pwned")`,
      String.raw`print("\x01ACTION dances\x01")`,
      String.raw`print("\x01VERSION\x01", end="")`,
      String.raw`print("\0\x02bold\x02\x03" + "4,5red\x0f\x16\x1d\x1f\x1b[2J\x7f")`,
      String.raw`import sys; n = sys.stdout.buffer.write(b"\r\n\x00\x01\xfe")`,
      String.raw`import sys; print("err\r\nNOTICE #py :x", file=sys.stderr); sys.exit(3)`,
    ];
    for (const code of payloads) {
      const mark = alice.lines.length;
      const lines = await ask(b, alice, `PRIVMSG #py :!py ${code}`, code.includes("\\xfe"));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, new RegExp(`^:${BOT}!\\S+ PRIVMSG #py :alice: `));
      assert.ok(
        !alice.lines.slice(mark).some((l) =>
          /^:\S+ PRIVMSG #py :pwned/.test(l) || new RegExp(`^:${BOT}!\\S+ (QUIT|PART)`).test(l)
        ),
      );
    }
    assert.ok(b.client.registered);
    await stillAnswers(alice);
  });

  it("control characters in the command itself", async () => {
    const bob = await user("bob");
    const b = await launch();
    await botJoined(bob);
    // A raw \x01 inside the code: it is evaluated, and the reply shows it escaped.
    const ctcp = await ask(b, bob, "PRIVMSG #py :!py print('a\x01b')");
    assert.equal(ctcp.length, 1);
    assert.match(ctcp[0]!, /bob: a␁b$/);
    // Formatting codes, a tab and ESC inside the code.
    const fmt = await ask(b, bob, "PRIVMSG #py :!py\tprint('\x02x\x0f', '\x1b[1m')");
    assert.equal(fmt.length, 1);
    // A NUL or a bare CR inside the line, from a sacrificial user (the server may drop it):
    // whatever reaches the bot, what it sends stays harmless and it stays.
    for (const raw of ["PRIVMSG #py :!py print(1)\0print(2)", "PRIVMSG #py :!py 1+1\rQUIT :bye"]) {
      const mallory = await user(`mallory${raw.length}`);
      const mark = bob.lines.length;
      mallory.raw(raw);
      await settledAfterLeaving(b, bob, mallory, mark); // whatever the bot made of it has reached bob
      assertHarmless(bob, mark);
      assert.ok(!bob.lines.slice(mark).some((l) => new RegExp(`^:${BOT}!\\S+ QUIT`).test(l)));
    }
    // A CTCP request addressed to the bot is never evaluated; VERSION gets the one CTCP reply
    // the bot makes (a NOTICE of its own text), ACTION nothing.
    const mark = bob.lines.length;
    bob.raw(`PRIVMSG ${BOT} :\x01VERSION\x01`);
    bob.raw(`PRIVMSG #py :\x01ACTION !py 1\x01`);
    await settled(b, bob); // the bot's answers to both, if any, have reached bob
    const fromBot = bob.lines.slice(mark).filter((l) => l.startsWith(`:${BOT}!`));
    assert.equal(fromBot.length, 1, fromBot.join("\n"));
    assert.match(fromBot[0]!, new RegExp(`^:${BOT}!\\S+ NOTICE bob :\x01VERSION wasi-py[^\x00-\x1f]*\x01$`));
    assert.ok(b.client.registered);
    await stillAnswers(bob);
  });

  it("over-long commands: refused or cut by the server, answered harmlessly", async () => {
    const carol = await user("carol");
    const b = await launch();
    await botJoined(carol);
    // Longer than the 512-byte line IRC allows, from a sacrificial user (the server may drop it).
    const mallory = await user("mallory");
    let mark = carol.lines.length;
    mallory.raw(`PRIVMSG #py :!py print(len('${"x".repeat(1000)}'))`);
    await settledAfterLeaving(b, carol, mallory, mark); // whatever the bot made of it has reached carol
    const replies = assertHarmless(carol, mark);
    assert.ok(replies.length <= 1, replies.join("\n"));
    // Long but within the line: multi-byte characters in the command.
    mark = carol.lines.length;
    const wide = await ask(b, carol, `PRIVMSG #py :!py len('${"é".repeat(200)}')`);
    assert.match(wide[0]!, /carol: 200$/);
    assert.ok(b.client.registered);
    await stillAnswers(carol);
  });

  it("unicode edge cases at the cut point: combining marks, RTL, emoji, bidi overrides", async () => {
    const dave = await user("dave");
    const b = await launch({ maxLines: 4 });
    await botJoined(dave);
    const payloads = [
      String.raw`print("e\u0301" * 400)`,
      String.raw`print("Z" + "\u0351\u0352\u0353" * 300)`,
      String.raw`print("\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466" * 100)`,
      String.raw`print("\u202eevil.exe" + "\u05e9\u05dc\u05d5\u05dd " * 100)`,
      String.raw`print("\u2028\u2029\u2066\u2069\ufeff\x85" * 50)`,
      String.raw`print("x" * 397 + "\U0001F40D" * 50)`,
      String.raw`print("\ud800")`,
    ];
    for (const code of payloads) {
      const lines = await ask(b, dave, `PRIVMSG #py :!py ${code}`);
      assert.ok(lines.length >= 1 && lines.length <= 4, lines.join("\n"));
      for (const l of lines) {
        assert.ok(
          !/[\u202a-\u202e\u2066-\u2069\u2028\u2029\u0085]/.test(l),
          `raw bidi/line separator in ${JSON.stringify(l)}`,
        );
        assert.ok(!/(^|[ :])\u0301/.test(l.slice(l.indexOf(" :") + 2)), "a combining mark without its base");
      }
    }
    assert.ok(b.client.registered);
    await stillAnswers(dave);
  });

  it("a storm of hostile requests from four users: bounded answers, no disconnection, then business as usual", async () => {
    const users = await Promise.all(["s1", "s2", "s3", "s4"].map((n) => user(n)));
    const b = await launch({
      evalsPerWindow: 4,
      rateWindowMs: 60_000,
      fuel: 200_000_000,
      timeoutMs: 3000,
      queueSize: 8,
    });
    await botJoined(users[0]!);
    const bombs = [
      "while True: pass",
      "print('x\\r\\n' * 10**6)",
      "[0] * 10**9",
      "import time; time.sleep(100)",
      "print('\\x01' * 1000)",
      "import os; os.abort()",
      "9**9**9",
      String.raw`print("\U0001F40D" * 10**5)`,
    ];
    const mark = users[0]!.lines.length;
    for (let i = 0; i < 10; i++) {
      users.forEach((u, k) => u.say("#py", `!py ${bombs[(i + k) % bombs.length]}`));
      for (const u of users) await userRoundTrip(u); // the round is in before the next
    }
    // Let the storm play out (replies are paced by the flood control): every reply has reached users[0].
    await settled(b, users[0]!, users);
    assert.ok(b.client.registered, "still connected");
    assert.ok(!b.log.some((l) => /disconnected/.test(l)), b.log.join("\n"));
    assertHarmless(users[0]!, mark, true);
    for (const u of users) {
      const replies = u.messagesFrom(BOT, mark).filter((m) =>
        m.command === "PRIVMSG" && m.text.startsWith(`${u.nick}: `)
      );
      assert.ok(replies.length <= 4 * 3, `${u.nick}: ${replies.length} reply lines for at most 4 evaluations`);
      // Refusals are notices: at most one "slow down" per user (rate limit), "busy" when the queue is full.
      const notices = u.messagesFrom(BOT, mark).filter((m) => m.command === "NOTICE");
      assert.ok(
        notices.filter((n) => /slow down/i.test(n.text)).length <= 1,
        `${u.nick}: ${notices.map((n) => n.text).join(" | ")}`,
      );
      assert.ok(notices.length <= 10, `${u.nick}: ${notices.length} notices for 10 requests`);
    }
    // A newcomer is served promptly once the storm is over.
    const fresh = await user("newcomer");
    await stillAnswers(fresh);
  });
});
