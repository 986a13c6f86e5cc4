/// <reference path="../platform/webassembly.d.ts" />
/**
 * What the pool and its worker threads share: the messages they exchange and the shared output
 * buffer (its layout, the writer the worker appends guest output with, the reader the pool turns
 * it back into text with). Both sides import this file, so the layout is defined once.
 *
 * The output buffer is a SharedArrayBuffer so that what a program printed survives when the pool
 * terminates its worker at the deadline. Large stdin and files cross in shared memory too
 * (`postable`): Deno's worker_threads takes seconds to clone a megabytes-long Uint8Array.
 */
import type { RunLimits } from "../limits/mod.ts";
import type { Ending } from "./result.ts";
import type { FileBytes, ReturnCaps } from "./run-files.ts";
import type { MemoryImage } from "../wasm/data-image.ts";
import type { PackagePart } from "../packages/lazy.ts";

/**
 * Pool → worker, once per thread and first: the read-only tree every run mounts. Posted as soon as
 * it is known, before the interpreter is compiled, so that a new thread builds its tree (~30 ms of
 * a cold `wasi-py 'print(1)'` on the 2-core test machine) while the pool still reads and compiles.
 */
export interface ImageMessage {
  type: "image";
  /** The stdlib image (USTAR), shared by all workers. */
  image: SharedArrayBuffer;
  /** The image's index as JSON (src/wasi/tar-index.ts): the worker need not parse the tar. */
  imageIndex: string;
  /**
   * One Int32 saying whether `image` holds its bytes yet (IMAGE_FILLING, IMAGE_READY, IMAGE_FAILED):
   * the pool may fill it after the first run is posted (_image-fill.ts); a worker waits for it before
   * reading a stdlib file's contents.
   */
  imageState: SharedArrayBuffer;
  /**
   * Set when `image` starts zeroed and each file's bytes are read from the cached copy when the
   * guest first opens it, checked against the sha256 `imageIndex` gives for it (_image-fill.ts).
   */
  imageLazy?: LazyImage;
  /**
   * Mounted packages (src/packages/mount.ts): more read-only entries, under site-packages, some
   * read from the user's cache when first opened (src/packages/lazy.ts).
   */
  packages?: PackagePart[];
}

/** Pool → worker, once per thread, after the ImageMessage: what every run instantiates. */
export interface InitMessage {
  type: "init";
  module: WebAssembly.Module;
  /** Pages of the imported env.memory, or undefined for a module with its own memory. */
  memoryInitialPages: number | undefined;
  /**
   * The data segments split out of `module`, if they were: their bytes as the bare SharedArrayBuffer
   * all workers share (see postedImage: a posted view would be walked byte by byte on Deno).
   */
  memoryImage?: PostedMemoryImage;
  /**
   * Whether the worker prepares the next run's instance while idle (after init and after each
   * run). False for a sandbox whose process exits after its one run: a spare instance made then
   * only delays the exit (~20 ms of a cold `wasi-py 'print(1)'`), as the thread must stop first.
   */
  prepareAhead: boolean;
}

/** Where a lazily read stdlib image's files come from (InitMessage.imageLazy; src/packages/lazy.ts LazySource). */
export interface LazyImage {
  /** The verified copy of the image in the user's cache: the index's offsets are into this file. */
  file: string;
  /** One Int32 per index row (or more), LOADED once the row's bytes are in `image`. */
  loaded: SharedArrayBuffer;
}

/** InitMessage.imageState: the pool is still reading the image. */
export const IMAGE_FILLING = 0;
/** InitMessage.imageState: the image holds its bytes. */
export const IMAGE_READY = 1;
/** InitMessage.imageState: reading it failed; stdlib files cannot be read. */
export const IMAGE_FAILED = 2;

/**
 * The worker's side of InitMessage.imageState: blocks until the image is filled; throws if it never
 * will be.
 *
 * @example
 * ```ts
 * const beforeRead = () => awaitImage(new Int32Array(init.imageState));
 * ```
 */
export function awaitImage(flag: Int32Array): void {
  while (Atomics.load(flag, 0) === IMAGE_FILLING) Atomics.wait(flag, 0, IMAGE_FILLING);
  if (Atomics.load(flag, 0) !== IMAGE_READY) throw new Error("the stdlib image could not be read");
}

/** Pool → worker: one evaluation. */
export interface RunMessage {
  type: "run";
  id: number;
  args: string[];
  env: string[];
  /** The program's stdin bytes (postable). */
  stdin: PostedBytes;
  /** A lazy stdin's ring (_stdin-ring.ts); when present, `stdin` is unused. */
  stdinRing?: SharedArrayBuffer;
  limits: RunLimits;
  fuelStart: bigint;
  /** The run clock's buffer (_run-clock.ts): the worker marks start and finish there. */
  clock: SharedArrayBuffer;
  /** The shared output buffer (see OUTPUT_LAYOUT), made by createOutput. */
  output: SharedArrayBuffer;
  /** Files written into /home before the program starts (run-files.ts), bytes postable. */
  files?: PostedFile[];
  /** Set when the files left in /home are to be returned, with their caps. */
  returnFiles?: ReturnCaps;
}

