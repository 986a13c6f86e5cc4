/**
 * The client's paced output: PRIVMSG/NOTICE lines go through the fair scheduler (flood.ts) and
 * out at the pace the server tolerates. While lines wait, a PING now and then measures the
 * server's lag (InspIRCd's fakelag shows up there first): a lagging server halves the pace, a
 * quick one restores it step by step. After a reconnect, lines that waited longer than
 * `staleReplyMs` are not replayed (a backlog sent at once is what gets a bot killed again): each
 * requester whose lines were dropped gets one line saying so. Each line's real wait is reported
 * to whoever queued it, so the log shows the delay users saw.
 */
import { OutgoingScheduler } from "./flood.ts";
import type { SchedulerOptions } from "./flood.ts";

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
  /** The requester's nick, for the summary after a reconnect. */
  nick?: string;
  /** Called when the line is written, with how long it waited. */
  onSent?: (delayMs: number) => void;
}

/**
 * What the paced output needs from the client.
 *
 * @example
 * ```ts
 * const fx: PacedOutputEffects = { now: Date.now, log: console.log, write: (l) => conn.writeLine(l),
 *   ping: (t) => conn.send({ command: "PING", params: [t] }), summary: (t, n, k) => `PRIVMSG ${t} :${k} dropped` };
 * ```
 */
export interface PacedOutputEffects {
  now(): number;
  log(level: "info" | "warn" | "error", text: string): void;
  write(line: string): void;
  ping(token: string): void;
  /** The serialised line telling `nick` (if any) in `target` that `count` lines were dropped. */
  summary(target: string, nick: string | undefined, count: number): string;
}

interface Line {
  line: string;
  meta: SayMeta;
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

/**
 * Paced, fair, lag-aware output for one client (lives across reconnects).
 *
 * @example
 * ```ts
 * const out = new PacedOutput(options, effects);
 * out.push("#py", "PRIVMSG #py :hi", {});
 * out.resume(); // on registration
 * ```
 */
export class PacedOutput {
  #o: PacedOutputOptions;
  #fx: PacedOutputEffects;
  #q: OutgoingScheduler<Line>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #live = false;
  #probe: { token: string; at: number; slowed: boolean } | undefined;
  #lastProbe = -Infinity;
  #seq = 0;
  /** Counters for tests and the log. */
  readonly stats = { sent: 0, dropped: 0, refused: 0, worstDelayMs: 0, lastLagMs: 0 };

  constructor(o: PacedOutputOptions, fx: PacedOutputEffects) {
    this.#o = o;
    this.#fx = fx;
    this.#q = new OutgoingScheduler<Line>(o.flood, fx.now());
  }

  /** Lines waiting. */
  get size(): number {
    return this.#q.size;
  }

  /** The pace now, lines a second (lower than configured while the server lags). */
  get ratePerSec(): number {
    return this.#q.ratePerSec;
  }

  /** Queues a line; false when the requester's backlog is full (the line is refused). */
  push(target: string, line: string, meta: SayMeta): boolean {
    const ok = this.#q.push(target, meta.requester ?? "", { line, meta }, this.#fx.now());
    if (!ok) this.stats.refused++;
    else this.#kick();
    return ok;
  }

  /** A command went out unpaced (PONG, JOIN, ...): it counts against the pace too. */
  charge(): void {
    this.#q.charge(this.#fx.now());
  }

  /** Registered (again): drop and summarise stale lines, then send at the pace. */
  resume(): void {
    this.#live = true;
    this.#probe = undefined;
    const dropped = this.#q.dropQueuedBefore(this.#fx.now() - this.#o.staleReplyMs);
    if (dropped.length) {
      this.stats.dropped += dropped.length;
      const groups = new Map<string, { target: string; nick?: string; n: number }>();
      for (const d of dropped) {
        const k = `${d.target}\0${d.requester}`;
        const g = groups.get(k) ?? { target: d.target, nick: d.item.meta.nick, n: 0 };
        g.n++;
        groups.set(k, g);
      }
      this.#fx.log("warn", `reconnected: dropped ${dropped.length} stale reply lines (${groups.size} replies)`);
      for (const g of groups.values()) {
        this.#q.push(g.target, "", { line: this.#fx.summary(g.target, g.nick, g.n), meta: {} }, this.#fx.now());
      }
    }
    this.#kick();
  }

  /** The connection is gone: stop sending until resume(). */
  pause(): void {
    this.#live = false;
    if (this.#timer) clearTimeout(this.#timer);
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
    if (this.#timer) clearTimeout(this.#timer);
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
      this.#fx.write(x.item.line);
      this.stats.sent++;
      const delay = now - x.queuedAt;
      this.stats.worstDelayMs = Math.max(this.stats.worstDelayMs, delay);
      x.item.meta.onSent?.(delay);
    }
    if (nextMs === undefined) return;
    this.#maybeProbe(now);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, nextMs);
  }
}
