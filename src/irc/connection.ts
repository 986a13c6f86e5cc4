/**
 * The transport layer of the IRC client: one socket at a time, reconnected with
 * exponential backoff and jitter, kept alive with our own PINGs, and cut into lines.
 * It knows nothing of registration, nicks or channels: the client above it is told
 * when a socket opens, when a line arrives and when the socket closes, so the
 * protocol logic can be tested without timers and the timers without the protocol.
 *
 * The socket, clock, timers, randomness and log are injected so tests can drive it.
 */

import { IRC_LINE_MAX, IrcSerialiseError, serialise } from "./message.ts";
import type { ConnectOptions, LineSocket } from "../platform/net.ts";
import { repeat, systemTimers } from "./clock.ts";
import type { TimerHandle, Timers } from "./clock.ts";

/**
 * How long to wait between reconnect attempts.
 *
 * @example
 * ```ts
 * const reconnect: BackoffOptions = { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 };
 * ```
 */
export interface BackoffOptions {
  /** First reconnect delay in ms. */
  minDelayMs: number;
  /** Largest reconnect delay in ms. */
  maxDelayMs: number;
  /** Fraction of the delay that is randomised (0..1), so many bots do not reconnect in step. */
  jitter: number;
}

/**
 * Where to connect and how to keep the link alive.
 *
 * @example
 * ```ts
 * const o: ConnectionOptions = {
 *   host: "irc.example.net", port: 6697, tls: true,
 *   connectTimeoutMs: 20_000, pingIntervalMs: 120_000, pingTimeoutMs: 60_000,
 *   reconnect: { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 }, quitTimeoutMs: 3000,
 * };
 * ```
 */
export interface ConnectionOptions {
  host: string;
  port: number;
  tls: boolean;
  /** PEM text of trusted CAs for TLS (else the system store). */
  tlsCa?: string;
  /**
   * Accept any server certificate (the --tls-insecure flag).
   * @default false
   */
  tlsInsecure?: boolean;
  /** Client certificate and key (PEM text), e.g. for SASL EXTERNAL. */
  tlsCert?: string;
  tlsKey?: string;
  connectTimeoutMs: number;
  /** Send a PING after this long without traffic. */
  pingIntervalMs: number;
  /** Reconnect when nothing arrives for this long after our PING. */
  pingTimeoutMs: number;
  reconnect: BackoffOptions;
  /** Longest QUIT wait before the socket is closed anyway. */
  quitTimeoutMs: number;
  /** A registered connection must last this long before the reconnect delay starts again from the shortest. */
  stableConnectionMs: number;
  /** Consecutive refusals of our credentials (TLS certificate, server password) before giving up. */
  authFailureLimit: number;
}

/**
 * The effects the connection needs, injected so tests can fake the network and the clock.
 *
 * @example
 * ```ts
 * import { connect } from "../platform/net.ts";
 * const fx: ConnectionEffects = { connect, now: Date.now, random: Math.random, log: console.log };
 * ```
 */
export interface ConnectionEffects {
  connect(opts: ConnectOptions): Promise<LineSocket>;
  now(): number;
  random(): number;
  log(level: "info" | "warn" | "error", text: string): void;
  /** Timers (default: the runtime's); tests pass a fake clock's. */
  timers?: Timers;
}

/**
 * What the layer above hears from the connection.
 *
 * @example
 * ```ts
 * const events: ConnectionEvents = {
 *   open: () => conn.send({ command: "NICK", params: ["pybot"] }),
 *   line: (line) => console.log("<", line),
 *   close: (reason) => console.log("closed:", reason),
 * };
 * ```
 */
export interface ConnectionEvents {
  /** A new socket is up: time to register. */
  open(): void;
  /** One decoded line, without its terminator. */
  line(line: string): void;
  /** The current socket is gone; a reconnect follows unless we are quitting. */
  close(reason: string): void;
  /** Retrying cannot help (credentials refused authFailureLimit times in a row): the connection has stopped. */
  fatal(why: string): void;
}

/**
 * The hint for a TLS connect error that retrying will not fix, or undefined for other errors.
 *
 * @example
 * ```ts
 * tlsFailureHint("self-signed certificate in certificate chain"); // "the server's TLS certificate ... --tls-ca FILE ..."
 * ```
 */
