/**
 * The --paste-url client: when a reply is cut, the whole output goes to a paste service and the
 * reply ends with the link. The contract is deliberately small, so a ten-line server (or a
 * pastebin behind a small adapter) can serve it:
 *
 *   POST <paste-url>   Content-Type: text/plain; charset=utf-8   body: the output (UTF-8)
 *   → 2xx, body: the link to the paste on its first line (http:// or https://, no spaces)
 *
 * Anything else (another status, a redirect, no link, no answer within pasteTimeoutMs) is a
 * PasteError; the bot then replies with the plain cut mark and logs why. The service is not
 * trusted: redirects are not followed (a 3xx is an error), at most MAX_ANSWER_BYTES of the answer
 * are read (the rest is never downloaded), and the link must be printable ASCII URL text, so no
 * C0/C1 or bidi control can reach the channel through it.
 */
import type { Paster } from "./bot.ts";
import { systemTimers } from "./clock.ts";
import type { Timers } from "./clock.ts";

/**
 * The paste service did not give a link.
 *
 * @example
 * ```ts
 * throw new PasteError("http://paste.invalid/ answered 500");
 * ```
 */
export class PasteError extends Error {
  override name = "PasteError";
}

/** Longest link accepted (it has to fit in the reply line with the cut mark). */
const MAX_LINK_CHARS = 200;
/** Most of the answer read, in bytes: the link is on its first line. */
export const MAX_ANSWER_BYTES = 4096;

/** http(s)://, a host (not a third "/"), then printable ASCII only (no space, no control, nothing beyond 0x7e). */
const LINK = /^https?:\/\/[\x21-\x2e\x30-\x7e][\x21-\x7e]*$/i;

/**
 * The link in a paste service's answer (its first line, trimmed), or undefined when that line is
 * not an http(s) URL of printable ASCII of at most 200 characters with a host.
 *
 * @example
 * linkFromAnswer("https://paste.example/p/1\n"); // "https://paste.example/p/1"
 * linkFromAnswer("https://paste.example/\u202ep/1"); // undefined (a bidi control)
 */
export function linkFromAnswer(answer: string): string | undefined {
  const link = answer.replace(/^[ \t\r\n]+/, "").split("\n", 1)[0]!.replace(/[ \t\r]+$/, "");
  if (link.length > MAX_LINK_CHARS || !LINK.test(link)) return undefined;
  try {
    const url = new URL(link);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" ? link : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A response body up to its first newline (the link's line), its end, or `maxBytes`, whichever
 * comes first, as text; the rest is not downloaded (the stream is cancelled).
 */
async function readHead(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (body === null) return "";
  const reader = body.getReader();
  const head = new Uint8Array(maxBytes);
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, maxBytes - size);
      head.set(value.subarray(0, take), size);
      size += take;
      if (value.subarray(0, take).includes(0x0a)) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(head.subarray(0, size));
}

/**
 * A Paster that POSTs to `url` under the contract above. Its time limit is scheduled through
 * `timers` (the client's injected timers; the runtime's by default), like the rest of src/irc.
 *
 * @example
 * ```ts
 * const paste = pasteClient("http://127.0.0.1:8080/paste", 5000);
 * const link = await paste("the whole output"); // "http://127.0.0.1:8080/p/1"
 * ```
 */
export function pasteClient(url: string, timeoutMs: number, timers: Timers = systemTimers): Paster {
  return async (text) => {
    const ac = new AbortController();
    const timer = timers.setTimeout(() => ac.abort(), timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          body: new TextEncoder().encode(text),
          headers: { "content-type": "text/plain; charset=utf-8" },
          redirect: "manual",
          signal: ac.signal,
        });
      } catch (e) {
        throw new PasteError(ac.signal.aborted ? `no answer from ${url} within ${timeoutMs} ms` : (e as Error).message);
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        const redirect = res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400);
        throw new PasteError(
          `${url} answered ${res.status || "a redirect"}${redirect ? " (redirects are not followed)" : ""}`,
        );
      }
      let answer: string;
      try {
        answer = await readHead(res.body, MAX_ANSWER_BYTES);
      } catch (e) {
        throw new PasteError(ac.signal.aborted ? `no answer from ${url} within ${timeoutMs} ms` : (e as Error).message);
      }
      const link = linkFromAnswer(answer);
      if (link === undefined) throw new PasteError(`${url} did not answer with a link`);
      return link;
    } finally {
      timers.clearTimeout(timer);
    }
  };
}
