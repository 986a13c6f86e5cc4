/**
 * The native API: `POST /v1/run` (one program, answered with the library's RunResult as JSON),
 * `POST /v1/batch` (JSON Lines in, JSON Lines out as a stream, in input order), `GET /v1/info`
 * (versions, the service's limits and their bounds). Request parsing is pure (`nativeRequest`).
 */
import type { Hono } from "hono";
import type { RunOptions } from "../sandbox/mod.ts";
import { BUNDLED_RUN_LIMITS } from "../options/limits.ts";
import type { RunLimitKey } from "../limits/mod.ts";
import { VERSION } from "../version.ts";
import { limitsJson } from "../format/summary.ts";
import { readBody, readJson } from "./body.ts";
import { badRequest, HttpError } from "./errors.ts";
import { decodeContent, toBase64 } from "./encoding.ts";
import { withinService } from "./runner.ts";
import type { Runner, ServedResult } from "./runner.ts";
import type { ServeConfig } from "./config.ts";
import type { AppEnv } from "./app-env.ts";

/** A native request, parsed. */
export interface NativeRequest {
  code: string;
  options: RunOptions;
}

const LIMIT_KEYS = Object.keys(BUNDLED_RUN_LIMITS) as RunLimitKey[];
const KNOWN = new Set(["id", "code", "stdin", "args", "files", "returnFiles", ...LIMIT_KEYS]);

/**
 * A /v1/run body → the program and its options within the service's limits; HttpError 400.
 * Limits are the library's names and units (`timeoutMs`, `memoryMiB`); `fuel` may be "unlimited".
 *
 * @example
 * nativeRequest({ code: "print(1)", timeoutMs: 500 }, config).options.timeoutMs; // 500
 */
export function nativeRequest(body: unknown, config: ServeConfig): NativeRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("the body must be an object");
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!KNOWN.has(key)) throw badRequest(`unknown field "${key}"`);
  if (typeof b.code !== "string") throw badRequest("code must be a string");
  if (b.stdin !== undefined && typeof b.stdin !== "string") throw badRequest("stdin must be a string");
  if (b.args !== undefined && !(Array.isArray(b.args) && b.args.every((a) => typeof a === "string"))) {
    throw badRequest("args must be an array of strings");
  }
  const asked: Partial<Record<RunLimitKey, number>> = {};
  for (const key of LIMIT_KEYS) {
    const v = b[key];
    if (v !== undefined) asked[key] = key === "fuel" && v === "unlimited" ? Infinity : v as number;
  }
  const files = b.files === undefined ? undefined : fileList(b.files);
  const ret = b.returnFiles;
  if (ret !== undefined && typeof ret !== "boolean" && (typeof ret !== "object" || ret === null)) {
    throw badRequest("returnFiles must be a boolean or { maxFiles, maxBytes }");
  }
  const options: RunOptions = {
    ...withinService(asked, config.limits),
    stdin: b.stdin ?? "",
    args: b.args as string[] | undefined,
    files,
    returnFiles: ret as RunOptions["returnFiles"],
  };
  return { code: b.code, options };
}

function fileList(files: unknown): { path: string; content: string | Uint8Array }[] {
  if (!Array.isArray(files)) throw badRequest("files must be an array of { path, content, encoding }");
  return files.map((f: unknown, i) => {
    if (typeof f !== "object" || f === null) throw badRequest(`files[${i}] must be an object`);
    const { path, content, encoding } = f as Record<string, unknown>;
    if (typeof path !== "string") throw badRequest(`files[${i}].path must be a string`);
    if (encoding === "hex") throw badRequest(`files[${i}].encoding must be utf8 or base64`);
    return { path, content: decodeContent(content, encoding, `files[${i}]`) };
  });
}

/**
 * A result as JSON: the RunResult's fields, files with their size and base64 content.
 *
 * @example
 * nativeResponse(result).files?.[0]; // { path: "out.txt", size: 2, content: "aGk=" }
 */
export function nativeResponse(r: ServedResult): Record<string, unknown> {
  const { files, merged: _merged, ...rest } = r;
  const out: Record<string, unknown> = { ...rest, limits: limitsJson(rest.limits) };
  if (rest.fuelUsed === Infinity) out.fuelUsed = null;
  if (files !== undefined) {
    out.files = files.map((f) => ({ path: f.path, size: f.content.length, content: toBase64(f.content) }));
  }
  return out;
}

