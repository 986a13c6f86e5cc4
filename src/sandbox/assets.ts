/**
 * Finds the committed assets (assets/*.br + manifest.json) and expands each `.br` file once
 * into a cache keyed by its sha256, so that later starts read the plain file without paying
 * decompression. The cache never stops a run:
 * - where: the first usable of $WASI_PY_CACHE, $XDG_CACHE_HOME/wasi-py, $HOME/.cache/wasi-py,
 *   <OS temp dir>/wasi-py-<uid>, each only if it is an absolute path (never the current folder);
 *   if none can be written, the assets are expanded in memory for this process.
 * - a cache folder is used only if the current user owns it and nobody else may write it (nor its
 *   `<sha256>` subfolder, nor the file read): a folder planted in the shared temp dir by another
 *   user, or one that others can write, is skipped with one notice per process (cacheNotice), and
 *   the next place, or memory, is used. Where the user's id cannot be asked (Deno without
 *   --allow-sys=uid) only the permission bits are checked and the shared temp dir is not used.
 * - every read is checked against the manifest's sha256, so a truncated or corrupt entry is never
 *   used: it is expanded again. In the user's own folders a `.verified` stamp (size, inode, mtime,
 *   ctime of the hashed file) spares the ~20 ms hash while the file is untouched; any write to it
 *   changes the stamp. Side files (the stdlib index, _image-index.ts) carry their own digest.
 * - files are written to a unique temporary name and renamed into place, so a process that
 *   expands at the same time never sees a half-written file.
 * - folders are made one level at a time (Node's recursive mkdir could spin on odd filesystems,
 *   e.g. HOME=/proc/self/x), and any failure just moves on to the next place.
 */
import {
  brotliDecompress,
  currentUid,
  dirname,
  fileSize,
  fileStamp,
  join,
  moduleDir,
  ownership,
  readBytes,
  readBytesInto,
  readBytesShared,
  readText,
  sha256Hex,
  stderrLine,
  tempDir,
  writeFileAtomic,
} from "../platform/fs.ts";
import {
  CACHE_RULE,
  cacheDirs,
  cacheTrustProblem,
  defaultCacheDir,
  readCacheText,
  sharedCacheDir,
} from "../platform/cache-dirs.ts";

/** The expanded assets by their uncompressed names. */
export type AssetName = "python.wasm" | "python-unmetered.wasm" | "stdlib.tar";

export interface ManifestFile {
  size: number;
  sha256: string;
  /** Present for `.br` files: the uncompressed form. */
  expanded?: { name: string; size: number; sha256: string };
}

/** assets/manifest.json, written by scripts/build-manifest.py. */
export interface Manifest {
  python: string;
  hostTriple: string;
  sourceDateEpoch: number;
  buildDate: string;
  /** snapshot: the interpreter is pre-initialised (Wizer) with the driver whose sha256 is given. */
  interpreter?: { snapshot: boolean; driverSha256?: string };
  sources: Record<string, string>;
  toolchain: Record<string, string>;
  /** Paths relative to assets/ ("/"-separated) → size and sha256. */
  files: Record<string, ManifestFile>;
}

export interface AssetPaths {
  /** The fuel-metered interpreter (what the sandbox runs). */
  pythonWasm: string;
  /** The same interpreter before metering (benchmarks, overhead tests). */
  pythonUnmeteredWasm: string;
  /** The stdlib image: an uncompressed USTAR tar relative to the guest's `/`. */
  stdlibTar: string;
  manifest: Manifest;
}

export interface AssetOptions {
  /** Folder with manifest.json and the .br files; default `<repo>/assets`. */
  assetsDir?: string;
  /** Cache root, used alone; default: the first usable of cacheDirs(). */
  cacheDir?: string;
}

/**
 * Missing, corrupt or unlisted assets (the interpreter or its stdlib image); the message is one
 * line that says what to do, e.g. run `npm install` or rebuild the assets.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { AssetError, Sandbox } from "wasi-py";
 *
 * try {
 *   await (await Sandbox.create({ workers: 1 })).close();
 * } catch (e) {
 *   if (e instanceof AssetError) process.stderr.write(`wasi-py: ${e.message}\n`);
 *   else throw e;
 * }
 * ```
 */
export class AssetError extends Error {
  /** Always "AssetError". */
  override name = "AssetError";
}

