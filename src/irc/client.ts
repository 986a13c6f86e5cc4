/**
 * A small, strict IRC client: registration with CAP negotiation, SASL PLAIN/EXTERNAL,
 * server password, alternate nicks with a later regain of the main one, paced output
 * (token buckets) and a clean QUIT. It learns its own `nick!user@host` from the server
 * so the bot can compute how many bytes of text fit in one line as other clients
 * receive it.
 *
 * Three layers, as in irc-framework: the connection (connection.ts: socket, reconnect,
 * keep-alive, framing) below, the handlers (handlers.ts: one map entry per incoming
 * command or named numeric) beside, and this file holding the session state and the
 * public API the bot uses. The socket, clock, randomness and log are injected so tests
 * can drive it.
 */

import { IRC_LINE_MAX, ircLower, IrcSerialiseError, parseLine, serialise } from "./message.ts";
import { cutToBytes, utf8Length } from "../text/utf8.ts";
import type { IrcMessage } from "./message.ts";
import { OutgoingScheduler } from "./flood.ts";
import type { BucketOptions } from "./flood.ts";
import { IrcConnection } from "./connection.ts";
import type { ConnectionEffects, ConnectionOptions } from "./connection.ts";
import { dispatch, joinParams, newSession } from "./handlers.ts";
import { CAP_LS_VERSION } from "./numerics.ts";
import type { HandlerContext, SessionState } from "./handlers.ts";

export { backoffDelay } from "./connection.ts";
export type { BackoffOptions } from "./connection.ts";

/**
 * SASL identity: PLAIN with an account and password, or EXTERNAL (the TLS client certificate).
 *
 * @example
 * ```ts
 * const sasl: SaslOptions = { mechanism: "PLAIN", account: "pybot", password: "secret" };
 * ```
 */
export type SaslOptions =
  | { mechanism: "PLAIN"; account: string; password: string }
  | { mechanism: "EXTERNAL" };

/**
 * Everything the client needs: where to connect (ConnectionOptions) and who to be.
 *
 * @example
 * ```ts
 * const opts: IrcClientOptions = {
 *   host: "irc.example.net", port: 6697, tls: true,
 *   nick: "pybot", altNicks: ["pybot_"], username: "wasipy", realname: "wasi-py bot",
 *   channels: ["#py"], connectTimeoutMs: 20_000, pingIntervalMs: 120_000, pingTimeoutMs: 60_000,
 *   regainNickIntervalMs: 60_000, reconnect: { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 },
 *   flood: { perTarget: { burst: 4, ratePerSec: 1 }, global: { burst: 8, ratePerSec: 2 } },
 *   quitTimeoutMs: 3000,
 * };
 * ```
 */
export interface IrcClientOptions extends ConnectionOptions {
  nick: string;
  /** Nicks tried in order when the main one is taken. */
  altNicks: string[];
  username: string;
  realname: string;
  /** Server password (PASS). */
  password?: string;
  sasl?: SaslOptions;
  /** Channels to join, optionally with a key: "#chan key". */
  channels: string[];
  /** While on an alternate nick, try to take the main one back this often. */
  regainNickIntervalMs: number;
  flood: { perTarget: BucketOptions; global: BucketOptions };
}

/**
 * The client's effects: the connection's (socket, clock, randomness, log).
 *
 * @example
 * ```ts
 * import { connect } from "../platform/net.ts";
 * const fx: ClientEffects = { connect, now: Date.now, random: Math.random, log: console.log };
 * ```
 */
export type ClientEffects = ConnectionEffects;

/**
 * SASL failed or cannot be done: the bot stops rather than run without its identity.
 * Delivered through the client's "fatal" event.
 *
 * @example
 * ```ts
 * client.on("fatal", (e) => { if (e instanceof IrcSaslError) console.error(e.message); });
 * ```
 */
export class IrcSaslError extends Error {
  override name = "IrcSaslError";
}

type Listener<A extends unknown[]> = (...args: A) => void;
interface Events {
  message: [IrcMessage];
  registered: [string];
  disconnected: [string];
  fatal: [Error];
}

/**
 * Encodes a SASL payload as AUTHENTICATE arguments: base64 in 400-byte chunks, "+" for empty/terminator.
 *
 * @example
 * ```ts
 * authenticateChunks(new TextEncoder().encode("a\0a\0pw")); // ["YQBhAHB3"]
 * ```
 */
export function authenticateChunks(payload: Uint8Array): string[] {
  let bin = ""; // btoa takes one character per byte
  for (const b of payload) bin += String.fromCharCode(b);
  const b64 = btoa(bin);
  if (b64.length === 0) return ["+"];
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 400) out.push(b64.slice(i, i + 400));
  if (b64.length % 400 === 0) out.push("+");
  return out;
}

