/// <reference path="../platform/webassembly.d.ts" />
/**
 * The pool of worker threads behind `Sandbox`: it compiles the interpreter once per process,
 * posts it to each worker, queues runs, enforces the wall-clock deadline and assembles results.
 * Other code imports the public API from mod.ts.
 *
 * Each run gets a fresh instance and memory. At the deadline (measured on the run's own clock,
 * _run-clock.ts) the worker ends the run at its next host call or sleep, and a run making no host
 * calls has its worker terminated and replaced; what the program printed so far is kept because output is written
 * into a SharedArrayBuffer as it happens (protocol.ts). Output past maxOutputBytes is dropped while
 * the program keeps running; the run then says `truncated` and, if it otherwise succeeded,
 * `output_truncated`. A run waits for a free worker first; its timeoutMs counts from when a worker
 * takes it.
 *
 * What "printed so far" means: bytes the guest wrote to fd 1/2. The driver makes stdout
 * line-buffered, as stderr already is, so every complete line arrives; only text after the last
 * newline that was not flushed is lost when fuel runs out or the deadline passes
 * (print(..., flush=True) always arrives).
 */
import { defaultWorkerCount, startWorker, WORKER_START_BLOCKS } from "../platform/worker.ts";
import type { WorkerHandle, WorkerOptions } from "../platform/worker.ts";
import { fuelCounterStart, LimitError, mustBeNumber, resolveLimits, resolveStdin } from "./limits.ts";
import type { RunLimits, RunOptions } from "./limits.ts";
import { buildResult } from "./result.ts";
import type { Ending, RunResult } from "./result.ts";
import { moduleShape } from "./module-shape.ts";
import { attachRunIo, checkExtras, guestStart, isStdinStream } from "./_run-io.ts";
import type { RunExtras } from "./_run-io.ts";
import {
  createOutput,
  fuelCell,
  outputBytes,
  postable,
  postableFiles,
  postedImage,
  readOutput,
  receivedFiles,
  receivedImage,
  resetOutput,
  STDERR,
  STDOUT,
} from "./protocol.ts";
import type { DoneMessage, InitMessage, RunMessage } from "./protocol.ts";
import { readAssetShared } from "./assets.ts";
import { committedInterpreter, compileInterpreter } from "./interpreter-module.ts";
import { pendingStdlib, readyState } from "./_image-fill.ts";
import type { StdlibImage } from "./_image-fill.ts";
import { committedImageIndex, imageIndexOf } from "./image-index.ts";
import { readTar } from "../wasi/tar.ts";
import { DRIVER_PY } from "./driver.ts";
import { mountPackages } from "../packages/mount.ts";
import { armTimeout, RunClock, RunState } from "./_run-clock.ts";
import { PRIME_PROGRAM, primeCompiledCode } from "./_prime.ts";
import { checkFiles, returnCaps } from "./run-files.ts";
import type { FileBytes, ReturnCaps } from "./run-files.ts";
import { queueBounds, QueueFullError, QueueTimeoutError } from "./queue.ts";
import type { QueueBounds } from "./queue.ts";

// Kept until src/cli and src/irc import from mod.ts (the lead switches them when merging).
export type { Outcome, RunResult } from "./result.ts";
export type { RunLimits, RunOptions } from "./limits.ts";

/**
 * The guest's whole environment: nothing comes from the host's. Every run sees exactly these
 * variables, so output and fuel do not depend on the machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GUEST_ENV, run } from "wasi-py";
 *
 * const r = await run("import os; print(os.environ['HOME'])");
 * assert.equal(r.stdout, "/home\n");
 * assert.ok(GUEST_ENV.includes("HOME=/home"));
 * ```
 */
export const GUEST_ENV: readonly string[] = Object.freeze([
  "PYTHONHOME=/usr/local",
  "PYTHONHASHSEED=0", // same hashing every run, so the same program spends the same fuel
  "PYTHONDONTWRITEBYTECODE=1",
  "PYTHON_COLORS=0",
  "HOME=/home",
  "LANG=C.UTF-8",
]);

/** Most worker threads one sandbox may start. */
const MAX_WORKERS = 256;
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
  /** Python source run with -c; it receives the user's code as sys.argv[1]. Default: driver.ts. */
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

/**
 * Raised (as a rejection) by `Sandbox.run` after `close()`, and for runs still queued or running
 * when the sandbox closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sandbox, SandboxClosedError } from "wasi-py";
 *
 * const sb = await Sandbox.create({ workers: 1 });
 * await sb.close();
 * await assert.rejects(sb.run("1"), SandboxClosedError);
 * ```
 */
