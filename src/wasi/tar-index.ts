/**
 * A stdlib image's table of contents, so that a worker builds its read-only tree without
 * parsing ~1,700 tar headers (checksums, octal fields, names) on every start: in a fresh
 * worker that code still runs in V8's interpreter, ~15-30 ms of a cold `wasi-py 'print(1)'`.
 * The index is made once from readTar (the sandbox caches it beside the expanded image) and
 * travels as JSON, which the worker parses natively. Entries rebuilt from it view the same
 * archive bytes (no copies), and every field is checked against the archive it is used with,
 * so an index that does not belong to it is refused rather than trusted.
 */
import { readTar, TarError } from "./tar.ts";
import type { TarEntry, TarEntryType } from "./tar.ts";

/** Bumped when the format changes (a cached index of another version is rebuilt). */
export const TAR_INDEX_VERSION = 1;

/** One entry: path, type, data offset in the archive, data size, link target, mode, mtime. */
export type TarIndexRow = [string, TarEntryType, number, number, string, number, number];

export interface TarIndex {
  version: number;
  /** The archive's size in bytes: an index is used only with an archive of that size. */
  archiveBytes: number;
  rows: TarIndexRow[];
}

/**
 * What normalizeTarPath returns for a non-root path: "/"-separated, non-empty parts, none "." or
 * "..". A regular expression rather than a call per row: it runs in every fresh worker.
 */
const NORMAL_PATH = /^(?!\.\.?(?:\/|$))[^/]+(?:\/(?!\.\.?(?:\/|$))[^/]+)*$/;

const TYPES: ReadonlySet<string> = new Set<TarEntryType>(["file", "dir", "symlink", "hardlink"]);

/**
 * The index of `archive` (its entries as readTar lists them, parsed here unless given).
 *
 * @example
 * ```ts
 * const index = indexTar(archive);
 * const sameEntries = entriesFromIndex(archive, index);
 * ```
 */
export function indexTar(archive: Uint8Array, entries: readonly TarEntry[] = readTar(archive)): TarIndex {
  const rows = entries.map((e): TarIndexRow => [
    e.path,
    e.type,
    e.data.byteOffset - archive.byteOffset,
    e.data.length,
    e.linkTarget,
    e.mode,
    e.mtime,
  ]);
  return { version: TAR_INDEX_VERSION, archiveBytes: archive.length, rows };
}

function isCount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** Checks one row against the archive; throws TarError naming the row. */
function checkRow(row: unknown, i: number, archiveBytes: number): TarIndexRow {
  const bad = (why: string) => new TarError(`image index row ${i}: ${why}`);
  if (!Array.isArray(row) || row.length !== 7) throw bad("not a 7-field row");
  const [path, type, offset, size, link, mode, mtime] = row as unknown[];
  if (typeof path !== "string" || !NORMAL_PATH.test(path)) throw bad("bad path");
  if (typeof type !== "string" || !TYPES.has(type)) throw bad("bad type");
  if (!isCount(offset) || !isCount(size) || offset + size > archiveBytes) throw bad("data outside the archive");
  if (typeof link !== "string" || !isCount(mode) || !isCount(mtime)) throw bad("bad link, mode or mtime");
  return row as TarIndexRow;
}

/**
 * The entries an index describes, as views of `archive`. Throws TarError for an index of
 * another version or archive size, or with a row that could not have come from readTar.
 *
 * @example
 * ```ts
 * const entries = entriesFromIndex(archive, JSON.parse(indexJson));
 * ```
 */
export function entriesFromIndex(archive: Uint8Array, index: unknown): TarEntry[] {
  const ix = index as Partial<TarIndex> | null;
  if (ix === null || typeof ix !== "object" || ix.version !== TAR_INDEX_VERSION || !Array.isArray(ix.rows)) {
    throw new TarError(`image index is not version ${TAR_INDEX_VERSION}`);
  }
  if (ix.archiveBytes !== archive.length) {
    throw new TarError(`image index is for ${ix.archiveBytes} bytes, the image has ${archive.length}`);
  }
  return ix.rows.map((raw, i) => {
    const [path, type, offset, size, linkTarget, mode, mtime] = checkRow(raw, i, archive.length);
    return { path, type, data: archive.subarray(offset, offset + size), linkTarget, mode, mtime };
  });
}
