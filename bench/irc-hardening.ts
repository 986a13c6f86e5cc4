/**
 * The IRC bot under three abuses from issue 21, on the fake clock and in-memory server of the
 * IRC tests (protocol time, not the machine's: the figures are the bot's decisions, the same on
 * any machine): another user's `!py 6*7` delay under a 60-CTCP VERSION flood from a client that
 * then quits; NICK commands sent in 30 s when the server refuses every nick (and until
 * registration with a server nick length of 5); requests evaluated and then dropped under a
 * two-channel overload. Run: `node build/bench/irc-hardening.js` (fake clock), or with `--real` on
 * the wall clock (minutes; only public APIs, so the same file measures an older build of the bot
 * for a before/after).
 */
import process from "node:process";
import { resolveIrcConfig } from "../src/irc/config.ts";
import { startBot } from "../src/irc/start.ts";
import type { Evaluator } from "../src/irc/bot.ts";
import type { IrcMessage } from "../src/irc/message.ts";
import { formatIrcReply } from "../src/format/messages.ts";
import type { RunResult } from "../src/sandbox/result.ts";
import { DEFAULT_LIMITS } from "../src/sandbox/mod.ts";
import { FakeClock } from "../test/irc/fake-clock.ts";
import { fakeNet, welcoming } from "../test/irc/fake-net.ts";
import type { ScriptTools, SentLine } from "../test/irc/fake-net.ts";
import { scriptedServer } from "../test/helpers/scripted-server.ts";
import { parseLine } from "../src/irc/message.ts";

/** Every evaluation takes this long (a warm worker's small program). */
const EVAL_MS = 200;

/** The clock the bench runs on: the fake one (default) or the wall clock (`--real`). */
interface Time {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  tick(ms: number): Promise<void>;
}

const REAL = process.argv.includes("--real");