/**
 * Bytes as they cross between the pool and a worker: a SharedArrayBuffer holding them (see
 * `postable`) or, when short, a Uint8Array.
 */
export type PostedBytes = Uint8Array | SharedArrayBuffer;

/** A MemoryImage as it crosses to a worker: its bytes' whole SharedArrayBuffer, posted bare. */
export interface PostedMemoryImage {
  buffer: SharedArrayBuffer;
  runs: Int32Array;
  top: number;
}

/**
 * A memory image as it goes into a message: its shared buffer bare, not a view of it (Deno's
 * node:worker_threads copies a view's 6.4 MB byte by byte into every worker; a bare
 * SharedArrayBuffer crosses in well under a millisecond and stays shared). The image's bytes fill
 * their buffer from offset 0 (src/wasm/data-image.ts makes them so); anything else is refused.
 *
 * @example
 * const image = { bytes: new Uint8Array(new SharedArrayBuffer(8)), runs: new Int32Array(0), top: 0 };
 * receivedImage(postedImage(image)).bytes.length; // 8
 */
export function postedImage(image: MemoryImage): PostedMemoryImage {
  const { bytes, runs, top } = image;
  if (
    !(bytes.buffer instanceof SharedArrayBuffer) || bytes.byteOffset !== 0 || bytes.length !== bytes.buffer.byteLength
  ) {
    throw new TypeError("a memory image must fill a SharedArrayBuffer of its own");
  }
  return { buffer: bytes.buffer, runs, top };
}

/** A posted memory image as the MemoryImage the worker instantiates with (a view, no copy). */
export function receivedImage(posted: PostedMemoryImage): MemoryImage {
  return { bytes: new Uint8Array(posted.buffer), runs: posted.runs, top: posted.top };
}

/** A file (given or returned) as it crosses between the pool and a worker. */
export interface PostedFile {
  path: string;
  bytes: PostedBytes;
}

/**
 * Bytes from which stdin and files cross in a SharedArrayBuffer of their own, posted bare. Deno's
 * node:worker_threads walks a typed array's bytes when it posts one, shared or not (8 MiB took 6 s
 * on the loaded 2-core machine against 0.25 s on Node), while a bare SharedArrayBuffer takes under
 * a millisecond; short ones are cheaper cloned than given a buffer of their own.
 */
export const SHARED_FROM_BYTES = 1024;

/**
 * `bytes` as they go into a message: a copy in a bare SharedArrayBuffer when they are long, else
 * the view as it is. The caller's buffer is never transferred (it stays theirs).
 *
 * @example
 * postable(new Uint8Array(1 << 20)) instanceof SharedArrayBuffer; // true
 */
export function postable(bytes: Uint8Array): PostedBytes {
  if (bytes.length < SHARED_FROM_BYTES) return bytes;
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return shared;
}

/**
 * Posted bytes as a Uint8Array: a view of the shared buffer (the receiver's own: one run's), or
 * with `copy`, an ordinary one for a caller who keeps it.
 *
 * @example
 * received(postable(new Uint8Array(1 << 20)), true).buffer instanceof ArrayBuffer; // true
 */
export function received(bytes: PostedBytes, copy = false): Uint8Array {
  if (!(bytes instanceof SharedArrayBuffer)) return bytes;
  return copy ? new Uint8Array(bytes).slice() : new Uint8Array(bytes);
}

/**
 * Files as they go into a message (see postable).
 *
 * @example
 * postableFiles([{ path: "a", bytes: new Uint8Array(2) }]); // [{ path: "a", bytes: Uint8Array(2) }]
 */
export function postableFiles(files: readonly { path: string; bytes: Uint8Array }[]): PostedFile[] {
  return files.map((f) => ({ path: f.path, bytes: postable(f.bytes) }));
}

/**
 * Files from a message with their bytes as Uint8Arrays (see received).
 *
 * @example
 * receivedFiles(postableFiles(files), true); // ordinary copies, for the caller
 */
export function receivedFiles(files: readonly PostedFile[] | undefined, copy = false): FileBytes[] {
  return (files ?? []).map((f) => ({ path: f.path, bytes: received(f.bytes, copy) }));
}

