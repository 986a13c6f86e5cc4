/// <reference path="../platform/webassembly.d.ts" />
/**
 * The pool of worker threads behind `Sandbox`: it compiles the interpreter once per process,
 * posts it to each worker, queues runs, enforces the wall-clock deadline and assembles results.
 * Other code imports the public API from mod.ts.
 *
 * Each run gets a fresh instance and memory. At the deadline (measured on the run's own clock,
 * _run-clock.ts) the worker ends the run at its next host call or sleep, and a run making no host
 * calls has its worker terminated and replaced; what the program printed so far is kept because output is written
 * into a SharedArrayBuffer as it happens (_protocol.ts). Output past maxOutputBytes is dropped while
 * the program keeps running; the run then says `truncated` and, if it otherwise succeeded,
 * `output_truncated`. A run waits for a free worker first; its timeoutMs counts from when a worker
 * takes it.
 *
 * What "printed so far" means: bytes the guest wrote to fd 1/2. The driver makes stdout
 * line-buffered, as stderr already is, so every complete line arrives; only text after the last
 * newline that was not flushed is lost when fuel runs out or the deadline passes
 * (print(..., flush=True) always arrives).
 */
import { tuneWasmInlining } from "../platform/engine.ts";
import { startWorker, WORKER_START_BLOCKS } from "../platform/worker.ts";
import type { WorkerHandle, WorkerOptions } from "../platform/worker.ts";
import { fuelCounterStart, spentFuel } from "./_fuel.ts";
import { LimitError, mustBeObject, resolveLimits } from "../limits/mod.ts";
import { resolveStdin } from "./run-options.ts";
import type { RunLimits } from "../limits/mod.ts";
import type { RunOptions } from "./run-options.ts";
import type { Ending, RunResult } from "./result.ts";
import { attachRunIo, checkExtras, guestStart, isStdinStream } from "./_run-io.ts";
import type { RunExtras } from "./_run-io.ts";
import { fuelCell, receivedImage } from "./_protocol.ts";
import type { DoneMessage, ImageMessage, InitMessage } from "./_protocol.ts";
import { loadInterpreter } from "./_interpreter-init.ts";
import { DRIVER_PY } from "./_driver.ts";
import { mountPackages } from "../packages/mount.ts";
import { armTimeout, RunState } from "./_run-clock.ts";
import { PRIME_PROGRAM, primeCompiledCode } from "./_prime.ts";
import { checkFiles, returnCaps } from "./run-files.ts";
import type { FileBytes, ReturnCaps } from "./run-files.ts";
import { queueBounds, QueueFullError, QueueTimeoutError } from "./queue.ts";
import type { QueueBounds } from "./queue.ts";
import { checkSandboxShapes, recycleBytes, workerCount } from "./sandbox-options.ts";
import type { OneShotOptions, SandboxOptions } from "./sandbox-options.ts";
import { runBuffers, runMessage, settledResult, WORKER_STACK_MB, WORKER_URL } from "./_slot.ts";
import type { Job, Settle, Slot } from "./_slot.ts";

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
  /** Pins a lazily read stdlib image (_image-fill.ts): once the first run has answered. */
  private pinAfterRun: (() => void) | undefined;

  private constructor(
    private readonly image: ImageMessage,
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
    checkSandboxShapes(options);
    // Process-wide V8 flags (engine.ts), set before V8 optimises any of the interpreter. Not awaited
    // here: everything create() reads from the environment it reads before its first await.
    const tuned = tuneWasmInlining();
    const oneShot: OneShotOptions = options; // the command's own tuning, when it passes it
    const workers = workerCount(options);
    const packages = options.packages?.length ? mountPackages(options.packages) : undefined;
    const driver = options.driver ?? DRIVER_PY;
    // The first thread boots while the interpreter is read and compiled (a cold CLI run waits for
    // both). Where starting a thread blocks this one until the thread has booted (Deno), it starts
    // once the compile is under way, so that the two overlap.
    const bounds = queueBounds(options);
    const threads: WorkerOptions = { stackSizeMB: WORKER_STACK_MB, disposable: oneShot.exitsWhenDone === true };
    let first = WORKER_START_BLOCKS ? undefined : startWorker(WORKER_URL, threads);
    let sandbox: Sandbox;
    let fill: (() => void) | undefined;
    let pin: (() => void) | undefined;
    let imagePosted = false;
    try {
      // A one-shot sandbox (prime) instantiates once: it keeps the data segments (_interpreter-module.ts).
      const how = { split: oneShot.prime !== true, exitsWhenDone: oneShot.exitsWhenDone === true };
      const loaded = await loadInterpreter(options, packages, how, (image) => {
        first ??= startWorker(WORKER_URL, threads);
        first.post(image); // the thread builds its tree while this one compiles
        imagePosted = true;
      });
      await tuned;
      fill = loaded.fill;
      pin = loaded.pin;
      sandbox = new Sandbox(
        loaded.image,
        loaded.init,
        driver,
        workers,
        loaded.metered,
        recycleBytes(options),
        threads,
        bounds,
      );
    } catch (e) {
      void first?.terminate().catch(() => {});
      throw e;
    }
    sandbox.spawn(first, imagePosted);
    sandbox.primeAfterPost = oneShot.prime === true;
    // The committed image is read once the first run has been posted (_image-fill.ts), or on the next
    // turn of the event loop if none is posted by then.
    if (fill !== undefined) {
      sandbox.fillAfterPost = fill;
      setTimeout(fill, 0);
    }
    sandbox.pinAfterRun = pin;
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
      mustBeObject("options", options);
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

  /** A new slot around a thread (`started`, which may have been posted the image already, or one started now). */
  private spawn(started?: WorkerHandle, imagePosted = false): Slot {
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
    if (!imagePosted) worker.post(this.image);
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

    // The timeout and an abort (which ends the run as SIGINT would, exit 130) stop the run from
    // outside. Settle before terminating: some runtimes report the worker's exit synchronously, and
    // the run must end as a timeout or an abort, not as a lost worker. Output written after the
    // settle's read is dropped. The thread is replaced now, so the next run does not wait for a start.
    const stop = (ending: Ending) => {
      if (slot.job !== job) return;
      settle(ending, undefined);
      this.retire(slot);
      if (!this.closed) this.spawn();
      this.dispatch();
    };
    const cancelTimer = armTimeout(clock, limits.timeoutMs, () => stop({ kind: "timeout" }));
    // Streaming output, lazy stdin, and the abort.
    const io = attachRunIo(job.extras, output, limits.maxOutputBytes, () => stop({ kind: "aborted" }));

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
      // Not reported by the worker (stopped from outside): the count at its last host call.
      const lowerBound = fuelUsed === undefined;
      const spent = fuelUsed ?? (this.metered ? spentFuel(fuelStart, fuelSeen[0]!) : 0);
      const result = settledResult(job, output, end, { spent, lowerBound, wallMs, memoryBytes, files });
      job.resolve(result);
      this.pinAfterRun?.(); // its steps run in the background, after this answer is delivered
      this.pinAfterRun = undefined;
      if (memoryBytes !== undefined && memoryBytes > this.recycleBytes) this.recycle(slot);
      queueMicrotask(() => this.dispatch());
    };
    slot.settle = settle;

    const guest = guestStart(job.extras, this.driver, job.code);
    const args = ["python", "-c", guest.driver, guest.code];
    const msg = runMessage(job, { args, env: [...GUEST_ENV], fuelStart, output, clock, stdinRing: io.stdinRing });
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
