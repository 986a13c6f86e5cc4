/**
 * The harness of the client tests (client.test.ts, client-protocol.test.ts): the client and the bot
 * on an in-memory server (fake-net.ts) and a fake clock (fake-clock.ts), with a quick evaluator.
 */
import { startBot } from "../../src/irc/start.ts";
import type { BotParts } from "../../src/irc/start.ts";
import type { Evaluator } from "../../src/irc/bot.ts";
import { formatIrcReply } from "../../src/format/messages.ts";
import type { RunResult } from "../../src/sandbox/result.ts";
import { FakeClock } from "./fake-clock.ts";
import { fakeNet, welcoming } from "./fake-net.ts";
import type { ScriptTools } from "./fake-net.ts";
import type { IrcMessage } from "../../src/irc/message.ts";
import { result as finished } from "../helpers/run-result.ts";
import { testIrcConfig } from "../helpers/irc-config.ts";

/** A finished run printing `stdout` (test/helpers/run-result.ts's, with its output first). */
export function result(stdout: string, extra: Partial<RunResult> = {}): RunResult {
  return finished({ stdout, ...extra });
}

/** Evaluates `6*7` and `print('x'*N)` like Python would; anything else prints "ran CODE". */
export const quickEval: Evaluator = (code) => {
  if (code === "6*7") return Promise.resolve(result("42\n"));
  const m = /^print\('(.)' \* (\d+)\)$/.exec(code);
  if (m) return Promise.resolve(result(m[1]!.repeat(Number(m[2])) + "\n"));
  return Promise.resolve(result(`ran ${code}\n`));
};

export interface Rig {
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

export async function rig(
  over: Record<string, unknown> = {},
  script: (m: IrcMessage, t: ScriptTools) => void = welcoming({ members: ["alice", "spammer", "bob"] }),
  evaluate: Evaluator = quickEval,
): Promise<Rig> {
  const clock = new FakeClock();
  const net = fakeNet(clock.now, script);
  const cfg = testIrcConfig("irc.test:6667", { workers: 2, reconnectMinMs: 1000, reconnectMaxMs: 60_000, ...over });
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

export async function stop(r: Rig): Promise<void> {
  const q = r.parts.stop();
  await r.clock.tick(5000);
  await q;
}
