/**
 * A compressed package image's expansion in the user's cache, so that a mount reads only its index
 * and the workers read each file's bytes when the guest opens it (src/packages/lazy.ts). In
 * `<cache>/packages/<sha256 of the .tar.br>/`:
 *
 * - `image.tar`, the expanded image, whose files the workers read;
 * - `image.index.txt`, its index (src/wasi/tar-index.ts) with each file's sha256, sealed as the
 *   stdlib's index is (src/wasi/sealed-index.ts: a first line digesting the compressed image's
 *   sha256 and the JSON), so a truncated, corrupt, planted or swapped index is never used;
 * - `image.tar.verified`, the tar's stamp (size, inode, mtime, ctime) and the index's seal, a line
 *   for each runtime (Deno's stat rounds the times Node gives in full): while the stamp holds, the
 *   tar is the one the index describes. Otherwise the tar is hashed (0.3 s for the 126 MB of the
 *   test image) against the sha256 the index recorded, and expanded again if it differs.
 *
 * Finding the folder takes the `.tar.br`'s sha256, 21 MB to read and hash for the test image; a
 * `stamps/` file keyed by the image's path and stamp remembers it, as the `.verified` stamps of the
 * assets do (any rewrite, rename over or touch of the image changes its stamp). Only the user's own
 * cache folders are used, never the shared temp dir, where anyone could plant an expansion.
 */
import {
  brotliDecompress,
  fileSize,
  fileStamp,
  join,
  readBytes,
  sha256Hex,
  sha256HexOfText,
  sha256OfFile,
  writeFileAtomic,
} from "../platform/fs.ts";
import { cacheDirs, readCacheText, sharedCacheDir } from "../platform/cache-dirs.ts";
import { openIndex, SEAL_CHARS, sealIndex } from "../wasi/sealed-index.ts";
import { indexTar } from "../wasi/tar-index.ts";
import type { TarIndex } from "../wasi/tar-index.ts";
import { readTar, TarError } from "../wasi/tar.ts";
import type { TarEntry } from "../wasi/tar.ts";

/** A package image's index with each row's sha256 ("" for a row that is not a file) and the tar's. */
export interface DigestIndex extends TarIndex {
  sha256: string[];
  tarSha256: string;
}

/** What a compressed image mounts from: its expansion in the cache, or (no usable cache) memory. */
export type Expansion =
  | { kind: "cached"; tarPath: string; index: DigestIndex }
  | { kind: "memory"; entries: TarEntry[] };

const TAR = "image.tar";
const INDEX = "image.index.txt";
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The user's own cache folder for expanded images, or undefined: the shared temp dir is never used,
 * since an expansion found there could have been planted by anyone.
 */
function ownCacheDir(): string | undefined {
  const shared = sharedCacheDir();
  return cacheDirs().find((d) => d !== shared);
}

/**
 * The expansion of the compressed image at `path`: found in the cache, else made (and cached when
 * a cache folder can be written). Throws TarError for an image that is not valid brotli or tar, and
 * what reading `path` throws.
 *
 * @example
 * ```ts
 * const x = expandImage("build/packages/sci.tar.br");
 * if (x.kind === "cached") console.log(x.tarPath, x.index.rows.length);
 * ```
 */
export function expandImage(path: string): Expansion {
  const cache = ownCacheDir();
  let compressed: Uint8Array | undefined;
  const bytes = () => (compressed ??= readBytes(path));
  if (cache === undefined) return { kind: "memory", entries: readTar(decompress(bytes())) };
  const root = join(cache, "packages");
  const stampFile = stampPath(root, path);
  const known = stampFile === undefined ? undefined : readCacheText(stampFile);
  const sha = known !== undefined && HEX64.test(known) ? known : sha256Hex(bytes());
  const dir = join(root, sha);
  let found = openExpansion(dir, sha);
  if (found === undefined) {
    const tar = decompress(bytes());
    const entries = readTar(tar);
    found = writeExpansion(dir, sha, tar, entries);
    if (found === undefined) return { kind: "memory", entries };
  }
  if (stampFile !== undefined && known !== sha) remember(stampFile, sha);
  return found;
}

