/**
 * The client's paced output: PRIVMSG/NOTICE lines go through the fair scheduler (flood.ts) and
 * out at the pace the server tolerates. While lines wait, a PING now and then measures the
 * server's lag (InspIRCd's fakelag shows up there first): a lagging server halves the pace, a
 * quick one restores it step by step. After a reconnect, lines that waited longer than
 * `staleReplyMs` are not replayed (a backlog sent at once is what gets a bot killed again): each
 * requester whose lines were dropped gets one line saying so, once the channel's member list
 * shows they are still there (never to someone who left). Lines for a nick that quit or left the
 * channel are dropped; lines for a nick that changed follow it. Each line's real wait is reported
 * to whoever queued it, so the log shows the delay users saw.
 */
import { OutgoingScheduler } from "./flood.ts";
import type { Queued, SchedulerOptions } from "./flood.ts";
import type { TimerHandle, Timers } from "./clock.ts";

/**
 * Pacing settings.
 *
 * @example
 * ```ts
 * const o: PacedOutputOptions = {
 *   flood: { perTarget: { burst: 4, ratePerSec: 1 }, global: { burst: 4, ratePerSec: 1 }, maxQueuedPerRequester: 12 },
 *   staleReplyMs: 30_000, lagThresholdMs: 2_000, lagProbeIntervalMs: 10_000,
 * };
 * ```
 */
export interface PacedOutputOptions {
  flood: SchedulerOptions;
  /** After a reconnect, lines queued longer ago than this are dropped (and summarised). */
  staleReplyMs: number;
  /** Server lag above this halves the pace. */
  lagThresholdMs: number;
  /** While lines wait, measure the lag at most this often. */
  lagProbeIntervalMs: number;
}

/**
 * Who a line answers and who wants to hear when it went out.
 *
 * @example
 * ```ts
 * const meta: SayMeta = { requester: "@home.example", nick: "alice", onSent: (ms) => console.log(ms) };
 * ```
 */
export interface SayMeta {
  /** Fairness key (the rate-limit key); lines without one are the bot's own. */
  requester?: string;
  /** The requester's nick (lower-cased by the client), for the summary after a reconnect and to drop lines when they leave. */
  nick?: string;
  /** Called when the line is written, with how long it waited. */
  onSent?: (delayMs: number) => void;
}

/**
 * One line as queued: the command, where it goes (as given), its text, and for whom.
 *
 * @example
 * ```ts
 * const l: OutLine = { command: "PRIVMSG", to: "#py", text: "alice: 42", meta: { requester: "@h", nick: "alice" } };
 * ```
 */
export interface OutLine {
  command: "PRIVMSG" | "NOTICE";
  to: string;
  text: string;
  meta: SayMeta;
}

/**
 * What the paced output needs from the client.
 *
 * @example
 * ```ts
 * const fx: PacedOutputEffects = { now: Date.now, timers: systemTimers, log: console.log,
 *   write: (l) => conn.send({ command: l.command, params: [l.to, l.text] }),
 *   ping: (t) => conn.send({ command: "PING", params: [t] }), present: () => true };
 * ```
 */
export interface PacedOutputEffects {
  now(): number;
  timers: Timers;
  log(level: "info" | "warn" | "error", text: string): void;
  write(line: OutLine): void;
  ping(token: string): void;
  /** Whether `nick` is in `target` (a channel) or on a channel with us (a nick); undefined: not known yet. */
  present(target: string, nick: string): boolean | undefined;
}

const LAG_TOKEN = "wasi-py-lag-";

/**
 * The line telling a requester that their stale reply lines were dropped after a reconnect.
 *
 * @example
 * ```ts
 * droppedNote("alice", 3); // "alice: (3 reply lines dropped after a reconnect)"
 * ```
 */
export function droppedNote(nick: string | undefined, n: number): string {
  return `${nick ? `${nick}: ` : ""}(${n} reply line${n === 1 ? "" : "s"} dropped after a reconnect)`;
}

/** A "lines dropped" note waiting to learn whether its addressee is still there. */
interface Note {
  target: string;
  to: string;
  nick: string | undefined;
  n: number;
}

