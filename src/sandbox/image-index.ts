/**
 * The index of the stdlib image that the pool hands its workers (src/wasi/tar-index.ts), as
 * JSON: a string is copied to a worker in one piece and parsed natively there. The committed
 * image's index is made on first use and cached beside the expanded image (same sha256 folder,
 * so it never outlives its image); a caller's own image is indexed from the parse that checks it.
 */
import { readText, writeFileAtomic } from "../platform/fs.ts";
import { indexTar, TAR_INDEX_VERSION } from "../wasi/tar-index.ts";
import type { TarEntry } from "../wasi/tar.ts";
import { cachedPath } from "./assets.ts";

/** File name suffix of the cached index, beside the expanded stdlib.tar. */
const INDEX_SUFFIX = `.index-v${TAR_INDEX_VERSION}.json`;

/** How JSON.stringify(indexTar(...)) begins for an archive of `bytes` bytes. */
function indexPrefix(bytes: number): string {
  return `{"version":${TAR_INDEX_VERSION},"archiveBytes":${bytes},`;
}

/**
 * The committed image's index as JSON: read from the cache, else made from `image` and cached
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
  const path = cachedPath("stdlib.tar") + INDEX_SUFFIX;
  const text = JSON.stringify(indexTar(image));
  try {
    writeFileAtomic(path, new TextEncoder().encode(text));
  } catch {
    // read-only cache: fine, the index is only a shortcut
  }
  return text;
}

/**
 * The committed image's index as JSON if a previous start cached it (for an image of `bytes`
 * bytes), else undefined. Needs only the image's size, not its bytes.
 *
 * @example
 * ```ts
 * const json = cachedImageIndex(assetSize("stdlib.tar")) ?? committedImageIndex(readAssetShared("stdlib.tar"));
 * ```
 */
export function cachedImageIndex(bytes: number): string | undefined {
  try {
    const text = readText(cachedPath("stdlib.tar") + INDEX_SUFFIX);
    // The worker checks every row against the image; here only that it is ours and its size.
    if (text.startsWith(indexPrefix(bytes))) return text;
  } catch {
    // missing or unreadable
  }
  return undefined;
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
