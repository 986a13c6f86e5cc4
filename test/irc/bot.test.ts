/**
 * The IRC bot's unit tests: a fake connection and evaluator (answers, limits, rate limits, admins,
 * parallel evaluations, the queue, logs), and the client's pure helpers (backoff, SASL payloads).
 * The bot end to end against a real ngIRCd is in bot-ngircd.test.ts; the client on a fake clock,
 * SASL and protocol details in client.test.ts; the config, flags and entry point in config.test.ts,
 * args.test.ts, main.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IrcBot } from "../../src/irc/bot.ts";
import type { BotClient, BotOptions, EvalLimits, Evaluator, Formatter } from "../../src/irc/bot.ts";
import { IrcSerialiseError, parseLine } from "../../src/irc/message.ts";
import { authenticateChunks, backoffDelay } from "../../src/irc/client.ts";
import { cutToBytes } from "../../src/text/utf8.ts";
import type { RunResult } from "../../src/sandbox/result.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";
import { result as finished } from "../helpers/run-result.ts";

// ---------- fakes ----------

class FakeClient implements BotClient {
  nick = "PyBot";
  chanTypes = "#&";
  casemapping = "rfc1459";
  sent: { target: string; text: string; command: string }[] = [];
  maxTextBytes(command: string, target: string): number {
    return 512 - 2 - ":PyBot!~wasipy@host.example ".length - `${command} ${target} :`.length;
  }
  say(target: string, text: string, command = "PRIVMSG"): void {
    if (/[\r\n\0\x01]/.test(text)) throw new IrcSerialiseError("unsafe");
    this.sent.push({ target, text, command });
  }
}

/** A finished run printing `stdout`, 1,234 fuel units in 5 ms (test/helpers/run-result.ts's). */
function result(stdout: string, extra: Partial<RunResult> = {}): RunResult {
  return finished({ stdout, fuelUsed: 1234, wallMs: 5, ...extra });
}

const simpleFormat: Formatter = (r, o) => {
  const text = (r.stdout + r.stderr).trimEnd();
  const lines = text === "" ? [] : text.split("\n");
  if (o.verbose) lines.push(`[${r.outcome}; fuel ${r.fuelUsed}; ${r.wallMs} ms]`);
  return lines.slice(0, o.maxLines).map((l) => cutToBytes(l, o.maxBytes));
};

const limits: EvalLimits = { fuel: 1000, timeoutMs: 1000, memoryMiB: 64, maxOutputBytes: 4096 };
const adminLimits: EvalLimits = { fuel: 99_000, timeoutMs: 9000, memoryMiB: 256, maxOutputBytes: 65536 };

function botOptions(over: Partial<BotOptions> = {}): BotOptions {
  return {
    prefix: "!py",
    nickAddressing: true,
    privateBareCode: true,
    maxLines: 3,
    queueSize: 10,
    workers: 2,
    perUserConcurrency: 1,
    userLimits: limits,
    adminLimits,
    rateLimit: {
      evalsPerWindow: 5,
      windowMs: 60_000,
      adminEvalsPerWindow: 20,
      maxEvalsPerWindow: 50,
      admins: ["boss!*@*"],
      ignore: ["*!*@spam.example"],
    },
    ...over,
  };
}

function privmsg(from: string, target: string, text: string, tags = ""): ReturnType<typeof parseLine> & object {
  return parseLine(
    `${tags}:${from}!~${from.toLowerCase()}@${
      from === "spammer" ? "spam.example" : `${from.toLowerCase()}.home.example`
    } PRIVMSG ${target} :${text}`,
  )!;
}

interface Harness {
  client: FakeClient;
  bot: IrcBot;
  logs: string[];
  calls: { code: string; limits: EvalLimits }[];
  release: (code: string, r?: RunResult) => void;
}

