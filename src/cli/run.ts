/**
 * One run of the command: gather the code and the program's stdin, run it, and write the result.
 * In `raw` format the program's bytes reach our stdout/stderr as it writes them (untouched);
 * `irc` and `json` print once at the end. Ctrl-C ends the run, keeps what was printed and exits
 * 130; our stdout failing (a closed pipe, a full disk) ends the run too.
 */
import type { CliOptions } from "./args.ts";
import type { RunOptions, Sandbox } from "../sandbox/mod.ts";
import type { RunResult } from "../sandbox/result.ts";
import { BOUNDS } from "../sandbox/limits.ts";
import { exitCodeFor } from "../options/exit-codes.ts";
import { rawNotes, renderResult } from "./output.ts";
import type { Paint } from "./output.ts";
import {
  isTerminal,
  onInterrupt,
  OutputError,
  readStdin,
  stdinChunks,
  StdinTooLarge,
  writeStderr,
  writeStdout,
} from "../platform/process.ts";

/** Wrong use of the command found after parsing (no code, stdin too large, not UTF-8). */
export class UsageError extends Error {
  override name = "UsageError";
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The code, from the argument or, when there is none, all of stdin (then the program's stdin is empty). */
async function gatherCode(options: CliOptions): Promise<{ code: string; fromStdin: boolean }> {
  if (options.code !== undefined) return { code: options.code, fromStdin: false };
  if (options.noStdin || isTerminal(0)) {
    throw new UsageError(
      options.noStdin
        ? "no code given and --no-stdin: pass the code as an argument"
        : "no code given: pass it as an argument or pipe it on stdin",
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readStdin(BOUNDS.stdinBytes);
  } catch (e) {
    if (e instanceof StdinTooLarge) throw new UsageError(`the code on stdin is larger than ${BOUNDS.stdinBytes} bytes`);
    throw e;
  }
  try {
    return { code: strictUtf8.decode(bytes), fromStdin: true };
  } catch {
    throw new UsageError("the code on stdin is not valid UTF-8");
  }
}

/** Writes raw output in order per stream; the first failure is kept and stops the run. */
class RawSink {
  private tail: Record<"stdout" | "stderr", Promise<void>> = { stdout: Promise.resolve(), stderr: Promise.resolve() };
  failure: OutputError | undefined;
  /** Whether the last byte written to stderr was a newline (notes then need no separator). */
  stderrAtLineStart = true;

  constructor(private readonly onFailure: () => void) {}

  write(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    if (stream === "stderr" && bytes.length > 0) this.stderrAtLineStart = bytes[bytes.length - 1] === 0x0a;
    const put = stream === "stdout" ? writeStdout : writeStderr;
    this.tail[stream] = this.tail[stream].then(() => put(bytes)).catch((e: unknown) => {
      if (e instanceof OutputError) {
        this.failure ??= e;
        this.onFailure();
        return;
      }
      throw e;
    });
  }

  async drain(): Promise<void> {
    await Promise.all([this.tail.stdout, this.tail.stderr]);
  }
}

/** What the finished run says on our streams, after (raw) or instead of (irc, json) the streamed output. */
async function writeResult(result: RunResult, options: CliOptions, paint: Paint, sink: RawSink | undefined) {
  if (sink === undefined) {
    const out = renderResult(result, options, paint);
    await writeStdout(out.stdout);
    await writeStderr(out.stderr);
    return;
  }
  await sink.drain();
  if (sink.failure !== undefined) throw sink.failure;
  const notes = rawNotes(result, options);
  if (notes.length === 0) return;
  const sep = sink.stderrAtLineStart ? "" : "\n";
  await writeStderr(sep + notes.map((n) => paint.note(`wasi-py: ${n}`) + "\n").join(""));
}

/**
 * Runs the program the options describe in `sandbox` and returns wasi-py's exit status. Throws
 * UsageError, LimitError (a value the sandbox refuses) and OutputError (our stdout failed).
 *
 * @example
 * const status = await runOnce(options, Sandbox.create({ workers: 1 }), NO_PAINT);
 */
export async function runOnce(options: CliOptions, sandbox: Promise<Sandbox | Error>, paint: Paint): Promise<number> {
  const { code, fromStdin } = await gatherCode(options);
  const sb = await sandbox;
  if (sb instanceof Error) throw sb;
  const controller = new AbortController();
  let interrupted = false;
  const restore = onInterrupt(() => {
    if (interrupted) return; // a second Ctrl-C while we wrap up: the default handler is back soon
    interrupted = true;
    controller.abort();
  });
  const sink = options.format === "raw" ? new RawSink(() => controller.abort()) : undefined;
  const runOptions: RunOptions = {
    fuel: options.fuel,
    timeoutMs: options.timeoutMs,
    memoryMiB: options.memoryMiB,
    maxOutputBytes: options.maxOutputBytes,
    tmpQuotaBytes: options.tmpQuotaBytes,
    args: options.args,
    stdin: options.noStdin || fromStdin ? new Uint8Array(0) : stdinChunks(),
    signal: controller.signal,
    onOutput: sink === undefined ? undefined : (stream, bytes) => sink.write(stream, bytes),
  };
  try {
    const result = await sb.run(code, runOptions);
    restore();
    // Output first: the user should not wait for the worker to be torn down.
    await writeResult(result, options, paint, sink);
    if (interrupted && sink !== undefined) await writeStderr(paint.note("wasi-py: interrupted (Ctrl-C)") + "\n");
    return exitCodeFor(result);
  } finally {
    restore();
    // Not awaited: stopping the worker takes ~10-20 ms and the process exits next anyway (which
    // ends the thread); the output is already written.
    void sb.close().catch(() => {});
  }
}