/**
 * Paced, fair, lag-aware output for one client (lives across reconnects).
 *
 * @example
 * ```ts
 * const out = new PacedOutput(options, effects);
 * out.push("#py", { command: "PRIVMSG", to: "#py", text: "hi", meta: {} });
 * out.resume(); // on registration
 * ```
 */
export class PacedOutput {
  #o: PacedOutputOptions;
  #fx: PacedOutputEffects;
  #q: OutgoingScheduler<OutLine>;
  #timer: TimerHandle | undefined;
  #live = false;
  #probe: { token: string; at: number; slowed: boolean } | undefined;
  #lastProbe = -Infinity;
  #seq = 0;
  /** "Dropped after a reconnect" notes until their addressee is known to be present (or not). */
  #notes: Note[] = [];
  #notesExpire: TimerHandle | undefined;
  /** Counters for tests and the log. */
  readonly stats = { sent: 0, dropped: 0, refused: 0, worstDelayMs: 0, lastLagMs: 0, departed: 0 };

  constructor(o: PacedOutputOptions, fx: PacedOutputEffects) {
    this.#o = o;
    this.#fx = fx;
    this.#q = new OutgoingScheduler<OutLine>(o.flood, fx.now());
  }

  /** Lines waiting. */
  get size(): number {
    return this.#q.size;
  }

  /** The pace now, lines a second (lower than configured while the server lags). */
  get ratePerSec(): number {
    return this.#q.ratePerSec;
  }

  /** Queues a line for `target` (lower-cased); false when the requester's backlog is full (the line is refused). */
  push(target: string, line: OutLine): boolean {
    const ok = this.#q.push(target, line.meta.requester ?? "", line, this.#fx.now());
    if (!ok) this.stats.refused++;
    else this.#kick();
    return ok;
  }

  /** Room left in the requester's backlog for `target` (lower-cased), in lines. */
  room(target: string, requester: string): number {
    return Math.max(0, this.#o.flood.maxQueuedPerRequester - this.#q.queuedFor(target, requester));
  }

  /** A command went out unpaced (PONG, JOIN, ...): it counts against the pace too. */
  charge(): void {
    this.#q.charge(this.#fx.now());
  }

  /**
   * `nick` (lower-cased) left: drops its lines in `channel`, or everywhere when it quit (no
   * channel). Returns how many were dropped.
   */
  departed(nick: string, channel?: string): number {
    const gone = this.#q.removeWhere((x) =>
      channel === undefined
        ? x.target === nick || x.item.meta.nick === nick
        : x.target === channel && x.item.meta.nick === nick
    );
    this.#notes = this.#notes.filter((n) => !(n.nick === nick && (channel === undefined || n.target === channel)));
    this.stats.departed += gone.length;
    return gone.length;
  }