/** A bot whose evaluations finish only when the test releases them (or at once with `auto`). */
function harness(over: Partial<BotOptions> = {}, auto = true, format: Formatter = simpleFormat): Harness {
  const client = new FakeClient();
  const logs: string[] = [];
  const calls: Harness["calls"] = [];
  const pending = new Map<string, (r: RunResult) => void>();
  const evaluate: Evaluator = (code, l) => {
    calls.push({ code, limits: l });
    if (code === "boom") return Promise.reject(new Error("worker died"));
    // As the sandbox does, the result carries the limits it ran under.
    if (auto) {
      return Promise.resolve(result(code === "1+1" ? "2\n" : `ran ${code}\n`, { limits: { ...DEFAULT_LIMITS, ...l } }));
    }
    return new Promise((r) => pending.set(code, r));
  };
  const bot = new IrcBot(client, evaluate, format, botOptions(over), {
    now: () => Date.now(),
    log: (lvl, t) => logs.push(`${lvl} ${t}`),
  });
  return { client, bot, logs, calls, release: (code, r = result(`done ${code}\n`)) => pending.get(code)!(r) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

// ---------- unit: the bot ----------

describe("IrcBot (fake connection)", () => {
  it("answers !py in the channel, prefixed with the requester's nick", async () => {
    const h = harness();
    h.bot.handle(privmsg("alice", "#py", "!py 1+1"));
    await h.bot.whenIdle();
    assert.deepEqual(h.client.sent, [{ target: "#py", text: "alice: 2", command: "PRIVMSG" }]);
  });

  it("answers a private query in private, without a nick prefix", async () => {
    const h = harness();
    h.bot.handle(privmsg("alice", "PyBot", "1+1"));
    await h.bot.whenIdle();
    assert.deepEqual(h.client.sent, [{ target: "alice", text: "2", command: "PRIVMSG" }]);
  });

  it("never answers a NOTICE, a CTCP, or itself", async () => {
    const h = harness();
    h.bot.handle(parseLine(":alice!~a@h NOTICE #py :!py 1+1")!);
    h.bot.handle(parseLine(":alice!~a@h NOTICE PyBot :1+1")!);
    h.bot.handle(privmsg("alice", "#py", "\x01ACTION !py 1\x01"));
    h.bot.handle(parseLine(":irc.server PRIVMSG #py :!py 1")!); // no user part: a server
    await h.bot.whenIdle();
    assert.deepEqual(h.client.sent, []);
    assert.equal(h.calls.length, 0);
  });

  it("replies to an empty !py with the usage hint", async () => {
    const h = harness();
    h.bot.handle(privmsg("alice", "#py", "!py"));
    await h.bot.whenIdle();
    assert.equal(h.client.sent.length, 1);
    assert.match(h.client.sent[0].text, /^alice: usage: !py <python code>/);
  });

  it("passes the per-line byte budget after `nick: ` and the line limit to the formatter, the limits in the result", async () => {
    let seen: Parameters<Formatter>[1] | undefined;
    let seenResult: RunResult | undefined;
    const h = harness({ maxLines: 4 }, true, (r, o) => ((seen = o), (seenResult = r), ["x"]));
    h.bot.handle(privmsg("alice", "#py", "!py:v 1"));
    await h.bot.whenIdle();
    const expected = 512 - 2 - ":PyBot!~wasipy@host.example ".length - "PRIVMSG #py :".length - "alice: ".length;
    assert.deepEqual(seen, {
      maxBytes: expected,
      maxLines: 4,
      verbose: true,
      cutLink: "!more",
    });
    assert.deepEqual(seenResult?.limits, { ...DEFAULT_LIMITS, ...limits });
  });

  it("neutralises CR/LF/NUL/CTCP that a formatter let through instead of sending them", async () => {
    const h = harness({}, true, () => ["x\r\nQUIT :bye", "\x01ACTION hi\x01"]);
    h.bot.handle(privmsg("alice", "#py", "!py 1"));
    await h.bot.whenIdle();
    assert.deepEqual(h.client.sent.map((s) => s.text), ["alice: x\\x0d\\x0aQUIT :bye", "alice: \\x01ACTION hi\\x01"]);
  });

  it("rate-limits a user with exactly one polite notice", async () => {
    const h = harness();
    for (let i = 0; i < 8; i++) h.bot.handle(privmsg("alice", "#py", `!py ${i}`));
    await h.bot.whenIdle();
    const notices = h.client.sent.filter((s) => s.command === "NOTICE");
    assert.equal(h.calls.length, 5);
    assert.equal(notices.length, 1);
    assert.equal(notices[0].target, "alice");
    assert.match(notices[0].text, /at most 5 requests per 60 s/);
    assert.equal(h.bot.stats.refusedRate, 3);
  });

  it("ignores ignored users silently, and gives admins raised limits", async () => {
    const h = harness();
    h.bot.handle(privmsg("spammer", "#py", "!py 1"));
    h.bot.handle(privmsg("boss", "#py", "!py 2"));
    h.bot.handle(privmsg("alice", "#py", "!py 3"));
    await h.bot.whenIdle();
    assert.deepEqual(h.calls, [{ code: "2", limits: adminLimits }, { code: "3", limits }]);
    assert.equal(h.bot.stats.ignored, 1);
  });

  it("recognises admins by services account (account-tag)", async () => {
    const h = harness({ rateLimit: { ...botOptions().rateLimit, admins: ["$a:root"] } });
    h.bot.handle(privmsg("anyone", "#py", "!py 1", "@account=Root "));
    await h.bot.whenIdle();
    assert.deepEqual(h.calls[0].limits, adminLimits);
    assert.match(h.logs.join("\n"), /\[Root\].*admin/);
  });

  it("runs evaluations in parallel; a slow one does not block another user's", async () => {
    const h = harness({}, false);
    h.bot.handle(privmsg("alice", "#py", "!py slow"));
    h.bot.handle(privmsg("bob", "#py", "!py quick"));
    await tick();
    assert.deepEqual(h.calls.map((c) => c.code), ["slow", "quick"]);
    h.release("quick");
    await tick();
    await tick();
    assert.deepEqual(h.client.sent.map((s) => s.text), ["bob: done quick"]);
    h.release("slow");
    await h.bot.whenIdle();
    assert.equal(h.client.sent.length, 2);
  });

  // Fairness between requesters is behaviour.test.ts's (end to end) and pieces.test.ts's (FairQueue); this is the cap.
  it("--per-user-concurrency 1: a user's second request waits even when a worker is free", async () => {
    const h = harness({ workers: 2, perUserConcurrency: 1 }, false);
    h.bot.handle(privmsg("alice", "#py", "!py a1"));
    h.bot.handle(privmsg("alice", "#py", "!py a2"));
    await tick();
    assert.deepEqual(h.calls.map((c) => c.code), ["a1"]);
    h.release("a1");
    await tick();
    await tick();
    assert.deepEqual(h.calls.map((c) => c.code), ["a1", "a2"]);
    h.release("a2");
    await h.bot.whenIdle();
  });

  it("bounds the queue and tells the overflow it is busy", async () => {
    const h = harness({ queueSize: 3, workers: 1, perUserConcurrency: 5 }, false);
    for (const u of ["u1", "u2", "u3", "u4"]) h.bot.handle(privmsg(u, "#py", `!py ${u}`));
    await tick();
    assert.equal(h.bot.pending, 3);
    assert.deepEqual(h.client.sent, [{
      target: "u4",
      text: "Busy right now, please try again in a little while.",
      command: "NOTICE",
    }]);
    for (const u of ["u1", "u2", "u3"]) {
      h.release(u);
      await tick();
      await tick();
    }
    await h.bot.whenIdle();
  });

  it("logs one line per evaluation with who, where, outcome, fuel and ms, never the output", async () => {
    const h = harness();
    h.bot.handle(privmsg("alice", "#py", "!py 1+1"));
    await h.bot.whenIdle();
    const evals = h.logs.filter((l) => l.includes("eval "));
    assert.equal(evals.length, 1);
    assert.match(evals[0], /^info eval alice!~alice@alice\.home\.example in #py: outcome=ok fuel=1234 ms=5 /);
    assert.ok(!evals[0].includes("2\n") && !/: 2$/.test(evals[0]));
  });

  it("answers an internal error politely and keeps going", async () => {
    const h = harness();
    h.bot.handle(privmsg("alice", "#py", "!py boom"));
    h.bot.handle(privmsg("bob", "#py", "!py 1+1"));
    await h.bot.whenIdle();
    assert.deepEqual(h.client.sent.map((s) => s.text).sort(), [
      "alice: internal error, sorry (the operator has the details in the log)",
      "bob: 2",
    ]);
  });
});

// ---------- unit: client helpers ----------

describe("IRC client helpers", () => {
  const o = { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 };
  it("backoff doubles, caps, and jitters within bounds", () => {
    assert.deepEqual([0, 1, 2, 3].map((a) => backoffDelay(a, o, 1)), [1000, 2000, 4000, 8000]);
    assert.deepEqual([0, 1, 2].map((a) => backoffDelay(a, o, 0)), [500, 1000, 2000]);
    assert.equal(backoffDelay(50, o, 1), 60_000);
    assert.equal(backoffDelay(3, { ...o, jitter: 0 }, 0.7), 8000);
  });
  it("SASL payloads are base64 in 400-byte chunks with a + terminator", () => {
    assert.deepEqual(authenticateChunks(new TextEncoder().encode("a\0a\0pw")), ["YQBhAHB3"]);
    assert.deepEqual(authenticateChunks(new Uint8Array(0)), ["+"]);
    const c = authenticateChunks(new Uint8Array(300)); // 400 base64 chars exactly
    assert.deepEqual([c.length, c[0].length, c[1]], [2, 400, "+"]);
  });
});