/** The file remembering the sha256 of the image at `path` while its stamp is unchanged. */
function stampPath(root: string, path: string): string | undefined {
  const stamp = fileStamp(path);
  return stamp === undefined ? undefined : join(root, "stamps", sha256HexOfText(path, "\n", stamp));
}

function remember(file: string, sha: string): void {
  try {
    writeFileAtomic(file, new TextEncoder().encode(sha));
  } catch {
    // the next mount hashes the image again
  }
}

/** Brotli-expanded `compressed`, in shared memory; TarError when it is not brotli. */
function decompress(compressed: Uint8Array): Uint8Array {
  let tar: Uint8Array;
  try {
    tar = brotliDecompress(compressed);
  } catch {
    tar = new Uint8Array(0);
  }
  // Deno's brotli returns nothing for corrupt data where Node throws: both mean the same here.
  if (tar.length === 0) throw new TarError("not valid brotli data");
  const shared = new Uint8Array(new SharedArrayBuffer(tar.length));
  shared.set(tar);
  return shared;
}

/** The expansion in `dir` if its index's seal holds for `sha` and its tar is the one written with it. */
function openExpansion(dir: string, sha: string): Expansion | undefined {
  const tarPath = join(dir, TAR);
  const text = readCacheText(join(dir, INDEX));
  const size = fileSize(tarPath);
  if (text === undefined || size === undefined) return undefined;
  const json = openIndex(text, sha, size);
  if (json === undefined) return undefined;
  const index = JSON.parse(json) as DigestIndex;
  const ok = Array.isArray(index.rows) && Array.isArray(index.sha256) && index.sha256.length === index.rows.length;
  if (!ok || !tarVerified(tarPath, text.slice(0, SEAL_CHARS), index.tarSha256)) return undefined;
  return { kind: "cached", tarPath, index };
}

/**
 * Whether the tar at `tarPath` is the one an index with this seal and tar sha256 describes: its
 * stamp is recorded beside it, else its hash matches (then the stamp is recorded, beside the
 * other runtime's).
 */
function tarVerified(tarPath: string, seal: string, tarSha256: string): boolean {
  const stamp = fileStamp(tarPath);
  if (stamp === undefined) return false;
  const line = `${stamp} ${seal}`;
  const lines = (readCacheText(`${tarPath}.verified`) ?? "").split("\n");
  if (lines.includes(line)) return true;
  if (sha256OfFile(tarPath) !== tarSha256 || fileStamp(tarPath) !== stamp) return false;
  const kept = lines.filter((l) => l.endsWith(` ${seal}`)).slice(-1);
  writeStamps(`${tarPath}.verified`, [...kept, line]);
  return true;
}

function writeStamps(path: string, lines: readonly string[]): void {
  try {
    writeFileAtomic(path, new TextEncoder().encode(lines.join("\n")));
  } catch {
    // the next mount hashes the tar again
  }
}

/** Writes the expansion into `dir`; undefined when it cannot be written (no cache then). */
function writeExpansion(dir: string, sha: string, tar: Uint8Array, entries: TarEntry[]): Expansion | undefined {
  const index: DigestIndex = {
    ...indexTar(tar, entries),
    sha256: entries.map((e) => (e.type === "file" ? sha256Hex(e.data) : "")),
    tarSha256: sha256Hex(tar),
  };
  const tarPath = join(dir, TAR);
  const sealed = sealIndex(sha, JSON.stringify(index));
  try {
    writeFileAtomic(tarPath, tar);
    writeFileAtomic(join(dir, INDEX), new TextEncoder().encode(sealed));
    const stamp = fileStamp(tarPath);
    if (stamp === undefined) return undefined;
    writeStamps(`${tarPath}.verified`, [`${stamp} ${sealed.slice(0, SEAL_CHARS)}`]);
  } catch {
    return undefined;
  }
  return { kind: "cached", tarPath, index };
}
