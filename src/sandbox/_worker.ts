/// <reference path="../platform/webassembly.d.ts" />
/**
 * Worker entry: runs one evaluation at a time in a fresh instance (fresh memory, fresh /tmp, fresh
 * file table). Output goes straight into a SharedArrayBuffer owned by the parent, so whatever was
 * printed survives if the parent terminates this thread at the deadline.
 */
import { parentChannel } from "../platform/worker.ts";
import { buildImageTree, deferredImageTree, topDirectories } from "../wasi/image-tree.ts";
import type { ImageEntry } from "../wasi/image-tree.ts";
import type { DirNode } from "../wasi/memfs.ts";
import { lazyEntries } from "../packages/lazy.ts";
import { ExitSignal } from "../wasi/host.ts";
import { newGuest } from "./_guest-instance.ts";
import type { GuestInstance } from "./_guest-instance.ts";
import type { Ending } from "./result.ts";
import { DEFAULT_LIMITS } from "../limits/mod.ts";
import { spentFuel } from "./_fuel.ts";
import type { RunLimits } from "../limits/mod.ts";
import type { MemoryImage } from "../wasm/data-image.ts";
import {
  awaitImage,
  fuelCell,
  outputWriter,
  postableFiles,
  received,
  receivedFiles,
  receivedImage,
  STDERR,
  STDOUT,
} from "./_protocol.ts";
import type { DoneMessage, ImageMessage, InitMessage, RunMessage } from "./_protocol.ts";
import { ringReader } from "./_stdin-ring.ts";
import type { HostWait } from "./_stdin-ring.ts";
import {
  FUEL_EXPORT,
  GROW_REFUSED_EXPORT,
  MEMORY_NAME,
  STACK_EXHAUSTED_DETAIL,
  STACK_LEFT_EXPORT,
  START_EXPORT,
} from "./module-shape.ts";
import { RunClock, sharedNowMs } from "./_run-clock.ts";
import { HostFuelExhausted } from "../wasi/cost.ts";
import { collectFiles, writeFiles } from "./run-files.ts";

/** Thrown by a host call made at or past the run's deadline: the worker ends the run itself. */
class DeadlineReached extends Error {
  override name = "DeadlineReached";
}

const channel = parentChannel();
let module: WebAssembly.Module | undefined;
let moduleImports: WebAssembly.ModuleImportDescriptor[] = [];
let memoryInitialPages: number | undefined;
let memoryImage: MemoryImage | undefined;
let image: DirNode | undefined;
/**
 * The next evaluation's instance, made while the worker is idle (instantiating copies the
 * interpreter's data into a fresh memory: most of a warm run's cost with the pre-initialised
 * interpreter). Still fresh: nothing has run in it. Used only by a run with the same limits.
 */
interface Prepared extends GuestInstance {
  key: string;
}
let prepared: Prepared | undefined;
/**
 * The memory of the last run, with its limits' key: the next guest of the same limits restores and
 * reuses it if the run did not grow it (_guest-memory.ts), instead of paying a new memory's first touch.
 */
let spare: { key: string; memory: WebAssembly.Memory } | undefined;
/** A private cell to block on for sleeps; nobody ever notifies it. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** InitMessage.prepareAhead. */
let prepareAhead = true;

channel.onMessage((raw) => {
  const msg = raw as ImageMessage | InitMessage | RunMessage;
  if (msg.type === "image") {
    image = imageTree(msg);
    return;
  }
  if (msg.type === "init") {
    module = msg.module;
    moduleImports = WebAssembly.Module.imports(msg.module);
    memoryInitialPages = msg.memoryInitialPages;
    memoryImage = msg.memoryImage === undefined ? undefined : receivedImage(msg.memoryImage);
    prepareAhead = msg.prepareAhead;
    prepareSoon(DEFAULT_LIMITS);
    return;
  }
  let done: DoneMessage;
  try {
    done = runOnce(msg);
  } catch (e) {
    // A host-side failure (a bug of ours, not the guest's): report it as a crash, keep serving.
    done = {
      type: "done",
      id: msg.id,
      ending: { kind: "trap", message: `host error: ${describe(e)}`, fuelSpent: false, memoryAtMax: false },
    };
  }
  const clock = new RunClock(msg.clock);
  // The pool declared a timeout first: it terminates this thread; nothing more to say.
  if (clock.finish()) {
    // Past the deadline by this thread's own clock (the pool could not stop it in time): a timeout.
    if (clock.elapsedMs() > msg.limits.timeoutMs) done = { ...done, ending: { kind: "timeout" } };
    channel.post(done);
  }
  prepareSoon(msg.limits);
});

