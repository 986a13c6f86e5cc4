/// <reference path="../platform/webassembly.d.ts" />
/**
 * The interpreter module as the pool compiles it: read once per process, its data segments split
 * into a shared memory image when that can be done exactly (src/wasm/data-image.ts: instantiating
 * the snapshot with its ~51,600 segments was most of a back-to-back run), compiled once per
 * distinct buffer, so later sandboxes of the process reuse the compiled code.
 */
import { readAsset } from "./assets.ts";
import { splitDataSegments } from "../wasm/data-image.ts";
import type { MemoryImage } from "../wasm/data-image.ts";

/** A compiled interpreter, and the image of the data segments taken out of it (if they were). */
export interface CompiledInterpreter {
  module: WebAssembly.Module;
  memoryImage: MemoryImage | undefined;
}

const compiled = new WeakMap<Uint8Array, Promise<CompiledInterpreter>>();

/**
 * Splits and compiles each distinct module buffer once per process.
 *
 * @example
 * ```ts
 * const { module, memoryImage } = await compileInterpreter(committedInterpreter());
 * ```
 */
export function compileInterpreter(bytes: Uint8Array): Promise<CompiledInterpreter> {
  let p = compiled.get(bytes);
  if (p === undefined) {
    const split = splitDataSegments(bytes);
    p = WebAssembly.compile(split?.module ?? bytes).then((module) => ({ module, memoryImage: split?.image }));
    compiled.set(bytes, p);
  }
  return p;
}

let committedWasm: Uint8Array | undefined;

/** The committed interpreter's bytes, read once per process (so later sandboxes reuse its compiled module). */
export function committedInterpreter(): Uint8Array {
  committedWasm ??= readAsset("python.wasm");
  return committedWasm;
}
