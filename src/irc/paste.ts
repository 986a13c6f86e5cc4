/**
 * The --paste-url client: when a reply is cut, the whole output goes to a paste service and the
 * reply ends with the link. The contract is deliberately small, so a ten-line server (or a
 * pastebin behind a small adapter) can serve it:
 *
 *   POST <paste-url>   Content-Type: text/plain; charset=utf-8   body: the output (UTF-8)
 *   → 2xx, body: the link to the paste on its first line (http:// or https://, no spaces)
 *
 * Anything else (another status, no link, no answer within pasteTimeoutMs) is a PasteError; the
 * bot then replies with the plain cut mark and logs why.
 */
import type { Paster } from "./bot.ts";

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
/** Most of the answer read, in characters: the link is on the first line. */
const MAX_ANSWER_CHARS = 4096;

/**
 * A Paster that POSTs to `url` under the contract above.
 *
 * @example
 * ```ts
 * const paste = pasteClient("http://127.0.0.1:8080/paste", 5000);
 * const link = await paste("the whole output"); // "http://127.0.0.1:8080/p/1"
 * ```
 */
export function pasteClient(url: string, timeoutMs: number): Paster {
  return async (text) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          body: new TextEncoder().encode(text),
          headers: { "content-type": "text/plain; charset=utf-8" },
          signal: ac.signal,
        });
      } catch (e) {
        throw new PasteError(ac.signal.aborted ? `no answer from ${url} within ${timeoutMs} ms` : (e as Error).message);
      }
      const body = (await res.text()).slice(0, MAX_ANSWER_CHARS);
      if (!res.ok) throw new PasteError(`${url} answered ${res.status}`);
      const link = body.trim().split("\n", 1)[0]!.trim();
      if (link.length > MAX_LINK_CHARS || !/^https?:\/\/[^\s\x00-\x1f\x7f]+$/.test(link)) {
        throw new PasteError(`${url} did not answer with a link`);
      }
      return link;
    } finally {
      clearTimeout(timer);
    }
  };
}
