/**
 * A small, strict IRC client: registration with CAP negotiation, SASL PLAIN/EXTERNAL,
 * server password, nicks (nick-keeper.ts), channel members (members.ts), paced output
 * (output.ts: token buckets, lines that follow a nick change or go when the nick leaves) and a
 * clean QUIT. It learns its own `nick!user@host` from the server
 * so the bot can compute how many bytes of text fit in one line as other clients
 * receive it.
 *
 * Three layers, as in irc-framework: the connection (connection.ts: socket, reconnect,
 * keep-alive, framing) below, the handlers (handlers.ts: one map entry per incoming
 * command or named numeric) beside, and this file holding the session state and the
 * public API the bot uses. The socket, clock, timers, randomness and log are injected so
 * tests can drive it.
 */

import { IRC_LINE_MAX, ircLower, IrcSerialiseError, parseLine, serialise } from "./message.ts";
import { cutToBytes, utf8Length } from "../text/utf8.ts";
import type { IrcMessage } from "./message.ts";
import { PacedOutput } from "./output.ts";
import { ChannelWatch } from "./channels.ts";
import type { OutLine, SayMeta } from "./output.ts";
import { IrcConnection } from "./connection.ts";
import { dispatch, joinParams, newSession } from "./handlers.ts";
import { CAP_LS_VERSION } from "./numerics.ts";
import { NickKeeper } from "./nick-keeper.ts";
import { Members } from "./members.ts";
import { authenticateReply, IrcSaslError, onCap } from "./sasl.ts";
import type { CapContext } from "./sasl.ts";
import { IrcAuthError, IrcNickError } from "./client-options.ts";
import type { ClientEffects, IrcClientOptions } from "./client-options.ts";
import type { HandlerContext, SessionState } from "./handlers.ts";

export { backoffDelay } from "./connection.ts";
export { authenticateChunks, IrcSaslError } from "./sasl.ts";
export type { SaslOptions } from "./sasl.ts";
export { IrcAuthError, IrcNickError } from "./client-options.ts";
export type { ClientEffects } from "./client-options.ts";

