/**
 * Runs a request's program on the service's sandbox: the request's limits checked against the
 * service's (each is the default and the most a request may ask for), the run tied to the
 * client's connection and to shutdown (either aborts it), its outcome counted, the sandbox's
 * rejections turned into HttpErrors, and, for the APIs that want one, stdout and stderr merged
 * in the order they were written (as seen every 10 ms, the sandbox's output poll).
 */
import type { RunOptions, RunResult, Sandbox } from "../sandbox/mod.ts";
import { RUN_LIMITS } from "../options/limits.ts";
import type { RunLimitKey } from "../limits/mod.ts";
import { badRequest, fromRunError, HttpError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import type { ServeConfig } from "./config.ts";

/** A run's result, with both streams merged when asked for. */
export interface ServedResult extends RunResult {
  /** stdout and stderr interleaved in write order (only with `merged`). */
  merged?: string;
}

const LIMIT_KEYS = Object.keys(RUN_LIMITS) as RunLimitKey[];

/**
 * The request's limits within the service's: unset ones get the service's value; a larger one is a
 * 400 naming `names[key]` (the API's own name for it). Pure.
 *
 * @example
 * withinService({ fuel: 10 }, { fuel: 100, ...rest }).fuel; // 10
 */
export function withinService(
  asked: Partial<Record<RunLimitKey, number>>,
  service: Record<RunLimitKey, number>,
  names: Partial<Record<RunLimitKey, string>> = {},
): Record<RunLimitKey, number> {
  const out = { ...service };
  for (const key of LIMIT_KEYS) {
    const v = asked[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || Number.isNaN(v)) throw badRequest(`${names[key] ?? key} must be a number`);
    if (v > service[key]) {
      throw badRequest(`${names[key] ?? key} must be at most ${service[key]} on this service`);
    }
    out[key] = v;
  }
  return out;
}

/** The service's runs. */
export class Runner {
  /** Aborted when the grace period after SIGTERM ends: every run still going ends "aborted". */
  readonly shutdown = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    readonly sandbox: Sandbox,
    private readonly config: ServeConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Runs still going (for shutdown). */
  get inFlight(): number {
    return this.running.size;
  }

  /** Resolves when every run going now has finished. */
  async drained(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Runs `code` with `options` (limits already checked by withinService); the client's signal
   * aborts it. Throws HttpError for the sandbox's rejections.
   */
  async run(code: string, options: RunOptions, client?: AbortSignal, merged = false): Promise<ServedResult> {
    const signals = [this.shutdown.signal, ...(client === undefined ? [] : [client])];
    const chunks: { stream: string; bytes: Uint8Array }[] = [];
    const given = options.onOutput;
    const onOutput = merged
      ? (stream: "stdout" | "stderr", bytes: Uint8Array) => {
        chunks.push({ stream, bytes });
        given?.(stream, bytes);
      }
      : given;
    const signal = AbortSignal.any(signals);
    const p = this.sandbox.run(code, { ...options, signal, onOutput });
    this.running.add(p);
    try {
      const result: ServedResult = await p;
      this.metrics.run(result.outcome, result.wallMs, result.fuelUsed);
      if (merged) result.merged = mergeChunks(chunks);
      return result;
    } catch (e) {
      if (signal.aborted && e === signal.reason) {
        // Aborted while still queued: by shutdown, or by the client closing its connection.
        const why = this.shutdown.signal.aborted ? "the service is shutting down" : "the client went away";
        throw new HttpError(503, why, "shutting_down", 5);
      }
      const http = fromRunError(e, this.config.queueTimeoutMs);
      if (http === undefined) throw e;
      throw http;
    } finally {
      this.running.delete(p);
    }
  }
}

/** The chunks' bytes in order, decoded once (a character split across chunks stays whole). */
function mergeChunks(chunks: readonly { bytes: Uint8Array }[]): string {
  const total = chunks.reduce((n, c) => n + c.bytes.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c.bytes, at);
    at += c.bytes.length;
  }
  return new TextDecoder().decode(all);
}
