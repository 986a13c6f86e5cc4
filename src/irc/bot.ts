/**
 * The eval bot: turns PRIVMSGs into evaluations and evaluations into replies.
 * message.ts (parsed by the client) → command.ts → rate limit (access.ts) → fair queue →
 * evaluator (the sandbox's worker pool, several at once) → formatter (→ paste target when cut)
 * → client.say (paced and fair per requester). A slow program holds one slot only; the queue
 * serves the requester who has been served least, so one user's backlog never delays another
 * user's first request by more than one evaluation. Requests and the rate limit are keyed by
 * services account, else host (never the client-chosen ident).
 *
 * Chatter: a nick-addressed or private message that does not compile as Python gets no answer
 * (the evaluation is the compile check: code that does not compile never runs, and costs only
 * its compile). So does a single bare word that is not defined ("hello"). `!py` always answers.
 */

import { IrcSerialiseError } from "./message.ts";
import { utf8Length } from "../text/utf8.ts";
import type { IrcMessage } from "./message.ts";
import { parseCommand, usageHint } from "./command.ts";
import type { Command } from "./command.ts";
import { fullMask, RateLimiter, userKey } from "./access.ts";
import { isChatter } from "./chatter.ts";
import type { Identity, RateLimitOptions } from "./access.ts";
import type { RunResult } from "../sandbox/result.ts";
import type { SayMeta } from "./output.ts";

/**
 * Limits for one evaluation, as the sandbox takes them.
 *
 * @example
 * ```ts
 * const limits: EvalLimits = { fuel: 1e9, timeoutMs: 4000, memoryMiB: 64, maxOutputBytes: 4096 };
 * ```
 */
export interface EvalLimits {
  fuel: number;
  timeoutMs: number;
  memoryMiB: number;
  maxOutputBytes: number;
}

/**
 * Runs one program under the given limits (the sandbox's worker pool in production).
 *
 * @example
 * ```ts
 * const evaluate: Evaluator = (code, limits) => sandbox.run(code, limits);
 * ```
 */
export type Evaluator = (code: string, limits: EvalLimits) => Promise<RunResult>;
/**
 * RunResult → reply texts (formatIrc); the limits let it say which one was hit.
 *
 * @example
 * ```ts
 * const format: Formatter = (r, o) => [r.stdout.trimEnd().slice(0, o.maxBytes)];
 * ```
 */
export type Formatter = (
  result: RunResult,
  opts: {
    maxBytes: number;
    maxLines: number;
    verbose: boolean;
    fuelLimit: number;
    timeoutMs: number;
    memoryMiB: number;
    /** A link to the whole output, when it was pasted. */
    cutLink?: string;
  },
) => string[] | { lines: string[]; cut: boolean };

/**
 * Uploads a whole output and returns the link to it (the --paste-url client, paste.ts).
 *
 * @example
 * ```ts
 * const paste: Paster = async (text) => "https://paste.example/abc";
 * ```
 */
export type Paster = (text: string) => Promise<string>;

/**
 * What the bot needs from the connection (IrcClient implements it; tests fake it).
 *
 * @example
 * ```ts
 * const client: BotClient = new IrcClient(options, effects);
 * ```
 */
export interface BotClient {
  readonly nick: string;
  readonly chanTypes: string;
  readonly casemapping: string;
  maxTextBytes(command: "PRIVMSG" | "NOTICE", target: string): number;
  /** Queues a line (false: the requester's backlog is full); meta says for whom, and hears when it went. */
  say(target: string, text: string, command?: "PRIVMSG" | "NOTICE", meta?: SayMeta): boolean | void;
  /** Whether replies to the target can be sent (false after "cannot send to channel"). */
  canSend?(target: string): boolean;
  /** A CTCP reply (NOTICE with \x01) of our own text. */
  ctcpReply?(target: string, text: string): void;
}

/**
 * How the bot recognises requests, how many it runs and queues, and their limits.
 *
 * @example
 * ```ts
 * const o: BotOptions = {
 *   prefix: "!py", nickAddressing: true, privateBareCode: true, maxLines: 3, queueSize: 50,
 *   workers: 2, perUserConcurrency: 1, userLimits: limits, adminLimits: limits, rateLimit,
 * };
 * ```
 */
export interface BotOptions {
  /** Command prefix, e.g. "!py". */
  prefix: string;
  nickAddressing: boolean;
  privateBareCode: boolean;
  /** Lines of output per answer. */
  maxLines: number;
  /** Requests waiting or running at once; beyond it users get a "busy" notice. */
  queueSize: number;
  /** Evaluations running at once (the sandbox's worker count). */
  workers: number;
  /** Evaluations one user may have running at once. */
  perUserConcurrency: number;
  userLimits: EvalLimits;
  /** Limits for admins (already clamped to the ceilings by the config). */
  adminLimits: EvalLimits;
  rateLimit: RateLimitOptions;
  /** Uploads cut output (--paste-url); absent: the cut mark only. */
  paste?: Paster;
  /** The answer to CTCP VERSION. */
  version?: string;
}

