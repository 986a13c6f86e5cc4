/**
 * The committed stdlib image as the workers get it: read lazily, a file at a time, else filled in
 * after the first run is posted.
 *
 * Lazily (issue 23): once the cached copy's `.verified` stamp holds and the cached index carries
 * each file's sha256 (_image-index.ts), the workers get zeroed shared memory, the index and the
 * cached file's path, and read each file's bytes from it when the guest first opens that file,
 * checked against its sha256 (src/packages/lazy.ts, as for package images). Reading the whole
 * 22 MB into fresh memory was ~90 ms of CPU of a cold `wasi-py 'print(1)'` (120 of 470 ms with
 * the module's read on the 2-core test VM, where a first touch of memory costs ~3.3 ns a byte),
 * and `print(1)` opens no stdlib file.
 *
 * Filled (issue 14), when the stamp does not hold (it is then checked by hashing). Reading its 22 MB
 * took 30-60 ms of the calling thread on a cold start, before the first run could be posted; but
 * a worker needs the image's bytes only when a program opens a stdlib file (the snapshot has the
 * common modules imported), and its tree only needs the index, which is cached. So the pool hands
 * the workers zeroed shared memory and the index at once, posts the first run, then fills the
 * memory; a worker that reads a file first waits for it (memfs.ts `beforeRead`, _protocol.ts
 * `awaitImage`). The bytes are
 * checked exactly as before (assets.ts: manifest sha256, or the `.verified` stamp).
 *
 * The first start of a new image (no cached index yet), and a caller's own image, are read up front.
 */
import { assetSize, readAssetInto, verifiedCopy } from "./assets.ts";
import { lazyEntries } from "../packages/lazy.ts";
import { inBackground } from "../platform/timers.ts";
import { cachedImageIndex } from "./_image-index.ts";
import { IMAGE_FAILED, IMAGE_READY } from "./_protocol.ts";
import type { LazyImage } from "./_protocol.ts";

/** The size of a tar header: an image of n bytes has at most n / 512 rows (one flag each). */
const TAR_BLOCK_BYTES = 512;

/**
 * The committed image, read lazily when its cached copy's stamp holds (`pin` then reads it in, in
 * the background: pinAll), else still to be filled;
 * undefined when its index is not cached yet (then the caller reads it up front, which also caches
 * the index and the stamp).
 *
 * @example
 * ```ts
 * const image = committedStdlib() ?? readNow();
 * image.fill?.(); // once the first run is posted
 * ```
 */
export function committedStdlib(): StdlibImage | undefined {
  const size = assetSize("stdlib.tar");
  const index = cachedImageIndex(size);
  if (index === undefined) return undefined;
  const file = verifiedCopy("stdlib.tar");
  if (file === undefined) return pendingStdlib(size, index);
  const loaded = new SharedArrayBuffer(4 * Math.ceil(size / TAR_BLOCK_BYTES));
  const image = new SharedArrayBuffer(size);
  const lazy = { file, loaded };
  const out: StdlibImage = { image, index, state: readyState(), lazy };
  out.pin = () => (out.pinned ??= pinAll(image, index, lazy));
  return out;
}

/** Files a pinning step reads before it lets the event loop run (~1 MB, a few ms, in the stdlib image). */
const PIN_FILES_PER_STEP = 64;

/**
 * For a lazily read image (StdlibImage.pin): reads every file not yet loaded from the cached copy (each checked
 * against its sha256, as a worker would: src/packages/lazy.ts), so that a sandbox that lives on (a
 * bot, a service) stops depending on the copy, which a user or a temp cleaner may delete while it
 * runs. In steps of a few files between turns of the event loop, so that the first run's answer
 * (and a bot's or a service's I/O) never waits for it, and without keeping the process alive. A
 * copy that cannot be read, or a file that changed, stops it: the rest stay read lazily.
 */
function pinAll(image: SharedArrayBuffer, index: string, lazy: LazyImage): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const parsed = JSON.parse(index) as { sha256: string[] };
    const files = lazyEntries(image, parsed, { ...lazy, sha256: parsed.sha256 }).filter((e) => e.beforeRead);
    let next = 0;
    const step = () => {
      try {
        for (const end = next + PIN_FILES_PER_STEP; next < files.length && next < end; next++) {
          files[next]!.beforeRead!();
        }
      } catch {
        return resolve(false);
      }
      if (next < files.length) inBackground(step);
      else resolve(true);
    };
    inBackground(step);
  });
}

/** A stdlib image as the workers get it: shared bytes, its index, the flag saying whether it is filled. */
export interface StdlibImage {
  image: SharedArrayBuffer;
  index: string;
  /** InitMessage.imageState. */
  state: SharedArrayBuffer;
  /** InitMessage.imageLazy: set when each file is read from the cached copy when first opened. */
  lazy?: LazyImage;
  /** Set while the bytes are still to be read: reads them into `image` and sets the flag; once; never throws. */
  fill?: () => void;
  /**
   * Set for a lazily read image: reads every file in, in the background (pinAll); resolves true
   * once all are, false if the cached copy could not be read. Once; later calls give the same promise.
   */
  pin?: () => Promise<boolean>;
  /** Set once `pin` has been called: its promise. */
  pinned?: Promise<boolean>;
}

/** The committed image of `size` bytes and this index, its bytes still to be read (by `fill`). */
function pendingStdlib(size: number, index: string): StdlibImage & { fill: () => void } {
  const image = new SharedArrayBuffer(size);
  const state = new SharedArrayBuffer(4);
  let done = false;
  return {
    image,
    index,
    state,
    fill() {
      if (done) return;
      done = true;
      const flag = new Int32Array(state);
      try {
        readAssetInto("stdlib.tar", new Uint8Array(image));
        Atomics.store(flag, 0, IMAGE_READY);
      } catch {
        Atomics.store(flag, 0, IMAGE_FAILED);
      }
      Atomics.notify(flag, 0);
    },
  };
}

/** The state of an image that is complete from the start. */
export function readyState(): SharedArrayBuffer {
  const state = new SharedArrayBuffer(4);
  new Int32Array(state)[0] = IMAGE_READY;
  return state;
}
