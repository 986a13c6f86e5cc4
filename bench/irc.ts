/**
 * The `irc` section of `npm run bench`: bench/irc-hardening.ts in its fake-clock mode, in a child
 * process (it is a script with its own top-level run), its JSON figures kept in the results and
 * shown as a table. The figures are the bot's decisions in protocol time, so they are the same on
 * any machine; the section costs a few seconds of CPU.
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { table } from "./stats.ts";

/** What bench/irc-hardening.ts prints (fake clock). */
export interface IrcHardening {
  ctcpFlood: { otherUserReplyDelayMs: number | null; linesToFlooder: number };
  nickRefusals: {
    refuseAll: { nickCommandsIn30s: number; logBytesIn30s: number; nickCommandsTotal: number; fatalAfterMs?: number };
    nickLen5: { registered: boolean; nick: string; nickCommands: number };
  };
  overload: {
    requests: number;
    evaluated: number;
    evaluatedThenDropped: number;
    refusedBusy: number;
    busyLogLines: number;
    linesSent: number;
    worstLineDelayMs: number;
  };
}

/** This module's URL (Deno's type check does not know Node's `ImportMeta`, hence the cast, as in memory.ts). */
const OWN_URL = (import.meta as unknown as { url: string }).url;

/** Longest the child may take (it runs in seconds; a hang must not stall the whole bench). */
const CHILD_TIMEOUT_MS = 300_000;

/**
 * Runs bench/irc-hardening.js (next to this file in the build) on the fake clock and returns its figures.
 *
 * @example
 * const h = runIrcHardeningBench(console.error); h.overload.evaluatedThenDropped; // 0
 */
export function runIrcHardeningBench(log: (s: string) => void): IrcHardening {
  const script = fileURLToPath(new URL("./irc-hardening.js", OWN_URL));
  log("irc: three abuses on the fake clock (bench/irc-hardening.ts)");
  const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: CHILD_TIMEOUT_MS });
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim().split("\n").pop() || `exit status ${r.status}`);
    throw new Error(`irc-hardening failed: ${why}`);
  }
  return JSON.parse(r.stdout) as IrcHardening;
}

/**
 * The section's lines in the printed report.
 *
 * @example
 * ircHardeningReport(h)[0]; // "IRC bot under abuse (fake clock: protocol time, the same on any machine)"
 */
export function ircHardeningReport(h: IrcHardening): string[] {
  const c = h.ctcpFlood;
  const n = h.nickRefusals;
  const o = h.overload;
  return [
    "IRC bot under abuse (fake clock: protocol time, the same on any machine)",
    table([
      ["case", "figure", "value"],
      ["60 CTCP VERSION, then !py 6*7", "other user's reply after", `${c.otherUserReplyDelayMs ?? "never"} ms`],
      ["", "lines sent to the flooder", String(c.linesToFlooder)],
      ["server refuses every nick", "NICK commands in 30 s", String(n.refuseAll.nickCommandsIn30s)],
      ["", "log bytes in 30 s", String(n.refuseAll.logBytesIn30s)],
      ["", "stops after", n.refuseAll.fatalAfterMs === undefined ? "never" : `${n.refuseAll.fatalAfterMs} ms`],
      ["NICKLEN 5", "registered as", n.nickLen5.registered ? n.nickLen5.nick : "(not registered)"],
      [
        "8 users, 2 channels, 2 min",
        "requests / evaluated / busy",
        `${o.requests} / ${o.evaluated} / ${o.refusedBusy}`,
      ],
      ["", "evaluated, then dropped", String(o.evaluatedThenDropped)],
      ["", "lines sent, worst line delay", `${o.linesSent}, ${o.worstLineDelayMs} ms`],
    ]),
  ];
}
