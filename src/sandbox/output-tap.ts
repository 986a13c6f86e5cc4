/**
 * Streaming output: while a run goes on, the pool reads what the worker appended to the shared
 * output buffer (_protocol.ts) and hands the new bytes, untouched, to the caller's `onOutput`.
 * The worker only ever appends and publishes each stream's length with Atomics.store, so reading
 * up to the published length is always safe. Polling (every POLL_MS) keeps the worker free of any
 * extra work; a final read at the end of the run delivers the rest, so nothing is missed.
 */
import { OUTPUT_LAYOUT, STDERR, STDOUT } from "./_protocol.ts";

/** How often a running program's new output is looked for, ms. */
export const POLL_MS = 10;

/**
 * Where a chunk of output came from.
 *
 * @example
 * ```ts
 * import { run } from "wasi-py";
 * import type { StreamName } from "wasi-py";
 *
 * const seen: StreamName[] = [];
 * await run("import sys; print(1); print(2, file=sys.stderr)", { onOutput: (stream) => seen.push(stream) });
 * ```
 */
export type StreamName = "stdout" | "stderr";

/**
 * Receives the program's output as it is written: exact bytes, in order within each stream.
 *
 * @example
 * ```ts
 * import { run } from "wasi-py";
 * import type { OutputListener } from "wasi-py";
 *
 * let bytes = 0;
 * const count: OutputListener = (_stream, chunk) => (bytes += chunk.length);
 * await run("print('x' * 100)", { onOutput: count }); // bytes: 101
 * ```
 */
export type OutputListener = (stream: StreamName, bytes: Uint8Array) => void;

const NAMES: readonly StreamName[] = ["stdout", "stderr"];

/**
 * Reads new output from one run's buffer and passes it on; `start()` polls, `stop()` stops polling
 * and delivers what is left.
 *
 * @example
 * const tap = new OutputTap(output, limits.maxOutputBytes, (s, b) => sink(s, b));
 * tap.start();
 * // ... when the run ends:
 * tap.stop();
 */
export class OutputTap {
  private readonly sent = [0, 0];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly header: Int32Array;

  constructor(
    private readonly output: SharedArrayBuffer,
    private readonly cap: number,
    private readonly listener: OutputListener,
  ) {
    this.header = new Int32Array(output, 0, OUTPUT_LAYOUT.headerInts);
  }

  start(): void {
    this.timer ??= setInterval(() => this.poll(), POLL_MS);
  }

  /** Stops polling and delivers everything not yet delivered. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
  }

  private poll(): void {
    for (const stream of [STDOUT, STDERR]) {
      const len = Atomics.load(this.header, OUTPUT_LAYOUT.length + stream);
      const from = this.sent[stream]!;
      if (len <= from) continue;
      const start = OUTPUT_LAYOUT.headerBytes + stream * this.cap + from;
      const bytes = new Uint8Array(this.output, start, len - from).slice();
      this.sent[stream] = len;
      try {
        this.listener(NAMES[stream], bytes);
      } catch {
        // The listener's failure is its own business; the run goes on.
      }
    }
  }
}
