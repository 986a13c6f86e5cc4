/**
 * A small, strict IRC client: registration with CAP negotiation, SASL PLAIN/EXTERNAL,
 * server password, PING/PONG and a keep-alive, reconnect with exponential backoff and
 * jitter, alternate nicks with a later regain of the main one, paced output (token
 * buckets) and a clean QUIT. It learns its own `nick!user@host` from the server so the
 * bot can compute how many bytes of text fit in one line as other clients receive it.
 *
 * The socket, clock, randomness and log are injected so tests can drive it.
 */

import { IRC_LINE_MAX, ircLower, IrcSerialiseError, parseLine, serialise } from "./message.ts";
import { cutToBytes, utf8Length } from "../text/utf8.ts";
import type { IrcMessage } from "./message.ts";
import { OutgoingScheduler } from "./flood.ts";
import type { BucketOptions } from "./flood.ts";
import type { ConnectOptions, LineSocket } from "../platform/net.ts";

export type SaslOptions =
  | { mechanism: "PLAIN"; account: string; password: string }
  | { mechanism: "EXTERNAL" };

export interface BackoffOptions {
  /** First reconnect delay in ms. */
  minDelayMs: number;
  /** Largest reconnect delay in ms. */
  maxDelayMs: number;
  /** Fraction of the delay that is randomised (0..1), so many bots do not reconnect in step. */
  jitter: number;
}

export interface IrcClientOptions {
  host: string;
  port: number;
  tls: boolean;
  /** PEM text of trusted CAs for TLS (else the system store). */
  tlsCa?: string;
  /** Verify the server certificate (default true). */
  tlsVerify: boolean;
  /** Client certificate and key (PEM text), e.g. for SASL EXTERNAL. */
  tlsCert?: string;
  tlsKey?: string;
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
  connectTimeoutMs: number;
  /** Send a PING after this long without traffic. */
  pingIntervalMs: number;
  /** Reconnect when nothing arrives for this long after our PING. */
  pingTimeoutMs: number;
  /** While on an alternate nick, try to take the main one back this often. */
  regainNickIntervalMs: number;
  reconnect: BackoffOptions;
  flood: { perTarget: BucketOptions; global: BucketOptions };
  /** Longest QUIT wait before the socket is closed anyway. */
  quitTimeoutMs: number;
}

export interface ClientEffects {
  connect(opts: ConnectOptions): Promise<LineSocket>;
  now(): number;
  random(): number;
  log(level: "info" | "warn" | "error", text: string): void;
}

type Listener<A extends unknown[]> = (...args: A) => void;
interface Events {
  message: [IrcMessage];
  registered: [string];
  disconnected: [string];
  fatal: [Error];
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: number): number {
  const base = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** Math.min(attempt, 30));
  const j = Math.max(0, Math.min(1, o.jitter));
  return Math.round(base * (1 - j) + base * j * random);
}

/** Encodes a SASL payload as AUTHENTICATE arguments: base64 in 400-byte chunks, "+" for empty/terminator. */
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

export class IrcClient {
  readonly opts: IrcClientOptions;
  #fx: ClientEffects;
  #listeners = new Map<keyof Events, Set<Listener<any>>>();
  #sock: LineSocket | undefined;
  #buf = new Uint8Array(0);
  #nick: string;
  #user: string | undefined;
  #host: string | undefined;
  #registered = false;
  #quitting = false;
  #attempt = 0;
  #nickIndex = 0;
  #caps = new Set<string>();
  #channels = new Set<string>();
  #lsCaps = new Set<string>();
  #capDone = false;
  #isupport = new Map<string, string>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #lastRx = 0;
  #pingSent = 0;
  #regain: ReturnType<typeof setInterval> | undefined;
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  #out: OutgoingScheduler<string>;
  #closedWaiters: (() => void)[] = [];

  constructor(opts: IrcClientOptions, fx: ClientEffects) {
    this.opts = opts;
    this.#fx = fx;
    this.#nick = opts.nick;
    this.#out = new OutgoingScheduler<string>(opts.flood, fx.now());
  }

  on<K extends keyof Events>(ev: K, fn: Listener<Events[K]>): void {
    let s = this.#listeners.get(ev);
    if (!s) this.#listeners.set(ev, s = new Set());
    s.add(fn);
  }