export function tlsFailureHint(message: string): string | undefined {
  if (
    /certificate|self[- ]signed|unable to (get|verify)|CERT_|altnames|Hostname\/IP does not match|issuer/i.test(message)
  ) {
    return `the server's TLS certificate was not accepted (${message}): trust its CA with --tls-ca FILE (PEM), ` +
      "or check the server name; --tls-insecure skips the check (testing only)";
  }
  return undefined;
}

/** Buffered bytes without a line end beyond which the partial line is dropped. */
const MAX_PARTIAL_LINE_BYTES = 16384;

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter.
 *
 * @example
 * ```ts
 * const o = { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 };
 * backoffDelay(2, o, 1); // 4000
 * ```
 */
export function backoffDelay(attempt: number, o: BackoffOptions, random: number): number {
  const base = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** Math.min(attempt, 30));
  const j = Math.max(0, Math.min(1, o.jitter));
  return Math.round(base * (1 - j) + base * j * random);
}

/**
 * Decodes one received line: UTF-8 when valid, else Latin-1 (old clients still send it),
 * so no byte is lost.
 *
 * @example
 * ```ts
 * decodeLine(new Uint8Array([0x63, 0x61, 0x66, 0xe9])); // "café" (Latin-1)
 * ```
 */
export function decodeLine(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("latin1").decode(bytes);
  }
}

/**
 * One IRC server link that keeps itself up until quit(): connect, frame, keep alive,
 * reconnect with backoff.
 *
 * @example
 * ```ts
 * const conn = new IrcConnection(options, fx, {
 *   open: () => conn.send({ command: "NICK", params: ["pybot"] }),
 *   line: (line) => console.log(line),
 *   close: () => {},
 * });
 * conn.start();
 * await conn.quit("bye");
 * ```
 */
export class IrcConnection {
  readonly opts: ConnectionOptions;
  #fx: ConnectionEffects;
  #events: ConnectionEvents;
  #sock: LineSocket | undefined;
  #buf = new Uint8Array(0);
  #quitting = false;
  #attempt = 0;
  #timers = new Set<TimerHandle>();
  #keepalive: (() => void) | undefined;
  #lastRx = 0;
  #pingSent = 0;
  #closedWaiters: (() => void)[] = [];
  /** When the current connection registered (0: not yet). */
  #upSince = 0;
  #authFailures = 0;
  #authFailedOn: LineSocket | undefined;

  constructor(opts: ConnectionOptions, fx: ConnectionEffects, events: ConnectionEvents) {
    this.opts = opts;
    this.#fx = fx;
    this.#events = events;
  }

  /** The timers everything above the connection schedules with too. */
  get timers(): Timers {
    return this.#fx.timers ?? systemTimers;
  }

  /** Whether a socket is up. */
  get connected(): boolean {
    return this.#sock !== undefined;
  }

  /** True from quit() until the next start(): no reconnects, no complaints about closes. */
  get quitting(): boolean {
    return this.#quitting;
  }

  /** Connects (and keeps reconnecting) until quit(). */
  start(): void {
    this.#quitting = false;
    void this.#connect();
  }

  /**
   * The server welcomed us. The reconnect delay starts again from the shortest only if this
   * connection then lasts stableConnectionMs: one that dies within seconds (a flood kill, a
   * ban on connect) keeps backing off.
   */
  registeredOk(): void {
    this.#upSince = this.#fx.now();
    this.#authFailures = 0;
  }

  /** Our credentials were refused; after authFailureLimit in a row, stop with the hint. */
  authFailed(hint: string): void {
    if (this.#sock !== undefined && this.#authFailedOn === this.#sock) return; // once per connection
    this.#authFailedOn = this.#sock;
    this.#authFailures++;
    if (this.#authFailures >= this.opts.authFailureLimit) {
      this.#fx.log("error", `${hint}; giving up after ${this.#authFailures} attempts`);
      this.#quitting = true;
      this.#clearTimers();
      this.#sock?.destroy();
      this.#events.fatal(hint);
    } else {
      this.#fx.log("error", `${hint} (attempt ${this.#authFailures} of ${this.opts.authFailureLimit})`);
    }
  }

  /** Runs `fn` after `ms` unless quit() comes first. */
  later(ms: number, fn: () => void): void {
    const t = this.timers.setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) this.timers.clearTimeout(t);
    this.#timers.clear();
  }