/** The repository root: the nearest folder above this module with a package.json. */
export function repoRoot(): string {
  // (cast: with this tsconfig's `lib`, Deno's checker does not know ImportMeta.url)
  const here = moduleDir((import.meta as unknown as { url: string }).url);
  let dir = here;
  for (;;) {
    if (fileSize(join(dir, "package.json")) !== undefined) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new AssetError(`cannot find the wasi-py folder (no package.json above ${here})`);
    dir = parent;
  }
}

export function defaultAssetsDir(): string {
  return join(repoRoot(), "assets");
}

const manifests = new Map<string, Manifest>();

export function readManifest(options: AssetOptions = {}): Manifest {
  const dir = options.assetsDir ?? defaultAssetsDir();
  let m = manifests.get(dir);
  if (m === undefined) {
    const path = join(dir, "manifest.json");
    let text: string;
    try {
      text = readText(path);
    } catch {
      throw new AssetError(`no ${path}: build the assets with scripts/build-cpython.sh`);
    }
    m = JSON.parse(text) as Manifest;
    if (typeof m.files !== "object" || m.files === null) throw new AssetError(`${path} has no "files"`);
    manifests.set(dir, m);
  }
  return m;
}

/** Where the expanded form of `name` lives in the cache (whether or not it exists yet). */
export function cachedPath(name: AssetName, options: AssetOptions = {}): string {
  const entry = manifestEntry(name, options);
  return join(options.cacheDir ?? defaultCacheDir(), entry.expanded.sha256, name);
}

function manifestEntry(name: AssetName, options: AssetOptions): Required<ManifestFile> {
  const entry = readManifest(options).files[`${name}.br`];
  if (entry === undefined || entry.expanded === undefined) {
    throw new AssetError(`assets/manifest.json lists no ${name}.br: rebuild with scripts/build-cpython.sh`);
  }
  return entry as Required<ManifestFile>;
}

const ready = new Map<string, string>();

/** Where cache notices go (one line each, without the "wasi-py: " prefix); stderr by default. */
export const cacheNotice: { say: (message: string) => void } = {
  say: (message) => stderrLine(`wasi-py: ${message}`),
};

const noticed = new Set<string>();

function noticeOnce(message: string): void {
  if (noticed.has(message)) return;
  noticed.add(message);
  cacheNotice.say(message);
}

/** Why a cache root must not be used, or undefined. */
function folderProblem(dir: string): string | undefined {
  const why = cacheTrustProblem(dir);
  if (why !== undefined || dir !== sharedCacheDir() || currentUid() !== undefined) return why;
  try {
    // Owners exist (not Windows) but ours cannot be asked: anyone could have made this folder.
    return ownership(tempDir()) === null ? undefined : "in the shared temp dir, and the user's id cannot be asked";
  } catch {
    return "in the shared temp dir, which cannot be checked";
  }
}

/** The configured cache roots, in order. */
function cacheFolders(options: AssetOptions): string[] {
  return options.cacheDir !== undefined ? [options.cacheDir] : cacheDirs();
}

/**
 * The cache roots that may be used, in order: the user's own, writable by nobody else. Checked
 * lazily, so a place after the one used is never looked at; a skipped one is said once.
 */
function* privateFolders(options: AssetOptions): Generator<string> {
  for (const dir of cacheFolders(options)) {
    const why = folderProblem(dir);
    if (why === undefined) yield dir;
    else noticeOnce(`cache folder ${dir} not used: ${why}; using the next place or memory`);
  }
}

/**
 * Where a side file of asset `name` (e.g. its index, `suffix` ".index-v1.txt") lives: beside the
 * asset in the first usable cache folder (where the asset is written), if that folder's
 * `<sha256>` subfolder is the user's too; undefined when there is none.
 *
 * @example
 * sideFilePath("stdlib.tar", ".index-v1.txt"); // "/home/me/.cache/wasi-py/<sha256>/stdlib.tar.index-v1.txt"
 */
export function sideFilePath(name: AssetName, suffix: string, options: AssetOptions = {}): string | undefined {
  const sha = manifestEntry(name, options).expanded.sha256;
  const first = privateFolders(options).next();
  if (first.done || cacheTrustProblem(join(first.value, sha)) !== undefined) return undefined;
  return join(first.value, sha, name + suffix);
}

/**
 * The cached copy of asset `name` if its `.verified` stamp in the user's own cache folder (never
 * the shared temp dir) says that the file, unchanged since, holds the manifest's bytes; else
 * undefined. Reads neither the file nor its hash: for a reader that checks each part it reads
 * against digests made from those verified bytes (the stdlib image, src/packages/lazy.ts).
 *
 * @example
 * verifiedCopy("stdlib.tar"); // "/home/me/.cache/wasi-py/<sha256>/stdlib.tar", or undefined
 */