/**
 * The bot's clock and log, injected for tests.
 *
 * @example
 * ```ts
 * const fx: BotEffects = { now: Date.now, log: (level, text) => console.error(level, text) };
 * ```
 */
export interface BotEffects {
  now(): number;
  log(level: "info" | "warn" | "error", text: string): void;
}

interface Job {
  cmd: Extract<Command, { kind: "eval" }>;
  who: Identity;
  key: string;
  admin: boolean;
  queuedAt: number;
  /** A line of its reply was refused (backlog full) and logged. */
  dropLogged?: boolean;
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
  /** Waiting jobs by requester key, and how many each requester had started (fairness). */
  #queues = new Map<string, Job[]>();
  #served = new Map<string, number>();
  #queued = 0;
  #stopping = false;
  #running = 0;
  #runningPerUser = new Map<string, number>();
  #idle: (() => void)[] = [];
  #lastPrune = 0;
  /** Counters for tests and the shutdown log. */
  readonly stats = { evaluated: 0, refusedRate: 0, refusedBusy: 0, ignored: 0, failed: 0, chatter: 0, pasted: 0 };

  constructor(client: BotClient, evaluate: Evaluator, format: Formatter, opts: BotOptions, fx: BotEffects) {
    this.#client = client;
    this.#evaluate = evaluate;
    this.#format = format;
    this.#opts = opts;
    this.#fx = fx;
    this.#limiter = new RateLimiter(opts.rateLimit);
  }

  /** Requests queued or running. */
  get pending(): number {
    return this.#queued + this.#running;
  }

  /** Feeds one incoming message. NOTICEs and anything but PRIVMSG are never answered. */
  handle(m: IrcMessage): void {
    if (m.command !== "PRIVMSG" || m.params.length < 2 || !m.source?.user) return;
    const c = this.#client;
    const who: Identity = { nick: m.source.nick, user: m.source.user, host: m.source.host, account: m.tags["account"] };
    if (/^\x01VERSION\x01?$/i.test(m.params[1]!)) {
      if (this.#limiter.isIgnored(who)) return;
      c.ctcpReply?.(who.nick, `VERSION ${this.#opts.version ?? "wasi-py IRC bot"}`);
      return;
    }
    if (c.canSend && !c.canSend(m.params[0]!) && m.params[0] !== c.nick) return;
    const cmd = parseCommand({
      text: m.params[1],
      target: m.params[0],
      from: who.nick,
      botNick: c.nick,
      prefix: this.#opts.prefix,
      chanTypes: c.chanTypes,
      casemapping: c.casemapping,
      allowNickAddressing: this.#opts.nickAddressing,
      privateBareCode: this.#opts.privateBareCode,
    });
    if (!cmd) return;
    const now = this.#fx.now();
    if (now - this.#lastPrune > 60_000) {
      this.#limiter.prune(now);
      this.#lastPrune = now;
    }
    const d = this.#limiter.check(who, now);
    if (!d.allowed) {
      if (d.reason === "ignored") {
        this.stats.ignored++;
        return;
      }
      this.stats.refusedRate++;
      if (d.notify) {
        // One log line per lock-out, not one per refused message.
        this.#fx.log("info", `rate limit: ${fullMask(who)} locked out for ${Math.ceil(d.retryInMs / 1000)} s`);
        const o = this.#opts.rateLimit;
        const limit = this.#limiter.limitFor(this.#limiter.isAdmin(who));
        this.#send(
          who.nick,
          `Please slow down: at most ${limit} requests per ${Math.round(o.windowMs / 1000)} s. Try again in ${
            Math.ceil(d.retryInMs / 1000)
          } s.`,
          "NOTICE",
        );
      }
      return;
    }
    if (cmd.kind === "usage") {
      this.#reply(cmd, usageHint(this.#opts.prefix, c.nick));
      return;
    }
    if (cmd.kind === "help") {
      this.#reply(cmd, this.#helpText());
      return;
    }
    if (this.pending >= this.#opts.queueSize) {
      this.stats.refusedBusy++;
      this.#fx.log("info", `refused ${fullMask(who)} in ${cmd.replyTo}: queue full`);
      this.#send(who.nick, "Busy right now, please try again in a little while.", "NOTICE");
      return;
    }
    const key = userKey(who);
    const q = this.#queues.get(key) ?? [];
    q.push({ cmd, who, key, admin: d.admin, queuedAt: now });
    this.#queues.set(key, q);
    this.#queued++;
    this.#schedule();
  }

  #helpText(): string {
    const p = this.#opts.prefix;
    const l = this.#opts.userLimits;
    const r = this.#opts.rateLimit;
    return `I run Python 3.13 in a sandbox: ${p} <code> (or ${this.#client.nick}: <code>, or in private). ` +
      `${p}:v <code> shows fuel and time. Limits: ${l.timeoutMs / 1000} s, ${l.memoryMiB} MiB, ` +
      `${r.evalsPerWindow} requests per ${Math.round(r.windowMs / 1000)} s.`;
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Drops queued (not yet running) requests and marks the bot as stopping; for shutdown. */
  clearQueue(): void {
    this.#stopping = true;
    this.#queues.clear();
    this.#queued = 0;
    this.#checkIdle();
  }