/** Worker → pool: how the evaluation `id` ended. */
export interface DoneMessage {
  type: "done";
  id: number;
  ending: Ending;
  /** Exactly what the run spent; absent when unknown (the pool then reads the sampled fuel cell). */
  fuelUsed?: number;
  /** Size of the guest's linear memory at the end (its peak). */
  memoryBytes?: number;
  /** What the program left in /home, when RunMessage.returnFiles asked for it (bytes postable). */
  files?: { files: PostedFile[]; truncated: boolean };
}

/** An output stream's index in the shared buffer. */
export type Stream = 0 | 1;
export const STDOUT: Stream = 0;
export const STDERR: Stream = 1;

/**
 * The shared output buffer: a header of Int32 cells (the lengths of stdout and stderr, then
 * their truncation flags), a BigInt64 cell with the fuel counter as last seen by a host call,
 * then stdout's region and stderr's region, each maxOutputBytes long.
 */
export const OUTPUT_LAYOUT = Object.freeze({
  /** Int32 cells in the header. */
  headerInts: 4,
  /** Bytes before stdout's region. */
  headerBytes: 32,
  /** Index of stdout's length cell; stderr's follows. */
  length: 0,
  /** Index of stdout's truncation flag; stderr's follows. */
  truncated: 2,
  /** Byte offset of a BigInt64 cell: the remaining fuel at the last host call. */
  fuelByte: 16,
});

/** Bytes of an output buffer for streams of `maxOutputBytes` each. */
export function outputBytes(maxOutputBytes: number): number {
  return OUTPUT_LAYOUT.headerBytes + 2 * maxOutputBytes;
}

/** A fresh output buffer for one run, its fuel cell holding `fuelStart`. */
export function createOutput(maxOutputBytes: number, fuelStart: bigint): SharedArrayBuffer {
  const output = new SharedArrayBuffer(outputBytes(maxOutputBytes));
  fuelCell(output)[0] = fuelStart;
  return output;
}

/**
 * Makes a finished run's output buffer ready for the next run of the same size: lengths and flags
 * zeroed, the fuel cell at `fuelStart` (the stream regions are overwritten as the run writes).
 */
export function resetOutput(output: SharedArrayBuffer, fuelStart: bigint): void {
  new Int32Array(output, 0, OUTPUT_LAYOUT.headerInts).fill(0);
  fuelCell(output)[0] = fuelStart;
}

/** The buffer's fuel cell: written by the worker at every host call, read by the pool at a timeout. */
export function fuelCell(output: SharedArrayBuffer): BigInt64Array {
  return new BigInt64Array(output, OUTPUT_LAYOUT.fuelByte, 1);
}

/** The writer: appends guest output to its stream's region, dropping (and flagging) what does not fit. */
export function outputWriter(output: SharedArrayBuffer, stream: Stream, cap: number): (bytes: Uint8Array) => void {
  const header = new Int32Array(output, 0, OUTPUT_LAYOUT.headerInts);
  const region = new Uint8Array(output, OUTPUT_LAYOUT.headerBytes + stream * cap, cap);
  return (bytes) => {
    const used = header[OUTPUT_LAYOUT.length + stream]!;
    const n = Math.min(bytes.length, cap - used);
    if (n > 0) region.set(bytes.subarray(0, n), used);
    if (n < bytes.length) Atomics.store(header, OUTPUT_LAYOUT.truncated + stream, 1);
    Atomics.store(header, OUTPUT_LAYOUT.length + stream, used + n);
  };
}

// Invalid sequences become U+FFFD; a leading BOM is kept (it is part of what the program wrote).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The reader: a stream's text so far, and whether some of it was dropped (a cut character is trimmed). */
export function readOutput(
  output: SharedArrayBuffer,
  stream: Stream,
  cap: number,
): { text: string; truncated: boolean } {
  const header = new Int32Array(output, 0, OUTPUT_LAYOUT.headerInts);
  const len = Atomics.load(header, OUTPUT_LAYOUT.length + stream);
  const truncated = Atomics.load(header, OUTPUT_LAYOUT.truncated + stream) === 1;
  const copy: Uint8Array = new Uint8Array(output, OUTPUT_LAYOUT.headerBytes + stream * cap, len).slice();
  const bytes = truncated ? trimPartialUtf8(copy) : copy;
  return { text: decoder.decode(bytes as Uint8Array<ArrayBuffer>), truncated };
}

/**
 * Drops an incomplete UTF-8 sequence cut by truncation, so the text does not end in U+FFFD.
 *
 * @example
 * trimPartialUtf8(new Uint8Array([0x61, 0xe2, 0x82])); // Uint8Array [0x61]
 */
export function trimPartialUtf8(bytes: Uint8Array): Uint8Array {
  let i = bytes.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (bytes[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return bytes;
  const lead = bytes[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? bytes.subarray(0, i) : bytes;
}
