/**
 * Package images: one file holding many packages, made by scripts/build-packages.sh. The format
 * is the stdlib image's: a USTAR tar (src/wasi/tar.ts), here with paths relative to site-packages
 * and `.pyc` compiled by the guest interpreter, compressed with brotli (`NAME.tar.br`; a plain
 * `.tar` is read as is). Like the stdlib image, a compressed one is expanded once into the asset
 * cache, keyed by its sha256, with its index beside it (src/wasi/tar-index.ts), so later starts
 * neither decompress nor parse the tar: they read the index and view the expanded bytes. Only the
 * user's own cache folders are used (never the shared temp dir, where anyone could plant one).
 */
import {
  brotliDecompress,
  join,
  readBytes,
  readBytesShared,
  readTextIfAny,
  sha256Hex,
  writeFileAtomic,
} from "../platform/fs.ts";
import { entriesFromIndex, indexTar } from "../wasi/tar-index.ts";
import { readTar, TarError } from "../wasi/tar.ts";
import type { TarEntry } from "../wasi/tar.ts";
import { cacheDirs, sharedCacheDir } from "../platform/cache-dirs.ts";
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
 * compiled extension.
 *
 * @example
 * ```ts
 * const files = imageFiles("build/packages/sympy.tar.br");
 * ```
 */
export function imageFiles(path: string): PackageFile[] {
  const fail = (why: string) => new PackageError(`${path}: ${why}`);
  let raw: Uint8Array;
  try {
    raw = readBytes(path);
  } catch (e) {
    throw fail(`cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  let entries: TarEntry[];
  try {
    entries = path.endsWith(".br") ? expandedEntries(raw) : readTar(toShared(raw));
  } catch (e) {
    if (e instanceof TarError) throw fail(`not a package image: ${e.message}`);
    throw e;
  }
  if (entries.length === 0) throw fail("not a package image: it holds no files");
  const files: PackageFile[] = [];
  for (const e of entries) {
    const compiled = compiledReason(e.path);
    if (compiled) throw fail(compiled);
    if (e.type === "file") files.push({ path: e.path, data: e.data });
  }
  return files;
}

/**
 * `bytes` in shared memory: the workers then view the image's files in place (mount.ts copies only
 * files whose bytes are not shared already).
 */
function toShared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

/**
 * The user's own cache folder for expanded images, or undefined: the shared temp dir is never used,
 * since an expansion found there is not checked (anyone could have planted it), unlike the assets'.
 */
function ownCacheDir(): string | undefined {
  const shared = sharedCacheDir();
  return cacheDirs().find((d) => d !== shared);
}

/** A compressed image's entries, from the cache when an earlier start expanded it. */
function expandedEntries(compressed: Uint8Array): TarEntry[] {
  const cache = ownCacheDir();
  const dir = join(cache ?? "", "packages", sha256Hex(compressed));
  const tarPath = join(dir, "image.tar");
  const indexPath = `${tarPath}.index.json`;
  const index = cache === undefined ? undefined : readTextIfAny(indexPath);
  if (index !== undefined) {
    try {
      return entriesFromIndex(readBytesShared(tarPath), JSON.parse(index));
    } catch {
      // damaged or foreign cache entry: expand again below
    }
  }
  let tar: Uint8Array;
  try {
    tar = brotliDecompress(compressed);
  } catch {
    tar = new Uint8Array(0);
  }
  // Deno's brotli returns nothing for corrupt data where Node throws: both mean the same here.
  if (tar.length === 0) throw new TarError("not valid brotli data");
  tar = toShared(tar);
  const entries = readTar(tar);
  if (cache === undefined) return entries;
  try {
    writeFileAtomic(tarPath, tar);
    writeFileAtomic(indexPath, new TextEncoder().encode(JSON.stringify(indexTar(tar, entries))));
  } catch {
    // no writable cache: the next start expands again
  }
  return entries;
}
