/**
 * The committed stdlib image, filled in after the first run is posted (issue 14). Reading its 22 MB
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
import { assetSize, readAssetInto } from "./assets.ts";
import { cachedImageIndex } from "./_image-index.ts";
import { IMAGE_FAILED, IMAGE_READY } from "./_protocol.ts";

/** A stdlib image as the workers get it: shared bytes, its index, the flag saying whether it is filled. */
export interface StdlibImage {
  image: SharedArrayBuffer;
  index: string;
  /** InitMessage.imageState. */
  state: SharedArrayBuffer;
  /** Set while the bytes are still to be read: reads them into `image` and sets the flag; once; never throws. */
  fill?: () => void;
}

/**
 * The committed image, still to be filled, or undefined when its index is not cached yet (then the
 * caller reads it up front, which also caches the index).
 *
 * @example
 * ```ts
 * const pending = pendingStdlib();
 * // post { image: pending.image, imageIndex: pending.index, imageState: pending.state } to workers, then:
 * pending?.fill();
 * ```
 */
export function pendingStdlib(): StdlibImage & { fill: () => void } | undefined {
  const size = assetSize("stdlib.tar");
  const index = cachedImageIndex(size);
  if (index === undefined) return undefined;
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
