/// <reference path="../platform/webassembly.d.ts" />
/**
 * What every worker of a sandbox starts from (the InitMessage): the compiled interpreter, its
 * memory image and the stdlib image with its index. The committed assets are compiled and read
 * once per process and cached here; a caller's own interpreter or image is checked here, once,
 * rather than inside every worker. Kept apart from the pool (pool.ts), which only posts the result.
 */
import { readAssetShared } from "./assets.ts";
import { committedInterpreter, compileInterpreter } from "./_interpreter-module.ts";
import { committedStdlib, readyState } from "./_image-fill.ts";
import type { StdlibImage } from "./_image-fill.ts";
import { committedImageIndex, imageIndexOf } from "./_image-index.ts";
import { moduleShape } from "./module-shape.ts";
import { postedImage } from "./_protocol.ts";
import type { ImageMessage, InitMessage } from "./_protocol.ts";
import { readTar } from "../wasi/tar.ts";
import type { SandboxOptions } from "./sandbox-options.ts";

/** A sandbox's start: the two messages each worker gets first, and how to finish filling the image. */
export interface InterpreterInit {
  image: ImageMessage;
  init: InitMessage;
  /** Whether the module counts fuel and honours memoryMiB. */
  metered: boolean;
  /** Reads the committed image into shared memory (_image-fill.ts); undefined when it is ready. */
  fill: (() => void) | undefined;
  /** Pins a lazily read image in memory, in the background (_image-fill.ts); for a sandbox that lives on. */
  pin: (() => Promise<boolean>) | undefined;
}

/**
 * Gets the stdlib image ready, then compiles the interpreter (`options.wasm`, else the committed
 * one, cached). `whileCompiling` gets the image's message once the compile is under way (the pool
 * starts its first thread there if it has not yet, and posts the image, so that the thread builds
 * its tree while this one compiles); `split` moves the data segments into a memory image, for a
 * sandbox that instantiates more than once (_interpreter-module.ts); `exitsWhenDone` (the process
 * exits after the sandbox's one run) turns off InitMessage.prepareAhead and the pinning of a lazily
 * read image. Rejects with AssetError or ModuleShapeError.
 */
export async function loadInterpreter(
  options: Pick<SandboxOptions, "wasm" | "stdlib">,
  packages: ImageMessage["packages"],
  how: { split: boolean; exitsWhenDone: boolean },
  whileCompiling: (image: ImageMessage) => void,
): Promise<InterpreterInit> {
  const stdlib = options.stdlib !== undefined ? givenImage(options.stdlib) : committedImage();
  const image: ImageMessage = {
    type: "image",
    image: stdlib.image,
    imageIndex: stdlib.index,
    imageState: stdlib.state,
    ...(stdlib.lazy === undefined ? {} : { imageLazy: stdlib.lazy }),
    ...(packages === undefined ? {} : { packages }),
  };
  const wasm = options.wasm ?? committedInterpreter();
  const compiling = compileInterpreter(wasm, how.split);
  compiling.catch(() => {}); // awaited below; a read error must not leave it unhandled
  whileCompiling(image);
  const { module, memoryImage } = await compiling;
  const shape = moduleShape(wasm, module);
  const init: InitMessage = {
    type: "init",
    module,
    memoryInitialPages: shape.memoryInitialPages,
    ...(memoryImage === undefined ? {} : { memoryImage: postedImage(memoryImage) }),
    prepareAhead: !how.exitsWhenDone,
  };
  // A one-shot sandbox does not pin a lazily read image: its process is gone long before a cache cleaner.
  const pin = how.exitsWhenDone ? undefined : stdlib.pin;
  return { image, init, metered: shape.metered, fill: stdlib.fill, pin };
}

/** The stdlib image in shared memory (the default asset already is: then no copy is made). */
function sharedImage(stdlib: Uint8Array): SharedArrayBuffer {
  if (
    stdlib.buffer instanceof SharedArrayBuffer && stdlib.byteOffset === 0 &&
    stdlib.byteLength === stdlib.buffer.byteLength
  ) {
    return stdlib.buffer;
  }
  const image = new SharedArrayBuffer(stdlib.length);
  new Uint8Array(image).set(stdlib);
  return image;
}

let committed: StdlibImage | undefined;

/**
 * The pinning of this process's committed stdlib image, if it has begun (a sandbox that lives on
 * begins it once its first run has answered): the cached copy it reads, and a promise of true
 * once every file is in memory. For tests.
 *
 * @example
 * ```ts
 * await sb.run("pass");
 * await committedPin()?.pinned; // true: the cached copy is no longer needed
 * ```
 */
export function committedPin(): { file: string; pinned: Promise<boolean> } | undefined {
  const lazy = committed?.lazy, pinned = committed?.pinned;
  return lazy === undefined || pinned === undefined ? undefined : { file: lazy.file, pinned };
}

/**
 * The committed image, once per process: read lazily or filled after the first run is posted when
 * its index is cached (_image-fill.ts), else read now (which caches the index for the next start).
 */
function committedImage(): StdlibImage {
  committed ??= committedStdlib() ?? readyImage(readAssetShared("stdlib.tar"), committedImageIndex);
  return committed;
}

/**
 * A caller's own image: a broken one fails here, with its offset, rather than inside every worker.
 * (The committed one was checked against its sha256 when it was expanded.)
 */
function givenImage(stdlib: Uint8Array): StdlibImage {
  return readyImage(stdlib, (bytes) => imageIndexOf(bytes, readTar(bytes)));
}

/** An image whose bytes are all here, in shared memory, with the index `indexOf` gives for them. */
function readyImage(bytes: Uint8Array, indexOf: (bytes: Uint8Array) => string): StdlibImage {
  return { image: sharedImage(bytes), index: indexOf(bytes), state: readyState() };
}
