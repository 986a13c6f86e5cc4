/**
 * The running process as the CLI sees it: arguments, stdin, TTY checks, environment, output and
 * exit. node:process and node:tty work in Deno 2 too, so one implementation serves both.
 */
import process from "node:process";
import { isatty } from "node:tty";

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

function write(stream: NodeJS.WriteStream, data: string | Uint8Array): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    // An EPIPE (reader went away) is not our error to report; stop writing quietly.
    stream.write(data, () => resolve());
  });
}

export function writeStdout(data: string | Uint8Array): Promise<void> {
  return write(process.stdout, data);
}

export function writeStderr(data: string | Uint8Array): Promise<void> {
  return write(process.stderr, data);
}

/** Ends the process with `code` (after pending writes were awaited by the caller). */
export function exitProcess(code: number): never {
  process.exit(code);
}

/** Keeps an EPIPE on stdout/stderr (e.g. `wasi-py ... | head -c1`) from becoming a crash. */
export function ignoreBrokenPipes(): void {
  const quiet = (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  };
  process.stdout.on("error", quiet);
  process.stderr.on("error", quiet);
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
  return () => {
    for (const [signal, listener] of subscribed) process.off(signal, listener);
  };
}