function newTime(): Time {
  if (!REAL) return new FakeClock();
  return {
    now: Date.now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    tick: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

/** The fake server's shape on a real loopback socket (for `--real`: the bot's own sockets and timers). */
async function realNet(script: (m: IrcMessage, t: ScriptTools) => void) {
  const sent: SentLine[] = [];
  let current: ScriptTools | undefined;
  const srv = await scriptedServer((line, send, sock, conn) => {
    const msg = parseLine(line)!;
    const tools: ScriptTools = { send, close: () => sock.destroy(), conn };
    current = tools;
    sent.push({ at: Date.now(), line, msg, conn });
    script(msg, tools);
  });
  return {
    port: srv.port,
    sent,
    send: (line: string) => current?.send(line),
    close: () => srv.close(),
  };
}

async function setup(
  over: Record<string, unknown>,
  script: (m: IrcMessage, t: ScriptTools) => void,
) {
  const clock = newTime();
  const real = REAL ? await realNet(script) : undefined;
  const net = real ?? fakeNet(clock.now, script);
  const evaluate: Evaluator = (code, limits) =>
    new Promise((resolve) => {
      const r: RunResult = {
        stdout: `${code.slice(0, 40)}\n${"second line ".repeat(30)}\n`,
        stderr: "",
        exitCode: 0,
        outcome: "ok",
        fuelUsed: 1,
        wallMs: EVAL_MS,
        truncated: { stdout: false, stderr: false },
        limits: { ...DEFAULT_LIMITS, ...limits },
      };
      clock.setTimeout(() => resolve(code === "6*7" ? { ...r, stdout: "42\n" } : r), EVAL_MS);
    });
  const server = real ? `127.0.0.1:${real.port}` : "irc.test:6667";
  const cfg = resolveIrcConfig({}, { server, nick: "pybot", workers: 2, ...over } as never, {}, 2);
  const log: string[] = [];
  const parts = startBot(cfg, evaluate, formatIrcReply, (l, t) => log.push(`${l} ${t}`), {
    ...("connect" in net ? { connect: net.connect } : {}),
    now: () => clock.now(),
    ...(clock instanceof FakeClock ? { timers: clock } : {}),
    random: () => 0.5,
  });
  const from = (nick: string, line: string) => net.send(`:${nick}!~${nick}@${nick}.example ${line}`);
  return { clock, net, parts, log, from, close: () => real?.close() };
}

async function ctcpFlood() {
  const s = await setup({ channels: ["#py"] }, welcoming({ members: ["alice", "spammer"] }));
  await s.clock.tick(100);
  for (let i = 0; i < 60; i++) s.from("spammer", "PRIVMSG pybot :\x01VERSION\x01");
  s.from("spammer", "QUIT :bye");
  const asked = s.clock.now();
  s.from("alice", "PRIVMSG #py :!py 6*7");
  let at: number | undefined;
  for (let t = 0; t < 120_000 && at === undefined; t += 50) {
    await s.clock.tick(50);
    at = s.net.sent.find((x) => x.line === "PRIVMSG #py :alice: 42")?.at;
  }
  const toSpammer = s.net.sent.filter((x) => x.msg.params[0] === "spammer" && x.at <= (at ?? Infinity)).length;
  await stopBot(s);
  return { otherUserReplyDelayMs: at === undefined ? null : at - asked, linesToFlooder: toSpammer };
}

async function nickRefusals() {
  const refuseAll = (m: IrcMessage, t: ScriptTools) => {
    if (m.command === "NICK") t.send(`:srv 432 * ${m.params[0]} :Erroneous Nickname`);
  };
  const s = await setup({ nick: "wasipybot", channels: [] }, refuseAll);
  let fatalAtMs: number | undefined;
  const t0 = s.clock.now();
  s.parts.client.on("fatal", () => (fatalAtMs ??= s.clock.now() - t0));
  await s.clock.tick(30_000);
  const in30s = s.net.sent.filter((x) => x.msg.command === "NICK").length;
  const logBytesIn30s = s.log.reduce((n, l) => n + l.length + 1, 0);
  if (!REAL) await s.clock.tick(3_600_000);
  const total = s.net.sent.filter((x) => x.msg.command === "NICK").length;
  await stopBot(s);

  const short = await setup({ nick: "wasipybot", channels: [] }, welcoming({ nickLen: 5 }));
  await short.clock.tick(30_000);
  const nickLen5 = {
    registered: short.parts.client.registered,
    nick: short.parts.client.nick,
    nickCommands: short.net.sent.filter((x) => x.msg.command === "NICK").length,
  };
  await stopBot(short);
  return {
    refuseAll: { nickCommandsIn30s: in30s, logBytesIn30s, nickCommandsTotal: total, fatalAfterMs: fatalAtMs },
    nickLen5,
  };
}

/** Eight users in two channels, each asking every 3 s for two minutes (far beyond one line a second). */
async function overload() {
  const users = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"];
  const s = await setup(
    { channels: ["#a", "#b"], evalsPerWindow: 100, maxEvalsPerWindow: 200 },
    welcoming({ members: users }),
  );
  await s.clock.tick(100);
  let requests = 0;
  for (let t = 0; t < 120_000; t += 3000) {
    for (const u of users) {
      s.from(u, `PRIVMSG #${u[0]} :!py print(${requests++})`);
    }
    await s.clock.tick(3000);
  }
  for (
    let waited = 0;
    waited < 600_000 && (s.parts.bot.pending > 0 || s.parts.client.queuedLines > 0);
    waited += 1000
  ) {
    await s.clock.tick(1000);
  }
  const st = s.parts.bot.stats;
  const out = s.parts.client.outputStats;
  await stopBot(s);
  return {
    requests,
    evaluated: st.evaluated,
    // Logged once per reply that lost lines to a full backlog (the same words before and after the change).
    evaluatedThenDropped: s.log.filter((l) => /cut short: their backlog of lines is full/.test(l)).length,
    refusedBusy: st.refusedBusy,
    busyLogLines: s.log.filter((l) => /busy: refused/.test(l)).length,
    linesSent: out.sent,
    worstLineDelayMs: out.worstDelayMs,
  };
}

async function stopBot(
  s: { parts: { stop(): Promise<void> }; clock: Time; close(): Promise<void> | undefined },
): Promise<void> {
  const q = s.parts.stop();
  if (!REAL) await s.clock.tick(10_000);
  await q;
  await s.close();
}

const figures = { ctcpFlood: await ctcpFlood(), nickRefusals: await nickRefusals(), overload: await overload() };
process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
