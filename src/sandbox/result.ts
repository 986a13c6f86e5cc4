/**
 * What one evaluation returns, and the pure rule that names how it ended. Kept free of effects so
 * the classification can be tested with a table of cases.
 */

export type Outcome =
  | "ok"
  | "error"
  | "fuel_exhausted"
  | "timeout"
  | "memory_exhausted"
  | "output_truncated"
  | "crashed";

export interface RunResult {
  stdout: string;
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
  wallMs: number;
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
