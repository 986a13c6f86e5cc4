/**
 * Finds the committed assets (assets/*.br + manifest.json) and expands each `.br` file once
 * into a cache keyed by its sha256, so that later starts read the plain file without paying
 * decompression. The sha256 is verified when a file is expanded; later calls only check that
 * the cached file has the expected size.
 */
import {
  brotliDecompress,
  dirname,
  ensureDir,
  fileSize,
  homeDir,
  hostEnv,
  join,
  moduleDir,
  readBytes,
  readBytesShared,
  readText,
  sha256Hex,
  writeFileAtomic,
} from "../platform/fs.ts";

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
  /** Cache root; default $WASI_PY_CACHE, else $XDG_CACHE_HOME/wasi-py, else ~/.cache/wasi-py. */
  cacheDir?: string;
}

/**
 * Missing, corrupt or unlisted assets (the interpreter or its stdlib image); the message is one
 * line that says what to do, e.g. run `npm install` or rebuild the assets.
 *
 * @example
 * ```ts
 * import { AssetError, Sandbox } from "./mod.ts";
 *
 * try {
 *   await (await Sandbox.create({ workers: 1 })).close();
 * } catch (e) {
 *   if (e instanceof AssetError) console.error(`wasi-py: ${e.message}`);
 *   else throw e;
 * }
 * ```
 */
export class AssetError extends Error {
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

export function defaultCacheDir(): string {
  const explicit = hostEnv("WASI_PY_CACHE");
  if (explicit !== undefined) return explicit;
  const xdg = hostEnv("XDG_CACHE_HOME");
  return join(xdg ?? join(homeDir(), ".cache"), "wasi-py");
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

/**
 * The path of the expanded asset `name`, expanding `assets/<name>.br` into the cache the first
 * time (sha256-verified). Later calls: one size check per process.
 */
export function ensureAsset(name: AssetName, options: AssetOptions = {}): string {
  const path = cachedPath(name, options);
  const known = ready.get(path);
  if (known !== undefined) return known;
  const entry = manifestEntry(name, options);
  if (fileSize(path) !== entry.expanded.size) {
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
    if (sha !== entry.expanded.sha256 || data.length !== entry.expanded.size) {
      throw new AssetError(`${src} expands to sha256 ${sha}, but manifest.json says ${entry.expanded.sha256}`);
    }
    ensureDir(dirname(path));
    writeFileAtomic(path, data);
  }
  ready.set(path, path);
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

/** The bytes of an expanded asset (expanding it first if needed). */
export function readAsset(name: AssetName, options: AssetOptions = {}): Uint8Array {
  return readBytes(ensureAsset(name, options));
}

/** Like readAsset, but the bytes live in a SharedArrayBuffer (for the stdlib image workers share). */
export function readAssetShared(name: AssetName, options: AssetOptions = {}): Uint8Array {
  return readBytesShared(ensureAsset(name, options));
}
