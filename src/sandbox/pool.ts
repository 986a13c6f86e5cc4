/// <reference path="../platform/webassembly.d.ts" />
/**
 * The public API: run Python code in the metered WASI CPython under limits.
 *
 *   const sb = await Sandbox.create({ workers: 1 });
 *   const r = await sb.run("print(1)", { fuel: 1e8, timeoutMs: 2000 });
 *   await sb.close();
 *
 * The module is compiled once per process and posted to a pool of worker threads; each run gets
 * a fresh instance and memory. At the deadline the worker is terminated (that also ends
 * time.sleep) and replaced; what the program printed so far is kept because output is written
 * into a SharedArrayBuffer as it happens. Output past maxOutputBytes is dropped while the program
 * keeps running; the run then says `truncated` and, if it otherwise succeeded, `output_truncated`.
 * A run waits for a free worker first; its timeoutMs counts from when a worker takes it.
 *
 * What "printed so far" means: bytes the guest wrote to fd 1/2. CPython block-buffers stdout
 * when it is not a terminal, so text still in its buffer when fuel runs out or the deadline
 * passes is lost (stderr is line-buffered, and print(..., flush=True) always arrives).
 */
import { defaultWorkerCount, startWorker } from "../platform/worker.ts";
import type { WorkerHandle } from "../platform/worker.ts";
import { fuelCounterStart, LimitError, resolveLimits, resolveStdin } from "./limits.ts";
import type { RunLimits, RunOptions } from "./limits.ts";
import { classify } from "./result.ts";
import type { Ending, RunResult } from "./result.ts";
import { ExternKind, readImportSection, readSections, SectionId } from "../wasm/binary.ts";
import { readAsset, readAssetShared } from "./assets.ts";
import { readTar } from "../wasi/tar.ts";
import { DRIVER_PY } from "./driver.ts";
import { trimPartialUtf8 } from "../text/utf8.ts";

export type { Outcome, RunResult } from "./result.ts";
export type { RunLimits, RunOptions } from "./limits.ts";

/** The guest's whole environment: nothing comes from the host's. */
export const GUEST_ENV: readonly string[] = Object.freeze([
  "PYTHONHOME=/usr/local",
  "PYTHONHASHSEED=0", // same hashing every run, so the same program spends the same fuel
  "PYTHONDONTWRITEBYTECODE=1",
  "PYTHON_COLORS=0",
  "HOME=/tmp",
  "LANG=C.UTF-8",
]);

// ---- messages between the pool and its workers (types only; the worker imports them as types) ----

/**
 * The shared output buffer: a header of Int32 cells (lengths and truncation flags of stdout and
 * stderr), the fuel counter as last seen by a host call, then stdout's region and stderr's region,
 * each maxOutputBytes long.
 */
export interface OutputLayout {
  headerInts: number;
  headerBytes: number;
  /** Index of stdout's length cell; stderr's follows. */
  length: number;
  /** Index of stdout's truncation flag; stderr's follows. */
  truncated: number;
  /** Byte offset of a BigInt64 cell: the remaining fuel at the last host call. */
  fuelByte: number;
}

const LAYOUT: OutputLayout = { headerInts: 4, headerBytes: 32, length: 0, truncated: 2, fuelByte: 16 };

export interface InitMessage {
  type: "init";
  module: WebAssembly.Module;
  /** Pages of the imported env.memory, or undefined for a module with its own memory. */
  memoryInitialPages: number | undefined;
  /** The stdlib image (USTAR), shared by all workers. */
  image: SharedArrayBuffer;
}

export interface RunMessage {
  type: "run";
  id: number;
  args: string[];
  env: string[];
  stdin: Uint8Array;
  limits: RunLimits;
  fuelStart: bigint;
  /** Date.now() value at which the parent terminates the worker. */
  deadline: number;
  output: SharedArrayBuffer;
  layout: OutputLayout;
}

