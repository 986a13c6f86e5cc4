/**
 * Worker threads for the sandbox, via node:worker_threads (Deno 2 implements it, including
 * terminate(), transfer of WebAssembly.Module and SharedArrayBuffer).
 */
import { parentPort, Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";

export interface WorkerHandle {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** An uncaught error inside the worker, or a failure to start it. */
  onError(listener: (error: Error) => void): void;
  onExit(listener: (code: number) => void): void;
  /** Stops the thread even in the middle of wasm code or Atomics.wait. */
  terminate(): Promise<void>;
  /** Whether an idle worker may keep the process alive. */
  setKeepAlive(keep: boolean): void;
}

/**
 * Whether startWorker() returns only once the thread has booted. Deno's node:worker_threads does
 * (measured on the 2-core machine: 36-79 ms inside the constructor, the thread ready 1-3 ms after
 * it returns); Node's returns at once and the thread boots on its own. (Deno's web Worker starts
 * faster, but its terminate() does not stop a thread that is running wasm, which the wall-clock
 * limit needs.)
 */
export const WORKER_START_BLOCKS: boolean = "Deno" in globalThis;

/** Starts `url` (a module) in a new thread. */
export function startWorker(url: URL, options: { stackSizeMB?: number } = {}): WorkerHandle {
  const worker = new Worker(url, {
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

/** The worker side: messages from the thread that started us. */
export function parentChannel(): {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
} {
  const port = parentPort;
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
