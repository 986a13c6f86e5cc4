/**
 * Who may evaluate, how often, and with which limits: a per-user sliding-window rate
 * limit that answers with one polite notice per lock-out, an ignore list, and admins
 * (by services account or hostmask) whose raised limits never exceed the ceilings.
 * Pure with respect to time: callers pass `now` (ms).
 */

import { maskMatches } from "./message.ts";

/**
 * Who sent a request: their mask and, when the server tells us, their services account.
 *
 * @example
 * ```ts
 * const who: Identity = { nick: "alice", user: "~alice", host: "home.example", account: "alice" };
 * ```
 */
export interface Identity {
  nick: string;
  user?: string;
  host?: string;
  /** Services account, when the server tells us (IRCv3 account-tag). */
  account?: string;
}

/**
 * The rate limit and the ignore and admin lists.
 *
 * @example
 * ```ts
 * const o: RateLimitOptions = {
 *   evalsPerWindow: 5, windowMs: 60_000, adminEvalsPerWindow: 20, maxEvalsPerWindow: 50,
 *   ignore: ["*!*@spam.example"], admins: ["$a:boss"],
 * };
 * ```
 */
export interface RateLimitOptions {
  /** Evaluations a user may start per window. */
  evalsPerWindow: number;
  /** Length of the window in ms. */
  windowMs: number;
  /** Evaluations per window for admins (clamped to `maxEvalsPerWindow`). */
  adminEvalsPerWindow: number;
  /** Ceiling on any user's evaluations per window, admins included. */
  maxEvalsPerWindow: number;
  /** Hostmasks (`nick!user@host` globs) and `$a:account` entries to ignore entirely. */
  ignore: string[];
  /** Admin hostmasks and `$a:account` entries. */
  admins: string[];
}

/**
 * The answer to one request: run it (as admin or not), ignore it, or refuse it for the rate.
 *
 * @example
 * ```ts
 * const d: Decision = { allowed: false, reason: "rate", notify: true, retryInMs: 12_000 };
 * ```
 */
export type Decision =
  | { allowed: true; admin: boolean }
  | { allowed: false; reason: "ignored" }
  | {
    allowed: false;
    reason: "rate"; /** send the polite notice (first refusal only) */
    notify: boolean;
    retryInMs: number;
  };

/**
 * The identity as `nick!user@host`, `*` for unknown parts.
 *
 * @example
 * ```ts
 * fullMask({ nick: "alice", host: "home.example" }); // "alice!*@home.example"
 * ```
 */
export function fullMask(id: Identity): string {
  return `${id.nick}!${id.user ?? "*"}@${id.host ?? "*"}`;
}

/**
 * Matches an identity against list entries: `$a:name` (account) or a hostmask glob.
 *
 * @example
 * ```ts
 * matchesAny({ nick: "bob", account: "Boss" }, ["$a:boss"]); // true
 * ```
 */
export function matchesAny(id: Identity, entries: readonly string[]): boolean {
  const mask = fullMask(id);
  for (const e of entries) {
    if (e.startsWith("$a:")) {
      if (id.account && id.account.toLowerCase() === e.slice(3).toLowerCase()) return true;
    } else if (maskMatches(e, mask)) {
      return true;
    }
  }
  return false;
}

/**
 * The key a limit (and the fair queue) is kept under: the services account if known, else the
 * host. Never the ident: a client chooses its own `USER`, so keying on it let one host open
 * several connections with different idents and count as several users.
 *
 * @example
 * ```ts
 * userKey({ nick: "alice", user: "~Alice", host: "Home.example" }); // "@home.example"
 * ```
 */
export function userKey(id: Identity): string {
  if (id.account) return `$a:${id.account.toLowerCase()}`;
  return `@${(id.host ?? id.nick).toLowerCase()}`;
}

interface Entry {
  times: number[];
  notified: boolean;
}

/**
 * Per-user sliding-window rate limit with ignore and admin lists.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter(options);
 * const d = limiter.check({ nick: "alice", user: "~a", host: "h" }, Date.now());
 * if (d.allowed) run();
 * ```
 */
export class RateLimiter {
  #opts: RateLimitOptions;
  #users = new Map<string, Entry>();

  constructor(opts: RateLimitOptions) {
    this.#opts = opts;
  }

  /** Whether the identity is on the admin list. */
  isAdmin(id: Identity): boolean {
    return matchesAny(id, this.#opts.admins);
  }

  /** Whether the identity is ignored (admins never are). */
  isIgnored(id: Identity): boolean {
    return !this.isAdmin(id) && matchesAny(id, this.#opts.ignore);
  }

  /** Evaluations per window for an admin or a plain user, within the ceiling. */
  limitFor(admin: boolean): number {
    const o = this.#opts;
    return Math.min(admin ? Math.max(o.adminEvalsPerWindow, o.evalsPerWindow) : o.evalsPerWindow, o.maxEvalsPerWindow);
  }

  /** Records an attempt and says whether it may run. */
  check(id: Identity, now: number): Decision {
    if (this.isIgnored(id)) return { allowed: false, reason: "ignored" };
    const admin = this.isAdmin(id);
    const key = userKey(id);
    let e = this.#users.get(key);
    if (!e) {
      e = { times: [], notified: false };
      this.#users.set(key, e);
    }
    const since = now - this.#opts.windowMs;
    e.times = e.times.filter((t) => t > since);
    if (e.times.length < this.limitFor(admin)) {
      e.times.push(now);
      e.notified = false;
      return { allowed: true, admin };
    }
    const notify = !e.notified;
    e.notified = true;
    return { allowed: false, reason: "rate", notify, retryInMs: Math.max(0, e.times[0] + this.#opts.windowMs - now) };
  }

  /** Forgets users whose window has passed (call now and then to bound memory). */
  prune(now: number): void {
    const since = now - this.#opts.windowMs;
    for (const [k, e] of this.#users) if (e.times.every((t) => t <= since)) this.#users.delete(k);
  }
}
