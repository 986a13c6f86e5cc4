/**
 * The eval bot: turns PRIVMSGs into evaluations and evaluations into replies.
 * message.ts (parsed by the client) → command.ts → rate limit (access.ts) → fair queue
 * (fair-queue.ts) → evaluator (the sandbox's worker pool, several at once) → formatter (→ paste
 * target or `!more` when cut) → client.say (paced and fair per requester). A slow program holds
 * one slot only; the queue serves the requester who has been served least, so one user's backlog
 * never delays another user's first request by more than one evaluation. Requests and the rate
 * limit are keyed by services account, else host (never the client-chosen ident).
 *
 * Everything the bot sends for a requester (replies, CTCP VERSION answers, "slow down" and
 * "busy" notices) counts against their rate limit and waits in their own lines of the fair
 * output queue: nothing jumps ahead of other users. A CTCP sent to a channel is ignored. A request
 * whose reply the requester's output backlog could not take is refused with "busy" (once per
 * lock-out) before it is evaluated, never evaluated and then thrown away.
 *
 * Chatter: a nick-addressed or private message that does not compile as Python gets no answer
 * (the evaluation is the compile check: code that does not compile never runs, and costs only
 * its compile). So does a single bare word that is not defined ("hello"). `!py` always answers.
 */

import { ircLower, IrcSerialiseError } from "./message.ts";
import { utf8Length } from "../text/utf8.ts";
import type { IrcMessage } from "./message.ts";
import { isChannel, moreWord, parseCommand, usageHint } from "./command.ts";
import type { Command } from "./command.ts";
import { fullMask, RateLimiter, userKey } from "./access.ts";
import type { Decision, Identity } from "./access.ts";
import { isChatter } from "./chatter.ts";
import { DEFAULT_LIMITS } from "../sandbox/mod.ts";
import type { RunResult } from "../sandbox/mod.ts";
import type { SayMeta } from "./output.ts";
import { FairQueue } from "./fair-queue.ts";
import { bytesLeftOut, lastBytes, MoreStore } from "./more.ts";
import { shortenException } from "./exception-line.ts";
import type { BotClient, BotEffects, BotOptions, Evaluator, Formatter } from "./bot-options.ts";

export type { BotClient, BotOptions, EvalLimits, Evaluator, Formatter, Paster } from "./bot-options.ts";

/** Default `!more` memory: 5 minutes, 64 KiB per requester, 4 MiB in all. */
const MORE_DEFAULTS = { expiryMs: 300_000, maxBytesPerRequester: 65_536, maxBytesTotal: 4_194_304 };
/** Lock-outs ("busy") older than this are forgotten when the limiter is pruned. */
const LOCKOUT_MEMORY_MS = 600_000;
const BUSY_TEXT = "Busy right now, please try again in a little while.";

type EvalCommand = Extract<Command, { kind: "eval" }>;
type FormatOptions = Parameters<Formatter>[1];

interface Job {
  cmd: EvalCommand;
  who: Identity;
  key: string;
  admin: boolean;
  queuedAt: number;
  /** A line of its reply was refused (backlog full) and logged. */
  dropLogged?: boolean;
  /** The requester left where the reply goes while it ran: no reply. */
  gone?: boolean;
}

/**
 * The eval bot: feed it every incoming message; it answers requests through the client.
 *
 * @example
 * ```ts
 * const bot = new IrcBot(client, evaluate, formatIrc, botOptions, { now: Date.now, log });
 * client.on("message", (m) => bot.handle(m));
 * ```
 */
export class IrcBot {
  #client: BotClient;
  #evaluate: Evaluator;
  #format: Formatter;
  #opts: BotOptions;
  #fx: BotEffects;
  #limiter: RateLimiter;
  #queue = new FairQueue<Job>();
  #active = new Set<Job>();
  #stopping = false;
  #runningPerUser = new Map<string, number>();
  #idle: (() => void)[] = [];
  #lastPrune = 0;
  /** Requesters refused with "busy" since their last accepted request, and since when. */
  #lockedOut = new Map<string, number>();
  #more: MoreStore;
  /** Counters for tests and the shutdown log. */
  readonly stats = {
    evaluated: 0,
    refusedRate: 0,
    refusedBusy: 0,
    ignored: 0,
    failed: 0,
    chatter: 0,
    pasted: 0,
    /** Evaluated, then (part of) the reply refused by the output backlog: should stay 0. */
    droppedAfterEval: 0,
    more: 0,
  };

