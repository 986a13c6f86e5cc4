/**
 * One HTTP request for the CLI's client mode (src/cli/remote.ts). On Node it uses node:http, not
 * the global fetch: Node's fetch (undici) is a large module compiled on first use, measured at
 * 0.3 s of CPU per cold process on the 2-core machine, most of a cold run through a service. Deno's
 * fetch is native, so Deno uses it.
 */

/** An answer: its status and its body as chunks, as they arrive. */
export interface HttpAnswer {
  status: number;
  body: AsyncIterable<Uint8Array>;
}

/** What the request failed with before an answer (refused, reset, bad URL). */
export class HttpRequestError extends Error {
  override name = "HttpRequestError";
}

const IS_DENO = "Deno" in globalThis;

/**
 * POSTs `body` to `url`; `signal` aborts it (the connection is closed).
 *
 * @example
 * const a = await postRequest("http://127.0.0.1:8060/v1/run", "{}", {}, new AbortController().signal);
 */
export function postRequest(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  return IS_DENO ? postFetch(url, body, headers, signal) : postNode(url, body, headers, signal);
}

async function postFetch(url: string, body: string, headers: Record<string, string>, signal: AbortSignal) {
  try {
    const res = await fetch(url, { method: "POST", headers, body, signal });
    return { status: res.status, body: res.body as unknown as AsyncIterable<Uint8Array> };
  } catch (e) {
    throw new HttpRequestError(e instanceof Error ? e.message : String(e));
  }
}

async function postNode(url: string, body: string, headers: Record<string, string>, signal: AbortSignal) {
  const parsed = new URL(url);
  const http = parsed.protocol === "https:" ? await import("node:https") : await import("node:http");
  return await new Promise<HttpAnswer>((resolve, reject) => {
    const req = http.request(parsed, { method: "POST", headers, signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, body: res as AsyncIterable<Uint8Array> });
    });
    req.on("error", (e: Error & { code?: string }) => reject(new HttpRequestError(e.code ?? e.message)));
    req.end(body);
  });
}
