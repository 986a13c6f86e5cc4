/**
 * `wasi-py CODE` through a running service (`--server URL` or WASI_PY_SERVER): the same options,
 * output formats and exit codes as a local run, the program's output streamed as it is written
 * (`POST /v1/run?stream`), Ctrl-C closing the request (the service aborts the run; exit 130).
 * Loaded by cli.ts before anything heavy, and it loads no interpreter code: a cold run through a
 * service costs the runtime's start, this module and one HTTP request.
 *
 * Differences from a local run: the program's stdin (when it is not a terminal) is read whole and
 * sent with the request (at most MAX_REMOTE_STDIN_BYTES, a usage error beyond), and limits left at
 * the command's defaults are the service's defaults instead.
 */
import type { CliOptions } from "./args.ts";
import type { RunLimits, RunResult } from "../sandbox/mod.ts";
import { cliRunLimits } from "./run-limits.ts";
import { plainRun } from "./plain-args.ts";
import { interruptedResult, rawNotes, renderInterrupted, renderResult } from "./output.ts";
import type { Paint } from "./output.ts";
import { NO_PAINT } from "./output.ts";
import { EXIT } from "../options/exit-codes.ts";
import { exitCodeFor } from "./exit-status.ts";
import { CLI_RUN_LIMITS } from "../options/limits.ts";
import { isTerminal, onInterrupt, readStdin, StdinTooLarge, writeStderr, writeStdout } from "../platform/process.ts";
import { HttpRequestError, postRequest } from "../platform/http-client.ts";
import type { HttpAnswer } from "../platform/http-client.ts";

/** The environment variables of this mode. */
export const SERVER_ENV = "WASI_PY_SERVER";
export const TOKEN_ENV = "WASI_PY_TOKEN";
/** Most stdin bytes sent to a service with a request. */
export const MAX_REMOTE_STDIN_BYTES = 8 * 1024 * 1024;

/** Where to run and the arguments left for the command. */
export interface RemoteTarget {
  url: string;
  argv: string[];
}

/**
 * Whether this command runs through a service, and the arguments without `--server URL`. Modes
 * that are not one run (--serve, --irc, --batch, --help, --version) stay local. Pure.
 *
 * @example
 * remoteTarget(["--server", "http://h:8060", "1+1"], () => undefined); // { url: "http://h:8060", argv: ["1+1"] }
 * remoteTarget(["1+1"], (k) => (k === "WASI_PY_SERVER" ? "http://h:8060" : undefined))?.url; // "http://h:8060"
 */
export function remoteTarget(
  argv: readonly string[],
  env: (name: string) => string | undefined,
): RemoteTarget | undefined {
  const end = argv.findIndex((a) => a === "--" || !a.startsWith("-"));
  const opts = end < 0 ? argv : argv.slice(0, end);
  if (opts.some((a) => ["--serve", "--irc", "--batch", "--help", "-h", "--version"].includes(a))) return undefined;
  const at = opts.findIndex((a) => a === "--server" || a.startsWith("--server="));
  if (at >= 0) {
    const a = opts[at]!;
    const url = a === "--server" ? argv[at + 1] : a.slice("--server=".length);
    const rest = [...argv.slice(0, at), ...argv.slice(at + (a === "--server" ? 2 : 1))];
    return url === undefined || url === "" ? undefined : { url, argv: rest };
  }
  const url = env(SERVER_ENV);
  return url === undefined || url === "" ? undefined : { url, argv: [...argv] };
}

/** The request body: the limits the user set (others are the service's), code, stdin, arguments. */
export function remoteBody(options: CliOptions, code: string, stdin: string): Record<string, unknown> {
  const body: Record<string, unknown> = { code, stdin, args: options.args };
  for (const spec of CLI_RUN_LIMITS) {
    const v = options[spec.key as keyof CliOptions] as number;
    if (v !== spec.default) body[spec.key] = v === Infinity ? "unlimited" : v;
  }
  return body;
}

/** A result as /v1/run sends it: RunResult with unlimited fuel as null in `limits`, which an older service leaves out. */
type RemoteResult = Omit<RunResult, "limits"> & { limits?: Partial<Record<keyof RunLimits, number | null>> };

/**
 * The service's result with its limits as numbers (null fuel is unlimited); a service that sends
 * no limits gets the ones the command's options name, as the formatters used before results
 * carried them.
 *
 * @example
 * remoteResult({ ...result, limits: { ...limits, fuel: null } }, options).limits.fuel; // Infinity
 */
export function remoteResult(sent: RemoteResult, options: CliOptions): RunResult {
  const limits = cliRunLimits(options);
  for (const key of Object.keys(limits) as (keyof RunLimits)[]) {
    const v = sent.limits?.[key];
    if (v === null) limits[key] = Infinity;
    else if (typeof v === "number") limits[key] = v;
  }
  return { ...sent, limits };
}

class RemoteFailure extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