type Listener<A extends unknown[]> = (...args: A) => void;
interface Events {
  message: [IrcMessage];
  registered: [string];
  disconnected: [string];
  fatal: [Error];
}

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
  #nicks: NickKeeper;
  #members = new Members();
  #out: PacedOutput;
  /** The server offered SASL on an earlier connection (so its absence now is services being down). */
  #saslSeen = false;
  #chans: ChannelWatch;

  constructor(opts: IrcClientOptions, fx: ClientEffects) {
    this.opts = opts;
    this.#fx = fx;
    this.#s = newSession(opts.nick);
    this.#conn = new IrcConnection(opts, fx, {
      open: () => this.#onOpen(),
      line: (line) => this.#onLine(line),
      close: (reason) => this.#onClose(reason),
      fatal: (why) => this.#emit("fatal", new IrcAuthError(why)),
    });
    this.#out = new PacedOutput(opts, {
      now: fx.now,
      timers: this.#conn.timers,
      log: fx.log,
      write: (line) => this.#write(line),
      ping: (token) => this.#conn.send({ command: "PING", params: [token] }),
      present: (target, nick) => this.#present(target, nick),
    });
    this.#nicks = new NickKeeper(opts, {
      state: () => this.#s,
      random: fx.random,
      log: fx.log,
      lower: (x) => ircLower(x, this.casemapping),
      timers: this.#conn.timers,
      later: (ms, fn) => this.#conn.later(ms, fn),
      sendNick: (nick) => this.#sendNow({ command: "NICK", params: [nick] }),
      fatal: (why) => {
        this.#emit("fatal", new IrcNickError(why));
        void this.quit("no acceptable nick");
      },
    });
    this.#ctx = this.#handlerContext();
    this.#chans = new ChannelWatch(opts, {
      now: fx.now,
      random: fx.random,
      log: fx.log,
      lower: (x) => ircLower(x, this.casemapping),
      rejoinLater: (ms, entry, key) => {
        const session = this.#s;
        this.#conn.later(ms, () => {
          if (this.#s === session && session.registered && !session.channels.has(key)) {
            this.#sendNow({ command: "JOIN", params: joinParams(entry) });
          }
        });
      },
    });
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
  /** Room left for `requester`'s lines to `target` in the flood control's backlog, in lines. */
  backlogRoom(target: string, requester: string): number {
    return this.#out.room(ircLower(target, this.casemapping), requester);
  }

  /** Outgoing lines waiting for the flood control. */
  get queuedLines(): number {
    return this.#out.size;
  }
  /** Output counters (lines sent, dropped, refused; worst delay; last lag) and the pace now. */
  get outputStats(): PacedOutput["stats"] & { ratePerSec: number } {
    return { ...this.#out.stats, ratePerSec: this.#out.ratePerSec };
  }

  /** Whether replies to `target` can be sent (false for a while after "cannot send to channel"). */
  canSend(target: string): boolean {
    return this.#chans.canSend(target);
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
    if (this.opts.tls && this.opts.tlsInsecure) {
      this.#fx.log(
        "warn",
        "--tls-insecure: the server's certificate is NOT checked; anyone in the path can read and change the traffic",
      );
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
    this.#s = newSession(this.#nicks.firstNick());
    this.#members.clear();
    this.#sendNow({ command: "CAP", params: ["LS", CAP_LS_VERSION] });
    if (o.password !== undefined) this.#sendNow({ command: "PASS", params: [o.password] });
    this.#sendNow({ command: "NICK", params: [this.#s.nick] });
    this.#sendNow({ command: "USER", params: [o.username, "0", "*", o.realname] });
  }

  #onClose(reason: string): void {
    const was = this.#s.registered;
    this.#s.registered = false;
    this.#nicks.disconnected();
    this.#out.pause();
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
    const nicks = () => this.#nicks;
    const lower = (x: string) => ircLower(x, this.casemapping);
    return {
      get state() {
        return session();
      },
      get mainNick() {
        return nicks().mainNick;
      },
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
      nextNick: (why) => this.#nicks.refused(why),
      pong: (token) => this.#out.pong(token),
      joinFailed: (chan, why) => this.#chans.joinFailed(chan, why),
      joined: (chan) => this.#chans.joined(chan),
      parted: (chan) => this.#members.left(lower(chan), "", true),
      kicked: (chan, by, reason) => {
        this.#members.left(lower(chan), "", true);
        this.#chans.kicked(chan, by, reason);
      },
      cannotSend: (target, why) => this.#chans.cannotSend(target, why),
      modesChanged: (chan) => this.#chans.modesChanged(chan),
      passwordRefused: (why) =>
        this.#conn.authFailed(
          `the server refused the password (${why}); check $WASI_PY_IRC_PASSWORD or the config file's "password"`,
        ),
      nickChanged: () => this.#nicks.update(),
      wantMainNick: (nick) => this.#nicks.wantMainNick(nick),
      userJoined: (chan, nick) => this.#members.joined(lower(chan), lower(nick)),
      userLeft: (nick, chan) => this.#userLeft(lower(nick), chan === undefined ? undefined : lower(chan)),
      userRenamed: (from, to) => {
        this.#members.renamed(lower(from), lower(to));
        this.#out.renamed(lower(from), lower(to), to);
      },
      names: (chan, nicks) => this.#members.names(lower(chan), nicks.map(lower)),
      namesEnd: (chan) => {
        this.#members.namesEnd(lower(chan));
        this.#out.presenceChanged();
      },
      noSuchNick: (target, why) => {
        const n = this.#out.departed(lower(target));
        this.#fx.log("warn", `cannot send to ${target}: ${why}${n ? `; dropped ${n} waiting lines` : ""}`);
      },
    };
  }

  #isMe(nick: string | undefined): boolean {
    return nick !== undefined && ircLower(nick, this.casemapping) === ircLower(this.#s.nick, this.casemapping);
  }

  // ---- registration ----

  /** RPL_WELCOME: the handlers recorded our nick and mask; join, regain, announce. */
  #onRegistered(): void {
    const s = this.#s;
    if (this.opts.sasl && !s.saslDone) {
      if (s.capSeen || !this.opts.saslOptional) {
        const why = s.capSeen
          ? "registered without SASL although SASL was configured"
          : "the server does not negotiate capabilities (no CAP), so SASL is impossible; refusing to run unauthenticated (saslOptional allows it)";
        this.#saslFailed(why);
        return;
      }
      this.#fx.log("warn", "the server has no CAP: registered WITHOUT SASL (saslOptional is set)");
    }
    this.#conn.registeredOk();
    this.#fx.log("info", `registered as ${s.nick}`);
    // Our host as others see it decides the reply budget: ask when 001 did not say.
    if (s.host === undefined) this.#sendNow({ command: "WHOIS", params: [s.nick] });
    for (const c of this.opts.channels) this.#sendNow({ command: "JOIN", params: joinParams(c) });
    this.#nicks.registered();
    this.#emit("registered", s.nick);
    this.#out.resume();
  }

  // ---- members ----

  /** `nick` left `chan` (PART, KICK) or the network (no chan): its waiting lines go. */
  #userLeft(nick: string, chan: string | undefined): void {
    if (chan === undefined) this.#members.quit(nick);
    else this.#members.left(chan, nick, false);
    const n = this.#out.departed(nick, chan);
    if (n) this.#fx.log("info", `${nick} ${chan ? `left ${chan}` : "quit"}: dropped ${n} waiting lines for them`);
  }

  /** Whether `nick` is in `target` (see Members.present); all known once every configured channel is joined and listed. */
  #present(target: string, nick: string): boolean | undefined {
    const isChan = this.chanTypes.includes(target[0] ?? "");
    const chans = this.#s.channels;
    const allKnown = chans.size >= this.opts.channels.length && [...chans].every((c) => this.#members.isComplete(c));
    return this.#members.present(target, nick, isChan, allKnown);
  }

  // ---- CAP and SASL ----

  #onCap(m: IrcMessage): void {
    onCap(this.#capContext(), m);
  }

  #capContext(): CapContext {
    return {
      state: this.#s,
      sasl: this.opts.sasl,
      saslSeen: this.#saslSeen,
      markSaslSeen: () => (this.#saslSeen = true),
      send: (command, ...params) => this.#sendNow({ command, params }),
      log: (level, text) => this.#fx.log(level, text),
      retryLater: () => this.#conn.drop(),
      saslFailed: (why) => this.#saslFailed(why),
      capEnd: () => this.#capEnd(),
    };
  }

  #onAuthenticate(arg: string): void {
    for (const a of authenticateReply(this.opts.sasl, arg)) this.#sendNow({ command: "AUTHENTICATE", params: [a] });
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
    if (this.#s.registered) this.#out.charge();
  }

  /** Sends a raw protocol command right away (no flood control); throws on unsafe input. */
  send(command: string, ...params: string[]): void {
    this.#sendNow({ command, params });
  }

  /** Writes one paced line, cut to fit when its target grew (a nick change) since it was queued. */
  #write(l: OutLine): void {
    const max = this.maxTextBytes(l.command, l.to);
    const text = utf8Length(l.text) > max ? cutToBytes(l.text, max) : l.text;
    this.#conn.writeLine(serialise({ command: l.command, params: [l.to, text] }));
  }

  /**
   * Queues a PRIVMSG/NOTICE through the flood control; false when the requester's backlog is full
   * (the line is refused). The text may not contain CR, LF, NUL or \x01 (no CTCP from untrusted
   * data): those throw. Over-long text is cut at a character boundary to fit the line (the
   * formatter should already have done so).
   */
  say(target: string, text: string, command: "PRIVMSG" | "NOTICE" = "PRIVMSG", meta: SayMeta = {}): boolean {
    if (/[\r\n\0\x01]/.test(text)) throw new IrcSerialiseError("message text contains CR, LF, NUL or \\x01");
    const max = this.maxTextBytes(command, target);
    let t = text;
    if (utf8Length(t) > max) {
      this.#fx.log("warn", `cutting an over-long ${command} to ${target} to ${max} bytes`);
      t = cutToBytes(t, max);
    }
    serialise({ command, params: [target, t] }); // refuses an unsafe target now, not when sent
    return this.#out.push(ircLower(target, this.casemapping), {
      command,
      to: target,
      text: t,
      meta: this.#lowerNick(meta),
    });
  }

  #lowerNick(meta: SayMeta): SayMeta {
    return meta.nick === undefined ? meta : { ...meta, nick: ircLower(meta.nick, this.casemapping) };
  }

  /**
   * Answers a CTCP request (e.g. VERSION) with a NOTICE, queued like any reply (the requester's
   * backlog cap and turn; false when refused); `text` is our own, checked like any text.
   */
  ctcpReply(target: string, text: string, meta: SayMeta = {}): boolean {
    if (/[\r\n\0\x01]/.test(text)) throw new IrcSerialiseError("CTCP reply contains CR, LF, NUL or \\x01");
    const t = `\x01${text}\x01`;
    serialise({ command: "NOTICE", params: [target, t] });
    const line: OutLine = { command: "NOTICE", to: target, text: t, meta: this.#lowerNick(meta) };
    return this.#out.push(ircLower(target, this.casemapping), line);
  }
}
