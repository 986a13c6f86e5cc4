/**
 * What one evaluation returns, the pure rule that names how it ended, and the assembly of the
 * result from what the worker reported. Kept free of effects so the classification can be tested
 * with a table of cases.
 */
import type { RunLimits } from "../limits/mod.ts";
import type { ReturnedFile } from "./run-files.ts";

/**
 * How an evaluation ended, decided from host-side facts only, never from what the program printed
 * (see `classify` for the exact rules).
 *
 * - `ok`: exit status 0, all output kept.
 * - `error`: a non-zero exit status (an uncaught exception exits 1). A program may itself exit with
 *   121–124, the codes the CLI uses for the limits: the outcome, not the status, says which it was.
 * - `fuel_exhausted`, `timeout`, `memory_exhausted`: the named limit stopped it.
 * - `output_truncated`: exit 0, but output beyond maxOutputBytes was dropped.
 * - `crashed`: the interpreter trapped for another reason (`RunResult.detail` says why).
 * - `aborted`: the caller's AbortSignal ended it (exitCode 130, as Ctrl-C; a program's own
 *   `sys.exit(130)` is `error`).
 *
 * @example Telling a limit from a program error
 * ```ts
 * import assert from "node:assert/strict";
 * import { run } from "wasi-py";
 *
 * const r = await run("while True: pass", { fuel: 1_000_000 });
 * assert.equal(r.outcome, "fuel_exhausted"); // a limit, not a rejection
 * ```
 */
export type Outcome =
  | "ok"
  | "error"
  | "fuel_exhausted"
  | "timeout"
  | "memory_exhausted"
  | "output_truncated"
  | "crashed"
  | "aborted";

/**
 * What one evaluation produced: its output as text, its exit status, how it ended and what it
 * spent. Limits that were hit are outcomes here, never rejections, so a caller handles every
 * program the same way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { run } from "wasi-py";
 *
 * const r = await run("print(6 * 7)");
 * assert.deepEqual([r.outcome, r.exitCode, r.stdout], ["ok", 0, "42\n"]);
 * assert.ok(r.fuelUsed > 0 && r.wallMs > 0);
 * assert.equal(r.limits.timeoutMs, 10_000); // the default, as the run had it
 * ```
 */
export interface RunResult {
  /** What the program wrote to fd 1, decoded as UTF-8 (invalid sequences become U+FFFD). */
  stdout: string;
  /** What the program (or CPython, for an uncaught exception) wrote to fd 2. */
  stderr: string;
  /** The guest's exit status (0–255, see exitStatus); 130 when aborted; -1 when it did not exit (trap, timeout). */
  exitCode: number;
  /** How it ended: normally, by a limit, by a crash or by the caller's signal (see Outcome). */
  outcome: Outcome;
  /**
   * Fuel spent: exactly initial - remaining when the worker saw the run end (the program exited,
   * trapped, ran out of fuel or memory, or reached its deadline in a host call or sleep); for
   * `fuel_exhausted` the budget. When the run was stopped from outside while it computed (the
   * pool's timer ended a `timeout` that made no host call near its end, an abort, a lost worker)
   * the worker cannot be asked: then it is the count at the guest's last host call, a lower bound,
   * and `fuelUsedIsLowerBound` is true. 0 for an unmetered module.
   */
  fuelUsed: number;
  /**
   * True when `fuelUsed` is only a lower bound (see `fuelUsed`); false or absent when exact.
   * Always set by the sandbox.
   */
  fuelUsedIsLowerBound?: boolean;
  /** Wall-clock time from when a worker took the run, in milliseconds (0.1 ms steps). */
  wallMs: number;
  /** Which streams lost output beyond maxOutputBytes. */
  truncated: { stdout: boolean; stderr: boolean };
  /**
   * The limits the run had: the ones given in RunOptions, defaults for the rest (a copy, so
   * formatters and logs can say which limit was hit and what it was).
   */
  limits: RunLimits;
  /**
   * Peak size of the guest's linear memory in bytes (how close the run came to memoryMiB).
   * Absent when the run was stopped from outside (timeout, abort, lost worker).
   */
  memoryBytes?: number;
  /** For `crashed`: the trap or host error message (not shown to users by default). */
  detail?: string;
  /** With RunOptions.returnFiles: what the program left in /home (paths relative to it). */
  files?: ReturnedFile[];
  /** With RunOptions.returnFiles: some files were left out by its caps. */
  filesTruncated?: boolean;
}

