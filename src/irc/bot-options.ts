/**
 * The bot's contracts: the evaluation limits, the evaluator, formatter and paster it is given,
 * what it needs of the IRC client, and its options and effects (the bot itself is bot.ts).
 */
import type { RunLimits, RunResult } from "../sandbox/mod.ts";
import type { RateLimitOptions } from "./access.ts";
import type { SayMeta } from "./output.ts";
import type { MoreOptions } from "./more.ts";

/**
 * Limits for one evaluation, as the sandbox takes them.
 *
 * @example
 * ```ts
 * const limits: EvalLimits = { fuel: 1e9, timeoutMs: 4000, memoryMiB: 64, maxOutputBytes: 4096 };
 * ```
 */
export type EvalLimits = Pick<RunLimits, "fuel" | "timeoutMs" | "memoryMiB" | "maxOutputBytes">;

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
 * RunResult → reply texts (formatIrc); the result's own limits say which one was hit.
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
  /** A CTCP reply (NOTICE with \x01) of our own text, queued like a reply (false: refused). */
  ctcpReply?(target: string, text: string, meta?: SayMeta): boolean | void;
  /** Room left for the requester's lines to `target` in the output backlog (absent: unlimited). */
  backlogRoom?(target: string, requester: string): number;
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
  /** What `!more` keeps (default: 5 minutes, 64 KiB per requester, 4 MiB in all). */
  more?: MoreOptions;
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
