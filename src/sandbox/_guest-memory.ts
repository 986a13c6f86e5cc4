/// <reference path="../platform/webassembly.d.ts" />
/**
 * The guest's memory as instantiation would leave it, for an interpreter whose data segments were
 * split into an image (src/wasm/data-image.ts). Two ways to get one, measured on the 2-core test
 * machine (a Firecracker VM, Node 20, the 12.6 MB snapshot image):
 * - a fresh memory, with the image's data pages copied in: the first write to each page of a new
 *   wasm memory costs ~25 µs there (the kernel maps it), so only pages that hold data are touched,
 *   as many as the segments touched;
 * - the memory of the worker's previous run, if that run did not grow it: every byte rewritten
 *   (zero below and above the image, the image in one `set()`), ~1 ms, against 35–100 ms for a
 *   fresh memory's first touch. Byte for byte the same as a fresh memory, same size and maximum:
 *   nothing of the previous run survives, and the guest cannot tell the difference.
 */
import type { MemoryImage } from "../wasm/data-image.ts";
import { WASM_PAGE_BYTES } from "../wasm/data-image.ts";

/**
 * A new memory of `initialPages` (growable to `maxPages`) holding the image.
 *
 * @example
 * ```ts
 * const memory = freshMemory(image, 320, limits.memoryMiB * 16);
 * ```
 */
export function freshMemory(image: MemoryImage, initialPages: number, maxPages: number): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maxPages });
  const bytes = new Uint8Array(memory.buffer);
  const { runs } = image;
  for (let r = 0; r < runs.length; r += 3) {
    const from = runs[r + 2]!;
    bytes.set(image.bytes.subarray(from, from + runs[r + 1]! - runs[r]!), runs[r]!);
  }
  return memory;
}

/**
 * Whether `memory` can be restored for another run: it is still `initialPages` long (memory never
 * shrinks, and a longer one would show the guest a different size).
 */
export function restorable(memory: WebAssembly.Memory, initialPages: number): boolean {
  return memory.buffer.byteLength === initialPages * WASM_PAGE_BYTES;
}

/**
 * Rewrites every byte of `memory` to the image's state: the runs, and zero everywhere else. Only
 * for a memory that `restorable` accepted.
 *
 * @example
 * ```ts
 * if (restorable(last, pages)) restoreMemory(last, image);
 * ```
 */
export function restoreMemory(memory: WebAssembly.Memory, image: MemoryImage): void {
  const bytes = new Uint8Array(memory.buffer);
  const { runs } = image;
  let zeroFrom = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const start = runs[r]!, end = runs[r + 1]!, from = runs[r + 2]!;
    bytes.fill(0, zeroFrom, start);
    bytes.set(image.bytes.subarray(from, from + end - start), start);
    zeroFrom = end;
  }
  bytes.fill(0, zeroFrom);
}
