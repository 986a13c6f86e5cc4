/**
 * Failures a request can meet before or instead of a result, each with its HTTP status, its reason
 * for the metrics and, for the overload answers, Retry-After. Routes throw HttpError; the app
 * renders it in the shape of the API the request used (api-shape.ts). The sandbox's own rejections
 * become HttpErrors here, in one table.
 */
import { LimitError, QueueFullError, QueueTimeoutError, SandboxClosedError } from "../sandbox/mod.ts";
import type { RejectReason } from "./metrics.ts";

/** An answer other than a result. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly reason: RejectReason,
    /** Seconds for Retry-After (429, 503). */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/**
 * The HttpError for a rejection of `Sandbox.run`, or undefined for anything else (a bug: 500).
 *
 * @example
 * fromRunError(new QueueFullError(8), 10_000)?.status; // 429
 */
export function fromRunError(e: unknown, queueTimeoutMs: number): HttpError | undefined {
  if (e instanceof QueueFullError) return new HttpError(429, "too many runs waiting: try again later", "queue_full", 1);
  if (e instanceof QueueTimeoutError) {
    const s = Math.max(1, Math.ceil(queueTimeoutMs / 1000));
    return new HttpError(503, "no worker became free in time: try again later", "queue_timeout", s);
  }
  if (e instanceof SandboxClosedError) return new HttpError(503, "the service is shutting down", "shutting_down", 5);
  if (e instanceof LimitError || e instanceof TypeError) return new HttpError(400, e.message, "bad_request");
  return undefined;
}

/** A 400 for a request the API cannot take. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, message, "bad_request");
}