export interface DoneMessage {
  type: "done";
  id: number;
  ending: Ending;
  fuelUsed: number;
  /** Size of the guest's linear memory at the end (its peak). */
  memoryBytes?: number;
}

// ---- module inspection --------------------------------------------------------------------------

/** How the interpreter module is shaped: metered (imports env.memory, exports the fuel global) or plain. */
export interface ModuleShape {
  metered: boolean;
  memoryInitialPages: number | undefined;
}

export function moduleShape(bytes: Uint8Array, module: WebAssembly.Module): ModuleShape {
  const imports = WebAssembly.Module.imports(module);
  const exports = WebAssembly.Module.exports(module);
  const importsMemory = imports.some((i) => i.module === "env" && i.name === "memory" && i.kind === "memory");
  const metered = exports.some((e) => e.name === "wasi_py_fuel" && e.kind === "global");
  for (const i of imports) {
    if (i.module !== "wasi_snapshot_preview1" && !(i.module === "env" && i.name === "memory")) {
      throw new Error(`interpreter module imports ${i.module}.${i.name}, which the sandbox does not provide`);
    }
  }
  if (!exports.some((e) => e.name === "_start" && e.kind === "function")) {
    throw new Error("interpreter module has no _start export");
  }
  let memoryInitialPages: number | undefined;
  if (importsMemory) {
    const section = readSections(bytes).find((s) => s.id === SectionId.Import)!;
    const entry = readImportSection(bytes, section).find((e) => e.kind === ExternKind.Memory);
    memoryInitialPages = entry?.limits?.min ?? 1;
  } else if (!exports.some((e) => e.name === "memory" && e.kind === "memory")) {
    throw new Error("interpreter module neither imports env.memory nor exports its memory");
  }
  return { metered, memoryInitialPages };
}

// ---- the pool ------------------------------------------------------------------------------------

export interface SandboxOptions {
  /** Worker threads, i.e. evaluations that can run at once. Default: number of CPU cores. */
  workers?: number;
  /** The interpreter module's bytes. Default: the metered assets/python.wasm (via src/assets.ts). */
  wasm?: Uint8Array;
  /** The stdlib image (uncompressed USTAR). Default: assets/stdlib.tar. */
  stdlib?: Uint8Array;
  /** Python source run with -c; it receives the user's code as sys.argv[1]. Default: src/driver.ts. */
  driver?: string;
  /**
   * Start every worker now and run `pass` in each before create() resolves, so the first real
   * evaluation does not pay for thread start and V8's lazy compilation (a long-running bot wants
   * this; a one-shot CLI does not). Default false.
   */
  warm?: boolean;
}

interface Job {
  id: number;
  code: string;
  limits: RunLimits;
  stdin: Uint8Array;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: WorkerHandle;
  job: Job | undefined;
  /** Settles the running job; set while one runs. */
  settle:
    | ((
      ending: Ending | "lost" | "closed",
      fuelUsed: number | undefined,
      detail?: string,
      memoryBytes?: number,
    ) => void)
    | undefined;
}

/** Module extension of this build: ".ts" when Deno runs the sources, ".js" under build/. */
const OWN_URL = (import.meta as unknown as { url: string }).url; // typed: Deno checks with lib ES2023
const OWN_EXT = OWN_URL.endsWith(".ts") ? ".ts" : ".js";
const WORKER_URL = new URL(`./worker${OWN_EXT}`, OWN_URL);
/** Larger than Node's default 4 MB: CPython's C recursion runs on the worker's native stack. */
const WORKER_STACK_MB = 16;