export class SandboxClosedError extends Error {
  /** Always "SandboxClosedError". */
  override name = "SandboxClosedError";
}

interface Job {
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
type Settlement = Ending | "lost" | "closed";
type Settle = (
  ending: Settlement,
  fuelUsed: number | undefined,
  detail?: string,
  memoryBytes?: number,
  files?: DoneMessage["files"],
) => void;

/** A run's shared buffers: its output (protocol.ts) and its clock (_run-clock.ts). */
interface RunBuffers {
  output: SharedArrayBuffer;
  clock: RunClock;
}

interface Slot {
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
const WORKER_URL = new URL(`./worker${OWN_EXT}`, OWN_URL);
/**
 * Larger than Node's default 4 MB: CPython's C recursion runs on the worker's native stack. The
 * metered module ends recursion by its own stack budget (1.9 M estimated frame bytes, sized for
 * Deno's ~1 MB worker stack, which ignores this), so this is headroom, not a depth limit.
 */
const WORKER_STACK_MB = 16;

/**
 * A pool of worker threads that run Python programs in the metered WASI CPython, each run in a
 * fresh instance under its own limits (fuel, wall-clock time, memory, output, /tmp). Create one
 * per process and reuse it: the interpreter is compiled once, and threads are kept between runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sandbox } from "wasi-py";
 *
 * const sb = await Sandbox.create({ workers: 1 });
 * try {
 *   const r = await sb.run("print(sum(range(10)))", { fuel: 100_000_000, timeoutMs: 2000 });
 *   assert.deepEqual([r.outcome, r.stdout], ["ok", "45\n"]);
 * } finally {
 *   await sb.close();
 * }
 * ```
 */
export class Sandbox {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** SandboxOptions.prime: prime right after the first run is posted (see prime()). */
  private primeAfterPost = false;
  /** Fills the committed stdlib image (_image-fill.ts): right after the first run is posted. */
  private fillAfterPost: (() => void) | undefined;

  private constructor(
    private readonly init: InitMessage,
    private readonly driver: string,
    private readonly workers: number,
    /** Whether the module counts fuel and honours memoryMiB. */
    readonly metered: boolean,
    /** Guest memory above which a worker is replaced after its run (recycleMemoryMiB). */
    private readonly recycleBytes: number,
    /** How its threads are started (SandboxOptions.exitsWhenDone). */
    private readonly threads: WorkerOptions,
    /** maxQueue and queueTimeoutMs. */
    private readonly bounds: QueueBounds,
  ) {}

  /**
   * Runs going on and runs waiting for a worker, now (for a service's metrics and health).
   *
   * @example
   * sb.load; // { running: 1, queued: 0, workers: 2 }
   */
  get load(): { running: number; queued: number; workers: number } {
    const running = this.slots.filter((s) => s.job !== undefined).length;
    return { running, queued: this.queue.length, workers: this.workers };
  }

