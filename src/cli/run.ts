/**
 * One run of the command: gather the code and the program's stdin, run it, and write the result.
 * In `raw` format the program's bytes reach our stdout/stderr as it writes them (untouched);
 * `irc` and `json` print once at the end. Ctrl-C ends the run, keeps what was printed and exits
 * 130; a Ctrl-C before the run starts (while the code is read or the sandbox starts) prints the
 * same one result a run stopped at once would, and exits 130. Our stdout failing (a closed pipe, a
 * full disk) ends the run too.
 */
import type { CliOptions } from "./args.ts";
import type { RunOptions, Sandbox } from "../sandbox/mod.ts";
import type { RunResult } from "../sandbox/mod.ts";
import { cliRunLimits } from "./run-limits.ts";
import { BOUNDS } from "../limits/mod.ts";
import { EXIT } from "../options/exit-codes.ts";
import { exitCodeFor } from "./exit-status.ts";
import { interruptedResult, rawNotes, renderInterrupted, renderResult } from "./output.ts";
import type { Paint } from "./output.ts";
import { writeFileAtomic } from "../platform/fs.ts";
import {
  envVar,
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
  const controller = new AbortController();
  let interrupted = false;
  const restore = onInterrupt(() => {
    if (interrupted) return; // a second Ctrl-C while we wrap up: the default handler is back soon
    interrupted = true;
    controller.abort();
  });
  try {
    const aborted = new Promise<undefined>((resolve) =>
      controller.signal.addEventListener("abort", () => resolve(undefined), { once: true })
    );
    const gathered = await Promise.race([gatherCode(options), aborted]);
    const sb = gathered === undefined ? undefined : await Promise.race([sandbox, aborted]);
    if (sb instanceof Error) throw sb;
    await holdForTest(aborted);
    if (gathered === undefined || sb === undefined || interrupted) {
      if (sb !== undefined) void sb.close().catch(() => {});
      return await reportInterruptedBeforeStart(options, paint);
    }
    return await runStarted(options, gathered, sb, paint, { controller, isInterrupted: () => interrupted, restore });
  } finally {
    restore();
  }
}

/** Writes what a run interrupted at once reports (one result; in raw format, the note); returns 130. */
async function reportInterruptedBeforeStart(options: CliOptions, paint: Paint): Promise<number> {
  const out = renderInterrupted(interruptedResult(cliRunLimits(options), false), options, paint);
  await writeStdout(out.stdout);
  await writeStderr(out.stderr);
  return EXIT.interrupted;
}

/**
 * Test hook (test/cli/interrupt.test.ts): with WASI_PY_TEST_HOLD_FILE set, the command writes that
 * file once it is ready to start the run and waits for Ctrl-C before starting it, so a test can
 * interrupt "before the run starts" without racing the clock.
 */
async function holdForTest(aborted: Promise<undefined>): Promise<void> {
  const file = envVar("WASI_PY_TEST_HOLD_FILE");
  if (file === undefined) return;
  writeFileAtomic(file, new TextEncoder().encode("ready\n"));
  const keepAlive = setInterval(() => {}, 60_000); // a signal listener alone does not keep the process up
  await aborted;
  clearInterval(keepAlive);
}

/** The interrupt state runOnce set up, for the run itself. */
interface Interrupts {
  controller: AbortController;
  isInterrupted(): boolean;
  restore(): void;
}

/** Runs the gathered code in `sb` and writes its result; returns the exit status. */
async function runStarted(
  options: CliOptions,
  { code, fromStdin }: { code: string; fromStdin: boolean },
  sb: Sandbox,
  paint: Paint,
  { controller, isInterrupted, restore }: Interrupts,
): Promise<number> {
  const sink = options.format === "raw" ? new RawSink(() => controller.abort()) : undefined;
  const runOptions: RunOptions = {
    ...cliRunLimits(options),
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
    if (isInterrupted() && sink !== undefined) {
      await writeStderr(paint.note("wasi-py: interrupted (Ctrl-C)") + "\n");
    }
    return exitCodeFor(result);
  } finally {
    restore();
    // Not awaited: stopping the worker takes ~10-20 ms and the process exits next anyway (which
    // ends the thread); the output is already written.
    void sb.close().catch(() => {});
  }
}
