/**
 * `wasi-py --batch`: JSON Lines in, JSON Lines out, for pipelines. Each input line is a JSON
 * string (the code) or an object {"id","code","stdin","args","fuel","timeout","memory"}; each
 * output line is the `json` format's object with "id" first (null when the line gave none), in
 * input order. Every program runs in a fresh instance; the pool runs several at once (one worker
 * per core) while the results still come out in order. A bad line yields {"id","line","error"}
 * and the batch goes on; the exit status is then 2 (0 when every line ran).
 *
 * Host memory: a line longer than --max-line is answered with an error and the rest of it is
 * skipped as it streams by (never buffered), and a new line waits while the lines in flight would
 * total more than --max-line with it, so the lines held at once (in flight and being read) come to
 * at most twice the cap (README "Batch mode" gives the measured peak memory). An "id" is a string of at most
 * MAX_ID_CHARS characters, a finite number or null, and messages never quote a value of the line
 * beyond a short cut: nothing of a line is walked recursively (a 10,000-deep value cannot blow
 * the stack) or echoed at full size.
 */
import type { CliOptions } from "./args.ts";
import { jsonView } from "./output.ts";
import { cliRunLimits } from "./run-limits.ts";
import type { Paint } from "./output.ts";
import type { RunOptions, Sandbox } from "../sandbox/mod.ts";
import { BATCH_LIMITS } from "../options/batch.ts";
import { OptionError, quoteShort, readOptionNumber, readOptionText } from "../options/spec.ts";
import { CLI_MEMORY_LIMIT, RUN_LIMITS } from "../options/limits.ts";
import type { OptionSpec } from "../options/spec.ts";
import { EXIT } from "../options/exit-codes.ts";
import { allowAbortListeners, onInterrupt, stdinChunks, writeStdout } from "../platform/process.ts";
import { defaultWorkerCount } from "../platform/worker.ts";

/** Longest "id" string echoed back, in UTF-16 code units (a longer one makes the line bad). */
export const MAX_ID_CHARS = 256;

/** The keys a line object may have, and the option each numeric one is read with. */
const NUMERIC_KEYS: Readonly<Record<string, OptionSpec>> = {
  fuel: RUN_LIMITS.fuel,
  timeout: RUN_LIMITS.timeoutMs,
  memory: CLI_MEMORY_LIMIT,
};
const KEYS = new Set(["id", "code", "stdin", "args", ...Object.keys(NUMERIC_KEYS)]);

/** One line made into a run, or why it cannot be. */
export type BatchJob =
  | { kind: "run"; id: unknown; code: string; options: RunOptions }
  | { kind: "bad"; id: unknown; message: string };

/** A JSON value named by its kind, never walked or quoted (it may be 10,000 levels deep or megabytes long). */
function kindOf(value: unknown): string {
  if (value === null || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A numeric key's value: a number in the key's unit (seconds, MiB, units) or the flag's text ("1e9", "unlimited"). */
function numeric(key: string, value: unknown): number {
  const spec = NUMERIC_KEYS[key]!;
  if (typeof value === "number") return readOptionNumber(spec, value, key);
  if (typeof value === "string") return readOptionText(spec, value, key);
  throw new OptionError(`${key} must be a number or a string, got ${kindOf(value)}`, key);
}

/**
 * The line's "id" if it is one we echo: a string of at most MAX_ID_CHARS, a finite number, or
 * null (also for no id); undefined for anything else.
 */
function validId(id: unknown): string | number | null | undefined {
  if (id === undefined || id === null) return null;
  if (typeof id === "string" && id.length <= MAX_ID_CHARS) return id;
  if (typeof id === "number" && Number.isFinite(id)) return id;
  return undefined;
}

/** What a bad "id" is told (exported for the README and tests). */
export const BAD_ID_MESSAGE = `"id" must be a string of at most ${MAX_ID_CHARS} characters, a number or null`;

function jobFromObject(o: Record<string, unknown>, defaults: RunOptions): BatchJob {
  const id = validId(o.id);
  if (id === undefined) return { kind: "bad", id: null, message: `${BAD_ID_MESSAGE}, got ${kindOf(o.id)}` };
  const bad = (message: string): BatchJob => ({ kind: "bad", id, message });
  const unknown = Object.keys(o).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) return bad(`unknown key ${quoteShort(unknown[0]!)} (keys: ${[...KEYS].join(", ")})`);
  if (typeof o.code !== "string") return bad('"code" must be a string');
  if (o.stdin !== undefined && typeof o.stdin !== "string") return bad('"stdin" must be a string');
  if (o.args !== undefined && !(Array.isArray(o.args) && o.args.every((a) => typeof a === "string"))) {
    return bad('"args" must be an array of strings');
  }
  const options: RunOptions = {
    ...defaults,
    stdin: (o.stdin as string | undefined) ?? "",
    args: (o.args as string[]) ?? [],
  };
  try {
    if (o.fuel !== undefined) options.fuel = numeric("fuel", o.fuel);
    if (o.timeout !== undefined) options.timeoutMs = numeric("timeout", o.timeout);
    if (o.memory !== undefined) options.memoryMiB = numeric("memory", o.memory);
  } catch (e) {
    if (e instanceof OptionError) return bad(e.message);
    throw e;
  }
  return { kind: "run", id, code: o.code, options };
}

/**
 * Reads one input line (pure).
 *
 * @example
 * parseBatchLine('"1+1"', {}); // { kind: "run", id: null, code: "1+1", options: { stdin: "", args: [] } }
 * parseBatchLine('{"id": 7, "code": "print(1)", "timeout": 0.5}', {}).options.timeoutMs; // 500
 */
export function parseBatchLine(line: string, defaults: RunOptions): BatchJob {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { kind: "bad", id: null, message: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof value === "string") {
    return { kind: "run", id: null, code: value, options: { ...defaults, stdin: "", args: [] } };
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return jobFromObject(value as Record<string, unknown>, defaults);
  }
  return { kind: "bad", id: null, message: 'a line must be a JSON string (the code) or an object with "code"' };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The lines of a byte stream (without "\n"); a line over `maxBytes` comes as an Error, skipped to its end. */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number = BATCH_LIMITS.maxLineBytes.default,
): AsyncGenerator<string | Error> {
  let parts: Uint8Array[] = [];
  let size = 0;
  let tooLong = false;
  const finish = (): string | Error => {
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const p of parts) (bytes.set(p, at), at += p.length);
    parts = [];
    size = 0;
    if (tooLong) return (tooLong = false, new Error(`line longer than ${maxBytes} bytes (--max-line)`));
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return new Error("line is not valid UTF-8");
    }
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      if (size + nl - from > maxBytes) (tooLong = true, parts = [], size = 0);
      if (!tooLong) (parts.push(chunk.subarray(from, nl)), size += nl - from);
      yield finish();
      from = nl + 1;
    }
    const rest = chunk.subarray(from);
    if (size + rest.length > maxBytes) (tooLong = true, parts = [], size = 0);
    if (!tooLong && rest.length > 0) (parts.push(rest.slice()), size += rest.length);
  }
  if (size > 0 || tooLong) yield finish();
}