/**
 * The read-only tree of `msg`'s stdlib image and packages, its entries made when a run first looks
 * inside it (src/wasi/image-tree.ts): a run that opens no file never pays for them.
 */
function imageTree(msg: ImageMessage): DirNode {
  const imageState = new Int32Array(msg.imageState);
  const index = JSON.parse(msg.imageIndex);
  const parts = (msg.packages ?? []).map((part) => ({ part, index: JSON.parse(part.index) }));
  const entries = () => {
    const lazy = msg.imageLazy === undefined ? undefined : { ...msg.imageLazy, sha256: index.sha256 };
    const all: ImageEntry[] = lazyEntries(msg.image, index, lazy);
    // Package files join the same tree (an image's are read from the cache when opened).
    for (const p of parts) for (const e of lazyEntries(p.part.bytes, p.index, p.part.lazy)) all.push(e);
    return all;
  };
  const beforeRead = () => awaitImage(imageState);
  const tops = topDirectories([index?.rows, ...parts.map((p) => p.index?.rows)]);
  return tops === undefined ? buildImageTree(entries(), beforeRead) : deferredImageTree(tops, entries, beforeRead);
}

function limitsKey(limits: RunLimits): string {
  return `${limits.memoryMiB}/${limits.tmpQuotaBytes}/${limits.tmpMaxFiles}`;
}

/**
 * After the current message, unless the sandbox's process exits after its run (prepareAhead): a
 * run that arrives meanwhile simply waits for it.
 */
function prepareSoon(limits: RunLimits): void {
  if (!prepareAhead) return;
  setTimeout(() => {
    if (prepared === undefined && module !== undefined) prepared = prepare(limits);
  }, 0);
}

