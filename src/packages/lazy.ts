/**
 * The worker's side of a lazily read image (issue 25, and the stdlib since issue 23): the pool hands it the image's index
 * and zeroed shared memory of the image's size (src/packages/mount.ts), and a file's bytes are read
 * from the expanded copy in the user's cache only when the guest first reads that file. They are
 * used only if their sha256 is the one the sealed index recorded when the image was expanded, so a
 * cache file changed since then can make a read fail (EIO) but never feed the guest other bytes.
 * Loaded bytes go into the shared memory, so the other workers of the sandbox find them there.
 *
 * Fuel does not depend on any of this: the guest is charged for the bytes it reads (memfs.ts,
 * cost.ts) whether they were loaded by this read, an earlier one, or another worker.
 */
import { readRange, sha256Hex } from "../platform/file-range.ts";
import type { ImageEntry } from "../wasi/image-tree.ts";
import { entriesFromIndex } from "../wasi/tar-index.ts";

/** Where a lazily read part's bytes come from (PackagePart.lazy). */
export interface LazySource {
  /** The expanded image in the user's cache (a tar): the index rows' offsets are into this file. */
  file: string;
  /** Each index row's sha256 in hex ("" for a row that is not a file). */
  sha256: string[];
  /** One Int32 per index row, LOADED once the row's bytes are in the part's shared memory. */
  loaded: SharedArrayBuffer;
}

/** One shared buffer of mounted files and its index, as the workers get them (InitMessage.packages). */
export interface PackagePart {
  bytes: SharedArrayBuffer;
  /** A TarIndex as JSON (src/wasi/tar-index.ts), paths relative to the guest's `/`. */
  index: string;
  /** Set when the bytes are not there yet: each file is read from `lazy.file` when first opened. */
  lazy?: LazySource;
}

/** LazySource.loaded: the row's bytes are in shared memory (0: not yet). */
export const LOADED = 1;

/**
 * The entries a parsed index (src/wasi/tar-index.ts) describes in `bytes`; with `lazy`, each file
 * reads its bytes from `lazy.file` when first opened (package images, and the committed stdlib
 * image, whose cached index carries the digests: src/sandbox/_image-index.ts). `lazy.loaded` may
 * hold more flags than there are rows (the stdlib's is sized before its index is parsed).
 *
 * @example
 * ```ts
 * const index = JSON.parse(init.imageIndex);
 * const entries = lazyEntries(init.image, index, { ...init.imageLazy, sha256: index.sha256 });
 * ```
 */
export function lazyEntries(bytes: SharedArrayBuffer, index: unknown, lazy?: LazySource): ImageEntry[] {
  const entries: ImageEntry[] = entriesFromIndex(new Uint8Array(bytes), index);
  if (lazy === undefined) return entries;
  const digests: unknown = lazy.sha256;
  if (!Array.isArray(digests) || digests.length !== entries.length || lazy.loaded.byteLength < 4 * entries.length) {
    throw new Error(`image ${lazy.file}: index and digests differ in length`);
  }
  const loaded = new Int32Array(lazy.loaded);
  for (const [i, e] of entries.entries()) {
    if (e.type === "file" && e.data.length > 0) e.beforeRead = () => load(lazy, loaded, i, e);
  }
  return entries;
}

/**
 * Puts row `i`'s bytes into shared memory unless they are there. Two workers may load the same
 * file at once: both write the same verified bytes, and neither waits for the other (a worker
 * can be terminated at any moment, so a lock it held could stay held).
 */
function load(source: LazySource, loaded: Int32Array, i: number, e: ImageEntry): void {
  if (Atomics.load(loaded, i) === LOADED) return;
  const bytes = readRange(source.file, e.data.byteOffset, e.data.length);
  if (sha256Hex(bytes) !== source.sha256[i]) {
    throw new Error(`${source.file}: the bytes of ${e.path} changed since the image was expanded`);
  }
  e.data.set(bytes);
  Atomics.store(loaded, i, LOADED);
}
