/**
 * The running process as the CLI sees it: arguments, stdin, TTY checks, environment, output and
 * exit. node:process and node:tty work in Deno 2 too, so one implementation serves both.
 */
import process from "node:process";
import { isatty } from "node:tty";
import { readFileSync } from "node:fs";
import { setMaxListeners } from "node:events";

/** Arguments after the program (Node: after `node cli.js`; Deno: after `deno run ... cli.ts`). */
export function cliArgs(): string[] {
  return process.argv.slice(2);
}

/** Whether a standard stream (0 stdin, 1 stdout, 2 stderr) is a terminal. */
export function isTerminal(fd: 0 | 1 | 2): boolean {
  try {
    return isatty(fd);
  } catch {
    return false;
  }
}

/** A non-empty host environment variable, or undefined. */
export function envVar(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** Thrown by readStdin when stdin holds more than the limit. */
export class StdinTooLarge extends Error {
  override name = "StdinTooLarge";
}

/** All of stdin, up to `limit` bytes (StdinTooLarge beyond). */
export async function readStdin(limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    total += bytes.length;
    if (total > limit) {
      process.stdin.destroy();
      throw new StdinTooLarge(`stdin is larger than ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Our own stdout or stderr could not be written (a full disk, a closed terminal, a reader that
 * went away); `code` is the errno name (EPIPE, ENOSPC, EIO...).
 *
 * @example
 * await writeStdout("x").catch((e) => e instanceof OutputError && e.code); // "ENOSPC" with > /dev/full
 */
export class OutputError extends Error {
  override name = "OutputError";
  constructor(readonly stream: "stdout" | "stderr", readonly code: string) {
    super(`cannot write to ${stream}: ${describeErrno(code)}`);
  }
}

function describeErrno(code: string): string {
  const words: Record<string, string> = {
    ENOSPC: "no space left on device",
    EPIPE: "the reader went away (broken pipe)",
    EIO: "input/output error (terminal closed?)",
    EBADF: "it is closed",
    EDQUOT: "disk quota exceeded",
    EFBIG: "file too large",
  };
  return `${words[code] ?? "error"} (${code})`;
}

function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  const name = (e as { name?: unknown } | null)?.name;
  return name === "BrokenPipe" ? "EPIPE" : typeof name === "string" ? name : "EIO";
}

/** The first write error of each stream: later writes fail at once with it. */
const broken: { stdout?: OutputError; stderr?: OutputError } = {};

function write(name: "stdout" | "stderr", data: string | Uint8Array): Promise<void> {
  if (broken[name] !== undefined) return Promise.reject(broken[name]);
  if (data.length === 0) return Promise.resolve();
  const stream = name === "stdout" ? process.stdout : process.stderr;
  return new Promise((resolve, reject) => {
    const failed = (e: unknown) => {
      broken[name] ??= new OutputError(name, errnoOf(e));
      reject(broken[name]);
    };
    try {
      stream.write(data, (e) => (e ? failed(e) : resolve()));
    } catch (e) {
      failed(e);
    }
  });
}

/** Writes to stdout; rejects with OutputError when it cannot (then every later write does too). */
export function writeStdout(data: string | Uint8Array): Promise<void> {
  return write("stdout", data);
}

/** Writes to stderr; rejects with OutputError when it cannot. */
export function writeStderr(data: string | Uint8Array): Promise<void> {
  return write("stderr", data);
}

/** Ends the process with `code` (after pending writes were awaited by the caller). */
export function exitProcess(code: number): never {
  process.exit(code);
}

/**
 * Keeps a write error on stdout/stderr (EPIPE from `| head`, ENOSPC from `> /dev/full`) from
 * becoming an uncaught exception with a stack trace: the writes themselves report it (OutputError).
 */
export function ignoreBrokenPipes(): void {
  for (const name of ["stdout", "stderr"] as const) {
    const stream = name === "stdout" ? process.stdout : process.stderr;
    stream.on("error", (e: unknown) => {
      broken[name] ??= new OutputError(name, errnoOf(e));
    });
  }
}

/**
 * Our stdin as an async iterable of chunks that touches process.stdin only when first iterated,
 * so a program that never reads stdin never makes us read (or wait for) it.
 *
 * @example
 * for await (const chunk of stdinChunks()) console.log(chunk.length);
 */
export function stdinChunks(): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      const it = (process.stdin as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          if (r.done) return { done: true, value: undefined };
          const v = r.value;
          return { done: false, value: typeof v === "string" ? new TextEncoder().encode(v) : v };
        },
      };
    },
  };
}

/** A Ctrl-C noted before the command installed its handler (noteEarlyInterrupts). */
const early = { listener: undefined as (() => void) | undefined, seen: false };

/**
 * From the entry point on, a Ctrl-C is noted instead of ending the process at once, until the
 * command's own handler (onInterrupt, onShutdownSignal) takes over and gets it: so a Ctrl-C while
 * the command loads still gets its one line. Modes that install no handler end soon by themselves.
 */
export function noteEarlyInterrupts(): void {
  if (early.listener !== undefined) return;
  early.listener = () => {
    early.seen = true;
  };
  process.on("SIGINT", early.listener);
}

/** Hands a noted early Ctrl-C to the handler now installed (once), and stops noting. */
function takeEarlyInterrupt(handler: () => void): void {
  if (early.listener === undefined) return;
  process.off("SIGINT", early.listener);
  early.listener = undefined;
  if (early.seen) queueMicrotask(handler);
}

/**
 * Calls `handler` on SIGINT (Ctrl-C) instead of dying at once (and at once for a Ctrl-C noted
 * since the entry point); returns the function that restores the default.
 */
export function onInterrupt(handler: () => void): () => void {
  process.on("SIGINT", handler);
  takeEarlyInterrupt(handler);
  return () => {
    process.off("SIGINT", handler);
  };
}

/**
 * Which raw command-line arguments (after the script) are not valid UTF-8, by index; undefined
 * when the raw bytes cannot be read (only Linux has /proc/self/cmdline, and Deno reads it only
 * with --allow-all). The runtime has already replaced invalid bytes by U+FFFD in argv, so this is
 * how we tell them from a real U+FFFD.
 */
export function invalidUtf8Args(): number[] | undefined {
  let raw: Uint8Array;
  try {
    raw = readFileSync("/proc/self/cmdline");
  } catch {
    return undefined;
  }
  const items: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      items.push(raw.subarray(from, i));
      from = i + 1;
    }
  }
  const strict = new TextDecoder("utf-8", { fatal: true });
  const bad: number[] = [];
  // The runtime's own arguments (node script, deno run -A cli.ts) are the ones not in argv.
  const ours = items.slice(items.length - cliArgs().length);
  ours.forEach((item, i) => {
    try {
      strict.decode(item);
    } catch {
      bad.push(i);
    }
  });
  return bad;
}

/**
 * Calls `handler` on SIGINT or SIGTERM (for a clean shutdown, e.g. the IRC bot's QUIT) instead of
 * the default of dying at once. Returns the function that restores the default.
 */
export function onShutdownSignal(handler: (signal: string) => void): () => void {
  const subscribed = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = () => handler(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  takeEarlyInterrupt(() => handler("SIGINT"));
  return () => {
    for (const [signal, listener] of subscribed) process.off(signal, listener);
  };
}

/** Lets `n` listeners wait on one AbortSignal without Node's leak warning (a batch shares one signal). */
export function allowAbortListeners(signal: AbortSignal, n: number): void {
  try {
    setMaxListeners(n, signal);
  } catch {
    // a runtime without per-target limits does not warn either
  }
}
