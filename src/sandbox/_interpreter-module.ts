/// <reference path="../platform/webassembly.d.ts" />
/**
 * The interpreter module as the pool compiles it: read once per process, its data segments split
 * into a shared memory image when that can be done exactly (src/wasm/data-image.ts: instantiating
 * the snapshot with its ~51,600 segments was most of a back-to-back run), compiled once per
 * distinct buffer, so later sandboxes of the process reuse the compiled code.
 */
import { readAsset } from "./assets.ts";
import { splitDataSegments, withSplitModule } from "../wasm/data-image.ts";
import type { MemoryImage } from "../wasm/data-image.ts";

/** A compiled interpreter, and the image of the data segments taken out of it (if they were). */
export interface CompiledInterpreter {
  module: WebAssembly.Module;
  memoryImage: MemoryImage | undefined;
}

/** Per module buffer: compiled whole, and compiled split. */
const compiled = [
  new WeakMap<Uint8Array, Promise<CompiledInterpreter>>(),
  new WeakMap<Uint8Array, Promise<CompiledInterpreter>>(),
];

/**
 * Compiles each distinct module buffer once per process, split (`split`, when it can be) or whole.
 * Splitting costs ~60 ms of CPU on the test machine (a third of it the image's first touch) and
 * saves 20-40 ms at every instantiation after the first: a sandbox that instantiates once (a
 * one-shot run) wants the module whole.
 *
 * @example
 * ```ts
 * const { module, memoryImage } = await compileInterpreter(committedInterpreter(), true);
 * ```
 */
export function compileInterpreter(bytes: Uint8Array, split: boolean): Promise<CompiledInterpreter> {
  const cache = compiled[split ? 1 : 0]!;
  let p = cache.get(bytes);
  if (p === undefined) {
    const parts = split ? splitDataSegments(bytes) : undefined;
    const compiling = parts === undefined ? WebAssembly.compile(bytes) : withSplitModule(parts, WebAssembly.compile);
    p = compiling.then((module) => ({ module, memoryImage: parts?.image }));
    cache.set(bytes, p);
  }
  return p;
}

let committedWasm: Uint8Array | undefined;

/** The committed interpreter's bytes, read once per process (so later sandboxes reuse its compiled module). */
export function committedInterpreter(): Uint8Array {
  committedWasm ??= readAsset("python.wasm");
  return committedWasm;
}
