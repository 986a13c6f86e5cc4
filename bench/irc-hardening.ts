/**
 * The IRC bot under three abuses from issue 21, on the fake clock and in-memory server of the
 * IRC tests (protocol time, not the machine's: the figures are the bot's decisions, the same on
 * any machine): another user's `!py 6*7` delay under a 60-CTCP VERSION flood from a client that
 * then quits; NICK commands sent in 30 s when the server refuses every nick (and until
 * registration with a server nick length of 5); requests evaluated and then dropped under a
 * two-channel overload. Run: `node build/bench/irc-hardening.js`.
 */
import process from "node:process";
import { resolveIrcConfig } from "../src/irc/config.ts";
import { startBot } from "../src/irc/start.ts";
import type { Evaluator } from "../src/irc/bot.ts";
import type { IrcMessage } from "../src/irc/message.ts";
import { formatIrcReply } from "../src/text/messages.ts";
import type { RunResult } from "../src/sandbox/result.ts";
import { FakeClock } from "../test/irc/fake-clock.ts";
import { fakeNet, welcoming } from "../test/irc/fake-net.ts";
import type { ScriptTools } from "../test/irc/fake-net.ts";

/** Every evaluation takes this long of fake time (a warm worker's small program). */
const EVAL_MS = 200;

function setup(
  over: Record<string, unknown>,
  script: (m: IrcMessage, t: ScriptTools) => void,
) {
  const clock = new FakeClock();
  const net = fakeNet(clock.now, script);
  const evaluate: Evaluator = (code) =>
    new Promise((resolve) => {
      const r: RunResult = {
        stdout: `${code.slice(0, 40)}\n${"second line ".repeat(30)}\n`,
        stderr: "",
        exitCode: 0,
        outcome: "ok",
        fuelUsed: 1,
        wallMs: EVAL_MS,
        truncated: { stdout: false, stderr: false },
      };
      clock.setTimeout(() => resolve(code === "6*7" ? { ...r, stdout: "42\n" } : r), EVAL_MS);
    });
  const cfg = resolveIrcConfig({}, { server: "irc.test:6667", nick: "pybot", workers: 2, ...over } as never, {}, 2);
  const log: string[] = [];
  const parts = startBot(cfg, evaluate, formatIrcReply, (l, t) => log.push(`${l} ${t}`), {
    connect: net.connect,
    now: clock.now,
    timers: clock,
    random: () => 0.5,
  });
  const from = (nick: string, line: string) => net.send(`:${nick}!~${nick}@${nick}.example ${line}`);
  return { clock, net, parts, log, from };
}

async function ctcpFlood() {
  const s = setup({ channels: ["#py"] }, welcoming({ members: ["alice", "spammer"] }));
  await s.clock.tick(100);
  for (let i = 0; i < 60; i++) s.from("spammer", "PRIVMSG pybot :\x01VERSION\x01");
  s.from("spammer", "QUIT :bye");
  const asked = s.clock.now();
  s.from("alice", "PRIVMSG #py :!py 6*7");
  let at: number | undefined;
  for (let t = 0; t < 300_000 && at === undefined; t += 50) {
    await s.clock.tick(50);
    at = s.net.sent.find((x) => x.line === "PRIVMSG #py :alice: 42")?.at;
  }
  const toSpammer = s.net.sent.filter((x) => x.msg.params[0] === "spammer").length;
  await stopBot(s);
  return { otherUserReplyDelayMs: at === undefined ? null : at - asked, linesToFlooder: toSpammer };
}

async function nickRefusals() {
  const refuseAll = (m: IrcMessage, t: ScriptTools) => {
    if (m.command === "NICK") t.send(`:srv 432 * ${m.params[0]} :Erroneous Nickname`);
  };
  const s = setup({ nick: "wasipybot", channels: [] }, refuseAll);
  let fatalAtMs: number | undefined;
  const t0 = s.clock.now();
  s.parts.client.on("fatal", () => (fatalAtMs ??= s.clock.now() - t0));
  await s.clock.tick(30_000);
  const in30s = s.net.sent.filter((x) => x.msg.command === "NICK").length;
  await s.clock.tick(3_600_000);
  const total = s.net.sent.filter((x) => x.msg.command === "NICK").length;
  const logLines = s.log.length;
  await stopBot(s);

  const short = setup({ nick: "wasipybot", channels: [] }, welcoming({ nickLen: 5 }));
  await short.clock.tick(30_000);
  const nickLen5 = {
    registered: short.parts.client.registered,
    nick: short.parts.client.nick,
    nickCommands: short.net.sent.filter((x) => x.msg.command === "NICK").length,
  };
  await stopBot(short);
  return {
    refuseAll: { nickCommandsIn30s: in30s, nickCommandsTotal: total, fatalAfterMs: fatalAtMs, logLines },
    nickLen5,
  };
}

/** Eight users in two channels, each asking every 3 s for two minutes (far beyond one line a second). */
async function overload() {
  const users = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"];
  const s = setup(
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
  await s.clock.tick(600_000);
  const st = s.parts.bot.stats;
  const out = s.parts.client.outputStats;
  await stopBot(s);
  return {
    requests,
    evaluated: st.evaluated,
    evaluatedThenDropped: st.droppedAfterEval,
    refusedBusy: st.refusedBusy,
    busyLogLines: s.log.filter((l) => /busy: refused/.test(l)).length,
    linesSent: out.sent,
    worstLineDelayMs: out.worstDelayMs,
  };
}

async function stopBot(s: { parts: { stop(): Promise<void> }; clock: FakeClock }): Promise<void> {
  const q = s.parts.stop();
  await s.clock.tick(10_000);
  await q;
}

const figures = { ctcpFlood: await ctcpFlood(), nickRefusals: await nickRefusals(), overload: await overload() };
process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
