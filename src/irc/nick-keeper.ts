/**
 * The client's nick handling: which nick to ask for, what to do when the server refuses it
 * before registration (432 erroneous, 433 taken, 436, 437), and taking the main nick back later.
 * A refused nick is answered with a fitted one (shortened to what the server seems to take, then
 * the alternates, then short fallbacks with digits), paced with backoff after the first two, and
 * after `nickRefusalLimit` refusals in a row the client stops with one clear error: a server that
 * refuses every nick (a nick length of 5, a wildcard ban) must not get thousands of NICKs a second.
 */
import { backoffDelay } from "./connection.ts";
import { fitNick, randomNick, shorterLimit } from "./nicks.ts";
import { repeat } from "./clock.ts";
import type { Timers } from "./clock.ts";
import type { SessionState } from "./handlers.ts";

/**
 * The nick settings (a part of the client's options).
 *
 * @example
 * ```ts
 * const o: NickKeeperOptions = { nick: "pybot", altNicks: ["pybot_"], regainNickIntervalMs: 60_000,
 *   nickRetryMinMs: 1000, nickRefusalLimit: 10, reconnect: { maxDelayMs: 300_000 } };
 * ```
 */
export interface NickKeeperOptions {
  nick: string;
  altNicks: string[];
  regainNickIntervalMs: number;
  /** First pause between nick attempts after two quick ones (doubles, up to reconnect.maxDelayMs). */
  nickRetryMinMs: number;
  /** Refusals in a row before registration after which the client stops (fatal). */
  nickRefusalLimit: number;
  reconnect: { maxDelayMs: number };
}

/**
 * What the nick keeper needs from the client.
 *
 * @example
 * ```ts
 * const fx: NickKeeperEffects = { state: () => session, random: Math.random, log: console.log,
 *   lower: (s) => s.toLowerCase(), timers: systemTimers, later: (ms, fn) => setTimeout(fn, ms),
 *   sendNick: (n) => conn.send({ command: "NICK", params: [n] }), fatal: (why) => console.error(why) };
 * ```
 */
export interface NickKeeperEffects {
  state(): SessionState;
  random(): number;
  log(level: "info" | "warn" | "error", text: string): void;
  lower(s: string): string;
  timers: Timers;
  /** Runs `fn` after `ms` unless the client quits first. */
  later(ms: number, fn: () => void): void;
  sendNick(nick: string): void;
  /** Every nick was refused nickRefusalLimit times in a row: stop. */
  fatal(why: string): void;
}

/**
 * Chooses, retries and regains the client's nick.
 *
 * @example
 * ```ts
 * const nicks = new NickKeeper(options, effects);
 * session.nick = nicks.firstNick();
 * nicks.refused("taken"); // on 433 before registration
 * ```
 */
export class NickKeeper {
  #o: NickKeeperOptions;
  #fx: NickKeeperEffects;
  /** Refusals in a row before registration, across reconnects. */
  #refusals = 0;
  /** The nick length the server seems to take, learnt from refusals (kept across reconnects). */
  #learntMax: number | undefined;
  #stopRegain: (() => void) | undefined;

  constructor(o: NickKeeperOptions, fx: NickKeeperEffects) {
    this.#o = o;
    this.#fx = fx;
  }

  /** Refusals in a row so far (0 once registered). */
  get refusals(): number {
    return this.#refusals;
  }

  #max(): number {
    return this.#fx.state().nickMax ?? this.#learntMax ?? Infinity;
  }

  /** The main nick as this server takes it (cut to its length). */
  get mainNick(): string {
    return fitNick(this.#o.nick, this.#max());
  }

  /** The nick to register with on a new connection. */
  firstNick(): string {
    return this.mainNick;
  }

  #candidate(index: number, max: number): string {
    const alts = this.#o.altNicks;
    if (index === 0) return fitNick(this.#o.nick, max);
    if (index <= alts.length) return fitNick(alts[index - 1]!, max);
    return randomNick(this.#o.nick, this.#fx.random(), max);
  }

  /** The nick we asked for was refused before registration (`why`: taken, erroneous, ...). */
  refused(why: string): void {
    const s = this.#fx.state();
    if (s.registered) return;
    const refused = s.nick;
    this.#refusals++;
    if (this.#refusals >= this.#o.nickRefusalLimit) {
      const msg = `the server refused ${this.#refusals} nicks in a row (the last, ${refused}: ${why}); ` +
        "choose --nick and --alt-nick that this server accepts";
      this.#fx.log("error", msg);
      this.#fx.fatal(msg);
      return;
    }
    if (why.startsWith("erroneous")) {
      // Most often too long: the same nick shortened, before any other.
      this.#learntMax = shorterLimit(refused, this.#learntMax);
      s.nickMax = this.#learntMax;
    } else {
      s.nickIndex++;
    }
    const max = this.#max();
    let next = this.#candidate(s.nickIndex, max);
    for (let i = 0; next === refused && i < 4; i++) next = this.#candidate(++s.nickIndex, max);
    const delay = this.#refusals <= 2 ? 0 : backoffDelay(
      this.#refusals - 3,
      { minDelayMs: this.#o.nickRetryMinMs, maxDelayMs: this.#o.reconnect.maxDelayMs, jitter: 0.2 },
      this.#fx.random(),
    );
    this.#fx.log("warn", `nick ${refused} ${why}; trying ${next}${delay ? ` in ${delay} ms` : ""}`);
    const send = () => {
      if (this.#fx.state() !== s || s.registered) return;
      s.nick = next;
      this.#fx.sendNick(next);
    };
    if (delay === 0) send();
    else this.#fx.later(delay, send);
  }

  /** Registered: the refusals are over; regain the main nick if we are on another. */
  registered(): void {
    this.#refusals = 0;
    this.update();
  }

  /** The connection is gone: no regain attempts until the next registration. */
  disconnected(): void {
    this.#stopRegain?.();
    this.#stopRegain = undefined;
  }

  /** Our nick changed (or we registered): start or stop trying to regain the main one. */
  update(): void {
    const s = this.#fx.state();
    const onMain = this.#fx.lower(s.nick) === this.#fx.lower(this.mainNick);
    if (onMain) this.disconnected();
    else if (!this.#stopRegain && s.registered) {
      this.#stopRegain = repeat(this.#fx.timers, this.#o.regainNickIntervalMs, () => {
        if (this.#fx.state().registered) this.#fx.sendNick(this.mainNick);
      });
    }
  }

  /** Whether `nick` leaving or changing frees our main nick for us to take back. */
  wantMainNick(nick: string | undefined): boolean {
    const s = this.#fx.state();
    const main = this.#fx.lower(this.mainNick);
    return s.registered && nick !== undefined && this.#fx.lower(s.nick) !== main && this.#fx.lower(nick) === main;
  }
}