/** Registers the native routes. */
export function nativeRoutes(app: Hono<AppEnv>, runner: Runner, config: ServeConfig, cpython: string): void {
  app.post("/v1/run", async (c) => {
    const req = nativeRequest(await readJson(c.req.raw, config), config);
    if (c.req.query("stream") !== undefined) {
      return c.body(runStream(req, runner, c.req.raw.signal), 200, { "content-type": NDJSON });
    }
    const r = await runner.run(req.code, req.options, c.req.raw.signal);
    c.set("outcome", r.outcome);
    return c.json(nativeResponse(r));
  });

  app.post("/v1/batch", async (c) => {
    const lines = new TextDecoder().decode(await readBody(c.req.raw, config)).split("\n").filter((l) => l.trim());
    if (lines.length > config.batchMaxLines) {
      throw badRequest(`at most ${config.batchMaxLines} programs per batch, got ${lines.length}`);
    }
    return c.body(batchStream(lines, runner, config, c.req.raw.signal), 200, { "content-type": NDJSON });
  });

  app.get("/v1/info", (c) =>
    c.json({
      wasiPy: VERSION,
      python: cpython,
      limits: config.limits,
      bounds: Object.fromEntries(LIMIT_KEYS.map((k) => [k, { min: BUNDLED_RUN_LIMITS[k].min, max: config.limits[k] }])),
      workers: runner.sandbox.load.workers,
      maxQueue: config.maxQueue,
      maxBodyBytes: config.maxBodyBytes,
    }));
}

/** The media type of JSON Lines answers. */
const NDJSON = "application/x-ndjson; charset=utf-8";

/**
 * `POST /v1/run?stream`: the program's output as it is written, one JSON line per chunk
 * (`{"stdout": BASE64}` or `{"stderr": BASE64}`, exact bytes), then `{"result": RESULT}` (the
 * RunResult as /v1/run gives it) or `{"error": MESSAGE, "status": N}`. Closing the connection
 * aborts the run (the CLI's Ctrl-C through a service).
 */
function runStream(req: NativeRequest, runner: Runner, signal: AbortSignal): ReadableStream {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async start(controller) {
      const send = (o: unknown) => controller.enqueue(encoder.encode(JSON.stringify(o) + "\n"));
      const onOutput = (stream: string, bytes: Uint8Array) => send({ [stream]: toBase64(bytes) });
      try {
        const r = await runner.run(req.code, { ...req.options, onOutput }, signal);
        send({ result: nativeResponse(r) });
      } catch (e) {
        send({ error: e instanceof Error ? e.message : String(e), status: e instanceof HttpError ? e.status : 500 });
      }
      controller.close();
    },
  });
}

/**
 * The batch's answers as a stream: each line's result (or its error) in input order, each sent as
 * soon as it and those before it are done. At most `workers` lines run at once, so a batch never
 * fills the queue by itself.
 */
function batchStream(lines: string[], runner: Runner, config: ServeConfig, signal: AbortSignal): ReadableStream {
  const encoder = new TextEncoder();
  const answer = async (line: string, i: number): Promise<string> => {
    let id: unknown = i + 1;
    try {
      const body = JSON.parse(line) as unknown;
      if (typeof body === "object" && body !== null && "id" in body) id = (body as { id: unknown }).id;
      const req = nativeRequest(body, config);
      return JSON.stringify({ id, ...nativeResponse(await runner.run(req.code, req.options, signal)) });
    } catch (e) {
      const status = e instanceof HttpError ? e.status : e instanceof SyntaxError ? 400 : 500;
      const message = e instanceof Error ? e.message : String(e);
      return JSON.stringify({ id, line: i + 1, status, error: message });
    }
  };
  const width = Math.max(1, runner.sandbox.load.workers);
  const pending: Promise<string>[] = [];
  let next = 0;
  const launch = () => {
    while (next < lines.length && pending.length - sent < width) {
      pending.push(answer(lines[next]!, next));
      next++;
    }
  };
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      launch();
      if (sent >= lines.length) {
        controller.close();
        return;
      }
      const text = await pending[sent]!;
      sent++;
      controller.enqueue(encoder.encode(text + "\n"));
    },
  });
}
