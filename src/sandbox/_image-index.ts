/**
 * The index of the stdlib image that the pool hands its workers (src/wasi/tar-index.ts), as
 * JSON: a string is copied to a worker in one piece and parsed natively there. The committed
 * image's index is made on first use and cached beside the expanded image (same sha256 folder,
 * so it never outlives its image); a caller's own image is indexed from the parse that checks it.
 *
 * The cached file is sealed: its first line is the sha256 of the image's sha256 and the JSON
 * that follows, written with it in one atomic rename. A truncated, corrupt, planted or swapped
 * index (one of another image) fails the seal and is rebuilt from the verified image; it is
 * never used, so it can neither crash a run nor map a module to another's bytes. It is read only
 * from a cache folder that is the user's alone (assets.ts sideFilePath, platform/cache-dirs.ts readCacheText), where a
 * `.verified` stamp (the file's size, inode, mtime, ctime and seal) spares the hash (0.4 ms warm,
 * several ms cold) while the file is untouched, as for the assets.
 */
import { fileStamp, sha256Hex, writeFileAtomic } from "../platform/fs.ts";
import { indexTar, TAR_INDEX_VERSION } from "../wasi/tar-index.ts";
import type { TarIndex } from "../wasi/tar-index.ts";
import { readTar } from "../wasi/tar.ts";
import { indexPrefix, openIndex, SEAL_CHARS, sealIndex } from "../wasi/sealed-index.ts";
import type { TarEntry } from "../wasi/tar.ts";
import { assetSha256, sideFilePath } from "./assets.ts";
import { readCacheText } from "../platform/cache-dirs.ts";

/**
 * File name suffix of the cached index, beside the expanded stdlib.tar (`.txt`: a digest line, then
 * JSON). "digests": its JSON also lists each row's sha256 (DigestedIndex), so that a worker can read
 * each file from the cached tar when the guest opens it (src/packages/lazy.ts); an index cached
 * before it had them is not this file, and is never read.
 */
export const INDEX_SUFFIX = `.index-v${TAR_INDEX_VERSION}-digests.txt`;

/** The stdlib's cached index: a TarIndex whose `sha256` gives each row's sha256 in hex ("" for a row that is not a file). */
export interface DigestedIndex extends TarIndex {
  sha256: string[];
}

/** The index of `image` with each file's sha256. */
function digestedIndex(image: Uint8Array): DigestedIndex {
  const entries = readTar(image);
  return { ...indexTar(image, entries), sha256: entries.map((e) => (e.type === "file" ? sha256Hex(e.data) : "")) };
}

/** Records that the index file with this stamp was checked and has this seal (best effort). */
function writeStamp(path: string, stamp: string | undefined, seal: string): void {
  if (stamp === undefined) return;
  try {
    writeFileAtomic(`${path}.verified`, new TextEncoder().encode(`${stamp} ${seal}`));
  } catch {
    // without a stamp the next start hashes again
  }
}

/**
 * The committed image's index (a DigestedIndex) as JSON: read from the cache, else made from `image` and cached
 * (a cache that cannot be written only costs the next start the parse again).
 *
 * @example
 * ```ts
 * const json = committedImageIndex(readAssetShared("stdlib.tar"));
 * ```
 */
export function committedImageIndex(image: Uint8Array): string {
  const cached = cachedImageIndex(image.length);
  if (cached !== undefined) return cached;
  const text = JSON.stringify(digestedIndex(image));
  const path = sideFilePath("stdlib.tar", INDEX_SUFFIX);
  try {
    if (path === undefined) return text;
    // A private temporary name, then a rename: a reader never sees half a file.
    const sealed = sealIndex(assetSha256("stdlib.tar"), text);
    writeFileAtomic(path, new TextEncoder().encode(sealed));
    writeStamp(path, fileStamp(path), sealed.slice(0, SEAL_CHARS));
  } catch {
    // read-only cache: fine, the index is only a shortcut
  }
  return text;
}

/**
 * The committed image's index as JSON if a previous start cached it and its seal holds (for an
 * image of `bytes` bytes), else undefined. Needs only the image's size, not its bytes.
 *
 * @example
 * ```ts
 * const json = cachedImageIndex(assetSize("stdlib.tar")) ?? committedImageIndex(readAssetShared("stdlib.tar"));
 * ```
 */
export function cachedImageIndex(bytes: number): string | undefined {
  const path = sideFilePath("stdlib.tar", INDEX_SUFFIX);
  const before = path === undefined ? undefined : fileStamp(path);
  const file = before === undefined ? undefined : readCacheText(path!);
  if (file === undefined) return undefined;
  const seal = file.slice(0, SEAL_CHARS);
  const unchanged = fileStamp(path!) === before;
  if (unchanged && readCacheText(`${path}.verified`) === `${before} ${seal}`) {
    const json = file.slice(SEAL_CHARS + 1);
    return file[SEAL_CHARS] === "\n" && json.startsWith(indexPrefix(bytes)) ? json : undefined;
  }
  const json = openIndex(file, assetSha256("stdlib.tar"), bytes);
  if (json !== undefined && unchanged) writeStamp(path!, before, seal);
  return json;
}

/**
 * The index of a caller's image as JSON, from the entries the pool parsed to check it.
 *
 * @example
 * ```ts
 * const json = imageIndexOf(image, readTar(image));
 * ```
 */
export function imageIndexOf(image: Uint8Array, entries: readonly TarEntry[]): string {
  return JSON.stringify(indexTar(image, entries));
}
