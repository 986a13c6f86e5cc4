/**
 * The per-run extras of `Sandbox.run` beyond limits and bytes of stdin: program arguments, lazy
 * stdin, streaming output and cancellation. The pool validates them when a run is asked for
 * (`checkExtras`) and wires them up when a worker takes it (`attachRunIo`); this file keeps that
 * logic out of the pool's queueing code.
 */
import type { RunOptions } from "./run-options.ts";
import { BOUNDS, typeWords } from "../limits/mod.ts";
import { OutputTap } from "./output-tap.ts";
import { createStdinRing, StdinPump } from "./_stdin-ring.ts";
import { driverWithArgs, encodeArgs } from "./_program-args.ts";

/** What a queued run carries besides its code, limits and stdin bytes. */
export interface RunExtras {
  /** The program's arguments, encoded (_program-args.ts), when it has any. */
  argsHeader: string | undefined;
  /** A lazily read stdin. */
  stdinSource: AsyncIterable<Uint8Array> | undefined;
  onOutput: RunOptions["onOutput"];
  signal: AbortSignal | undefined;
}

/** Whether a stdin option is a lazily read stream (not bytes or text). */
export function isStdinStream(stdin: RunOptions["stdin"]): stdin is AsyncIterable<Uint8Array> {
  return typeof stdin === "object" && stdin !== null && !(stdin instanceof Uint8Array) &&
    typeof (stdin as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === "function";
}

/**
 * Validates the extras of a run (throws LimitError or TypeError).
 *
 * @example
 * checkExtras({ args: ["a"] }).argsHeader; // "x61"
 */
export function checkExtras(options: RunOptions): RunExtras {
  if (options.onOutput !== undefined && typeof options.onOutput !== "function") {
    throw new TypeError("onOutput must be a function");
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`signal must be an AbortSignal, got ${typeWords(options.signal)}`);
  }
  const args = options.args ?? [];
  return {
    argsHeader: args.length === 0 && Array.isArray(args) ? undefined : encodeArgs(args),
    stdinSource: isStdinStream(options.stdin) ? options.stdin : undefined,
    onOutput: options.onOutput,
    signal: options.signal,
  };
}

/**
 * The driver and code argument a run's guest starts with.
 *
 * @example
 * guestStart(checkExtras({}), DRIVER_PY, "1+1"); // { driver: DRIVER_PY, code: "1+1" }
 */
export function guestStart(extras: RunExtras, driver: string, code: string): { driver: string; code: string } {
  if (extras.argsHeader === undefined) return { driver, code };
  return { driver: driverWithArgs(driver), code: `${extras.argsHeader}\n${code}` };
}

/** The wiring of one started run: the ring for the worker (if stdin is lazy), and how to end it. */
export interface RunIo {
  stdinRing: SharedArrayBuffer | undefined;
  /** Stops the pump and the tap; the tap delivers the output not yet delivered. */
  finish(): void;
}

/**
 * Starts the output tap and the stdin pump of a run, and calls `onAbort` if its signal fires.
 *
 * @example
 * const io = attachRunIo(job.extras, output, limits.maxOutputBytes, () => settleInterrupted());
 * // ... when the run settles: io.finish();
 */
export function attachRunIo(
  extras: RunExtras,
  output: SharedArrayBuffer,
  maxOutputBytes: number,
  onAbort: () => void,
): RunIo {
  const tap = extras.onOutput === undefined ? undefined : new OutputTap(output, maxOutputBytes, extras.onOutput);
  tap?.start();
  let pump: StdinPump | undefined;
  let stdinRing: SharedArrayBuffer | undefined;
  if (extras.stdinSource !== undefined) {
    stdinRing = createStdinRing();
    pump = new StdinPump(stdinRing, extras.stdinSource, BOUNDS.stdinBytes);
    void pump.run();
  }
  const signal = extras.signal;
  const abort = () => onAbort();
  signal?.addEventListener("abort", abort, { once: true });
  if (signal?.aborted) queueMicrotask(abort);
  return {
    stdinRing,
    finish: () => {
      signal?.removeEventListener("abort", abort);
      pump?.stop();
      tap?.stop();
    },
  };
}