export function verifiedCopy(name: AssetName, options: AssetOptions = {}): string | undefined {
  const { expanded } = manifestEntry(name, options);
  const first = privateFolders(options).next();
  if (first.done || first.value === sharedCacheDir()) return undefined;
  const folder = join(first.value, expanded.sha256);
  const path = join(folder, name);
  if (cacheTrustProblem(folder) !== undefined || cacheTrustProblem(path) !== undefined) return undefined;
  const stamp = fileStamp(path);
  if (stamp === undefined || !stamp.startsWith(`${expanded.size}:`)) return undefined;
  return stampRecorded(path, stamp, expanded) ? path : undefined;
}

/** The manifest's sha256 of the expanded asset `name`. */
export function assetSha256(name: AssetName, options: AssetOptions = {}): string {
  return manifestEntry(name, options).expanded.sha256;
}

/**
 * A cached file's bytes if they are exactly the manifest's, else undefined (missing, short,
 * corrupt). The sha256 is computed unless a `.verified` stamp beside the file records that these
 * very bytes (same size, inode, mtime and ctime) were hashed before: that saves ~20 ms per start,
 * and any change to the file changes its stamp. Stamps are trusted only in the user's own folders
 * (`trustStamps`), never in the shared temp dir, where anyone could write both.
 */
function readVerified(path: string, expanded: ManifestFile, read: Reader, trustStamps: boolean) {
  if (cacheTrustProblem(path) !== undefined) return undefined; // replaced by a fresh copy of ours
  const before = fileStamp(path);
  if (before === undefined || !before.startsWith(`${expanded.size}:`)) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = read.file(path);
  } catch {
    return undefined;
  }
  const unchanged = fileStamp(path) === before;
  if (trustStamps && unchanged && stampRecorded(path, before, expanded)) return bytes;
  if (bytes.length !== expanded.size || sha256Hex(bytes) !== expanded.sha256) return undefined;
  if (trustStamps && unchanged) writeStamp(path, expanded);
  return bytes;
}

/** The `.verified` line recording that the file with this stamp holds `expanded`'s bytes. */
function stampLine(stamp: string, expanded: ManifestFile): string {
  return `${stamp} ${expanded.sha256}`;
}

/** Whether the `.verified` file beside `path` records that the file with `stamp` holds `expanded`'s bytes. */
function stampRecorded(path: string, stamp: string, expanded: ManifestFile): boolean {
  return readCacheText(`${path}.verified`) === stampLine(stamp, expanded);
}

/** Records that the file at `path` now holds the manifest's bytes (best effort). */
function writeStamp(path: string, expanded: ManifestFile): void {
  const stamp = fileStamp(path);
  if (stamp === undefined) return;
  try {
    writeFileAtomic(`${path}.verified`, new TextEncoder().encode(stampLine(stamp, expanded)));
  } catch {
    // without a stamp the next start hashes again
  }
}

/** Decompresses assets/<name>.br and checks the result against the manifest. */
function expand(name: AssetName, options: AssetOptions, expanded: ManifestFile): Uint8Array {
  const src = join(options.assetsDir ?? defaultAssetsDir(), `${name}.br`);
  let compressed: Uint8Array;
  try {
    compressed = readBytes(src);
  } catch {
    throw new AssetError(`missing asset ${src}`);
  }
  let data: Uint8Array;
  try {
    data = brotliDecompress(compressed);
  } catch {
    throw new AssetError(`${src} is not valid brotli data`);
  }
  const sha = sha256Hex(data);
  if (sha !== expanded.sha256 || data.length !== expanded.size) {
    throw new AssetError(`${src} expands to sha256 ${sha}, but manifest.json says ${expanded.sha256}`);
  }
  return data;
}

/** Where an asset's bytes go: a file read into memory, and bytes expanded from the .br file. */
interface Reader {
  file(path: string): Uint8Array;
  expanded(data: Uint8Array): Uint8Array;
}

const PLAIN: Reader = { file: readBytes, expanded: (data) => data };
const SHARED: Reader = { file: readBytesShared, expanded: toShared };

/** Into `target` (its size must be the asset's). */
function readerInto(target: Uint8Array): Reader {
  return { file: (path) => readBytesInto(path, target), expanded: (data) => (target.set(data), target) };
}

