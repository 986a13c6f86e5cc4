/**
 * Reading a request body within the service's bounds, the same way on every runtime: at most
 * maxBodyBytes (413 as soon as the Content-Length or the bytes read say more) and within
 * bodyTimeoutMs (408: a client that trickles its body must not hold a connection forever).
 */
import { HttpError } from "./errors.ts";

/** The bounds. */
export interface BodyBounds {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

/**
 * The body's bytes; throws HttpError 413 or 408.
 *
 * @example
 * const bytes = await readBody(request, { maxBodyBytes: 1 << 20, bodyTimeoutMs: 30_000 });
 */
export async function readBody(request: Request, bounds: BodyBounds): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, `the body is larger than ${bounds.maxBodyBytes} bytes`, "body_too_large");
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > bounds.maxBodyBytes) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, `the body took longer than ${bounds.bodyTimeoutMs} ms`, "body_timeout")),
      bounds.bodyTimeoutMs,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) break;
      total += value.length;
      if (total > bounds.maxBodyBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (e) {
    void reader.cancel().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as JSON (whatever the Content-Type says: some clients, piston-client among them, send
 * JSON as text/plain); throws HttpError 400 for text that is not UTF-8 JSON.
 */
export async function readJson(request: Request, bounds: BodyBounds): Promise<unknown> {
  const bytes = await readBody(request, bounds);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new HttpError(400, "the body is not valid UTF-8", "bad_request");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`, "bad_request");
  }
}
