/// <reference path="../platform/webassembly.d.ts" />
/**
 * Makes one fresh guest: a WASI host over a fresh file system (the shared stdlib tree plus an
 * empty /tmp), a memory sized by the run's limits in the state instantiation leaves it (new, or
 * the worker's last one restored byte for byte: _guest-memory.ts), and the interpreter
 * instantiated against them. The worker makes one per run (ahead of time, while idle); _prime.ts makes one on
 * the caller's thread to get V8 compiling. One place, so both build the guest the same way.
 */
import { MemFs } from "../wasi/memfs.ts";
import type { DirNode } from "../wasi/memfs.ts";
import { WASI_MODULE, WasiHost } from "../wasi/host.ts";
import type { RunLimits } from "../limits/mod.ts";
import { ENV_MODULE, MEMORY_NAME } from "./module-shape.ts";
import type { MemoryImage } from "../wasm/data-image.ts";
import { freshMemory, restorable, restoreMemory } from "./_guest-memory.ts";

/** A fresh, never-run instance and what it was built from. */
export interface GuestInstance {
  /** The imported memory, or undefined when the module has its own. */
  memory: WebAssembly.Memory | undefined;
  host: WasiHost;
  /** The run's filesystem (the files of RunOptions.files are written here before it starts). */
  fs: MemFs;
  instance: WebAssembly.Instance;
}

/** What the guest is made from: the compiled interpreter and the stdlib tree. */
export interface GuestTemplate {
  module: WebAssembly.Module;
  /** WebAssembly.Module.imports(module), computed once. */
  moduleImports: readonly WebAssembly.ModuleImportDescriptor[];
  /** Pages of the imported env.memory; undefined for a module with its own memory. */
  memoryInitialPages: number | undefined;
  /**
   * The data segments taken out of `module` (src/wasm/data-image.ts), written into the imported
   * memory before instantiating; undefined when the module keeps its own.
   */
  memoryImage?: MemoryImage;
  image: DirNode;
}

/**
 * Instantiates the interpreter with a fresh memory, /tmp and host; the host's run binding
 * (arguments, streams, fuel hooks) is set later with `host.bindRun`. `reuse`, the memory of a
 * previous guest that no longer runs, is restored and used instead of a new one when the template
 * has a memory image and that memory was not grown (the caller keys it by the same limits).
 *
 * @example
 * ```ts
 * const guest = newGuest(template, DEFAULT_LIMITS);
 * guest.host.bindRun({ ... });
 * ```
 */
export function newGuest(t: GuestTemplate, limits: RunLimits, reuse?: WebAssembly.Memory): GuestInstance {
  const memory = guestMemory(t, limits, reuse);
  const fs = new MemFs(t.image, {
    tmpQuotaBytes: limits.tmpQuotaBytes,
    tmpMaxFiles: limits.tmpMaxFiles,
    now: () => BigInt(Date.now()) * 1_000_000n,
  });
  const nothing = () => {};
  const host = new WasiHost({
    args: [],
    env: [],
    fs,
    stdin: new Uint8Array(0),
    stdout: nothing,
    stderr: nothing,
    sleep: nothing,
  });
  const imports: WebAssembly.Imports = { [WASI_MODULE]: host.imports(t.moduleImports) };
  if (memory !== undefined) {
    imports[ENV_MODULE] = { [MEMORY_NAME]: memory };
    host.setMemory(memory);
  }
  const instance = new WebAssembly.Instance(t.module, imports);
  if (memory === undefined) host.setMemory(instance.exports[MEMORY_NAME] as WebAssembly.Memory);
  return { memory, host, instance, fs };
}

/** The imported memory in its instantiated state, or undefined for a module with its own memory. */
function guestMemory(t: GuestTemplate, limits: RunLimits, reuse?: WebAssembly.Memory): WebAssembly.Memory | undefined {
  const pages = t.memoryInitialPages;
  if (pages === undefined) return undefined;
  const maxPages = limits.memoryMiB * 16;
  if (t.memoryImage === undefined) return new WebAssembly.Memory({ initial: pages, maximum: maxPages });
  if (reuse !== undefined && restorable(reuse, pages)) {
    restoreMemory(reuse, t.memoryImage);
    return reuse;
  }
  return freshMemory(t.memoryImage, pages, maxPages);
}