  /** The next job: of the requesters under their concurrency, the one served least (then the oldest). */
  #nextJob(): Job | undefined {
    let best: Job[] | undefined;
    let bestServed = Infinity;
    for (const [key, q] of this.#queues) {
      if ((this.#runningPerUser.get(key) ?? 0) >= this.#opts.perUserConcurrency) continue;
      const served = this.#served.get(key) ?? 0;
      if (served < bestServed || (served === bestServed && q[0]!.queuedAt < best![0]!.queuedAt)) {
        best = q;
        bestServed = served;
      }
    }
    if (!best) return undefined;
    const job = best.shift()!;
    if (best.length === 0) this.#queues.delete(job.key);
    this.#queued--;
    this.#served.set(job.key, bestServed + 1);
    return job;
  }

  #schedule(): void {
    while (this.#running < this.#opts.workers) {
      const job = this.#nextJob();
      if (!job) break;
      this.#running++;
      this.#runningPerUser.set(job.key, (this.#runningPerUser.get(job.key) ?? 0) + 1);
      void this.#run(job).finally(() => {
        this.#running--;
        const n = (this.#runningPerUser.get(job.key) ?? 1) - 1;
        if (n > 0) this.#runningPerUser.set(job.key, n);
        else this.#runningPerUser.delete(job.key);
        // A requester with nothing left starts afresh next time (the counts stay bounded).
        if (n <= 0 && !this.#queues.has(job.key)) this.#served.delete(job.key);
        this.#schedule();
        this.#checkIdle();
      });
    }
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
    const lines = await this.#formatWithPaste(result, cmd, limits);
    const sent = { n: 0, first: -1, last: 0 };
    const total = Math.min(lines.length, this.#opts.maxLines);
    const onSent = (delayMs: number) => {
      if (sent.first < 0) sent.first = delayMs;
      sent.last = delayMs;
      if (++sent.n === total) {
        this.#fx.log(
          "info",
          `replied to ${who.nick} in ${cmd.replyTo}: ${total} line${total === 1 ? "" : "s"}, sent after ${sent.first}${
            total > 1 ? `-${sent.last}` : ""
          } ms`,
        );
      }
    };
    for (const line of lines.slice(0, this.#opts.maxLines)) this.#reply(cmd, line, job, onSent);
  }

  /** Formats; when cut and a paste target is set, uploads the whole output and links it. */
  async #formatWithPaste(result: RunResult, cmd: Extract<Command, { kind: "eval" }>, limits: EvalLimits) {
    const opts = {
      maxBytes: this.#budget(cmd),
      maxLines: this.#opts.maxLines,
      verbose: cmd.verbose,
      fuelLimit: limits.fuel,
      timeoutMs: limits.timeoutMs,
      memoryMiB: limits.memoryMiB,
    };
    const run = (cutLink?: string): { lines: string[]; cut: boolean } => {
      try {
        const r = this.#format(result, cutLink === undefined ? opts : { ...opts, cutLink });
        return Array.isArray(r) ? { lines: r, cut: false } : r;
      } catch (e) {
        this.#fx.log("error", `formatting failed: ${(e as Error).message}`);
        return { lines: [`(${result.outcome})`], cut: false };
      }
    };
    let reply = run();
    if (reply.cut && this.#opts.paste) {
      try {
        const text = result.stdout + (result.stdout && result.stderr ? "\n" : "") + result.stderr;
        const link = await this.#opts.paste(text);
        reply = run(link);
        this.stats.pasted++;
      } catch (e) {
        this.#fx.log("warn", `paste failed, replying without a link: ${(e as Error).message}`);
      }
    }
    return reply.lines.length === 0 ? ["(no output)"] : reply.lines;
  }

  /** Bytes of text one reply line may have after `PRIVMSG target :nick: `. */
  #budget(cmd: Command): number {
    const base = this.#client.maxTextBytes("PRIVMSG", cmd.replyTo);
    return base - (cmd.addressee ? utf8Length(`${cmd.addressee}: `) : 0);
  }

  #reply(cmd: Command, text: string, job?: Job, onSent?: (delayMs: number) => void): void {
    const meta: SayMeta = job ? { requester: job.key, nick: job.who.nick, onSent } : {};
    const ok = this.#send(cmd.replyTo, cmd.addressee ? `${cmd.addressee}: ${text}` : text, "PRIVMSG", meta);
    if (ok === false && !job?.dropLogged) {
      if (job) job.dropLogged = true; // one line per reply, not per line
      this.#fx.log("warn", `reply to ${job?.who.nick} in ${cmd.replyTo} cut short: their backlog of lines is full`);
    }
  }

  #send(target: string, text: string, command: "PRIVMSG" | "NOTICE", meta: SayMeta = {}): boolean | void {
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
