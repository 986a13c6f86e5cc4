/**
 * What one evaluation returns, the pure rule that names how it ended, and the assembly of the
 * result from what the worker reported. Kept free of effects so the classification can be tested
 * with a table of cases.
 */
import type { RunLimits } from "./limits.ts";

/**
 * How an evaluation ended, most specific cause first: a limit that stopped the program wins over
 * what it printed (see `classify` for the exact rules).
 *
 * - `ok`: exit status 0, all output kept.
 * - `error`: a non-zero exit status (an uncaught exception exits 1).
 * - `fuel_exhausted`, `timeout`, `memory_exhausted`: the named limit stopped it.
 * - `output_truncated`: exit 0, but output beyond maxOutputBytes was dropped.
 * - `crashed`: the interpreter trapped for another reason (`RunResult.detail` says why).
 *
 * @example Telling a limit from a program error
 * ```ts
 * import { run } from "./mod.ts";
 *
 * const r = await run("while True: pass", { fuel: 1_000_000 });
 * if (r.outcome === "fuel_exhausted") console.log("stopped: out of fuel");
 * ```
 */
export type Outcome =
  | "ok"
  | "error"
  | "fuel_exhausted"
  | "timeout"
  | "memory_exhausted"
  | "output_truncated"
  | "crashed";

/**
 * What one evaluation produced: its output as text, its exit status, how it ended and what it
 * spent. Limits that were hit are outcomes here, never rejections, so a caller handles every
 * program the same way.
 *
 * @example
 * ```ts
 * import { run } from "./mod.ts";
 *
 * const r = await run("print(6 * 7)");
 * console.log(r.outcome, r.exitCode, r.stdout); // ok 0 42
 * console.log(`${r.fuelUsed} fuel in ${r.wallMs} ms`);
 * ```
 */
export interface RunResult {
  /** What the program wrote to fd 1, decoded as UTF-8 (invalid sequences become U+FFFD). */
  stdout: string;
  /** What the program (or CPython, for an uncaught exception) wrote to fd 2. */
  stderr: string;
  /** The guest's exit status; -1 when it did not exit (trap, timeout). */
  exitCode: number;
  outcome: Outcome;
  /**
   * Fuel spent: exactly initial - remaining for programs that end by themselves; for
   * `fuel_exhausted` the budget; for `timeout` a lower bound (the count at the last host call).
   * 0 for an unmetered module.
   */
  fuelUsed: number;
  /** Wall-clock time from when a worker took the run, in milliseconds (0.1 ms steps). */
  wallMs: number;
  /** Which streams lost output beyond maxOutputBytes. */
  truncated: { stdout: boolean; stderr: boolean };
  /**
   * Peak size of the guest's linear memory in bytes (how close the run came to memoryMiB).
   * Absent when the run did not end by itself (timeout, lost worker).
   */
  memoryBytes?: number;
  /** For `crashed`: the trap or host error message (not shown to users by default). */
  detail?: string;
}

/** How the guest stopped, as the worker saw it. */
export type Ending =
  | {
    kind: "exit";
    code: number;
    /** Linear memory was within one growth step of its maximum at exit. */
    memoryAtMax: boolean;
  }
  | {
    kind: "trap";
    message: string;
    /** The fuel counter was negative after the trap (metered module only). */
    fuelSpent: boolean;
    /** Linear memory was within one growth step of its maximum when the trap happened. */
    memoryAtMax: boolean;
  }
  | { kind: "timeout" };

/** The last non-empty line of stderr, without trailing whitespace. */
export function lastLine(text: string): string {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trimEnd();
    if (line !== "") return line;
  }
  return "";
}

/**
 * A failed allocation (PyErr_NoMemory) ends a CPython traceback with a bare "MemoryError" line.
 * MemoryErrors with a message are something else, e.g. "MemoryError: Parser stack overflowed -
 * Python source too complex to parse", or one the program raised itself.
 */
export function endsWithMemoryError(stderr: string): boolean {
  return lastLine(stderr) === "MemoryError";
}

/**
 * The interpreter could not even take the program in: its argv (the code) did not fit memoryMiB.
 * The snapshot's entry point (scripts/snapshot/wasi_py_main.c) then says "out of memory" and exits
 * 70; the plain interpreter reports a fatal error from its argv conversion.
 */
export function startupOutOfMemory(stderr: string): boolean {
  return /^wasi-py snapshot: out of memory$/m.test(stderr) ||
    /^Fatal Python error: \w+: memory allocation failed$/m.test(stderr);
}

/**
 * Names the outcome. Order matters: a limit that stopped the program wins over what it printed.
 * - timeout: the wall-clock deadline passed.
 * - fuel_exhausted: a trap with the fuel counter below zero (unless stderr already ends with a
 *   bare MemoryError: then the fuel ran out in the teardown after it, and memory is the cause).
 * - memory_exhausted: an uncaught bare MemoryError (non-zero exit, stderr's last line); the program
 *   too large for memory to start (startupOutOfMemory); a non-zero exit
 *   with memory at its maximum and "MemoryError" somewhere in stderr (the traceback itself could
 *   not be printed for lack of memory); or a trap (e.g. abort() after a failed allocation inside
 *   CPython) while memory was at its maximum.
 * - crashed: any other trap (stack exhaustion, unreachable with fuel left, host fault).
 * - error: non-zero exit status.
 * - output_truncated: exit 0 but some output was dropped.
 */
export function classify(ending: Ending, stderr: string, truncated: { stdout: boolean; stderr: boolean }): Outcome {
  switch (ending.kind) {
    case "timeout":
      return "timeout";
    case "trap":
      // An uncaught MemoryError already printed, then the fuel ran out while CPython freed the
      // heap at exit (millions of objects cost fuel to free): the program died of memory, not fuel.
      // (Memory need not be "at max": a failed table doubling leaves a large gap.)
      if (ending.fuelSpent) return endsWithMemoryError(stderr) ? "memory_exhausted" : "fuel_exhausted";
      if (ending.memoryAtMax || endsWithMemoryError(stderr)) return "memory_exhausted";
      return "crashed";
    case "exit":
      if (ending.code !== 0) {
        const oom = endsWithMemoryError(stderr) || startupOutOfMemory(stderr) ||
          (ending.memoryAtMax && stderr.includes("MemoryError"));
        return oom ? "memory_exhausted" : "error";
      }
      return truncated.stdout || truncated.stderr ? "output_truncated" : "ok";
  }
}

/** One output stream as read back from the shared buffer. */
export interface StreamText {
  text: string;
  truncated: boolean;
}

/** Assembles the RunResult from what the worker reported and what the output buffer holds. */
export function buildResult(
  streams: { stdout: StreamText; stderr: StreamText },
  limits: Pick<RunLimits, "fuel">,
  ending: Ending,
  fuelUsed: number,
  wallMs: number,
): RunResult {
  const { stdout, stderr } = streams;
  const truncated = { stdout: stdout.truncated, stderr: stderr.truncated };
  const outcome = classify(ending, stderr.text, truncated);
  const result: RunResult = {
    stdout: stdout.text,
    stderr: stderr.text,
    exitCode: ending.kind === "exit" ? ending.code : -1,
    outcome,
    // The whole budget when the counter went below zero (the trap overshoots by a block's cost).
    fuelUsed: ending.kind === "trap" && ending.fuelSpent && limits.fuel !== Infinity ? limits.fuel : fuelUsed,
    wallMs: Math.round(wallMs * 10) / 10,
    truncated,
  };
  if (ending.kind === "trap" && outcome === "crashed") result.detail = ending.message;
  return result;
}