/** An error object's text (the id is one validId let through, so this never throws). */
function errorText(id: unknown, line: number, message: string): string {
  return JSON.stringify({ id, line, error: message });
}

/** The output line for one input line; a line that cannot be answered gets its error object, never a throw. */
async function outcomeLine(sb: Sandbox, job: BatchJob, line: number): Promise<{ text: string; bad: boolean }> {
  if (job.kind === "bad") return { text: errorText(job.id, line, job.message), bad: true };
  try {
    const r = await sb.run(job.code, job.options);
    return { text: JSON.stringify({ id: job.id, ...jsonView(r) }), bad: false };
  } catch (e) {
    const message = job.options.signal?.aborted ? "interrupted" : e instanceof Error ? e.message : String(e);
    return { text: errorText(job.id, line, message.replace(/\s*\n\s*/g, " ")), bad: true };
  }
}

/** The job for one item of splitLines: a line, or the Error of one that could not be read. */
function jobFor(line: string | Error, defaults: RunOptions): BatchJob {
  if (typeof line !== "string") return { kind: "bad", id: null, message: line.message };
  try {
    return parseBatchLine(line, defaults);
  } catch (e) {
    return { kind: "bad", id: null, message: `cannot read the line: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A line in flight: its size, and the promise that settles once its answer is written (never rejects). */
interface Pending {
  written: Promise<void>;
  lineBytes: number;
}

/**
 * Runs the batch read from stdin and returns the exit status (0, or 2 if a line was bad, 130 on
 * Ctrl-C). Throws OutputError when our stdout fails.
 *
 * @example
 * // printf '%s\n' '"1+1"' '{"id":"b","code":"print(2)"}' | wasi-py --batch
 */
export async function runBatch(options: CliOptions, sandbox: Promise<Sandbox | Error>, _paint: Paint): Promise<number> {
  const sb = await sandbox;
  if (sb instanceof Error) throw sb;
  const controller = new AbortController();
  let interrupted = false;
  const restore = onInterrupt(() => {
    interrupted = true;
    controller.abort();
  });
  const window = Math.max(2, 2 * defaultWorkerCount());
  allowAbortListeners(controller.signal, 2 * window);
  const defaults: RunOptions = {
    ...cliRunLimits(options),
    signal: controller.signal,
  };
  const inFlight: Pending[] = [];
  let heldBytes = 0;
  let anyBad = false;
  let failure: { error: unknown } | undefined;
  let tail: Promise<void> = Promise.resolve();
  // Each answer is written as soon as it and every earlier one are done, while later lines are still
  // being read: a producer that waits for an answer before sending the next line gets it at once.
  const enqueue = (outcome: Promise<{ text: string; bad: boolean }>, lineBytes: number) => {
    const written = tail.then(async () => {
      try {
        const { text, bad } = await outcome;
        if (failure !== undefined) return; // our stdout failed: the rest is only waited for
        anyBad ||= bad;
        await writeStdout(text + "\n");
      } catch (error) {
        failure ??= { error };
      } finally {
        inFlight.shift();
        heldBytes -= lineBytes;
      }
    });
    tail = written;
    inFlight.push({ written, lineBytes });
    heldBytes += lineBytes;
  };
  // The lines in flight total at most the cap (a line that would pass it waits; alone it always runs).
  // String lengths stand for bytes: a string never has more UTF-16 units than UTF-8 bytes.
  const budgetBytes = options.maxLineBytes;
  try {
    let n = 0;
    for await (const line of splitLines(stdinChunks(), options.maxLineBytes)) {
      n++;
      if (controller.signal.aborted || failure !== undefined) break;
      if (typeof line === "string" && line.trim() === "") continue;
      const lineBytes = typeof line === "string" ? line.length : 0;
      while (inFlight.length > 0 && (inFlight.length >= window || heldBytes + lineBytes > budgetBytes)) {
        await inFlight[0]!.written;
      }
      enqueue(outcomeLine(sb, jobFor(line, defaults), n), lineBytes);
    }
    await tail;
    if (failure !== undefined) throw failure.error;
  } finally {
    restore();
    controller.abort(); // anything still running when our stdout failed
    await tail;
    await sb.close();
  }
  return interrupted ? EXIT.interrupted : anyBad ? EXIT.usage : 0;
}