  /** `from` is now `to` (both lower-cased; `toShown` as the server spells it): its lines follow it. */
  renamed(from: string, to: string, toShown: string): void {
    this.#q.update((x) => {
      const l = x.item;
      const mine = l.meta.nick === from;
      if (!mine && x.target !== from) return l;
      const prefix = `${l.meta.nick ?? ""}: `;
      return {
        ...l,
        to: x.target === from ? toShown : l.to,
        text: mine && l.text.toLowerCase().startsWith(prefix) ? `${toShown}: ${l.text.slice(prefix.length)}` : l.text,
        meta: mine ? { ...l.meta, nick: to } : l.meta,
      };
    });
    this.#q.retarget(from, to);
    for (const n of this.#notes) {
      if (n.nick === from) n.nick = to;
      if (n.target === from) [n.target, n.to] = [to, toShown];
    }
  }

  /** Registered (again): drop stale lines, note them for their requesters, then send at the pace. */
  resume(): void {
    this.#live = true;
    this.#probe = undefined;
    const dropped = this.#q.dropQueuedBefore(this.#fx.now() - this.#o.staleReplyMs);
    if (dropped.length) this.#noteDropped(dropped);
    this.#kick();
  }

  #noteDropped(dropped: Queued<OutLine>[]): void {
    this.stats.dropped += dropped.length;
    const groups = new Map<string, Note>();
    for (const d of dropped) {
      const k = `${d.target}\0${d.requester}`;
      const g = groups.get(k) ?? { target: d.target, to: d.item.to, nick: d.item.meta.nick, n: 0 };
      g.n++;
      groups.set(k, g);
    }
    this.#fx.log("warn", `reconnected: dropped ${dropped.length} stale reply lines (${groups.size} replies)`);
    this.#notes.push(...groups.values());
    if (this.#notesExpire !== undefined) this.#fx.timers.clearTimeout(this.#notesExpire);
    // Addressees not seen again by then are taken as gone.
    this.#notesExpire = this.#fx.timers.setTimeout(() => {
      this.#notesExpire = undefined;
      this.#notes = [];
    }, Math.max(this.#o.staleReplyMs, 1000));
    this.presenceChanged();
  }

  /** The client learnt who is where (a channel's member list): send the notes now known to be wanted. */
  presenceChanged(): void {
    const keep: Note[] = [];
    for (const n of this.#notes) {
      const here = n.nick === undefined ? true : this.#fx.present(n.target, n.nick);
      if (here === undefined) keep.push(n);
      else if (here) {
        const line: OutLine = { command: "PRIVMSG", to: n.to, text: droppedNote(n.nick, n.n), meta: {} };
        this.#q.push(n.target, "", line, this.#fx.now());
      }
    }
    this.#notes = keep;
    this.#kick();
  }

  /** The connection is gone: stop sending until resume(). */
  pause(): void {
    this.#live = false;
    if (this.#timer !== undefined) this.#fx.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A PONG arrived: if it answers our lag probe, adapt the pace. */
  pong(token: string): void {
    const p = this.#probe;
    if (!p || token !== p.token) return;
    this.#probe = undefined;
    const lag = this.#fx.now() - p.at;
    this.stats.lastLagMs = lag;
    this.#adapt(lag > this.#o.lagThresholdMs ? "slower" : lag < this.#o.lagThresholdMs / 2 ? "faster" : "keep", lag);
  }

  #adapt(how: "slower" | "faster" | "keep", lagMs: number): void {
    const base = this.#o.flood.global.ratePerSec;
    const now = this.#fx.now();
    const old = this.#q.ratePerSec;
    const rate = how === "slower" ? Math.max(base / 8, old / 2) : how === "faster" ? Math.min(base, old * 1.5) : old;
    if (rate === old) return;
    this.#q.setRate(rate, now);
    this.#fx.log("info", `server lag ${lagMs} ms: pacing at ${Number(rate.toFixed(3))} lines/s`);
  }

  #kick(): void {
    if (this.#timer !== undefined) this.#fx.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pump();
  }

  #maybeProbe(now: number): void {
    if (this.#probe && now - this.#probe.at > 10 * this.#o.lagProbeIntervalMs) this.#probe = undefined; // lost
    const p = this.#probe;
    if (p && !p.slowed && now - p.at > this.#o.lagThresholdMs) {
      p.slowed = true; // no answer yet: the server is lagging at least this much
      this.#adapt("slower", now - p.at);
    }
    if (p || now - this.#lastProbe < this.#o.lagProbeIntervalMs) return;
    const token = `${LAG_TOKEN}${++this.#seq}`;
    this.#probe = { token, at: now, slowed: false };
    this.#lastProbe = now;
    this.#q.charge(now);
    this.#fx.ping(token);
  }

  #pump(): void {
    if (!this.#live) return;
    const now = this.#fx.now();
    const { send, nextMs } = this.#q.drain(now);
    for (const x of send) {
      this.#fx.write(x.item);
      this.stats.sent++;
      const delay = now - x.queuedAt;
      this.stats.worstDelayMs = Math.max(this.stats.worstDelayMs, delay);
      x.item.meta.onSent?.(delay);
    }
    if (nextMs === undefined) return;
    this.#maybeProbe(now);
    this.#timer = this.#fx.timers.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, nextMs);
  }
}