  #emit<K extends keyof Events>(ev: K, ...args: Events[K]): void {
    for (const fn of this.#listeners.get(ev) ?? []) {
      try {
        fn(...args);
      } catch (e) {
        this.#fx.log("error", `listener for ${ev} failed: ${(e as Error).message}`);
      }
    }
  }

  get nick(): string {
    return this.#nick;
  }
  get registered(): boolean {
    return this.#registered;
  }
  get connected(): boolean {
    return this.#sock !== undefined;
  }
  /** Our prefix as others see it, when known. */
  get selfPrefix(): string | undefined {
    return this.#user && this.#host ? `${this.#nick}!${this.#user}@${this.#host}` : undefined;
  }
  /** Channels we are in (lower-cased). */
  get channels(): ReadonlySet<string> {
    return this.#channels;
  }
  get caps(): ReadonlySet<string> {
    return this.#caps;
  }
  isupport(key: string): string | undefined {
    return this.#isupport.get(key.toUpperCase());
  }
  get chanTypes(): string {
    return this.#isupport.get("CHANTYPES") ?? "#&";
  }
  get casemapping(): string {
    return this.#isupport.get("CASEMAPPING") ?? "rfc1459";
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
    const user = this.#user ?? `~${this.opts.username}`;
    const hostLen = this.#host !== undefined ? utf8Length(this.#host) : ASSUMED_HOST_LEN;
    const prefixLen = 1 + utf8Length(this.#nick) + 1 + utf8Length(user) + 1 + hostLen + 1;
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
    this.#quitting = false;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#quitting) return;
    const o = this.opts;
    this.#fx.log("info", `connecting to ${o.host}:${o.port}${o.tls ? " (TLS)" : ""}`);
    let sock: LineSocket;
    try {
      sock = await this.#fx.connect({
        host: o.host,
        port: o.port,
        tls: o.tls,
        ca: o.tlsCa,
        rejectUnauthorized: o.tlsVerify,
        cert: o.tlsCert,
        key: o.tlsKey,
        timeoutMs: o.connectTimeoutMs,
      });
    } catch (e) {
      this.#fx.log("warn", `connect failed: ${(e as Error).message}`);
      this.#scheduleReconnect();
      return;
    }
    if (this.#quitting) {
      sock.destroy();
      return;
    }
    this.#sock = sock;
    this.#buf = new Uint8Array(0);
    this.#registered = false;
    this.#caps.clear();
    this.#channels.clear();
    this.#lsCaps.clear();
    this.#capDone = false;
    this.#isupport.clear();
    this.#nickIndex = 0;
    this.#nick = o.nick;
    this.#user = undefined;
    this.#host = undefined;
    this.#lastRx = this.#fx.now();
    this.#pingSent = 0;
    sock.onData((chunk) => this.#onData(chunk));
    sock.onClose((err) => this.#onClose(sock, err));
    this.#sendNow({ command: "CAP", params: ["LS", "302"] });
    if (o.password !== undefined) this.#sendNow({ command: "PASS", params: [o.password] });
    this.#sendNow({ command: "NICK", params: [this.#nick] });
    this.#sendNow({ command: "USER", params: [o.username, "0", "*", o.realname] });
    this.#keepalive = setInterval(
      () => this.#checkAlive(),
      Math.max(1000, Math.min(o.pingIntervalMs, o.pingTimeoutMs) / 4),
    );
  }

  #checkAlive(): void {
    const now = this.#fx.now();
    if (this.#pingSent && now - this.#pingSent > this.opts.pingTimeoutMs) {
      this.#fx.log("warn", `no reply from the server for ${this.opts.pingTimeoutMs} ms; reconnecting`);
      this.#sock?.destroy();
    } else if (!this.#pingSent && now - this.#lastRx > this.opts.pingIntervalMs) {
      this.#pingSent = now;
      this.#sendNow({ command: "PING", params: [`wasi-py-${now}`] });
    }
  }

  #onClose(sock: LineSocket, err?: Error): void {
    if (this.#sock !== sock) return;
    this.#sock = undefined;
    const was = this.#registered;
    this.#registered = false;
    if (this.#keepalive) clearInterval(this.#keepalive);
    if (this.#regain) clearInterval(this.#regain);
    this.#keepalive = this.#regain = undefined;
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    const reason = err ? err.message : "connection closed";
    this.#emit("disconnected", reason);
    for (const w of this.#closedWaiters.splice(0)) w();
    if (this.#quitting) return;
    this.#fx.log("warn", `disconnected${was ? "" : " before registration"}: ${reason}`);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#quitting) return;
    const delay = backoffDelay(this.#attempt++, this.opts.reconnect, this.#fx.random());
    this.#fx.log("info", `reconnecting in ${delay} ms`);
    this.#later(delay, () => void this.#connect());
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Sends QUIT, waits for the server to close (at most quitTimeoutMs), and stops reconnecting. */
  async quit(message = "bye"): Promise<void> {
    this.#quitting = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const sock = this.#sock;
    if (!sock) return;
    const closed = new Promise<void>((r) => this.#closedWaiters.push(r));
    try {
      this.#sendNow({ command: "QUIT", params: [message] });
    } catch {
      this.#sendNow({ command: "QUIT", params: ["bye"] });
    }
    sock.end();
    const timer = setTimeout(() => sock.destroy(), this.opts.quitTimeoutMs);
    await closed;
    clearTimeout(timer);
  }

  /** Drops the connection without QUIT (it will reconnect); for tests and recovery. */
  dropConnection(): void {
    this.#sock?.destroy();
  }

  // ---- input ----

  #onData(chunk: Uint8Array): void {
    this.#lastRx = this.#fx.now();
    this.#pingSent = 0;
    const buf = new Uint8Array(this.#buf.length + chunk.length);
    buf.set(this.#buf);
    buf.set(chunk, this.#buf.length);
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      // Both CR and LF end a line: a bare CR must never hide a second command.
      if (b === 0x0a || b === 0x0d) {
        if (i > start) this.#onLine(decodeLine(buf.subarray(start, i)));
        start = i + 1;
      }
    }
    this.#buf = buf.slice(start);
    if (this.#buf.length > 16384) {
      this.#fx.log("warn", "dropping an over-long incoming line");
      this.#buf = new Uint8Array(0);
    }
  }

  #onLine(line: string): void {
    const m = parseLine(line);
    if (!m) return;
    try {
      this.#handle(m);
    } catch (e) {
      this.#fx.log("error", `handling ${m.command} failed: ${(e as Error).message}`);
    }
    this.#emit("message", m);
  }

  #isMe(nick: string | undefined): boolean {
    return nick !== undefined && ircLower(nick, this.casemapping) === ircLower(this.#nick, this.casemapping);
  }

  #handle(m: IrcMessage): void {
    const p = m.params;
    switch (m.command) {
      case "PING":
        this.#sendNow({ command: "PONG", params: p.length ? [p[p.length - 1]] : ["x"] });
        return;
      case "CAP":
        this.#onCap(m);
        return;
      case "AUTHENTICATE":
        this.#onAuthenticate(p[0] ?? "");
        return;
      case "903": // SASL success
        this.#fx.log("info", "SASL authentication succeeded");
        this.#capEnd();
        return;
      case "902":
      case "904":
      case "905":
      case "906":
      case "908":
        this.#saslFailed(`SASL ${this.opts.sasl?.mechanism ?? ""} failed: ${p[p.length - 1] ?? m.command}`);
        return;
      case "001": {
        this.#registered = true;
        this.#attempt = 0;
        if (p[0]) this.#nick = p[0];
        const words = (p[p.length - 1] ?? "").split(" ");
        const full = words[words.length - 1];
        const bang = full.indexOf("!");
        const at = full.indexOf("@");
        if (bang > 0 && at > bang && this.#isMe(full.slice(0, bang))) {
          this.#user = full.slice(bang + 1, at);
          this.#host = full.slice(at + 1);
        }
        this.#fx.log("info", `registered as ${this.#nick}`);
        // Our host as others see it decides the reply budget: ask when 001 did not say.
        if (this.#host === undefined) this.#sendNow({ command: "WHOIS", params: [this.#nick] });
        for (const c of this.opts.channels) {
          const [chan, key] = c.split(" ");
          this.#sendNow({ command: "JOIN", params: key ? [chan, key] : [chan] });
        }
        this.#updateRegain();
        this.#emit("registered", this.#nick);
        this.#pump();
        return;
      }
      case "005":
        for (const tok of p.slice(1, -1)) {
          const eq = tok.indexOf("=");
          if (tok.startsWith("-")) this.#isupport.delete(tok.slice(1).toUpperCase());
          else this.#isupport.set((eq < 0 ? tok : tok.slice(0, eq)).toUpperCase(), eq < 0 ? "" : tok.slice(eq + 1));
        }
        return;
      case "311": // RPL_WHOISUSER: nick user host * :realname
        if (this.#isMe(p[1]) && p[2] && p[3]) {
          this.#user = p[2];
          this.#host = p[3];
        }
        return;
      case "396": // RPL_HOSTHIDDEN: our displayed host changed
        if (p[1]) this.#host = p[1].includes("@") ? p[1].split("@")[1] : p[1];
        return;
      case "432":
      case "433":
      case "436":
      case "437":
        if (!this.#registered) this.#nextNick();
        return;
      case "NICK":
        if (this.#isMe(m.source?.nick)) {
          this.#nick = p[0];
          this.#fx.log("info", `now known as ${this.#nick}`);
          this.#updateRegain();
        } else if (this.#wantMainNick(m.source?.nick)) {
          this.#sendNow({ command: "NICK", params: [this.opts.nick] });
        }
        return;
      case "QUIT":
        if (this.#wantMainNick(m.source?.nick)) this.#sendNow({ command: "NICK", params: [this.opts.nick] });
        return;
      case "JOIN":
        if (this.#isMe(m.source?.nick)) {
          if (m.source?.user) this.#user = m.source.user;
          if (m.source?.host) this.#host = m.source.host;
          if (p[0]) this.#channels.add(ircLower(p[0], this.casemapping));
        }
        return;
      case "PART":
        if (this.#isMe(m.source?.nick) && p[0]) this.#channels.delete(ircLower(p[0], this.casemapping));
        return;
      case "CHGHOST":
        if (this.#isMe(m.source?.nick)) {
          this.#user = p[0];
          this.#host = p[1];
        }
        return;
      case "KICK":
        if (this.#isMe(p[1])) {
          this.#channels.delete(ircLower(p[0], this.casemapping));
          this.#fx.log("warn", `kicked from ${p[0]}: ${p[2] ?? ""}`);
          const entry = this.opts.channels.find((c) =>
            ircLower(c.split(" ")[0], this.casemapping) === ircLower(p[0], this.casemapping)
          );
          if (entry) {
            this.#later(10_000, () => {
              if (this.#registered) {
                const [chan, key] = entry.split(" ");
                this.#sendNow({ command: "JOIN", params: key ? [chan, key] : [chan] });
              }
            });
          }
        }
        return;
      case "ERROR":
        this.#fx.log(this.#quitting ? "info" : "warn", `server closed the link: ${p[0] ?? ""}`);
        return;
    }
  }

  #wantMainNick(nick: string | undefined): boolean {
    return (
      this.#registered &&
      nick !== undefined &&
      ircLower(this.#nick, this.casemapping) !== ircLower(this.opts.nick, this.casemapping) &&
      ircLower(nick, this.casemapping) === ircLower(this.opts.nick, this.casemapping)
    );
  }

  #nextNick(): void {
    const alts = this.opts.altNicks;
    this.#nickIndex++;
    this.#nick = this.#nickIndex <= alts.length
      ? alts[this.#nickIndex - 1]
      : `${this.opts.nick.slice(0, 8)}${Math.floor(this.#fx.random() * 10000)}`;
    this.#fx.log("warn", `nick taken; trying ${this.#nick}`);
    this.#sendNow({ command: "NICK", params: [this.#nick] });
  }

  #updateRegain(): void {
    const onMain = ircLower(this.#nick, this.casemapping) === ircLower(this.opts.nick, this.casemapping);
    if (onMain && this.#regain) {
      clearInterval(this.#regain);
      this.#regain = undefined;
    } else if (!onMain && !this.#regain && this.#registered) {
      this.#regain = setInterval(() => {
        if (this.#registered) this.#sendNow({ command: "NICK", params: [this.opts.nick] });
      }, this.opts.regainNickIntervalMs);
    }
  }

  #onCap(m: IrcMessage): void {
    const p = m.params;
    const sub = (p[1] ?? "").toUpperCase();
    if (sub === "LS") {
      const more = p[2] === "*";
      const list = p[more ? 3 : 2] ?? "";
      for (const c of list.split(" ")) if (c) this.#lsCaps.add(c.split("=")[0]);
      if (more) return;
      const want = WANTED_CAPS.filter((c) => this.#lsCaps.has(c) && (c !== "sasl" || this.opts.sasl));
      if (this.opts.sasl && !this.#lsCaps.has("sasl")) {
        this.#saslFailed("SASL was configured but the server does not offer it");
        return;
      }
      if (want.length) this.#sendNow({ command: "CAP", params: ["REQ", want.join(" ")] });
      else this.#capEnd();
    } else if (sub === "ACK") {
      for (const c of (p[2] ?? "").split(" ")) if (c) this.#caps.add(c.replace(/^[-~=]/, ""));
      if (this.opts.sasl && this.#caps.has("sasl")) {
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
    this.#emit("fatal", new Error(why));
    void this.quit("SASL failed");
  }

  #capEnd(): void {
    if (this.#capDone) return;
    this.#capDone = true;
    this.#sendNow({ command: "CAP", params: ["END"] });
  }

  // ---- output ----

  #sendNow(msg: { command: string; params?: string[] }): void {
    const line = serialise(msg);
    this.#writeLine(line);
  }

  #writeLine(line: string): void {
    const bytes = new TextEncoder().encode(line + "\r\n");
    if (bytes.length > IRC_LINE_MAX) throw new IrcSerialiseError(`refusing to send a ${bytes.length}-byte line`);
    this.#sock?.write(bytes);
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
    if (this.#pumpTimer || !this.#registered) return;
    const { send, nextMs } = this.#out.drain(this.#fx.now());
    for (const line of send) this.#writeLine(line);
    if (nextMs !== undefined) {
      this.#pumpTimer = setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, nextMs);
    }
  }
}

function decodeLine(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("latin1").decode(bytes);
  }
}