export class Sandbox {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly init: InitMessage,
    private readonly driver: string,
    private readonly maxWorkers: number,
    /** Whether the module counts fuel and honours memoryMiB. */
    readonly metered: boolean,
  ) {}

  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const workers = options.workers ?? defaultWorkerCount();
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
      throw new LimitError(`workers must be an integer from 1 to 256, got ${String(workers)}`);
    }
    // The first thread boots while the assets are read and compiled (a cold CLI run waits for both).
    const first = startWorker(WORKER_URL, { stackSizeMB: WORKER_STACK_MB });
    let sandbox: Sandbox;
    try {
      const wasm = options.wasm ?? defaultAsset("python.wasm");
      const stdlib = options.stdlib ?? defaultAsset("stdlib.tar");
      const driver = options.driver ?? DRIVER_PY;
      readTar(stdlib); // a broken image fails here, with its offset, rather than inside every worker
      const module = await compileOnce(wasm);
      const shape = moduleShape(wasm, module);
      let image: SharedArrayBuffer;
      if (
        stdlib.buffer instanceof SharedArrayBuffer && stdlib.byteOffset === 0 &&
        stdlib.byteLength === stdlib.buffer.byteLength
      ) {
        image = stdlib.buffer; // the default asset is read straight into shared memory
      } else {
        image = new SharedArrayBuffer(stdlib.length);
        new Uint8Array(image).set(stdlib);
      }
      sandbox = new Sandbox(
        { type: "init", module, memoryInitialPages: shape.memoryInitialPages, image },
        driver,
        workers,
        shape.metered,
      );
    } catch (e) {
      void first.terminate().catch(() => {});
      throw e;
    }
    sandbox.spawn(first);
    if (options.warm) {
      for (let i = 1; i < workers; i++) sandbox.spawn();
      await Promise.all(sandbox.slots.map(() => sandbox.run("pass", { fuel: Infinity, timeoutMs: 60_000 })));
    }
    return sandbox;
  }

  /** Runs `code`; resolves with the result (limits hit are outcomes, not rejections). */
  run(code: string, options: RunOptions = {}): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error("sandbox is closed"));
    let limits: RunLimits, stdin: Uint8Array;
    try {
      // argv strings are NUL-terminated for the guest: a NUL would silently cut the program.
      if (typeof code !== "string") throw new TypeError("code must be a string");
      if (code.includes("\0")) throw new LimitError("code must not contain NUL characters");
      limits = resolveLimits(options);
      stdin = resolveStdin(options.stdin);
      const pages = this.init.memoryInitialPages;
      if (pages !== undefined && limits.memoryMiB * 16 < pages) {
        throw new LimitError(`memoryMiB must be at least ${Math.ceil(pages / 16)} for this interpreter`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<RunResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, code, limits, stdin, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; queued and running evaluations are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error("sandbox closed"));
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.settle?.("closed", undefined);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.job === undefined);
      if (slot === undefined) {
        if (this.slots.length >= this.maxWorkers) return;
        slot = this.spawn();
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  private spawn(started?: WorkerHandle): Slot {
    const worker = started ?? startWorker(WORKER_URL, { stackSizeMB: WORKER_STACK_MB });
    const slot: Slot = { worker, job: undefined, settle: undefined };
    worker.onMessage((raw) => {
      const msg = raw as DoneMessage;
      if (msg.type === "done" && slot.job?.id === msg.id) {
        slot.settle?.(msg.ending, msg.fuelUsed, undefined, msg.memoryBytes);
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

  /** Takes a slot out of the pool and stops its thread (if it still runs). */
  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) {
      this.slots.splice(i, 1);
      void slot.worker.terminate().catch(() => {});
    }
  }

  private start(slot: Slot, job: Job): void {
    const { limits } = job;
    const output = new SharedArrayBuffer(LAYOUT.headerBytes + 2 * limits.maxOutputBytes);
    const fuelStart = fuelCounterStart(limits.fuel);
    const fuelCell = new BigInt64Array(output, LAYOUT.fuelByte, 1);
    fuelCell[0] = fuelStart;
    const started = performance.now();
    const deadline = Date.now() + limits.timeoutMs;
    slot.job = job;
    slot.worker.setKeepAlive(true);

    const timer = setTimeout(() => {
      // Settle before terminating: some runtimes report the worker's exit synchronously, and the
      // run must end as a timeout, not as a lost worker. Output written after this read is dropped.
      const seen = this.metered ? Number(fuelStart - fuelCell[0]!) : 0;
      settle({ kind: "timeout" }, seen);
      this.retire(slot);
      if (!this.closed) this.spawn(); // replace it now, so the next run does not wait for a thread start
      this.dispatch();
    }, limits.timeoutMs);

    const settle = (
      ending: Ending | "lost" | "closed",
      fuelUsed: number | undefined,
      detail?: string,
      memoryBytes?: number,
    ): void => {
      if (slot.job !== job) return;
      clearTimeout(timer);
      slot.job = undefined;
      slot.settle = undefined;
      if (ending === "closed") {
        job.reject(new Error("sandbox closed"));
        return;
      }
      if (this.slots.includes(slot)) slot.worker.setKeepAlive(false);
      const wallMs = performance.now() - started;
      const end: Ending = ending === "lost"
        ? { kind: "trap", message: detail ?? "worker lost", fuelSpent: false, memoryAtMax: false }
        : ending;
      const result = buildResult(output, limits, end, fuelUsed ?? 0, wallMs);
      if (memoryBytes !== undefined) result.memoryBytes = memoryBytes;
      job.resolve(result);
      queueMicrotask(() => this.dispatch());
    };
    slot.settle = settle;

    const msg: RunMessage = {
      type: "run",
      id: job.id,
      args: ["python", "-c", this.driver, job.code],
      env: [...GUEST_ENV],
      stdin: job.stdin,
      limits,
      fuelStart,
      deadline,
      output,
      layout: LAYOUT,
    };
    slot.worker.post(msg);
  }
}

const assetBytes = new Map<"python.wasm" | "stdlib.tar", Uint8Array>();

/** The committed assets, read once per process (so later sandboxes reuse the compiled module). */
function defaultAsset(name: "python.wasm" | "stdlib.tar"): Uint8Array {
  let bytes = assetBytes.get(name);
  if (bytes === undefined) {
    bytes = name === "stdlib.tar" ? readAssetShared(name) : readAsset(name);
    assetBytes.set(name, bytes);
  }
  return bytes;
}

const compiled = new WeakMap<Uint8Array, Promise<WebAssembly.Module>>();

/** Compiles each distinct module buffer once per process. */
function compileOnce(bytes: Uint8Array): Promise<WebAssembly.Module> {
  let p = compiled.get(bytes);
  if (p === undefined) {
    p = WebAssembly.compile(bytes);
    compiled.set(bytes, p);
  }
  return p;
}

// Invalid sequences become U+FFFD; a leading BOM is kept (it is part of what the program wrote).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

function buildResult(
  output: SharedArrayBuffer,
  limits: RunLimits,
  ending: Ending,
  fuelUsed: number,
  wallMs: number,
): RunResult {
  const header = new Int32Array(output, 0, LAYOUT.headerInts);
  const cap = limits.maxOutputBytes;
  const text = (stream: 0 | 1): [string, boolean] => {
    const len = Atomics.load(header, LAYOUT.length + stream);
    const truncated = Atomics.load(header, LAYOUT.truncated + stream) === 1;
    const copy: Uint8Array = new Uint8Array(output, LAYOUT.headerBytes + stream * cap, len).slice();
    const bytes = truncated ? trimPartialUtf8(copy) : copy;
    return [decoder.decode(bytes as Uint8Array<ArrayBuffer>), truncated];
  };
  const [stdout, outCut] = text(0);
  const [stderr, errCut] = text(1);
  const truncated = { stdout: outCut, stderr: errCut };
  const outcome = classify(ending, stderr, truncated);
  const result: RunResult = {
    stdout,
    stderr,
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

/** One-shot helper: a single-worker sandbox for one evaluation. */
export async function run(code: string, options: RunOptions & SandboxOptions = {}): Promise<RunResult> {
  const sb = await Sandbox.create({ ...options, workers: 1 });
  try {
    return await sb.run(code, options);
  } finally {
    await sb.close();
  }
}
