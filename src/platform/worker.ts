/**
 * Worker threads for the sandbox, via node:worker_threads (Deno 2 implements it, including
 * terminate(), transfer of WebAssembly.Module and SharedArrayBuffer).
 */
import { parentPort, Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import process from "node:process";

export interface WorkerHandle {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** An uncaught error inside the worker, or a failure to start it. */
  onError(listener: (error: Error) => void): void;
  onExit(listener: (code: number) => void): void;
  /** Stops the thread even in the middle of wasm code or Atomics.wait (a disposable one on Deno: only when idle). */
  terminate(): Promise<void>;
  /** Whether an idle worker may keep the process alive. */
  setKeepAlive(keep: boolean): void;
}

/**
 * Whether startWorker() returns only once the thread has booted. Deno's node:worker_threads does
 * (measured on the 2-core machine: 36-79 ms inside the constructor, the thread ready 1-3 ms after
 * it returns); Node's returns at once and the thread boots on its own. A disposable thread on Deno
 * does not block either, but starting it before the interpreter's compile has begun was measured
 * slower (its boot competes for the two cores with reading the module), so the pool treats Deno
 * alike either way.
 */
export const WORKER_START_BLOCKS: boolean = "Deno" in globalThis;

/** How to start a worker thread. */
export interface WorkerOptions {
  /** The thread's stack, where the runtime honours it (Node; Deno ignores it). */
  stackSizeMB?: number;
  /**
   * The caller's process exits when its work is done, so the thread need not be stoppable while it
   * runs wasm. On Deno this starts a web Worker, which holds up the calling thread less than a
   * node:worker_threads one (15-47 ms against 36-79 ms in the constructor; a cold print(1) 18 ms
   * sooner, median of 30 alternating runs), but its terminate() leaves a thread that is running
   * wasm running, and it cannot be unref'd: only a process that calls exit itself may use it.
   * Elsewhere it changes nothing.
   */
  disposable?: boolean;
}

/** Starts `url` (a module) in a new thread. */
export function startWorker(url: URL, options: WorkerOptions = {}): WorkerHandle {
  const WebWorker = (globalThis as unknown as { Worker?: WebWorkerConstructor }).Worker;
  if (options.disposable === true && "Deno" in globalThis && WebWorker !== undefined) {
    return webWorker(new WebWorker(url.href, { type: "module" }));
  }
  const worker = new Worker(url, {
    execArgv: workerExecArgv(process.execArgv ?? []),
    resourceLimits: options.stackSizeMB === undefined ? undefined : { stackSizeMb: options.stackSizeMB },
  });
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => {
      worker.on("message", listener);
    },
    onError: (listener) => {
      worker.on("error", listener);
    },
    onExit: (listener) => {
      worker.on("exit", listener);
    },
    terminate: async () => {
      await worker.terminate();
    },
    setKeepAlive: (keep) => {
      // Deno's emulation may lack ref/unref; keeping the process alive is then harmless.
      if (keep) worker.ref?.();
      else worker.unref?.();
    },
  };
}

/**
 * Node flags a worker thread may inherit: engine and memory tuning only. A thread inherits its
 * parent's execArgv by default, and flags that describe the main program (`-e`, `--input-type`,
 * `--test`, `--watch`, `--import`, ...) make Node refuse to start the worker, which used to kill the
 * host process (`node --input-type=module -e '...Sandbox.run()...'`). Anything not known harmless is
 * left out, with the value a separate argument may carry.
 *
 * @example
 * workerExecArgv(["--input-type=module", "-e", "code", "--max-old-space-size=512"]); // ["--max-old-space-size=512"]
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (INHERITED_FLAGS.some((flag) => arg === flag || arg.startsWith(`${flag}=`))) kept.push(arg);
    else if (!arg.includes("=") && FLAGS_WITH_VALUE.has(arg)) i++; // skip its value too
  }
  return kept;
}

/** Flags a worker keeps (engine, memory and diagnostics settings that are valid in a thread). */
const INHERITED_FLAGS = [
  "--max-old-space-size",
  "--max-semi-space-size",
  "--stack-size",
  "--expose-gc",
  "--no-warnings",
  "--jitless",
  "--experimental-wasm-stack-switching",
];

/** Dropped flags that take their value as the next argument when written without `=`. */
const FLAGS_WITH_VALUE = new Set([
  "-e",
  "--eval",
  "-p",
  "--print",
  "-r",
  "--require",
  "--import",
  "--loader",
  "--experimental-loader",
  "--input-type",
  "--env-file",
  "--conditions",
  "-C",
  "--test-reporter",
  "--test-reporter-destination",
  "--test-name-pattern",
  "--watch-path",
]);

/** The web Worker API, as far as it is used here (typed locally: tsconfig's lib has no DOM types). */
interface WebWorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (e: { data: unknown }) => void): void;
  addEventListener(type: "error", listener: (e: { message: string; preventDefault(): void }) => void): void;
  terminate(): void;
}
type WebWorkerConstructor = new (url: string, options: { type: "module" }) => WebWorkerLike;

/** A web Worker behind the same handle: no exit event, no ref/unref (see WorkerOptions.disposable). */
function webWorker(worker: WebWorkerLike): WorkerHandle {
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.addEventListener("message", (e) => listener(e.data)),
    onError: (listener) =>
      worker.addEventListener("error", (e) => {
        e.preventDefault(); // reported through the listener, not as the whole program's error
        listener(new Error(e.message));
      }),
    onExit: () => {},
    terminate: () => {
      worker.terminate();
      return Promise.resolve();
    },
    setKeepAlive: () => {},
  };
}

/** The worker side: messages from the thread that started us (a node:worker_threads parent or a web Worker's). */
export function parentChannel(): {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
} {
  const port = parentPort;
  const self = globalThis as unknown as Partial<WebWorkerLike> & { onmessage?: unknown };
  if (port === null && typeof self.postMessage === "function" && "onmessage" in self) {
    return {
      post: (message) => self.postMessage!(message),
      onMessage: (listener) => self.addEventListener!("message", (e) => listener(e.data)),
    };
  }
  if (port === null) throw new Error("not running in a worker thread");
  return {
    post: (message) => port.postMessage(message),
    onMessage: (listener) => {
      port.on("message", listener);
    },
  };
}

/** How many workers a pool should run by default. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}