  constructor(client: BotClient, evaluate: Evaluator, format: Formatter, opts: BotOptions, fx: BotEffects) {
    this.#client = client;
    this.#evaluate = evaluate;
    this.#format = format;
    this.#opts = opts;
    this.#fx = fx;
    this.#limiter = new RateLimiter(opts.rateLimit);
    this.#more = new MoreStore(opts.more ?? MORE_DEFAULTS);
  }

  /** Requests queued or running. */
  get pending(): number {
    return this.#queue.size + this.#active.size;
  }

  /** Requesters with output kept for `!more`, and its bytes. */
  get moreKept(): { requesters: number; bytes: number } {
    return { requesters: this.#more.size, bytes: this.#more.bytes };
  }

  #lower(s: string): string {
    return ircLower(s, this.#client.casemapping);
  }

  /** Feeds one incoming message. NOTICEs are never answered; NICK changes are followed. */
  handle(m: IrcMessage): void {
    if (m.command === "NICK" && m.source?.nick && m.params[0]) return this.#renamed(m.source.nick, m.params[0]);
    if (m.command === "QUIT" && m.source?.nick) return this.#left(m.source.nick, undefined);
    if (m.command === "PART" && m.source?.nick && m.params[0]) return this.#left(m.source.nick, m.params[0]);
    if (m.command === "KICK" && m.params[0] && m.params[1]) return this.#left(m.params[1], m.params[0]);
    if (m.command !== "PRIVMSG" || m.params.length < 2 || !m.source?.user) return;
    const c = this.#client;
    const who: Identity = { nick: m.source.nick, user: m.source.user, host: m.source.host, account: m.tags["account"] };
    const [target, text] = [m.params[0]!, m.params[1]!];
    if (text.startsWith("\x01")) return this.#ctcp(who, target, text);
    if (c.canSend && !c.canSend(target) && target !== c.nick) return;
    const cmd = parseCommand({
      text,
      target,
      from: who.nick,
      botNick: c.nick,
      prefix: this.#opts.prefix,
      chanTypes: c.chanTypes,
      casemapping: c.casemapping,
      allowNickAddressing: this.#opts.nickAddressing,
      privateBareCode: this.#opts.privateBareCode,
    });
    if (!cmd) return;
    const d = this.#check(who);
    if (!d.allowed) return this.#refused(who, d);
    const key = userKey(who);
    if (cmd.kind === "usage") return this.#answer(cmd, who, () => [usageHint(this.#opts.prefix, c.nick)]);
    if (cmd.kind === "help") return this.#answer(cmd, who, () => [this.#helpText()]);
    if (cmd.kind === "more") return this.#answer(cmd, who, () => this.#morePage(cmd, key));
    if (this.pending >= this.#opts.queueSize) return this.#busy(who, key, `${cmd.replyTo}: queue full`);
    if (!this.#fits(key, cmd.replyTo)) return this.#busy(who, key, `${cmd.replyTo}: their reply backlog is full`);
    this.#lockedOut.delete(key);
    this.#queue.push({ cmd, who, key, admin: d.admin, queuedAt: this.#fx.now() });
    this.#schedule();
  }

  /** CTCP: only VERSION, only in private, counted in the rate limit and queued like a reply. */
  #ctcp(who: Identity, target: string, text: string): void {
    if (isChannel(target, this.#client.chanTypes) || !/^\x01VERSION\x01?$/i.test(text)) return;
    const d = this.#check(who);
    if (!d.allowed) return this.#refused(who, d);
    const meta: SayMeta = { requester: userKey(who), nick: who.nick };
    this.#client.ctcpReply?.(who.nick, `VERSION ${this.#opts.version ?? "wasi-py IRC bot"}`, meta);
  }

  /** The rate limiter's decision (pruned now and then). */
  #check(who: Identity): Decision {
    const now = this.#fx.now();
    if (now - this.#lastPrune > 60_000) {
      this.#limiter.prune(now);
      for (const [k, since] of this.#lockedOut) if (now - since > LOCKOUT_MEMORY_MS) this.#lockedOut.delete(k);
      this.#lastPrune = now;
    }
    return this.#limiter.check(who, now);
  }

  #refused(who: Identity, d: Exclude<Decision, { allowed: true }>): void {
    if (d.reason === "ignored") {
      this.stats.ignored++;
      return;
    }
    this.stats.refusedRate++;
    if (!d.notify) return;
    // One log line and one notice per lock-out, not one per refused message.
    this.#fx.log("info", `rate limit: ${fullMask(who)} locked out for ${Math.ceil(d.retryInMs / 1000)} s`);
    const o = this.#opts.rateLimit;
    const limit = this.#limiter.limitFor(this.#limiter.isAdmin(who));
    this.#notice(
      who,
      `Please slow down: at most ${limit} requests per ${Math.round(o.windowMs / 1000)} s. Try again in ${
        Math.ceil(d.retryInMs / 1000)
      } s.`,
    );
  }

  /** Refuses a request before evaluating it: "busy" and one log line, once per lock-out. */
  #busy(who: Identity, key: string, why: string): void {
    this.stats.refusedBusy++;
    if (this.#lockedOut.has(key)) return;
    this.#lockedOut.set(key, this.#fx.now());
    this.#fx.log("info", `busy: refused ${fullMask(who)} in ${why} (further requests refused quietly until one fits)`);
    this.#notice(who, BUSY_TEXT);
  }

  #notice(who: Identity, text: string): void {
    this.#send(who.nick, text, "NOTICE", { requester: userKey(who), nick: who.nick });
  }

  /**
   * Whether the requester's output backlog for `replyTo` can take one more reply, counting the
   * replies of their requests already waiting or running (`except` one of them).
   */
  #fits(key: string, replyTo: string, except?: Job): boolean {
    const room = this.#client.backlogRoom?.(replyTo, key);
    if (room === undefined) return true;
    const to = this.#lower(replyTo);
    let reserved = 0;
    for (const j of [...this.#queue.jobs(), ...this.#active]) {
      if (j !== except && j.key === key && this.#lower(j.cmd.replyTo) === to) reserved += this.#opts.maxLines;
    }
    return room - reserved >= this.#opts.maxLines;
  }

  /** Answers a request that needs no evaluation (usage, help, `!more`), if the backlog can take it. */
  #answer(cmd: Command, who: Identity, lines: () => string[]): void {
    const key = userKey(who);
    if (!this.#fits(key, cmd.replyTo)) return this.#busy(who, key, `${cmd.replyTo}: their reply backlog is full`);
    this.#lockedOut.delete(key);
    for (const line of lines().slice(0, this.#opts.maxLines)) this.#reply(cmd, line, { key, who });
  }

  /** A nick changed: requests waiting or running follow it. */
  #renamed(from: string, to: string): void {
    const old = this.#lower(from);
    for (const j of [...this.#queue.jobs(), ...this.#active]) {
      if (this.#lower(j.who.nick) !== old) continue;
      j.who.nick = to;
      if (j.cmd.private && this.#lower(j.cmd.replyTo) === old) j.cmd.replyTo = to;
      if (j.cmd.addressee !== undefined && this.#lower(j.cmd.addressee) === old) j.cmd.addressee = to;
    }
  }

  /**
   * `nick` left `channel` (PART, KICK) or the network (QUIT, no channel): its waiting requests
   * for there are dropped unevaluated, and running ones will not reply.
   */
  #left(nick: string, channel: string | undefined): void {
    const who = this.#lower(nick);
    const chan = channel === undefined ? undefined : this.#lower(channel);
    const affected = (j: Job) =>
      this.#lower(j.who.nick) === who && (chan === undefined || this.#lower(j.cmd.replyTo) === chan);
    const dropped = this.#queue.removeWhere(affected);
    for (const j of this.#active) if (affected(j)) j.gone = true;
    for (const j of dropped) this.#queue.idle(j.key);
    if (dropped.length) {
      this.#fx.log("info", `${nick} ${chan ? `left ${channel}` : "quit"}: dropped ${dropped.length} waiting requests`);
    }
    this.#checkIdle();
  }

  #helpText(): string {
    const p = this.#opts.prefix;
    const l = this.#opts.userLimits;
    const r = this.#opts.rateLimit;
    return `I run Python 3.13 in a sandbox: ${p} <code> (or ${this.#client.nick}: <code>, or in private). ` +
      `${p}:v <code> shows fuel and time; ${moreWord(p)} shows more of a cut reply. Limits: ${
        l.timeoutMs / 1000
      } s, ${l.memoryMiB} MiB, ${r.evalsPerWindow} requests per ${Math.round(r.windowMs / 1000)} s.`;
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Drops queued (not yet running) requests and marks the bot as stopping; for shutdown. */
  clearQueue(): void {
    this.#stopping = true;
    this.#queue.clear();
    this.#checkIdle();
  }

  #schedule(): void {
    while (this.#active.size < this.#opts.workers) {
      const job = this.#queue.next((key) => (this.#runningPerUser.get(key) ?? 0) < this.#opts.perUserConcurrency);
      if (!job) break;
      if (!this.#fits(job.key, job.cmd.replyTo, job)) {
        // Its backlog filled up while it waited: refuse it now rather than evaluate and drop.
        this.#busy(job.who, job.key, `${job.cmd.replyTo}: their reply backlog is full`);
        this.#queue.idle(job.key);
        continue;
      }
      this.#active.add(job);
      this.#runningPerUser.set(job.key, (this.#runningPerUser.get(job.key) ?? 0) + 1);
      void this.#run(job).finally(() => {
        this.#active.delete(job);
        const n = (this.#runningPerUser.get(job.key) ?? 1) - 1;
        if (n > 0) this.#runningPerUser.set(job.key, n);
        else {
          this.#runningPerUser.delete(job.key);
          this.#queue.idle(job.key);
        }
        this.#schedule();
        this.#checkIdle();
      });
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.pending === 0) { for (const r of this.#idle.splice(0)) r(); }
  }

  async #run(job: Job): Promise<void> {
    const { cmd, who } = job;
    const limits = job.admin ? this.#opts.adminLimits : this.#opts.userLimits;
    const started = this.#fx.now();
    let result: RunResult;
    try {
      result = await this.#evaluate(cmd.code, limits);
    } catch (e) {
      if (this.#stopping) {
        // A normal shutdown ends the running evaluations: not an error.
        this.#fx.log("info", `eval ${fullMask(who)} in ${cmd.replyTo}: stopped by the shutdown`);
        return;
      }
      this.stats.failed++;
      this.#fx.log(
        "error",
        `eval ${fullMask(who)} in ${cmd.replyTo}: outcome=internal_error ms=${this.#fx.now() - started} (${
          (e as Error).message
        })`,
      );
      this.#reply(cmd, "internal error, sorry (the operator has the details in the log)", job);
      return;
    }
    this.stats.evaluated++;
    const chatter = !cmd.explicit && isChatter(cmd.code, result);
    this.#fx.log(
      "info",
      `eval ${fullMask(who)}${
        who.account ? ` [${who.account}]` : ""
      } in ${cmd.replyTo}: outcome=${result.outcome} fuel=${result.fuelUsed} ms=${Math.round(result.wallMs)} wait=${
        started - job.queuedAt
      }${job.admin ? " admin" : ""}${chatter ? " chatter (no reply)" : ""}`,
    );
    if (chatter) {
      this.stats.chatter++;
      return;
    }
    if (job.gone) return; // they left where the reply would go
    const lines = (await this.#formatReply(result, cmd, job.key)).slice(0, this.#opts.maxLines);
    const sent = { n: 0, first: -1, last: 0 };
    const onSent = (delayMs: number) => {
      if (sent.first < 0) sent.first = delayMs;
      sent.last = delayMs;
      if (++sent.n === lines.length) {
        this.#fx.log(
          "info",
          `replied to ${job.who.nick} in ${cmd.replyTo}: ${lines.length} line${
            lines.length === 1 ? "" : "s"
          }, sent after ${sent.first}${lines.length > 1 ? `-${sent.last}` : ""} ms`,
        );
      }
    };
    for (const line of lines) this.#reply(cmd, line, job, onSent);
  }

  #formatOptions(cmd: Command): FormatOptions {
    return {
      maxBytes: this.#budget(cmd),
      maxLines: this.#opts.maxLines,
      verbose: cmd.verbose,
    };
  }

  #runFormat(result: RunResult, opts: FormatOptions, cutLink: string): { lines: string[]; cut: boolean } {
    try {
      const r = this.#format(result, { ...opts, cutLink });
      return Array.isArray(r) ? { lines: r, cut: false } : r;
    } catch (e) {
      this.#fx.log("error", `formatting failed: ${(e as Error).message}`);
      return { lines: [`(${result.outcome})`], cut: false };
    }
  }

  /**
   * Formats (a very long exception shortened to keep its type); when cut, links the whole output
   * on the paste target, else keeps the rest for `!more` and says so in the cut mark.
   */
  async #formatReply(result: RunResult, cmd: EvalCommand, key: string): Promise<string[]> {
    const opts = this.#formatOptions(cmd);
    const shown = {
      ...result,
      stderr: shortenException(result.stderr, Math.floor(opts.maxBytes * opts.maxLines * 0.6)),
    };
    const more = moreWord(this.#opts.prefix);
    let reply = this.#runFormat(shown, opts, more);
    const whole = joinOutput(result);
    if ((reply.cut || shown.stderr !== result.stderr) && this.#opts.paste) {
      try {
        const link = await this.#opts.paste(whole.text);
        reply = this.#runFormat(shown, opts, link);
        this.stats.pasted++;
        this.#more.put(key, "", this.#fx.now(), 0); // an older rest is not "more" of this reply
        return reply.lines.length === 0 ? ["(no output)"] : reply.lines;
      } catch (e) {
        this.#fx.log("warn", `paste failed, replying without a link: ${(e as Error).message}`);
      }
    }
    const left = reply.cut ? bytesLeftOut(reply.lines) : undefined;
    // Head form: the rest after what was shown; a kept end (traceback) or a shortened exception: all of it.
    const rest = !reply.cut && shown.stderr === result.stderr
      ? ""
      : left === undefined
      ? whole.text
      : lastBytes(whole.text, left + (left > whole.stderrBytes && whole.joined ? 1 : 0)).replace(/^\n/, "");
    this.#more.put(key, rest, this.#fx.now(), 0);
    return reply.lines.length === 0 ? ["(no output)"] : reply.lines;
  }

  /** The next page of the requester's kept output (and keeps what is still left). */
  #morePage(cmd: Command, key: string): string[] {
    const now = this.#fx.now();
    const e = this.#more.take(key, now);
    if (!e) {
      const min = Math.round((this.#opts.more ?? MORE_DEFAULTS).expiryMs / 60_000);
      return [`nothing more to show (the rest of a cut reply is kept for ${min} min)`];
    }
    this.stats.more++;
    const page: RunResult = {
      stdout: e.rest,
      stderr: "",
      exitCode: 0,
      outcome: "ok",
      fuelUsed: 0,
      wallMs: 0,
      truncated: { stdout: e.lostBytes > 0, stderr: false },
      limits: { ...DEFAULT_LIMITS, ...this.#opts.userLimits },
    };
    const opts = this.#formatOptions({ ...cmd, verbose: false });
    const reply = this.#runFormat(page, opts, moreWord(this.#opts.prefix));
    const lines = reply.lines.slice(0, this.#opts.maxLines);
    const left = reply.cut ? bytesLeftOut(lines) : 0;
    if (left) this.#more.put(key, lastBytes(e.rest, left).replace(/^\n/, ""), now, e.lostBytes);
    return lines;
  }

  /** Bytes of text one reply line may have after `PRIVMSG target :nick: `. */
  #budget(cmd: Command): number {
    const base = this.#client.maxTextBytes("PRIVMSG", cmd.replyTo);
    return base - (cmd.addressee ? utf8Length(`${cmd.addressee}: `) : 0);
  }

  #reply(cmd: Command, text: string, job: Pick<Job, "key" | "who" | "dropLogged">, onSent?: (ms: number) => void) {
    const meta: SayMeta = { requester: job.key, nick: job.who.nick, onSent };
    const ok = this.#send(cmd.replyTo, cmd.addressee ? `${cmd.addressee}: ${text}` : text, "PRIVMSG", meta);
    if (ok === false && !job.dropLogged) {
      job.dropLogged = true; // one line per reply, not per line
      this.stats.droppedAfterEval++;
      this.#fx.log("warn", `reply to ${job.who.nick} in ${cmd.replyTo} cut short: their backlog of lines is full`);
    }
  }

  #send(target: string, text: string, command: "PRIVMSG" | "NOTICE", meta: SayMeta): boolean | void {
    try {
      return this.#client.say(target, text, command, meta);
    } catch (e) {
      if (!(e instanceof IrcSerialiseError)) throw e;
      // The formatter should never let these through; if it does, show them, never send them.
      this.#fx.log("warn", `unsafe reply text neutralised: ${e.message}`);
      return this.#client.say(
        target,
        text.replace(/[\r\n\0\x01]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`),
        command,
        meta,
      );
    }
  }
}

/** The whole output as `!more` and the paste target get it: stdout, a newline, stderr (trailing newlines off). */
function joinOutput(r: RunResult): { text: string; stderrBytes: number; joined: boolean } {
  const out = r.stdout.replace(/\n+$/, "");
  const err = r.stderr.replace(/\n+$/, "");
  const joined = out !== "" && err !== "";
  return { text: out + (joined ? "\n" : "") + err, stderrBytes: utf8Length(err), joined };
}
