/**
 * A byte range of a host file and its sha256, for a sandbox worker that reads a package image's
 * file only when the guest opens it (src/packages/lazy.ts). Apart from fs.ts because a worker
 * loads this module at start: it needs node:fs and node:crypto only, not the rest of fs.ts.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import type { createHash } from "node:crypto";

/**
 * node:crypto, loaded on the first hash: loading it at a worker's start compiled ~20 of the
 * runtime's internal modules in every new thread (~8 ms of a ~70 ms thread start on the test
 * machine), and a thread needs a hash only when the guest first opens a lazily read file.
 */
let hashOf: typeof createHash | undefined;

/**
 * `length` bytes of the file at `path` from byte `position`, in a new buffer; throws when the
 * file cannot be opened or ends before the range does. Opens and closes the file each time: a
 * worker may be terminated at any moment, and a descriptor it held open would stay open.
 *
 * @example
 * ```ts
 * const bytes = readRange("/home/me/.cache/wasi-py/packages/<sha256>/image.tar", 512, 1024);
 * ```
 */
export function readRange(path: string, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(path, "r");
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, position + done);
      if (n === 0) throw new Error(`${path}: ends before byte ${position + length}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * The sha256 of `data`, in hex.
 *
 * @example
 * sha256Hex(new Uint8Array(0)); // "e3b0c442...b855"
 */
export function sha256Hex(data: Uint8Array): string {
  const here = (import.meta as unknown as { url: string }).url; // typed: Deno checks with lib ES2023
  hashOf ??= (createRequire(here)("node:crypto") as { createHash: typeof createHash }).createHash;
  return hashOf("sha256").update(data).digest("hex");
}
