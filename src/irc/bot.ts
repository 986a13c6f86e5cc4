/**
 * The eval bot: turns PRIVMSGs into evaluations and evaluations into replies.
 * message.ts (parsed by the client) → command.ts → rate limit (access.ts) → bounded queue →
 * evaluator (the sandbox's worker pool, several at once) → formatter → client.say
 * (flood-controlled). A slow program holds one slot only: others keep being served,
 * and one user's backlog never holds back another user's request.
 */

import { IrcSerialiseError } from "./message.ts";
import { utf8Length } from "../text/utf8.ts";
import type { IrcMessage } from "./message.ts";
import { parseCommand, usageHint } from "./command.ts";
import type { Command } from "./command.ts";
import { fullMask, RateLimiter, userKey } from "./access.ts";
import type { Identity, RateLimitOptions } from "./access.ts";
import type { RunResult } from "../sandbox/result.ts";

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
  },
) => string[];

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
  say(target: string, text: string, command?: "PRIVMSG" | "NOTICE"): void;
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
  #queue: Job[] = [];
  #running = 0;
  #runningPerUser = new Map<string, number>();
  #idle: (() => void)[] = [];
  #lastPrune = 0;
  /** Counters for tests and the shutdown log. */
  readonly stats = { evaluated: 0, refusedRate: 0, refusedBusy: 0, ignored: 0, failed: 0 };

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
    return this.#queue.length + this.#running;
  }

  /** Feeds one incoming message. NOTICEs and anything but PRIVMSG are never answered. */
  handle(m: IrcMessage): void {
    if (m.command !== "PRIVMSG" || m.params.length < 2 || !m.source?.user) return;
    const c = this.#client;
    const who: Identity = { nick: m.source.nick, user: m.source.user, host: m.source.host, account: m.tags["account"] };
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
      this.#fx.log("info", `refused ${fullMask(who)} in ${cmd.replyTo}: rate limit`);
      if (d.notify) {
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
    if (this.pending >= this.#opts.queueSize) {
      this.stats.refusedBusy++;
      this.#fx.log("info", `refused ${fullMask(who)} in ${cmd.replyTo}: queue full`);
      this.#send(who.nick, "Busy right now, please try again in a little while.", "NOTICE");
      return;
    }
    this.#queue.push({ cmd, who, key: userKey(who), admin: d.admin, queuedAt: now });
    this.#schedule();
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Drops queued (not yet running) requests; for shutdown. */
  clearQueue(): void {
    this.#queue = [];
    this.#checkIdle();
  }

  #schedule(): void {
    while (this.#running < this.#opts.workers) {
      const i = this.#queue.findIndex((j) => (this.#runningPerUser.get(j.key) ?? 0) < this.#opts.perUserConcurrency);
      if (i < 0) break;
      const [job] = this.#queue.splice(i, 1);
      this.#running++;
      this.#runningPerUser.set(job.key, (this.#runningPerUser.get(job.key) ?? 0) + 1);
      void this.#run(job).finally(() => {
        this.#running--;
        const n = (this.#runningPerUser.get(job.key) ?? 1) - 1;
        if (n > 0) this.#runningPerUser.set(job.key, n);
        else this.#runningPerUser.delete(job.key);
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
      this.stats.failed++;
      this.#fx.log(
        "error",
        `eval ${fullMask(who)} in ${cmd.replyTo}: outcome=internal_error ms=${this.#fx.now() - started} (${
          (e as Error).message
        })`,
      );
      this.#reply(cmd, "internal error, sorry (the operator has the details in the log)");
      return;
    }
    this.stats.evaluated++;
    this.#fx.log(
      "info",
      `eval ${fullMask(who)}${
        who.account ? ` [${who.account}]` : ""
      } in ${cmd.replyTo}: outcome=${result.outcome} fuel=${result.fuelUsed} ms=${Math.round(result.wallMs)} wait=${
        started - job.queuedAt
      }${job.admin ? " admin" : ""}`,
    );
    let lines: string[];
    try {
      lines = this.#format(result, {
        maxBytes: this.#budget(cmd),
        maxLines: this.#opts.maxLines,
        verbose: cmd.verbose,
        fuelLimit: limits.fuel,
        timeoutMs: limits.timeoutMs,
        memoryMiB: limits.memoryMiB,
      });
    } catch (e) {
      this.#fx.log("error", `formatting failed: ${(e as Error).message}`);
      lines = [`(${result.outcome})`];
    }
    if (lines.length === 0) lines = ["(no output)"];
    for (const line of lines.slice(0, this.#opts.maxLines)) this.#reply(cmd, line);
  }

  /** Bytes of text one reply line may have after `PRIVMSG target :nick: `. */
  #budget(cmd: Command): number {
    const base = this.#client.maxTextBytes("PRIVMSG", cmd.replyTo);
    return base - (cmd.addressee ? utf8Length(`${cmd.addressee}: `) : 0);
  }

  #reply(cmd: Command, text: string): void {
    this.#send(cmd.replyTo, cmd.addressee ? `${cmd.addressee}: ${text}` : text, "PRIVMSG");
  }

  #send(target: string, text: string, command: "PRIVMSG" | "NOTICE"): void {
    try {
      this.#client.say(target, text, command);
    } catch (e) {
      if (!(e instanceof IrcSerialiseError)) throw e;
      // The formatter should never let these through; if it does, show them, never send them.
      this.#fx.log("warn", `unsafe reply text neutralised: ${e.message}`);
      this.#client.say(
        target,
        text.replace(/[\r\n\0\x01]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`),
        command,
      );
    }
  }
}