  /** Serialises and writes one message now; throws IrcSerialiseError on unsafe input. */
  send(msg: { command: string; params?: string[] }): void {
    this.writeLine(serialise(msg));
  }

  /** Writes one already serialised line (without CR LF); refuses lines over 512 bytes. */
  writeLine(line: string): void {
    const bytes = new TextEncoder().encode(line + "\r\n");
    if (bytes.length > IRC_LINE_MAX) throw new IrcSerialiseError(`refusing to send a ${bytes.length}-byte line`);
    this.#sock?.write(bytes);
  }

  /** Sends QUIT, waits for the server to close (at most quitTimeoutMs), and stops reconnecting. */
  async quit(message: string): Promise<void> {
    this.#quitting = true;
    this.#clearTimers();
    const sock = this.#sock;
    if (!sock) return;
    const closed = new Promise<void>((r) => this.#closedWaiters.push(r));
    try {
      this.send({ command: "QUIT", params: [message] });
    } catch {
      this.send({ command: "QUIT", params: ["bye"] });
    }
    sock.end();
    const timer = this.timers.setTimeout(() => sock.destroy(), this.opts.quitTimeoutMs);
    await closed;
    this.timers.clearTimeout(timer);
  }

  /** Drops the socket without QUIT (a reconnect follows). */
  drop(): void {
    this.#sock?.destroy();
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
        rejectUnauthorized: !(o.tlsInsecure ?? false),
        cert: o.tlsCert,
        key: o.tlsKey,
        timeoutMs: o.connectTimeoutMs,
      });
    } catch (e) {
      const msg = (e as Error).message;
      const hint = tlsFailureHint(msg);
      if (hint) this.authFailed(hint);
      else this.#fx.log("warn", `connect failed: ${msg}`);
      this.#scheduleReconnect();
      return;
    }
    if (this.#quitting) {
      sock.destroy();
      return;
    }
    this.#sock = sock;
    this.#buf = new Uint8Array(0);
    this.#lastRx = this.#fx.now();
    this.#pingSent = 0;
    sock.onData((chunk) => this.#onData(chunk));
    sock.onClose((err) => this.#onClose(sock, err));
    this.#events.open();
    this.#keepalive = repeat(
      this.timers,
      Math.max(1000, Math.min(o.pingIntervalMs, o.pingTimeoutMs) / 4),
      () => this.#checkAlive(),
    );
  }

  #checkAlive(): void {
    const now = this.#fx.now();
    if (this.#pingSent && now - this.#pingSent > this.opts.pingTimeoutMs) {
      this.#fx.log("warn", `no reply from the server for ${this.opts.pingTimeoutMs} ms; reconnecting`);
      this.#sock?.destroy();
    } else if (!this.#pingSent && now - this.#lastRx > this.opts.pingIntervalMs) {
      this.#pingSent = now;
      this.send({ command: "PING", params: [`wasi-py-${now}`] });
    }
  }

  #onClose(sock: LineSocket, err?: Error): void {
    if (this.#sock !== sock) return;
    this.#sock = undefined;
    this.#keepalive?.();
    this.#keepalive = undefined;
    const lasted = this.#upSince ? this.#fx.now() - this.#upSince : 0;
    if (this.#upSince && lasted >= this.opts.stableConnectionMs) this.#attempt = 0;
    else if (this.#upSince && !this.#quitting) {
      this.#fx.log("warn", `the connection lasted only ${Math.round(lasted / 1000)} s: keeping the reconnect backoff`);
    }
    this.#upSince = 0;
    this.#events.close(err ? err.message : "connection closed");
    for (const w of this.#closedWaiters.splice(0)) w();
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#quitting) return;
    const delay = backoffDelay(this.#attempt++, this.opts.reconnect, this.#fx.random());
    this.#fx.log("info", `reconnecting in ${delay} ms`);
    this.later(delay, () => void this.#connect());
  }

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
        if (i > start) this.#events.line(decodeLine(buf.subarray(start, i)));
        start = i + 1;
      }
    }
    this.#buf = buf.slice(start);
    if (this.#buf.length > MAX_PARTIAL_LINE_BYTES) {
      this.#fx.log("warn", "dropping an over-long incoming line");
      this.#buf = new Uint8Array(0);
    }
  }
}