function prepare(limits: RunLimits): Prepared {
  if (module === undefined || image === undefined) throw new Error("worker not initialised");
  const key = limitsKey(limits);
  const reuse = spare?.key === key ? spare.memory : undefined;
  spare = undefined;
  const template = { module, moduleImports, memoryInitialPages, memoryImage, image };
  return { key, ...newGuest(template, limits, reuse) };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function runOnce(msg: RunMessage): DoneMessage {
  if (module === undefined || image === undefined) throw new Error("worker not initialised");
  const { limits } = msg;
  // The run's time counts on this thread's clock, from now (the pool's timer only enforces it).
  const clock = new RunClock(msg.clock);
  const deadline = clock.start() + limits.timeoutMs;
  const wait = deadlineWait(clock, deadline);
  const maxPages = limits.memoryMiB * 16;
  const ready = prepared !== undefined && prepared.key === limitsKey(limits) ? prepared : prepare(limits);
  prepared = undefined;
  const { memory, host, instance } = ready;
  const given = receivedFiles(msg.files);
  writeFiles(ready.fs, given); // before bindRun: charges no fuel
  if (memory !== undefined) spare = { key: ready.key, memory };
  const fuelSeen = fuelCell(msg.output);
  let fuel: WebAssembly.Global | undefined;
  host.bindRun({
    args: msg.args,
    env: msg.env,
    stdin: msg.stdinRing === undefined ? received(msg.stdin) : ringReader(msg.stdinRing, wait),
    stdout: outputWriter(msg.output, STDOUT, limits.maxOutputBytes),
    stderr: outputWriter(msg.output, STDERR, limits.maxOutputBytes),
    // Never sleep past the deadline: a sleep that reaches it ends the run there.
    sleep: (ms) => wait(sleepCell, 0, 0, ms),
    // Every host call checks the deadline too, so a run ends on time even if the pool's thread is
    // too busy to terminate this one (the pool's timer still stops runs that make no host calls).
    onSyscall: () => {
      if (fuel !== undefined) fuelSeen[0] = fuel.value as bigint;
      const now = sharedNowMs();
      clock.hostCalled(now);
      if (now >= deadline) throw new DeadlineReached();
    },
    chargeFuel: (units) => {
      if (fuel === undefined) return;
      const left = (fuel.value as bigint) - BigInt(units);
      fuel.value = left;
      if (left < 0n) throw new HostFuelExhausted(units);
    },
  });
  const exported = instance.exports;
  const guestMemory = memory ?? (exported[MEMORY_NAME] as WebAssembly.Memory);
  const fuelGlobal = exported[FUEL_EXPORT];
  if (fuelGlobal instanceof WebAssembly.Global) {
    fuel = fuelGlobal;
    fuel.value = msg.fuelStart;
    fuelSeen[0] = msg.fuelStart;
  }

  // The limit was reached: a memory.grow was refused (exact, if the module counts refusals), else
  // memory within 5% (at least 1 MiB) of the limit, i.e. a growth was likely refused.
  const refused = exported[GROW_REFUSED_EXPORT];
  const memoryAtMax = (): boolean => {
    if (refused instanceof WebAssembly.Global) return memory !== undefined && (refused.value as number) !== 0;
    const maxBytes = maxPages * 65536;
    return memory !== undefined && guestMemory.buffer.byteLength + Math.max(1 << 20, maxBytes / 20) >= maxBytes;
  };
  const ending = runGuest(exported, fuel, memoryAtMax);
  const done: DoneMessage = {
    type: "done",
    id: msg.id,
    ending,
    fuelUsed: fuel === undefined ? 0 : spentFuel(msg.fuelStart, fuel.value as bigint),
    memoryBytes: guestMemory.buffer.byteLength, // linear memory never shrinks: this is the peak
  };
  if (msg.returnFiles !== undefined) {
    const { files, truncated } = collectFiles(ready.fs, msg.returnFiles, given);
    done.files = { files: postableFiles(files.map((f) => ({ path: f.path, bytes: f.content }))), truncated };
  }
  return done;
}

/** Calls the guest's entry and says how the run ended: its exit, the deadline, or a trap. */
function runGuest(
  exported: WebAssembly.Exports,
  fuel: WebAssembly.Global | undefined,
  memoryAtMax: () => boolean,
): Ending {
  try {
    (exported[START_EXPORT] as () => void)();
    return { kind: "exit", code: 0, memoryAtMax: memoryAtMax() };
  } catch (e) {
    if (e instanceof ExitSignal) return { kind: "exit", code: e.code, memoryAtMax: memoryAtMax() };
    if (e instanceof DeadlineReached) return { kind: "timeout" };
    return {
      kind: "trap",
      message: stackExhausted(exported) ? STACK_EXHAUSTED_DETAIL : describe(e),
      fuelSpent: fuel !== undefined && (fuel.value as bigint) < 0n,
      memoryAtMax: memoryAtMax(),
    };
  }
}

/**
 * The worker's blocking wait (sleeps, stdin, poll): on `cell[index]` while it holds `value`, at most
 * `timeoutMs`, never past the deadline, where it throws DeadlineReached so that the run ends here,
 * with its exact fuel. Marked as time in a host call, so the pool's timer lets it end the run.
 */
function deadlineWait(clock: RunClock, deadline: number): HostWait {
  return (cell, index, value, timeoutMs) => {
    const left = deadline - sharedNowMs();
    if (left <= 0) throw new DeadlineReached();
    clock.hostCalled(0, true);
    const woke = Atomics.wait(cell, index, value, Math.min(timeoutMs, left));
    clock.hostReturned();
    if (woke === "timed-out" && timeoutMs >= left) throw new DeadlineReached();
  };
}

/** The module keeps a stack budget and the last function entry found it spent. */
function stackExhausted(exported: WebAssembly.Exports): boolean {
  const left = exported[STACK_LEFT_EXPORT];
  return left instanceof WebAssembly.Global && (left.value as number) < 0;
}
