/**
 * How a Sandbox is built (SandboxOptions, and the one-shot command's tuning on top) and the checks
 * of its numbers. Kept apart from the pool (pool.ts), which only reads the checked values, so the
 * options' documentation and bounds are in one place.
 */
import { defaultWorkerCount } from "../platform/worker.ts";
import { LimitError, mustBeNumber, mustBeObject, typeWords } from "../limits/mod.ts";

/** Most worker threads one sandbox may start. */
export const MAX_WORKERS = 256;
/** Default of SandboxOptions.recycleMemoryMiB. */
export const DEFAULT_RECYCLE_MEMORY_MIB = 64;

/**
 * How a Sandbox is built: its pool size and, for tests and benchmarks, another interpreter,
 * stdlib image or driver than the committed assets.
 *
 * @example
 * ```ts
 * import { Sandbox } from "wasi-py";
 *
 * // A bot: two evaluations at once, threads started and warmed before the first request.
 * const sb = await Sandbox.create({ workers: 2, warm: true });
 * await sb.close();
 * ```
 */
export interface SandboxOptions {
  /** Worker threads, i.e. evaluations that can run at once (1 to 256). Default: number of CPU cores. */
  workers?: number;
  /** The interpreter module's bytes. Default: the metered assets/python.wasm (via assets.ts). */
  wasm?: Uint8Array;
  /** The stdlib image (uncompressed USTAR). Default: assets/stdlib.tar. */
  stdlib?: Uint8Array;
  /** Python source run with -c; it receives the user's code as sys.argv[1]. Default: _driver.ts. */
  driver?: string;
  /**
   * Pure-Python packages, mounted read-only in the guest's site-packages (on sys.path after the
   * stdlib), first wins when two hold the same file: folders laid out like site-packages, `.whl`
   * files, package images (`.tar.br`, scripts/build-packages.sh). A compiled extension or a broken
   * file rejects create() with PackageError. Default: none.
   */
  packages?: readonly string[];
  /**
   * Start every worker now and run `pass` in each before create() resolves, so the first real
   * evaluation does not pay for thread start and V8's lazy compilation (a long-running bot wants
   * this; a one-shot CLI does not). Default false.
   */
  warm?: boolean;
  /**
   * A worker whose run grew the guest's memory past this many MiB is replaced by a fresh thread
   * after the run: a thread keeps the memory its largest run touched, so without this a
   * long-running bot stays at its peak resident size. Runs below it reuse their thread (cheaper).
   * Default 64 (a plain run takes about 20 MiB); Infinity never recycles.
   */
  recycleMemoryMiB?: number;
  /**
   * Most runs that may wait for a worker; one more rejects at once with QueueFullError (a service
   * answers 429). 0 means a run is taken only when a worker is free. Default Infinity.
   */
  maxQueue?: number;
  /** Milliseconds a run may wait for a worker; then it rejects with QueueTimeoutError (503). Default Infinity. */
  queueTimeoutMs?: number;
}

/**
 * SandboxOptions plus the tuning of the one-shot command (src/cli/main.ts), which runs one program
 * and exits: not part of the public API (the package entry does not export it).
 */
export interface OneShotOptions extends SandboxOptions {
  /**
   * For a one-shot run (one evaluation, then exit): once the first run is posted, and while its
   * worker may still be starting, run a throwaway `print(1)` on this thread, so that V8 compiles
   * the interpreter's startup code in the meantime (_prime.ts): a cold first run is ~50 ms faster.
   * It blocks this thread for ~70 ms, so a long-lived program wants `warm` instead. Default false.
   */
  prime?: boolean;
  /**
   * The caller exits its process once its runs are done (the CLI running one program), without
   * waiting for close(). On Deno the pool then starts web Workers, which hold up this thread less
   * than node:worker_threads ones (a cold run ~18 ms sooner), but a run that times out keeps its
   * thread busy until the process exits, and an idle pool keeps the process alive. Default false.
   */
  exitsWhenDone?: boolean;
}

/** What each SandboxOptions field that is not a number must be (numbers are checked where they are read). */
const SHAPES: Record<string, [(v: unknown) => boolean, string]> = {
  warm: [(v) => typeof v === "boolean", "a boolean"],
  prime: [(v) => typeof v === "boolean", "a boolean"],
  exitsWhenDone: [(v) => typeof v === "boolean", "a boolean"],
  driver: [(v) => typeof v === "string", "a string"],
  wasm: [(v) => v instanceof Uint8Array, "a Uint8Array"],
  stdlib: [(v) => v instanceof Uint8Array, "a Uint8Array"],
  packages: [(v) => Array.isArray(v) && v.every((p) => typeof p === "string"), "an array of paths (strings)"],
};

/**
 * Checks what a caller without the type checker can get wrong in SandboxOptions: the object
 * itself and its fields that are not numbers (TypeError naming the field).
 *
 * @example
 * checkSandboxShapes({ warm: "yes" }); // throws TypeError: warm must be a boolean, got a string
 */
export function checkSandboxShapes(options: unknown): asserts options is SandboxOptions {
  mustBeObject("options", options);
  for (const [key, [ok, what]] of Object.entries(SHAPES)) {
    const v = (options as Record<string, unknown>)[key];
    if (v !== undefined && !ok(v)) throw new TypeError(`${key} must be ${what}, got ${typeWords(v)}`);
  }
}

/** SandboxOptions.workers, checked (TypeError for a non-number, LimitError for one out of range). */
export function workerCount(options: SandboxOptions): number {
  const workers = options.workers ?? defaultWorkerCount();
  mustBeNumber("workers", workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new LimitError(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${String(workers)}`);
  }
  return workers;
}

/** recycleMemoryMiB in bytes, checked (TypeError for a non-number, LimitError for one not positive). */
export function recycleBytes(options: SandboxOptions): number {
  const mib = options.recycleMemoryMiB ?? DEFAULT_RECYCLE_MEMORY_MIB;
  mustBeNumber("recycleMemoryMiB", mib);
  if (!(mib > 0)) {
    throw new LimitError(`recycleMemoryMiB must be a positive number of MiB (or Infinity), got ${String(mib)}`);
  }
  return mib * 1024 * 1024;
}
