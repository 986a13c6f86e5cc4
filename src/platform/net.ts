/**
 * TCP and TLS client sockets for the IRC client, over node:net / node:tls (Deno 2
 * implements both). Certificate checking is on unless the caller turns it off.
 */
import * as net from "node:net";
import * as tls from "node:tls";

export interface ConnectOptions {
  host: string;
  port: number;
  tls: boolean;
  /** PEM text of extra trusted CA certificates (replaces the system store when given). */
  ca?: string;
  /** Verify the server certificate and host name (default true). */
  rejectUnauthorized?: boolean;
  /** Client certificate and key, PEM text (for SASL EXTERNAL / CertFP). */
  cert?: string;
  key?: string;
  /** Give up connecting after this many ms. */
  timeoutMs: number;
}

/** The small socket surface the IRC client needs. */
export interface LineSocket {
  write(data: Uint8Array): void;
  /** Flushes and closes gracefully. */
  end(): void;
  destroy(): void;
  onData(cb: (chunk: Uint8Array) => void): void;
  /** Called once, when the connection is gone (with the error if any). */
  onClose(cb: (err?: Error) => void): void;
}

export function connect(opts: ConnectOptions): Promise<LineSocket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const sock: net.Socket = opts.tls
      ? tls.connect({
        host: opts.host,
        port: opts.port,
        servername: net.isIP(opts.host) ? undefined : opts.host,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        rejectUnauthorized: opts.rejectUnauthorized ?? true,
      })
      : net.connect({ host: opts.host, port: opts.port });
    const timer = setTimeout(
      () => fail(new Error(`connection to ${opts.host}:${opts.port} timed out after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    sock.once("error", fail);
    sock.once(opts.tls ? "secureConnect" : "connect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.off("error", fail);
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 60_000);
      let closeCb: ((err?: Error) => void) | undefined;
      let closed = false;
      let lastErr: Error | undefined;
      sock.on("error", (e) => (lastErr = e));
      sock.once("close", () => {
        closed = true;
        closeCb?.(lastErr);
      });
      resolve({
        write: (data) => {
          if (!sock.destroyed) sock.write(data);
        },
        end: () => sock.end(),
        destroy: () => sock.destroy(),
        onData: (cb) => sock.on("data", (d: Uint8Array) => cb(d)),
        onClose: (cb) => {
          closeCb = cb;
          if (closed) cb(lastErr);
        },
      });
    });
  });
}
