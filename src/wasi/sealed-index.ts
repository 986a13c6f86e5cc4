/**
 * A tar index (tar-index.ts) as a cache file, sealed: its first line is the sha256 of the image's
 * sha256 and the JSON that follows, so a truncated, corrupt, planted or swapped index (one of
 * another image) fails the seal and is never used. Shared by the stdlib image's cached index
 * (sandbox/_image-index.ts) and the package images' (packages/), which both sit above it.
 */
import { sha256HexOfText } from "../platform/fs.ts";
import { TAR_INDEX_VERSION } from "./tar-index.ts";

/** Length of the seal line, without its newline (a sha256 in hex). */
export const SEAL_CHARS = 64;

/**
 * How JSON.stringify(indexTar(...)) begins for an archive of `bytes` bytes.
 *
 * @example
 * indexPrefix(10240); // '{"version":1,"archiveBytes":10240,'
 */
export function indexPrefix(bytes: number): string {
  return `{"version":${TAR_INDEX_VERSION},"archiveBytes":${bytes},`;
}

/** The digest that seals `json` as the index of the image whose sha256 is `imageSha256`. */
function sealOf(imageSha256: string, json: string): string {
  return sha256HexOfText(`${imageSha256}\n`, json);
}

/**
 * The cache file's text for index `json` of the image `imageSha256`.
 *
 * @example
 * sealIndex(sha, json); // "<64 hex digits>\n{...}"
 */
export function sealIndex(imageSha256: string, json: string): string {
  return `${sealOf(imageSha256, json)}\n${json}`;
}

/**
 * The index JSON in a cache file's text if its seal holds for image `imageSha256` and it is of
 * this version and an archive of `bytes` bytes, else undefined.
 *
 * @example
 * openIndex(sealIndex(sha, json), sha, size); // json
 * openIndex(sealIndex(sha, json).slice(0, -1), sha, size); // undefined (truncated)
 */
export function openIndex(file: string, imageSha256: string, bytes: number): string | undefined {
  const nl = file.indexOf("\n");
  if (nl !== SEAL_CHARS) return undefined;
  const json = file.slice(nl + 1);
  if (!json.startsWith(indexPrefix(bytes)) || file.slice(0, nl) !== sealOf(imageSha256, json)) return undefined;
  return json;
}
