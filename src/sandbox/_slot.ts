/**
 * A worker slot of the pool (pool.ts): the thread, the job it runs and how that job is settled,
 * the shared buffers it reuses between runs, the message that starts a run and the result it
 * settles with. Kept apart so the pool holds only the queue and
 * the lifecycle of runs, and the shape of one run's state is read in one place.
 */
import type { WorkerHandle } from "../platform/worker.ts";
import type { RunLimits } from "../limits/mod.ts";
import { buildResult } from "./result.ts";
import type { Ending, RunResult } from "./result.ts";
import type { RunExtras } from "./_run-io.ts";
import type { FileBytes, ReturnCaps } from "./run-files.ts";
import {
  createOutput,
  outputBytes,
  postable,
  postableFiles,
  readOutput,
  receivedFiles,
  resetOutput,
  STDERR,
  STDOUT,
} from "./_protocol.ts";
import type { DoneMessage, RunMessage } from "./_protocol.ts";
import { RunClock } from "./_run-clock.ts";

/** One run as the pool holds it, from Sandbox.run until it settles. */
export interface Job {
  id: number;
  code: string;
  limits: RunLimits;
  stdin: Uint8Array;
  extras: RunExtras;
  /** RunOptions.files, as bytes. */
  files: FileBytes[];
  /** RunOptions.returnFiles, resolved. */
  returnFiles: ReturnCaps | undefined;
  /** Takes the job out of the queue when its signal fires first. */
  unqueue?: () => void;
  /** Cancels the queue timeout (queueTimeoutMs) once a worker takes the job. */
  cancelQueueTimer?: () => void;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

/** How a job ended from the pool's side: the worker's ending, a lost worker, or the sandbox closing. */
export type Settlement = Ending | "lost" | "closed";

/** Ends the running job of a slot; a second call for the same job does nothing. */
export type Settle = (
  ending: Settlement,
  fuelUsed: number | undefined,
  detail?: string,
  memoryBytes?: number,
  files?: DoneMessage["files"],
) => void;

/** A run's shared buffers: its output (_protocol.ts) and its clock (_run-clock.ts). */
export interface RunBuffers {
  output: SharedArrayBuffer;
  clock: RunClock;
}

/** A worker thread of the pool and what it is doing. */
export interface Slot {
  worker: WorkerHandle;
  job: Job | undefined;
  /** Settles the running job; set while one runs. */
  settle: Settle | undefined;
  /**
   * The shared buffers of the slot's last run, which ended normally (a slot whose run timed out or
   * was aborted is retired): the next run of the same output size reuses them. Allocating a
   * SharedArrayBuffer costs ~80 µs for the default 2 x 64 KiB, a twentieth of a warm print(1).
   */
  last: RunBuffers | undefined;
}

/** Module extension of this build: ".ts" when Deno runs the sources, ".js" under build/. */
const OWN_URL = (import.meta as unknown as { url: string }).url; // typed: Deno checks with lib ES2023
const OWN_EXT = OWN_URL.endsWith(".ts") ? ".ts" : ".js";
/** The worker's entry module (_worker.ts), next to this file. */
export const WORKER_URL: URL = new URL(`./_worker${OWN_EXT}`, OWN_URL);
/**
 * Larger than Node's default 4 MB: CPython's C recursion runs on the worker's native stack. The
 * metered module ends recursion by its own stack budget (1.9 M estimated frame bytes, sized for
 * Deno's ~1 MB worker stack, which ignores this), so this is headroom, not a depth limit.
 */
export const WORKER_STACK_MB = 16;

/** The slot's last buffers, reset, when they have the run's output size (see Slot.last); else new ones. */
export function runBuffers(last: RunBuffers | undefined, maxOutputBytes: number, fuelStart: bigint): RunBuffers {
  if (last === undefined || last.output.byteLength !== outputBytes(maxOutputBytes)) {
    return { output: createOutput(maxOutputBytes, fuelStart), clock: RunClock.create() };
  }
  resetOutput(last.output, fuelStart);
  last.clock.reset();
  return last;
}

/** What the pool knows of a run when it settles, besides its ending and output. */
export interface Settled {
  /** Fuel spent (limits.spentFuel). */
  spent: number;
  /** The fuel was sampled at the last host call, not read at the end (RunResult.fuelUsedIsLowerBound). */
  lowerBound: boolean;
  wallMs: number;
  memoryBytes: number | undefined;
  files: DoneMessage["files"];
}

/** The RunResult of a settled job: its output as the shared buffer holds it, and what the worker reported. */
export function settledResult(job: Job, output: SharedArrayBuffer, ending: Ending, run: Settled): RunResult {
  const cap = job.limits.maxOutputBytes;
  const streams = { stdout: readOutput(output, STDOUT, cap), stderr: readOutput(output, STDERR, cap) };
  const spent = { fuelUsed: run.spent, fuelUsedIsLowerBound: run.lowerBound, wallMs: run.wallMs, limits: job.limits };
  const result = buildResult(streams, ending, spent);
  // A timeout is noticed by the pool's thread or by the worker, whichever comes first (it varies by
  // runtime and load): it never carries memoryBytes, so the result does not depend on that race.
  if (run.memoryBytes !== undefined && ending.kind !== "timeout") result.memoryBytes = run.memoryBytes;
  if (job.returnFiles !== undefined) {
    result.files = receivedFiles(run.files?.files, true).map((f) => ({ path: f.path, content: f.bytes }));
    result.filesTruncated = run.files?.truncated ?? false;
  }
  return result;
}

/** How a run starts on its worker, besides the job: its command line, environment and buffers. */
export interface RunStart extends RunBuffers {
  args: string[];
  env: string[];
  fuelStart: bigint;
  stdinRing: RunMessage["stdinRing"];
}

/** The message that starts `job` on a worker (_protocol.ts). */
export function runMessage(job: Job, start: RunStart): RunMessage {
  const msg: RunMessage = {
    type: "run",
    id: job.id,
    args: start.args,
    env: start.env,
    stdin: postable(job.stdin),
    stdinRing: start.stdinRing,
    limits: job.limits,
    fuelStart: start.fuelStart,
    output: start.output,
    clock: start.clock.buffer,
  };
  if (job.files.length > 0) msg.files = postableFiles(job.files);
  if (job.returnFiles !== undefined) msg.returnFiles = job.returnFiles;
  return msg;
}