const WANTED_CAPS = ["sasl", "account-tag", "multi-prefix"];
/** Host length assumed until the server tells us our real one (RFC 1035 label limit). */
const ASSUMED_HOST_LEN = 63;

/**
 * An IRC client that connects, registers, keeps its nick and channels, and paces output.
 *
 * @example
 * ```ts
 * import { connect } from "../platform/net.ts";
 * const client = new IrcClient(opts, { connect, now: Date.now, random: Math.random, log: console.log });
 * client.on("registered", () => client.say("#py", "hello"));
 * client.start();
 * await client.quit("bye");
 * ```
 */
export class IrcClient {
  readonly opts: IrcClientOptions;
  #fx: ClientEffects;
  #conn: IrcConnection;
  /** Listeners by event; each set holds listeners of that event's arguments (see `on`). */
  #listeners = new Map<keyof Events, Set<Listener<never>>>();
  #s: SessionState;
  #ctx: HandlerContext;
  #regain: ReturnType<typeof setInterval> | undefined;
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  #out: OutgoingScheduler<string>;

  constructor(opts: IrcClientOptions, fx: ClientEffects) {
    this.opts = opts;
    this.#fx = fx;
    this.#s = newSession(opts.nick);
    this.#out = new OutgoingScheduler<string>(opts.flood, fx.now());
    this.#conn = new IrcConnection(opts, fx, {
      open: () => this.#onOpen(),
      line: (line) => this.#onLine(line),
      close: (reason) => this.#onClose(reason),
    });
    this.#ctx = this.#handlerContext();
  }

  /**
   * Subscribes to an event: every parsed `message`, `registered` (our nick),
   * `disconnected` (the reason) or `fatal` (the client stopped for good).
   */
  on<K extends keyof Events>(ev: K, fn: Listener<Events[K]>): void {
    let s = this.#listeners.get(ev);
    if (!s) this.#listeners.set(ev, s = new Set());
    s.add(fn);
  }

  #emit<K extends keyof Events>(ev: K, ...args: Events[K]): void {
    for (const fn of this.#listeners.get(ev) ?? []) {
      try {
        (fn as Listener<Events[K]>)(...args);
      } catch (e) {
        this.#fx.log("error", `listener for ${ev} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Our current nick. */
  get nick(): string {
    return this.#s.nick;
  }
  /** Whether the server has welcomed us on the current connection. */
  get registered(): boolean {
    return this.#s.registered;
  }
  /** Whether a socket is up. */
  get connected(): boolean {
    return this.#conn.connected;
  }
  /** Our prefix as others see it, when known. */
  get selfPrefix(): string | undefined {
    const s = this.#s;
    return s.user && s.host ? `${s.nick}!${s.user}@${s.host}` : undefined;
  }
  /** Channels we are in (lower-cased). */
  get channels(): ReadonlySet<string> {
    return this.#s.channels;
  }
  /** Capabilities the server acknowledged. */
  get caps(): ReadonlySet<string> {
    return this.#s.caps;
  }
  /** An ISUPPORT token's value ("" for a flag), case-insensitively by key. */
  isupport(key: string): string | undefined {
    return this.#s.isupport.get(key.toUpperCase());
  }
  /** Channel prefix characters (ISUPPORT CHANTYPES, default "#&"). */
  get chanTypes(): string {
    return this.#s.isupport.get("CHANTYPES") ?? "#&";
  }
  /** The server's case mapping (ISUPPORT CASEMAPPING, default rfc1459). */
  get casemapping(): string {
    return this.#s.isupport.get("CASEMAPPING") ?? "rfc1459";
  }
  /** Outgoing lines waiting for the flood control. */
  get queuedLines(): number {
    return this.#out.size;
  }

  /**
   * Bytes of text that fit in one `command target :text` line as relayed by the server
   * with our prefix in front: 512 minus CR LF, the prefix and the command.
   */
  maxTextBytes(command: "PRIVMSG" | "NOTICE", target: string): number {
    const s = this.#s;
    const user = s.user ?? `~${this.opts.username}`;
    const hostLen = s.host !== undefined ? utf8Length(s.host) : ASSUMED_HOST_LEN;
    const prefixLen = 1 + utf8Length(s.nick) + 1 + utf8Length(user) + 1 + hostLen + 1;
    return IRC_LINE_MAX - 2 - prefixLen - utf8Length(`${command} ${target} :`);
  }

  // ---- connection lifecycle ----

  /** Connects (and keeps reconnecting) until quit(). */
  start(): void {
    if (this.opts.password !== undefined && !this.opts.tls) {
      this.#fx.log("warn", "the server password is sent without TLS");
    }
    if (this.opts.sasl?.mechanism === "PLAIN" && !this.opts.tls) {
      this.#fx.log("warn", "the SASL password is sent without TLS");
    }
    this.#conn.start();
  }

  /** Sends QUIT, waits for the server to close (at most quitTimeoutMs), and stops reconnecting. */
  quit(message = "bye"): Promise<void> {
    return this.#conn.quit(message);
  }

  /** Drops the connection without QUIT (it will reconnect); for tests and recovery. */
  dropConnection(): void {
    this.#conn.drop();
  }

  /** A new socket: a fresh session, then registration. */
  #onOpen(): void {
    const o = this.opts;
    this.#s = newSession(o.nick);
    this.#sendNow({ command: "CAP", params: ["LS", CAP_LS_VERSION] });
    if (o.password !== undefined) this.#sendNow({ command: "PASS", params: [o.password] });
    this.#sendNow({ command: "NICK", params: [this.#s.nick] });
    this.#sendNow({ command: "USER", params: [o.username, "0", "*", o.realname] });
  }

  #onClose(reason: string): void {
    const was = this.#s.registered;
    this.#s.registered = false;
    if (this.#regain) clearInterval(this.#regain);
    this.#regain = undefined;
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    this.#emit("disconnected", reason);
    if (!this.#conn.quitting) this.#fx.log("warn", `disconnected${was ? "" : " before registration"}: ${reason}`);
  }

  // ---- input ----

  #onLine(line: string): void {
    const m = parseLine(line);
    if (!m) return;
    try {
      dispatch(this.#ctx, m);
    } catch (e) {
      this.#fx.log("error", `handling ${m.command} failed: ${(e as Error).message}`);
    }
    this.#emit("message", m);
  }

  /** What the handlers in handlers.ts may see and do. */
  #handlerContext(): HandlerContext {
    const session = () => this.#s;
    return {
      get state() {
        return session();
      },
      mainNick: this.opts.nick,
      autoJoin: this.opts.channels,
      saslMechanism: this.opts.sasl?.mechanism,
      send: (command, ...params) => this.#sendNow({ command, params }),
      log: (level, text) => this.#fx.log(level, text),
      lower: (s) => ircLower(s, this.casemapping),
      isMe: (nick) => this.#isMe(nick),
      quitting: () => this.#conn.quitting,
      later: (ms, fn) => this.#conn.later(ms, fn),
      registered: () => this.#onRegistered(),
      cap: (m) => this.#onCap(m),
      authenticate: (arg) => this.#onAuthenticate(arg),
      capEnd: () => this.#capEnd(),
      saslFailed: (why) => this.#saslFailed(why),
      nextNick: () => this.#nextNick(),
      nickChanged: () => this.#updateRegain(),
      wantMainNick: (nick) => this.#wantMainNick(nick),
    };
  }

  #isMe(nick: string | undefined): boolean {
    return nick !== undefined && ircLower(nick, this.casemapping) === ircLower(this.#s.nick, this.casemapping);
  }

  // ---- registration ----

  /** RPL_WELCOME: the handlers recorded our nick and mask; join, regain, announce. */
  #onRegistered(): void {
    const s = this.#s;
    this.#conn.resetBackoff();
    this.#fx.log("info", `registered as ${s.nick}`);
    // Our host as others see it decides the reply budget: ask when 001 did not say.
    if (s.host === undefined) this.#sendNow({ command: "WHOIS", params: [s.nick] });
    for (const c of this.opts.channels) this.#sendNow({ command: "JOIN", params: joinParams(c) });
    this.#updateRegain();
    this.#emit("registered", s.nick);
    this.#pump();
  }

  // ---- nick ----

  #wantMainNick(nick: string | undefined): boolean {
    return (
      this.#s.registered &&
      nick !== undefined &&
      ircLower(this.#s.nick, this.casemapping) !== ircLower(this.opts.nick, this.casemapping) &&
      ircLower(nick, this.casemapping) === ircLower(this.opts.nick, this.casemapping)
    );
  }

  #nextNick(): void {
    const s = this.#s;
    const alts = this.opts.altNicks;
    s.nickIndex++;
    s.nick = s.nickIndex <= alts.length
      ? alts[s.nickIndex - 1]
      : `${this.opts.nick.slice(0, 8)}${Math.floor(this.#fx.random() * 10000)}`;
    this.#fx.log("warn", `nick taken; trying ${s.nick}`);
    this.#sendNow({ command: "NICK", params: [s.nick] });
  }

  #updateRegain(): void {
    const onMain = ircLower(this.#s.nick, this.casemapping) === ircLower(this.opts.nick, this.casemapping);
    if (onMain && this.#regain) {
      clearInterval(this.#regain);
      this.#regain = undefined;
    } else if (!onMain && !this.#regain && this.#s.registered) {
      this.#regain = setInterval(() => {
        if (this.#s.registered) this.#sendNow({ command: "NICK", params: [this.opts.nick] });
      }, this.opts.regainNickIntervalMs);
    }
  }

  // ---- CAP and SASL ----

  #onCap(m: IrcMessage): void {
    const s = this.#s;
    const p = m.params;
    const sub = (p[1] ?? "").toUpperCase();
    if (sub === "LS") {
      const more = p[2] === "*";
      const list = p[more ? 3 : 2] ?? "";
      for (const c of list.split(" ")) if (c) s.lsCaps.add(c.split("=")[0]);
      if (more) return;
      const want = WANTED_CAPS.filter((c) => s.lsCaps.has(c) && (c !== "sasl" || this.opts.sasl));
      if (this.opts.sasl && !s.lsCaps.has("sasl")) {
        this.#saslFailed("SASL was configured but the server does not offer it");
        return;
      }
      if (want.length) this.#sendNow({ command: "CAP", params: ["REQ", want.join(" ")] });
      else this.#capEnd();
    } else if (sub === "ACK") {
      for (const c of (p[2] ?? "").split(" ")) if (c) s.caps.add(c.replace(/^[-~=]/, ""));
      if (this.opts.sasl && s.caps.has("sasl")) {
        this.#sendNow({ command: "AUTHENTICATE", params: [this.opts.sasl.mechanism] });
      } else this.#capEnd();
    } else if (sub === "NAK") {
      if (this.opts.sasl) this.#saslFailed("the server refused the sasl capability");
      else this.#capEnd();
    }
  }

  #onAuthenticate(arg: string): void {
    const sasl = this.opts.sasl;
    if (!sasl || arg !== "+") return;
    if (sasl.mechanism === "EXTERNAL") {
      this.#sendNow({ command: "AUTHENTICATE", params: ["+"] });
      return;
    }
    const payload = new TextEncoder().encode(`${sasl.account}\0${sasl.account}\0${sasl.password}`);
    for (const chunk of authenticateChunks(payload)) this.#sendNow({ command: "AUTHENTICATE", params: [chunk] });
  }

  #saslFailed(why: string): void {
    // Without the configured identity the bot must not run: stop instead of retrying forever.
    this.#fx.log("error", why);
    this.#emit("fatal", new IrcSaslError(why));
    void this.quit("SASL failed");
  }

  #capEnd(): void {
    if (this.#s.capDone) return;
    this.#s.capDone = true;
    this.#sendNow({ command: "CAP", params: ["END"] });
  }

  // ---- output ----

  #sendNow(msg: { command: string; params?: string[] }): void {
    this.#conn.send(msg);
  }

  /** Sends a raw protocol command right away (no flood control); throws on unsafe input. */
  send(command: string, ...params: string[]): void {
    this.#sendNow({ command, params });
  }

  /**
   * Queues a PRIVMSG/NOTICE through the flood control. The text may not contain CR, LF,
   * NUL or \x01 (no CTCP from untrusted data): those throw. Over-long text is cut at a
   * character boundary to fit the line (the formatter should already have done so).
   */
  say(target: string, text: string, command: "PRIVMSG" | "NOTICE" = "PRIVMSG"): void {
    if (/[\r\n\0\x01]/.test(text)) throw new IrcSerialiseError("message text contains CR, LF, NUL or \\x01");
    const max = this.maxTextBytes(command, target);
    let t = text;
    if (utf8Length(t) > max) {
      this.#fx.log("warn", `cutting an over-long ${command} to ${target} to ${max} bytes`);
      t = cutToBytes(t, max);
    }
    const line = serialise({ command, params: [target, t] });
    this.#out.push(ircLower(target, this.casemapping), line);
    // A new target may have tokens even while another waits: drain now, not at the timer.
    if (this.#pumpTimer) {
      clearTimeout(this.#pumpTimer);
      this.#pumpTimer = undefined;
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#pumpTimer || !this.#s.registered) return;
    const { send, nextMs } = this.#out.drain(this.#fx.now());
    for (const line of send) this.#conn.writeLine(line);
    if (nextMs !== undefined) {
      this.#pumpTimer = setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, nextMs);
    }
  }
}