async function gather(options: CliOptions, argv: readonly string[]): Promise<{ code: string; stdin: string }> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const readAll = async (what: string): Promise<string> => {
    try {
      return decoder.decode(await readStdin(MAX_REMOTE_STDIN_BYTES));
    } catch (e) {
      if (e instanceof StdinTooLarge) {
        throw new RemoteFailure(`${what} on stdin is larger than ${MAX_REMOTE_STDIN_BYTES} bytes`, EXIT.usage);
      }
      throw new RemoteFailure(`${what} on stdin is not valid UTF-8`, EXIT.usage);
    }
  };
  let code = options.code;
  if (code === undefined) {
    if (isTerminal(0) || options.noStdin) throw new RemoteFailure("no code given: pass it as an argument", EXIT.usage);
    return { code: await readAll("the code"), stdin: "" };
  }
  if (code.endsWith(".py")) {
    const file = await import("./program-file.ts");
    if (file.isProgramFile(argv, code, file.fileExists)) code = file.readProgramFile(code);
  }
  const stdin = options.noStdin || isTerminal(0) ? "" : await readAll("the program's input");
  return { code, stdin };
}

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/**
 * Runs the command through the service at `target.url`; returns the exit status.
 *
 * @example
 * exitProcess(await runRemote({ url: "http://127.0.0.1:8060", argv: ["1+1"] }));
 */
export async function runRemote(target: RemoteTarget, env: (name: string) => string | undefined): Promise<number> {
  const paint: Paint = NO_PAINT;
  try {
    const plain = plainRun(target.argv);
    const parsed = plain !== undefined
      ? { kind: "run" as const, options: plain }
      : await (await import("./args.ts")).parseCliArgs(target.argv);
    if (parsed.kind !== "run") {
      const message = parsed.kind === "error" ? parsed.message : "--help and --version are local";
      throw new RemoteFailure(`${message} (see wasi-py --help)`, EXIT.usage);
    }
    const options = parsed.options;
    const { code, stdin } = await gather(options, target.argv);
    return await stream(target.url, remoteBody(options, code, stdin), options, env(TOKEN_ENV), paint);
  } catch (e) {
    const status = e instanceof RemoteFailure ? e.status : EXIT.internal;
    await writeStderr(`wasi-py: ${e instanceof Error ? e.message : String(e)}\n`).catch(() => {});
    return status;
  }
}

async function stream(
  base: string,
  body: Record<string, unknown>,
  options: CliOptions,
  token: string | undefined,
  paint: Paint,
): Promise<number> {
  const stop = new AbortController();
  let interrupted = false;
  const restore = onInterrupt(() => {
    interrupted = true;
    stop.abort();
  });
  const raw = options.format === "raw";
  let result: RunResult | undefined;
  let stderrAtLineStart = true;
  try {
    const url = `${base.replace(/\/$/, "")}/v1/run?stream`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== undefined && token !== "") headers.authorization = `Bearer ${token.split("\n")[0]!.trim()}`;
    let res: HttpAnswer;
    try {
      res = await postRequest(url, JSON.stringify(body), headers, stop.signal);
    } catch (e) {
      if (interrupted) return await reportInterrupted(options, paint);
      if (!(e instanceof HttpRequestError)) throw e;
      throw new RemoteFailure(`cannot reach the service at ${base}: ${e.message}`, EXIT.internal);
    }
    if (res.status !== 200) {
      const text = await textOf(res.body);
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch { /* not JSON: the text itself */ }
      throw new RemoteFailure(
        `the service said ${res.status}: ${message}`,
        res.status === 400 ? EXIT.usage : EXIT.internal,
      );
    }
    try {
      for await (const event of jsonLines(res.body)) {
        if (typeof event.stdout === "string" || typeof event.stderr === "string") {
          if (!raw) continue;
          const bytes = fromBase64((event.stdout ?? event.stderr) as string);
          if (event.stderr !== undefined && bytes.length > 0) stderrAtLineStart = bytes[bytes.length - 1] === 0x0a;
          await (event.stdout !== undefined ? writeStdout(bytes) : writeStderr(bytes));
        } else if (event.result !== undefined) {
          result = remoteResult(event.result as RemoteResult, options);
        } else if (event.error !== undefined) {
          const status = Number(event.status) === 400 ? EXIT.usage : EXIT.internal;
          throw new RemoteFailure(`the service said ${event.status}: ${event.error}`, status);
        }
      }
    } catch (e) {
      if (!interrupted) throw e;
    }
  } finally {
    restore();
  }
  if (interrupted || result === undefined) {
    if (!interrupted) throw new RemoteFailure("the service closed the connection before the result", EXIT.internal);
    return await reportInterrupted(options, paint, stderrAtLineStart);
  }
  if (raw) {
    const notes = rawNotes(result, options);
    if (notes.length > 0) {
      await writeStderr((stderrAtLineStart ? "" : "\n") + notes.map((n) => `wasi-py: ${n}\n`).join(""));
    }
  } else {
    const out = renderResult(result, options, paint);
    await writeStdout(out.stdout);
    await writeStderr(out.stderr);
  }
  return exitCodeFor(result);
}

/**
 * A Ctrl-C before the service's result came: the one line a run aborted at once gives (the service
 * aborts the run when the request closes; what it spent is not known here); returns 130.
 */
async function reportInterrupted(options: CliOptions, paint: Paint, stderrAtLineStart = true): Promise<number> {
  const out = renderInterrupted(interruptedResult(cliRunLimits(options), true), options, paint);
  await writeStdout(out.stdout);
  await writeStderr((stderrAtLineStart || out.stderr === "" ? "" : "\n") + out.stderr);
  return EXIT.interrupted;
}

/** The response's JSON lines, one object at a time. */
async function* jsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim() !== "") yield JSON.parse(line) as Record<string, unknown>;
    }
  }
}

async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}
