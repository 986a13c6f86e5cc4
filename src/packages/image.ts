/**
 * Package images: one file holding many packages, made by scripts/build-packages.sh. The format
 * is the stdlib image's: a USTAR tar (src/wasi/tar.ts), here with paths relative to site-packages
 * and `.pyc` compiled by the guest interpreter, compressed with brotli (`NAME.tar.br`; a plain
 * `.tar` is read as is, whole). A compressed image is expanded once into the user's cache with its
 * index (_image-cache.ts); a mount then reads only that index, and each file's bytes are read
 * from the expansion when the guest first opens the file (lazy.ts), checked against the sha256
 * the sealed index recorded.
 */
import { readBytesShared } from "../platform/fs.ts";
import { entriesFromIndex } from "../wasi/tar-index.ts";
import { readTar, TarError } from "../wasi/tar.ts";
import type { TarEntry } from "../wasi/tar.ts";
import { expandImage } from "./_image-cache.ts";
import type { Expansion } from "./_image-cache.ts";
import { compiledReason, PackageError } from "./site.ts";
import type { PackageFile } from "./wheel.ts";

/** File names read as package images. */
export const IMAGE_SUFFIXES = [".tar.br", ".tar"] as const;

/**
 * Whether `path` names a package image (by its suffix).
 *
 * @example
 * isImagePath("sci.tar.br"); // true
 */
export function isImagePath(path: string): boolean {
  return IMAGE_SUFFIXES.some((s) => path.endsWith(s));
}

/**
 * The files of the package image at `path`; throws PackageError for a corrupt image or one with a
 * compiled extension. A cached expansion's files view zeroed shared memory and carry where their
 * bytes are (PackageFile.lazy); the others' bytes are there.
 *
 * @example
 * ```ts
 * const files = imageFiles("build/packages/sympy.tar.br");
 * ```
 */
export function imageFiles(path: string): PackageFile[] {
  const fail = (why: string) => new PackageError(`${path}: ${why}`);
  let files: PackageFile[];
  try {
    files = path.endsWith(".br") ? expansionFiles(expandImage(path)) : eagerFiles(readTar(readBytesShared(path)));
  } catch (e) {
    if (e instanceof TarError) throw fail(`not a package image: ${e.message}`);
    if (e instanceof PackageError) throw fail(e.message);
    throw fail(`cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (files.length === 0) throw fail("not a package image: it holds no files");
  return files;
}

/** The files of `entries`; PackageError (without the image's name) for a compiled extension. */
function eagerFiles(entries: readonly TarEntry[]): PackageFile[] {
  refuseCompiled(entries);
  return entries.filter((e) => e.type === "file").map((e) => ({ path: e.path, data: e.data }));
}

function refuseCompiled(entries: readonly TarEntry[]): void {
  for (const e of entries) {
    const compiled = compiledReason(e.path);
    if (compiled) throw new PackageError(compiled);
  }
}

/** The files of an expansion: a cached one's are read later, into memory allocated (untouched) here. */
function expansionFiles(x: Expansion): PackageFile[] {
  if (x.kind === "memory") return eagerFiles(x.entries);
  const entries = entriesFromIndex(new Uint8Array(new SharedArrayBuffer(x.index.archiveBytes)), x.index);
  refuseCompiled(entries);
  const files: PackageFile[] = [];
  for (const [i, e] of entries.entries()) {
    if (e.type === "file") {
      files.push({ path: e.path, data: e.data, lazy: { file: x.tarPath, sha256: x.index.sha256[i]! } });
    }
  }
  return files;
}