  /**
   * Reads and compiles the interpreter (once per process for the default assets) and starts the
   * first worker. Rejects with LimitError for a bad `workers`, AssetError for missing assets,
   * ModuleShapeError for an interpreter the sandbox cannot run.
   */
  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const oneShot: OneShotOptions = options; // the command's own tuning, when it passes it
    const workers = options.workers ?? defaultWorkerCount();
    mustBeNumber("workers", workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new LimitError(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${String(workers)}`);
    }
    const packages = options.packages?.length ? mountPackages(options.packages) : undefined;
    const driver = options.driver ?? DRIVER_PY;
    // The first thread boots while the interpreter is read and compiled (a cold CLI run waits for
    // both). Where starting a thread blocks this one until the thread has booted (Deno), it starts
    // once the compile is under way, so that the two overlap.
    const bounds = queueBounds(options);
    const threads: WorkerOptions = { stackSizeMB: WORKER_STACK_MB, disposable: oneShot.exitsWhenDone === true };
    let first = WORKER_START_BLOCKS ? undefined : startWorker(WORKER_URL, threads);
    let sandbox: Sandbox;
    let image: StdlibImage;
    try {
      const wasm = options.wasm ?? committedInterpreter();
      // A one-shot sandbox (prime) instantiates once: it keeps the data segments (interpreter-module.ts).
      const compiling = compileInterpreter(wasm, oneShot.prime !== true);
      compiling.catch(() => {}); // awaited below; a read error must not leave it unhandled
      first ??= startWorker(WORKER_URL, threads);
      image = options.stdlib !== undefined ? givenImage(options.stdlib) : committedImage();
      const { module, memoryImage } = await compiling;
      const shape = moduleShape(wasm, module);
      const init: InitMessage = {
        type: "init",
        module,
        memoryInitialPages: shape.memoryInitialPages,
        ...(memoryImage === undefined ? {} : { memoryImage: postedImage(memoryImage) }),
        image: image.image,
        imageIndex: image.index,
        imageState: image.state,
        ...(packages === undefined ? {} : { packages }),
      };
      sandbox = new Sandbox(
        init,
        driver,
        workers,
        shape.metered,
        recycleBytes(options),
        threads,
        bounds,
      );
    } catch (e) {
      void first?.terminate().catch(() => {});
      throw e;
    }
    sandbox.spawn(first);
    sandbox.primeAfterPost = oneShot.prime === true;
    // The committed image is read once the first run has been posted (_image-fill.ts), or on the next
    // turn of the event loop if none is posted by then.
    const fill = image.fill;
    if (fill !== undefined) {
      sandbox.fillAfterPost = fill;
      setTimeout(fill, 0);
    }
    if (options.warm) {
      for (let i = 1; i < workers; i++) sandbox.spawn();
      await Promise.all(sandbox.slots.map(() => sandbox.run("pass", { fuel: Infinity, timeoutMs: 60_000 })));
    }
    return sandbox;
  }

  /**
   * Runs `code`; resolves with the result (limits hit are outcomes, not rejections). Rejects with
   * LimitError for a bad option or code with a NUL, TypeError for code that is not a string,
   * SandboxClosedError after close(), QueueFullError when maxQueue runs already wait,
   * QueueTimeoutError when it waited queueTimeoutMs for a worker.
   */
  run(code: string, options: RunOptions = {}): Promise<RunResult> {
    if (this.closed) return Promise.reject(new SandboxClosedError("sandbox is closed"));
    let limits: RunLimits, stdin: Uint8Array, extras: RunExtras;
    let files: FileBytes[], returnFiles: ReturnCaps | undefined;
    try {
      // argv strings are NUL-terminated for the guest: a NUL would silently cut the program.
      if (typeof code !== "string") throw new TypeError("code must be a string");
      if (code.includes("\0")) throw new LimitError("code must not contain NUL characters");
      limits = resolveLimits(options);
      stdin = isStdinStream(options.stdin) ? new Uint8Array(0) : resolveStdin(options.stdin);
      extras = checkExtras(options);
      files = checkFiles(options.files, limits);
      returnFiles = returnCaps(options.returnFiles, limits);
      options.signal?.throwIfAborted();
      const pages = this.init.memoryInitialPages;
      if (pages !== undefined && limits.memoryMiB * 16 < pages) {
        throw new LimitError(`must be at least ${Math.ceil(pages / 16)} for this interpreter`, { limit: "memoryMiB" });
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<RunResult>((resolve, reject) => {
      const job: Job = { id: this.nextId++, code, limits, stdin, extras, files, returnFiles, resolve, reject };
      this.queue.push(job);
      this.dispatch();
      if (!this.queue.includes(job)) return;
      if (this.queue.length > this.bounds.maxQueue) {
        this.queue.splice(this.queue.indexOf(job), 1);
        reject(new QueueFullError(this.bounds.maxQueue));
        return;
      }
      if (this.bounds.queueTimeoutMs !== Infinity) {
        const timeoutMs = this.bounds.queueTimeoutMs;
        const timer = setTimeout(() => {
          const i = this.queue.indexOf(job);
          if (i < 0) return;
          this.queue.splice(i, 1);
          if (job.unqueue !== undefined) extras.signal?.removeEventListener("abort", job.unqueue);
          reject(new QueueTimeoutError(timeoutMs));
        }, timeoutMs);
        job.cancelQueueTimer = () => clearTimeout(timer);
      }
      // Aborted while still queued: it never starts (start() removes this listener).
      const signal = extras.signal;
      if (signal !== undefined) {
        job.unqueue = () => {
          const i = this.queue.indexOf(job);
          if (i < 0) return;
          job.cancelQueueTimer?.();
          reject(this.queue.splice(i, 1)[0]!.extras.signal!.reason);
        };
        signal.addEventListener("abort", job.unqueue, { once: true });
      }
    });
  }

  /** Stops every worker; queued and running evaluations are rejected with SandboxClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      job.cancelQueueTimer?.();
      job.reject(new SandboxClosedError("sandbox closed"));
    }
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.settle?.("closed", undefined);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Hands queued runs to idle workers, starting threads up to the pool's size. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.job === undefined);
      if (slot === undefined) {
        if (this.slots.length >= this.workers) return;
        slot = this.spawn();
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  /** A new slot around a thread (`started`, or one started now). */
  private spawn(started?: WorkerHandle): Slot {
    const worker = started ?? startWorker(WORKER_URL, this.threads);
    const slot: Slot = { worker, job: undefined, settle: undefined, last: undefined };
    worker.onMessage((raw) => {
      const msg = raw as DoneMessage;
      if (msg.type === "done" && slot.job?.id === msg.id) {
        slot.settle?.(msg.ending, msg.fuelUsed, undefined, msg.memoryBytes, msg.files);
      }
    });
    const lost = (why: string) => {
      this.retire(slot);
      slot.settle?.("lost", undefined, why);
    };
    worker.onError((e) => lost(`worker failed: ${e.message}`));
    worker.onExit((code) => lost(`worker exited with code ${code}`));
    worker.post(this.init);
    worker.setKeepAlive(false);
    this.slots.push(slot);
    return slot;
  }

  /** Replaces an idle slot's thread with a fresh one (its memory goes back to the system). */
  private recycle(slot: Slot): void {
    if (slot.job !== undefined || !this.slots.includes(slot)) return;
    this.retire(slot);
    if (!this.closed) this.spawn();
  }

  /** Takes a slot out of the pool and stops its thread (if it still runs). */
  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) {
      this.slots.splice(i, 1);
      void slot.worker.terminate().catch(() => {});
    }
  }

  /** Runs `job` on `slot`'s worker: posts it and settles it when the worker reports, the timer fires or it is aborted. */
  private start(slot: Slot, job: Job): void {
    const { limits } = job;
    const fuelStart = fuelCounterStart(limits.fuel);
    // The timeout is decided on the run's own clock (_run-clock.ts), not by when this timer runs.
    const { output, clock } = slot.last = runBuffers(slot.last, limits.maxOutputBytes, fuelStart);
    const fuelSeen = fuelCell(output);
    const started = performance.now();
    slot.job = job;
    slot.worker.setKeepAlive(true);
    if (job.unqueue !== undefined) job.extras.signal?.removeEventListener("abort", job.unqueue);
    job.cancelQueueTimer?.();

    const cancelTimer = armTimeout(clock, limits.timeoutMs, () => {
      // Settle before terminating: some runtimes report the worker's exit synchronously, and the
      // run must end as a timeout, not as a lost worker. Output written after this read is dropped.
      settle({ kind: "timeout" }, undefined);
      this.retire(slot);
      if (!this.closed) this.spawn(); // replace it now, so the next run does not wait for a thread start
      this.dispatch();
    });

    // Streaming output, lazy stdin, and an abort, which ends the run as SIGINT would (exit 130).
    const io = attachRunIo(job.extras, output, limits.maxOutputBytes, () => {
      if (slot.job !== job) return;
      settle({ kind: "aborted" }, undefined);
      this.retire(slot);
      if (!this.closed) this.spawn();
      this.dispatch();
    });

    const settle: Settle = (ending, fuelUsed, detail, memoryBytes, files) => {
      if (slot.job !== job) return;
      cancelTimer();
      slot.job = undefined;
      slot.settle = undefined;
      io.finish();
      if (ending === "closed") {
        job.reject(new SandboxClosedError("sandbox closed"));
        return;
      }
      if (this.slots.includes(slot)) slot.worker.setKeepAlive(false);
      const wallMs = clock.current === RunState.pending ? performance.now() - started : clock.elapsedMs();
      const end: Ending = ending === "lost"
        ? { kind: "trap", message: detail ?? "worker lost", fuelSpent: false, memoryAtMax: false }
        : ending;
      const cap = limits.maxOutputBytes;
      const streams = { stdout: readOutput(output, STDOUT, cap), stderr: readOutput(output, STDERR, cap) };
      // Not reported by the worker (stopped from outside): the count at its last host call.
      const sampled = this.metered ? Number(fuelStart - fuelSeen[0]!) : 0;
      const result = buildResult(streams, limits, end, fuelUsed ?? sampled, wallMs, fuelUsed === undefined);
      // A timeout is noticed by this thread or by the worker, whichever comes first (it varies by
      // runtime and load): it never carries memoryBytes, so the result does not depend on that race.
      if (memoryBytes !== undefined && end.kind !== "timeout") result.memoryBytes = memoryBytes;
      if (job.returnFiles !== undefined) {
        result.files = receivedFiles(files?.files, true).map((f) => ({ path: f.path, content: f.bytes }));
        result.filesTruncated = files?.truncated ?? false;
      }
      job.resolve(result);
      if (memoryBytes !== undefined && memoryBytes > this.recycleBytes) this.recycle(slot);
      queueMicrotask(() => this.dispatch());
    };
    slot.settle = settle;

    const guest = guestStart(job.extras, this.driver, job.code);
    const msg: RunMessage = {
      type: "run",
      id: job.id,
      args: ["python", "-c", guest.driver, guest.code],
      env: [...GUEST_ENV],
      stdin: postable(job.stdin),
      stdinRing: io.stdinRing,
      limits,
      fuelStart,
      output,
      clock: clock.buffer,
    };
    if (job.files.length > 0) msg.files = postableFiles(job.files);
    if (job.returnFiles !== undefined) msg.returnFiles = job.returnFiles;
    slot.worker.post(msg);
    this.fillAfterPost?.();
    this.fillAfterPost = undefined;
    if (this.primeAfterPost) {
      this.primeAfterPost = false;
      this.prime();
    }
  }

  /**
   * SandboxOptions.prime, done once the first run is posted: the worker may still be starting,
   * and whichever of it and this thread reaches a function first compiles it for both (_prime.ts).
   */
  private prime(): void {
    const { module, memoryInitialPages } = this.init;
    const memoryImage = this.init.memoryImage === undefined ? undefined : receivedImage(this.init.memoryImage);
    const template = { module, moduleImports: WebAssembly.Module.imports(module), memoryInitialPages, memoryImage };
    primeCompiledCode(template, ["python", "-c", this.driver, PRIME_PROGRAM], GUEST_ENV);
  }
}

/** recycleMemoryMiB in bytes, checked (TypeError for a non-number, LimitError for one not positive). */
function recycleBytes(options: SandboxOptions): number {
  const mib = options.recycleMemoryMiB ?? DEFAULT_RECYCLE_MEMORY_MIB;
  mustBeNumber("recycleMemoryMiB", mib);
  if (!(mib > 0)) {
    throw new LimitError(`recycleMemoryMiB must be a positive number of MiB (or Infinity), got ${String(mib)}`);
  }
  return mib * 1024 * 1024;
}

/** The stdlib image in shared memory (the default asset already is: then no copy is made). */
function sharedImage(stdlib: Uint8Array): SharedArrayBuffer {
  if (
    stdlib.buffer instanceof SharedArrayBuffer && stdlib.byteOffset === 0 &&
    stdlib.byteLength === stdlib.buffer.byteLength
  ) {
    return stdlib.buffer;
  }
  const image = new SharedArrayBuffer(stdlib.length);
  new Uint8Array(image).set(stdlib);
  return image;
}

/** The slot's last buffers, reset, when they have the run's output size (see Slot.last); else new ones. */
function runBuffers(last: RunBuffers | undefined, maxOutputBytes: number, fuelStart: bigint): RunBuffers {
  if (last === undefined || last.output.byteLength !== outputBytes(maxOutputBytes)) {
    return { output: createOutput(maxOutputBytes, fuelStart), clock: RunClock.create() };
  }
  resetOutput(last.output, fuelStart);
  last.clock.reset();
  return last;
}

let committed: StdlibImage | undefined;

/**
 * The committed image, once per process: pending (filled after the first run is posted) when its
 * index is cached, else read now (which caches the index for the next start).
 */
function committedImage(): StdlibImage {
  committed ??= pendingStdlib() ?? readyImage(readAssetShared("stdlib.tar"), committedImageIndex);
  return committed;
}

/**
 * A caller's own image: a broken one fails here, with its offset, rather than inside every worker.
 * (The committed one was checked against its sha256 when it was expanded.)
 */
function givenImage(stdlib: Uint8Array): StdlibImage {
  return readyImage(stdlib, (bytes) => imageIndexOf(bytes, readTar(bytes)));
}

/** An image whose bytes are all here, in shared memory, with the index `indexOf` gives for them. */
function readyImage(bytes: Uint8Array, indexOf: (bytes: Uint8Array) => string): StdlibImage {
  return { image: sharedImage(bytes), index: indexOf(bytes), state: readyState() };
}

/**
 * One-shot helper: a single-worker sandbox for one evaluation, closed afterwards. Convenient for
 * scripts and tests; anything that runs more than one program should keep a Sandbox instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { run } from "wasi-py";
 *
 * const r = await run("import sys; print(sys.stdin.read().upper())", { stdin: "hi", timeoutMs: 5000 });
 * assert.equal(r.stdout, "HI\n");
 * ```
 */
export async function run(code: string, options: RunOptions & SandboxOptions = {}): Promise<RunResult> {
  const sb = await Sandbox.create({ ...options, workers: 1 });
  try {
    return await sb.run(code, options);
  } finally {
    await sb.close();
  }
}
