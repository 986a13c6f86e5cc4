/**
 * Capability negotiation and SASL, for the client: which capabilities to ask for, the PLAIN and
 * EXTERNAL exchanges, and failing closed. A bot told to authenticate never registers without it:
 * a server without SASL is a fatal error, unless it offered SASL before (its services are down:
 * the client reconnects with backoff and tries again).
 */
import type { IrcMessage } from "./message.ts";
import type { SessionState } from "./handlers.ts";

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

/**
 * What CAP handling may read and do on the client.
 *
 * @example
 * ```ts
 * const ctx: CapContext = client.capContext(); // built by IrcClient for each CAP message
 * ```
 */
export interface CapContext {
  state: SessionState;
  sasl: SaslOptions | undefined;
  /** The server offered SASL on an earlier connection. */
  saslSeen: boolean;
  markSaslSeen(): void;
  send(command: string, ...params: string[]): void;
  log(level: "info" | "warn" | "error", text: string): void;
  /** Drop this connection; the reconnect (with backoff) tries again. */
  retryLater(): void;
  saslFailed(why: string): void;
  capEnd(): void;
}

/**
 * Handles one CAP message (LS, ACK, NAK).
 *
 * @example
 * ```ts
 * onCap(ctx, parseLine(":srv CAP * LS :sasl account-tag")!); // sends CAP REQ :sasl account-tag
 * ```
 */
export function onCap(c: CapContext, m: IrcMessage): void {
  const s = c.state;
  const p = m.params;
  const sub = (p[1] ?? "").toUpperCase();
  s.capSeen = true;
  if (sub === "LS") {
    const more = p[2] === "*";
    const list = p[more ? 3 : 2] ?? "";
    for (const cap of list.split(" ")) if (cap) s.lsCaps.add(cap.split("=")[0]!);
    if (more) return;
    if (c.sasl && !s.lsCaps.has("sasl")) {
      if (c.saslSeen) {
        // It offered SASL before: its services are down. Retry later rather than run unauthenticated.
        c.log("warn", "the server does not offer SASL right now (services down?); reconnecting later");
        c.send("QUIT", "SASL unavailable, retrying later");
        c.retryLater();
      } else c.saslFailed("SASL was configured but the server does not offer it");
      return;
    }
    if (s.lsCaps.has("sasl")) c.markSaslSeen();
    const want = WANTED_CAPS.filter((cap) => s.lsCaps.has(cap) && (cap !== "sasl" || c.sasl));
    if (want.length) c.send("CAP", "REQ", want.join(" "));
    else c.capEnd();
  } else if (sub === "ACK") {
    for (const cap of (p[2] ?? "").split(" ")) if (cap) s.caps.add(cap.replace(/^[-~=]/, ""));
    if (c.sasl && s.caps.has("sasl")) c.send("AUTHENTICATE", c.sasl.mechanism);
    else c.capEnd();
  } else if (sub === "NAK") {
    if (c.sasl) c.saslFailed("the server refused the sasl capability");
    else c.capEnd();
  }
}

/**
 * The AUTHENTICATE arguments answering the server's `AUTHENTICATE +`.
 *
 * @example
 * ```ts
 * authenticateReply({ mechanism: "EXTERNAL" }, "+"); // ["+"]
 * ```
 */
export function authenticateReply(sasl: SaslOptions | undefined, arg: string): string[] {
  if (!sasl || arg !== "+") return [];
  if (sasl.mechanism === "EXTERNAL") return ["+"];
  return authenticateChunks(new TextEncoder().encode(`${sasl.account}\0${sasl.account}\0${sasl.password}`));
}
