/**
 * Turns the package paths a sandbox is given (folders, wheels, package images) into what its
 * workers mount: one shared buffer with every file's bytes and an index of it in the stdlib
 * image's format (src/wasi/tar-index.ts), its paths under the guest's site-packages. The worker
 * adds those entries to its read-only tree, so package files are read, charged fuel and refused
 * writes exactly like stdlib files. Mounts are merged in the order given: when two hold the same
 * file, the first one's is used, as the first of two sys.path entries would win.
 */
import { pathKind, readBytes } from "../platform/fs.ts";
import { TAR_INDEX_VERSION } from "../wasi/tar-index.ts";
import type { TarIndex, TarIndexRow } from "../wasi/tar-index.ts";
import { folderFiles } from "./folder.ts";
import { imageFiles, isImagePath } from "./image.ts";
import { MAX_PACKAGE_BYTES, PackageError, SITE_PACKAGES } from "./site.ts";
import { wheelFiles } from "./wheel.ts";
import type { PackageFile } from "./wheel.ts";
import type { PackagePart } from "./lazy.ts";

export type { PackagePart };

/** Mounted packages as workers get them: parts viewing images in place, plus one of copied files. */
export type PackageMount = PackagePart[];

/**
 * The files one package path contributes, by its kind: a folder, a `.whl`, or a package image.
 *
 * @example
 * ```ts
 * packageFiles("dist/six-1.16.0-py2.py3-none-any.whl").map((f) => f.path); // ["six.py", ...]
 * ```
 */
export function packageFiles(path: string): PackageFile[] {
  if (typeof path !== "string" || path === "") throw new PackageError("packages: a path must be a non-empty string");
  let kind;
  try {
    kind = pathKind(path);
  } catch (e) {
    throw new PackageError(`${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (kind === "dir") return folderFiles(path);
  if (kind === "missing") throw new PackageError(`${path}: no such file or folder`);
  if (/\.whl$/i.test(path)) {
    let bytes: Uint8Array;
    try {
      bytes = readBytes(path);
    } catch (e) {
      throw new PackageError(`${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
    }
    return wheelFiles(bytes, path);
  }
  if (isImagePath(path)) return imageFiles(path);
  throw new PackageError(`${path}: not a folder, a .whl file or a package image (.tar.br, .tar)`);
}

/**
 * Merges `files` lists (first wins per path) into parts: files whose bytes already live in shared
 * memory (a package image) are indexed where they are; the others are copied into one new buffer.
 *
 * @example
 * ```ts
 * const [part] = packMount([[{ path: "six.py", data: bytes }]]);
 * JSON.parse(part.index).rows[0][0]; // "usr/local/lib/python3.13/site-packages/six.py"
 * ```
 */
export function packMount(lists: readonly (readonly PackageFile[])[]): PackageMount {
  const chosen = new Map<string, PackageFile>();
  const dirs = new Set<string>();
  for (const files of lists) {
    for (const f of files) if (fits(f.path, chosen, dirs)) chosen.set(f.path, f);
  }
  const shared = new Map<SharedArrayBuffer, PackageFile[]>();
  const loose: [string, Uint8Array][] = [];
  let total = 0;
  for (const f of chosen.values()) {
    total += f.data.length;
    if (f.data.buffer instanceof SharedArrayBuffer) {
      const same = shared.get(f.data.buffer) ?? [];
      same.push(f);
      shared.set(f.data.buffer, same);
    } else {
      loose.push([f.path, f.data]);
    }
  }
  if (total > MAX_PACKAGE_BYTES) {
    throw new PackageError(`packages: ${total} bytes in all, more than ${MAX_PACKAGE_BYTES} (MAX_PACKAGE_BYTES)`);
  }
  const parts = [...shared].map(([bytes, files]) => inPlace(bytes, files));
  if (loose.length > 0 || parts.length === 0) parts.push(copied(loose));
  return parts;
}

function row(path: string, offset: number, size: number): TarIndexRow {
  return [`${SITE_PACKAGES}/${path}`, "file", offset, size, "", 0o644, 0];
}

function part(bytes: SharedArrayBuffer, rows: TarIndexRow[]): PackagePart {
  const index: TarIndex = { version: TAR_INDEX_VERSION, archiveBytes: bytes.byteLength, rows };
  return { bytes, index: JSON.stringify(index) };
}

/** Files of one shared buffer (one package image), indexed where they are; read lazily if they are. */
function inPlace(bytes: SharedArrayBuffer, files: readonly PackageFile[]): PackagePart {
  const p = part(bytes, files.map((f) => row(f.path, f.data.byteOffset, f.data.length)));
  const source = files[0]?.lazy?.file;
  if (source === undefined) return p;
  const sha256 = files.map((f) => f.lazy?.sha256 ?? "");
  return { ...p, lazy: { file: source, sha256, loaded: new SharedArrayBuffer(4 * files.length) } };
}

/** The files copied one after the other into a new shared buffer. */
function copied(files: readonly [string, Uint8Array][]): PackagePart {
  const bytes = new SharedArrayBuffer(files.reduce((n, [, d]) => n + d.length, 0));
  const view = new Uint8Array(bytes);
  const rows: TarIndexRow[] = [];
  let offset = 0;
  for (const [path, data] of files) {
    view.set(data, offset);
    rows.push(row(path, offset, data.length));
    offset += data.length;
  }
  return part(bytes, rows);
}

/**
 * Whether `path` can be added: not taken by a file or a folder already, and no folder of it is a
 * file already (a wheel could hold both `a` and `a/b.py`). Records its folders when it can.
 */
function fits(path: string, files: ReadonlyMap<string, PackageFile>, dirs: Set<string>): boolean {
  if (files.has(path) || dirs.has(path)) return false;
  const parts = path.split("/");
  const ancestors = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
  if (ancestors.some((a) => files.has(a))) return false;
  for (const a of ancestors) dirs.add(a);
  return true;
}

/**
 * Reads every path and merges them, in order; throws PackageError (one line naming the file) for
 * the first path that cannot be mounted.
 *
 * @example
 * ```ts
 * const mount = mountPackages(["vendor/", "dist/six-1.16.0-py2.py3-none-any.whl"]);
 * ```
 */
export function mountPackages(paths: readonly string[]): PackageMount {
  if (!Array.isArray(paths)) throw new PackageError("packages must be an array of paths");
  return packMount(paths.map(packageFiles));
}