/** How the guest stopped, as the worker saw it. */
export type Ending =
  | {
    kind: "exit";
    code: number;
    /**
     * The guest's memory reached its limit: a memory.grow was refused (when the module counts
     * refusals) or memory was within one growth step of its maximum at exit.
     */
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
  | { kind: "timeout" }
  | { kind: "aborted" };

/**
 * The exit status a program's exit code becomes: its low 8 bits, as a POSIX shell sees native
 * `python3 -c` exit (`sys.exit(256)` → 0, `sys.exit(2**31)` → 0, `sys.exit(-1)` → 255). proc_exit
 * hands us the full 32-bit value; the outcome and `exitCode` both use this, so they never disagree.
 *
 * @example
 * exitStatus(256); // 0
 * exitStatus(0xffffffff); // 255
 */
export function exitStatus(code: number): number {
  return code & 0xff;
}

/**
 * Names the outcome from host-side facts only: how the guest stopped (deadline, trap, proc_exit
 * and its status), whether the fuel counter was below zero, and whether linear memory had grown
 * to its limit. Never from what the program printed: a guest controls its stderr, so text there
 * could forge any outcome (issue 11).
 * - timeout: the run outlived timeoutMs (by the worker's own clock).
 * - aborted: the caller's AbortSignal ended it.
 * - fuel_exhausted: a trap with the fuel counter below zero (wasm or a host call's charge).
 * - memory_exhausted: a trap, or a non-zero exit, with memory grown to its limit (memoryAtMax).
 *   A single request larger than what is left (`bytearray(2**31 - 1)` with memory far from the
 *   limit) raises MemoryError without the memory reaching its limit: that is `error`.
 * - crashed: any other trap (stack exhaustion, unreachable with fuel left, host fault).
 * - error: a non-zero exit status.
 * - output_truncated: exit 0 but some output was dropped.
 */
export function classify(ending: Ending, truncated: { stdout: boolean; stderr: boolean }): Outcome {
  switch (ending.kind) {
    case "timeout":
      return "timeout";
    case "aborted":
      return "aborted";
    case "trap":
      if (ending.fuelSpent) return "fuel_exhausted";
      return ending.memoryAtMax ? "memory_exhausted" : "crashed";
    case "exit":
      if (exitStatus(ending.code) !== 0) return ending.memoryAtMax ? "memory_exhausted" : "error";
      return truncated.stdout || truncated.stderr ? "output_truncated" : "ok";
  }
}

/** RunResult.exitCode of an aborted run: a shell's status for SIGINT. */
export const ABORTED_EXIT_CODE = 130;

/** One output stream as read back from the shared buffer. */
export interface StreamText {
  text: string;
  truncated: boolean;
}

/** What the pool knows of a run's spending when it settles (see RunResult for each). */
export interface Spent {
  fuelUsed: number;
  /** The fuel was sampled at a host call rather than read at the end. */
  fuelUsedIsLowerBound: boolean;
  wallMs: number;
  limits: RunLimits;
}

/** Assembles the RunResult from what the worker reported and what the output buffer holds. */
export function buildResult(
  streams: { stdout: StreamText; stderr: StreamText },
  ending: Ending,
  spent: Spent,
): RunResult {
  const { fuelUsed, fuelUsedIsLowerBound, wallMs } = spent;
  const { stdout, stderr } = streams;
  const truncated = { stdout: stdout.truncated, stderr: stderr.truncated };
  const outcome = classify(ending, truncated);
  const result: RunResult = {
    stdout: stdout.text,
    stderr: stderr.text,
    exitCode: ending.kind === "exit" ? exitStatus(ending.code) : ending.kind === "aborted" ? ABORTED_EXIT_CODE : -1,
    outcome,
    fuelUsed,
    fuelUsedIsLowerBound,
    wallMs: Math.round(wallMs * 10) / 10,
    truncated,
    limits: { ...spent.limits },
  };
  if (ending.kind === "trap" && outcome === "crashed") result.detail = ending.message;
  return result;
}
