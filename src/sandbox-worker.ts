/// <reference path="./wasi-webassembly.d.ts" />
/**
 * Worker entry: runs one evaluation at a time in a fresh instance (fresh memory, fresh /tmp, fresh
 * file table). Output goes straight into a SharedArrayBuffer owned by the parent, so whatever was
 * printed survives if the parent terminates this thread at the deadline.
 */
import { parentChannel } from "./platform/worker.ts";
import { buildImageTree, MemFs } from "./memfs.ts";
import type { DirNode } from "./memfs.ts";
import { readTar } from "./stdlib-image.ts";
import { ExitSignal, WasiHost, WASI_MODULE } from "./wasi-host.ts";
import type { Ending } from "./run-result.ts";
import type { InitMessage, RunMessage, DoneMessage, OutputLayout } from "./sandbox.ts";

const channel = parentChannel();
let module: WebAssembly.Module | undefined;
let moduleImports: WebAssembly.ModuleImportDescriptor[] = [];
let memoryInitialPages: number | undefined;
let image: DirNode | undefined;
/** A private cell to block on for sleeps; nobody ever notifies it. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

channel.onMessage((raw) => {
  const msg = raw as InitMessage | RunMessage;
  if (msg.type === "init") {
    module = msg.module;
    moduleImports = WebAssembly.Module.imports(msg.module);
    memoryInitialPages = msg.memoryInitialPages;
    image = buildImageTree(readTar(new Uint8Array(msg.image)));
    return;
  }
  let done: DoneMessage;
  try {
    done = runOnce(msg);
  } catch (e) {
    // A host-side failure (a bug of ours, not the guest's): report it as a crash, keep serving.
    done = { type: "done", id: msg.id, ending: { kind: "trap", message: `host error: ${describe(e)}`, fuelSpent: false, memoryAtMax: false }, fuelUsed: 0 };
  }
  channel.post(done);
});

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Appends guest output into its region of the shared buffer, dropping what does not fit. */
function sink(out: SharedArrayBuffer, layout: OutputLayout, stream: 0 | 1, cap: number): (bytes: Uint8Array) => void {
  const header = new Int32Array(out, 0, layout.headerInts);
  const region = new Uint8Array(out, layout.headerBytes + stream * cap, cap);
  return (bytes) => {
    const used = header[layout.length + stream]!;
    const n = Math.min(bytes.length, cap - used);
    if (n > 0) region.set(bytes.subarray(0, n), used);
    if (n < bytes.length) Atomics.store(header, layout.truncated + stream, 1);
    Atomics.store(header, layout.length + stream, used + n);
  };
}

function runOnce(msg: RunMessage): DoneMessage {
  if (module === undefined || image === undefined) throw new Error("worker not initialised");
  const { limits } = msg;
  const maxPages = limits.memoryMiB * 16;
  const memory = memoryInitialPages === undefined ? undefined
    : new WebAssembly.Memory({ initial: memoryInitialPages, maximum: maxPages });
  const fs = new MemFs(image, {
    tmpQuotaBytes: limits.tmpQuotaBytes,
    tmpMaxFiles: limits.tmpMaxFiles,
    now: () => BigInt(Date.now()) * 1_000_000n,
  });
  const fuelCell = new BigInt64Array(msg.output, msg.layout.fuelByte, 1);
  let fuel: WebAssembly.Global | undefined;
  const host = new WasiHost({
    args: msg.args,
    env: msg.env,
    fs,
    stdin: msg.stdin,
    stdout: sink(msg.output, msg.layout, 0, limits.maxOutputBytes),
    stderr: sink(msg.output, msg.layout, 1, limits.maxOutputBytes),
    // Never sleep past the deadline: the parent terminates this thread then anyway.
    sleep: (ms) => {
      const left = msg.deadline - Date.now();
      const wait = Math.max(0, Math.min(ms, left + 50));
      if (wait > 0) Atomics.wait(sleepCell, 0, 0, wait);
    },
    onSyscall: () => {
      if (fuel !== undefined) fuelCell[0] = fuel.value as bigint;
    },
  });
  const imports: WebAssembly.Imports = { [WASI_MODULE]: host.imports(moduleImports) };
  if (memory !== undefined) {
    imports["env"] = { memory };
    host.setMemory(memory);
  }
  const instance = new WebAssembly.Instance(module, imports);
  const exported = instance.exports;
  const guestMemory = memory ?? (exported["memory"] as WebAssembly.Memory);
  if (memory === undefined) host.setMemory(guestMemory);
  if (exported["wasi_py_fuel"] instanceof WebAssembly.Global) {
    fuel = exported["wasi_py_fuel"];
    fuel.value = msg.fuelStart;
    fuelCell[0] = msg.fuelStart;
  }

  // "At its maximum": within 5% (at least 1 MiB) of the limit, i.e. a growth was likely refused.
  const memoryAtMax = (): boolean => {
    const maxBytes = maxPages * 65536;
    return memory !== undefined && guestMemory.buffer.byteLength + Math.max(1 << 20, maxBytes / 20) >= maxBytes;
  };
  let ending: Ending;
  try {
    (exported["_start"] as () => void)();
    ending = { kind: "exit", code: 0, memoryAtMax: memoryAtMax() };
  } catch (e) {
    if (e instanceof ExitSignal) {
      ending = { kind: "exit", code: e.code, memoryAtMax: memoryAtMax() };
    } else {
      ending = {
        kind: "trap",
        message: describe(e),
        fuelSpent: fuel !== undefined && (fuel.value as bigint) < 0n,
        memoryAtMax: memoryAtMax(),
      };
    }
  }
  const remaining = fuel === undefined ? msg.fuelStart : (fuel.value as bigint);
  const used = msg.fuelStart - remaining;
  return {
    type: "done", id: msg.id, ending,
    fuelUsed: fuel === undefined ? 0 : Number(used),
    memoryBytes: guestMemory.buffer.byteLength, // linear memory never shrinks: this is the peak
  };
}
