/**
 * What the client remembers about channels that refused it: a JOIN refused (471 full, 473
 * invite-only, 474 banned, 475 bad key) is logged and retried with a growing delay; a message
 * refused (404: +m, banned, not on the channel) is logged once and the channel is paused, so the
 * bot stops running programs whose answers cannot be delivered, until the pause ends or the
 * channel's modes change. A kick is logged with who and why; a configured channel is rejoined
 * once after `rejoinAfterKickMs` (0: never), and kicks that follow soon after back off like
 * refused JOINs. Every join is logged once.
 */
import { backoffDelay } from "./connection.ts";

/**
 * The settings ChannelWatch reads from the client's options.
 *
 * @example
 * ```ts
 * const o: ChannelWatchOptions = { channels: ["#py"], joinRetryMinMs: 30_000, cannotSendPauseMs: 600_000,
 *   rejoinAfterKickMs: 5_000, stableConnectionMs: 60_000, reconnect: { maxDelayMs: 300_000 } };
 * ```
 */
export interface ChannelWatchOptions {
  /** Configured channels ("#chan" or "#chan key"). */
  channels: readonly string[];
  joinRetryMinMs: number;
  cannotSendPauseMs: number;
  /** Wait before rejoining after a kick (0: do not rejoin). */
  rejoinAfterKickMs: number;
  /** A kick later than this after the previous one's rejoin starts over with the short delay. */
  stableConnectionMs: number;
  reconnect: { maxDelayMs: number };
}

/**
 * The client's side: clock, randomness, log, case mapping, and a JOIN retry for later.
 *
 * @example
 * ```ts
 * const fx: ChannelWatchEffects = { now: Date.now, random: Math.random, log: console.log,
 *   lower: (s) => s.toLowerCase(), rejoinLater: (ms, entry) => setTimeout(() => join(entry), ms) };
 * ```
 */
export interface ChannelWatchEffects {
  now(): number;
  random(): number;
  log(level: "info" | "warn" | "error", text: string): void;
  lower(s: string): string;
  /** Sends JOIN for the configured `entry` after `ms`, if still not in channel `key`. */
  rejoinLater(ms: number, entry: string, key: string): void;
}

/**
 * Join retries and send pauses per channel.
 *
 * @example
 * ```ts
 * const w = new ChannelWatch(options, effects);
 * w.cannotSend("#py", "Cannot send to channel (+m)");
 * w.canSend("#py"); // false
 * ```
 */
export class ChannelWatch {
  #o: ChannelWatchOptions;
  #fx: ChannelWatchEffects;
  #joinAttempts = new Map<string, number>();
  #mutedUntil = new Map<string, number>();
  /** The last kick from each configured channel and how many came in quick succession. */
  #lastKick = new Map<string, { at: number; streak: number }>();

  constructor(o: ChannelWatchOptions, fx: ChannelWatchEffects) {
    this.#o = o;
    this.#fx = fx;
  }

  /** Whether replies to `target` can be sent (false while paused after a 404). */
  canSend(target: string): boolean {
    const until = this.#mutedUntil.get(this.#fx.lower(target));
    return until === undefined || this.#fx.now() >= until;
  }

  #entry(key: string): string | undefined {
    return this.#o.channels.find((e) => this.#fx.lower(e.split(" ")[0]!) === key);
  }

  #retryDelay(attempt: number): number {
    const o = { minDelayMs: this.#o.joinRetryMinMs, maxDelayMs: this.#o.reconnect.maxDelayMs, jitter: 0.2 };
    return backoffDelay(attempt, o, this.#fx.random());
  }

  /** A JOIN was refused: log it, and retry a configured channel with backoff. */
  joinFailed(chan: string, why: string): void {
    const key = this.#fx.lower(chan);
    const entry = this.#entry(key);
    if (!entry) {
      this.#fx.log("warn", `cannot join ${chan}: ${why}`);
      return;
    }
    const attempt = this.#joinAttempts.get(key) ?? 0;
    this.#joinAttempts.set(key, attempt + 1);
    const delay = this.#retryDelay(attempt);
    this.#fx.log("warn", `cannot join ${chan}: ${why}; retrying in ${Math.round(delay / 1000)} s`);
    this.#fx.rejoinLater(delay, entry, key);
  }

  /** We are in `chan`: retries and pauses end (one log line). */
  joined(chan: string): void {
    const key = this.#fx.lower(chan);
    this.#fx.log("info", `joined ${chan}${this.#joinAttempts.delete(key) ? " after retrying" : ""}`);
    this.#mutedUntil.delete(key);
  }

  /** We were kicked: log who and why; rejoin a configured channel once soon, then with backoff. */
  kicked(chan: string, by: string, reason: string): void {
    const key = this.#fx.lower(chan);
    const entry = this.#entry(key);
    let plan = "not rejoining (not a configured channel)";
    if (entry && this.#o.rejoinAfterKickMs <= 0) plan = "not rejoining (rejoin-after-kick-ms is 0)";
    else if (entry) {
      const now = this.#fx.now();
      const last = this.#lastKick.get(key);
      const soon = last !== undefined && now - last.at < this.#o.rejoinAfterKickMs + this.#o.stableConnectionMs;
      const streak = soon ? last.streak + 1 : 0;
      this.#lastKick.set(key, { at: now, streak });
      const delay = streak === 0 ? this.#o.rejoinAfterKickMs : this.#retryDelay(streak - 1);
      plan = `rejoining in ${Math.round(delay / 1000)} s${streak ? ` (kick ${streak + 1} in a row)` : ""}`;
      this.#fx.rejoinLater(delay, entry, key);
    }
    this.#fx.log("warn", `kicked from ${chan} by ${by}${reason ? ` (${reason})` : ""}; ${plan}`);
  }

  /** A message to `target` was refused: pause it (logged once per pause). */
  cannotSend(target: string, why: string): void {
    const key = this.#fx.lower(target);
    const paused = !this.canSend(target);
    this.#mutedUntil.set(key, this.#fx.now() + this.#o.cannotSendPauseMs);
    if (paused) return;
    const s = Math.round(this.#o.cannotSendPauseMs / 1000);
    this.#fx.log("warn", `cannot send to ${target}: ${why}; not evaluating there for ${s} s or until its modes change`);
  }

  /** The channel's modes changed (e.g. -m, +v for us): try again. */
  modesChanged(chan: string): void {
    this.#mutedUntil.delete(this.#fx.lower(chan));
  }
}