/**
 * The verified bytes of asset `name` and the cache file holding them (undefined: no usable cache
 * folder, the bytes were expanded in memory). The first folder that holds a good copy or takes a
 * new one wins; the .br file is expanded at most once per call.
 */
function loadAsset(name: AssetName, options: AssetOptions, read: Reader): { bytes: Uint8Array; path?: string } {
  const entry = manifestEntry(name, options);
  let data: Uint8Array | undefined;
  const sharedTemp = sharedCacheDir();
  for (const dir of privateFolders(options)) {
    const folder = join(dir, entry.expanded.sha256);
    if (cacheTrustProblem(folder) !== undefined) continue;
    const path = join(folder, name);
    const trustStamps = dir !== sharedTemp;
    const cached = readVerified(path, entry.expanded, read, trustStamps);
    if (cached !== undefined) return { bytes: cached, path };
    data ??= expand(name, options, entry.expanded);
    try {
      writeFileAtomic(path, data);
      if (trustStamps) writeStamp(path, entry.expanded);
      // A folder someone else made between the check and the write is not ours: not used.
      if (folderProblem(dir) !== undefined || cacheTrustProblem(folder) !== undefined) continue;
      return { bytes: read.expanded(data), path };
    } catch {
      // read-only, missing, odd or full: try the next folder
    }
  }
  data ??= expand(name, options, entry.expanded);
  return { bytes: read.expanded(data) };
}

function toShared(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(data.length));
  out.set(data);
  return out;
}

/**
 * The path of the expanded asset `name` in the cache, expanding `assets/<name>.br` there first
 * if no verified copy exists. Memoised per process. Throws AssetError when no cache folder can
 * be written (readAsset then still works, from memory).
 */
export function ensureAsset(name: AssetName, options: AssetOptions = {}): string {
  const key = `${cacheFolders(options).join("\0")}\0${options.assetsDir ?? ""}\0${name}`;
  const known = ready.get(key);
  if (known !== undefined) return known;
  const { path } = loadAsset(name, options, PLAIN);
  if (path === undefined) throw new AssetError(`no usable cache folder for ${name} (tried ${CACHE_RULE})`);
  ready.set(key, path);
  return path;
}

/** Expands every asset if needed (the CLI's warm-up) and returns their paths and the manifest. */
export function ensureAssets(options: AssetOptions = {}): AssetPaths {
  return {
    pythonWasm: ensureAsset("python.wasm", options),
    pythonUnmeteredWasm: ensureAsset("python-unmetered.wasm", options),
    stdlibTar: ensureAsset("stdlib.tar", options),
    manifest: readManifest(options),
  };
}

/** The verified bytes of an expanded asset (expanding it first if needed, in memory if no cache folder works). */
export function readAsset(name: AssetName, options: AssetOptions = {}): Uint8Array {
  return loadAsset(name, options, PLAIN).bytes;
}

/** Like readAsset, but the bytes live in a SharedArrayBuffer (for the stdlib image workers share). */
export function readAssetShared(name: AssetName, options: AssetOptions = {}): Uint8Array {
  return loadAsset(name, options, SHARED).bytes;
}

/**
 * Like readAsset, but into `target`, which must have the asset's expanded size (assetSize):
 * e.g. shared memory that workers were given before it was filled.
 */
export function readAssetInto(name: AssetName, target: Uint8Array, options: AssetOptions = {}): void {
  loadAsset(name, options, readerInto(target));
}

/** The expanded size of asset `name`, from the manifest. */
export function assetSize(name: AssetName, options: AssetOptions = {}): number {
  return manifestEntry(name, options).expanded.size;
}

/**
 * Whether the first cache folder (where a run expands what it lacks) already holds each of
 * `names` expanded, at the manifest's size (a stat each, no hash: a hint, not a check). False on a
 * first run, which then spends seconds expanding them; also false when the manifest cannot be read
 * (the run will say why).
 *
 * @example
 * assetsLookExpanded(["python.wasm", "stdlib.tar"], { cacheDir: "/tmp/empty" }); // false
 */
export function assetsLookExpanded(names: readonly AssetName[], options: AssetOptions = {}): boolean {
  const dir = cacheFolders(options)[0];
  if (dir === undefined) return false;
  try {
    return names.every((name) => {
      const { expanded } = manifestEntry(name, options);
      return fileStamp(join(dir, expanded.sha256, name))?.startsWith(`${expanded.size}:`) === true;
    });
  } catch {
    return false;
  }
}
