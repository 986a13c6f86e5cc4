/**
 * Reads a host folder laid out like site-packages (packages, modules, `.dist-info`) as the files a
 * mount contributes. Symbolic links are followed, so the walk is bounded (depth, files, bytes)
 * against a link that loops; a compiled extension anywhere refuses the whole folder, naming it.
 */
import { join, listDir, readBytes } from "../platform/fs.ts";
import { compiledReason, MAX_PACKAGE_BYTES, PackageError } from "./site.ts";
import type { PackageFile } from "./wheel.ts";

/** Deepest folder nesting read (a loop of symbolic links stops here). */
export const MAX_FOLDER_DEPTH = 32;
/** Most files one mounted folder may hold. */
export const MAX_FOLDER_FILES = 100_000;

/**
 * The files under `root`, paths relative to it; throws PackageError (one line) for a compiled
 * extension, a folder too deep or too large, or one that cannot be read.
 *
 * @example
 * ```ts
 * const files = folderFiles("/usr/lib/python3/dist-packages");
 * ```
 */
export function folderFiles(root: string): PackageFile[] {
  const files: PackageFile[] = [];
  let bytes = 0;
  const walk = (dir: string, prefix: string, depth: number): void => {
    if (depth > MAX_FOLDER_DEPTH) {
      throw new PackageError(`${root}: folders nested deeper than ${MAX_FOLDER_DEPTH} at ${prefix}`);
    }
    let entries;
    try {
      entries = listDir(dir);
    } catch (e) {
      throw new PackageError(`${dir}: cannot read the folder (${e instanceof Error ? e.message : String(e)})`);
    }
    for (const { name, kind } of entries) {
      const path = prefix === "" ? name : `${prefix}/${name}`;
      if (kind === "dir") {
        walk(join(dir, name), path, depth + 1);
        continue;
      }
      if (kind !== "file") continue; // sockets, devices, dangling links: nothing to import
      const compiled = compiledReason(path);
      if (compiled) throw new PackageError(`${root}: ${compiled}`);
      if (files.length >= MAX_FOLDER_FILES) throw new PackageError(`${root}: more than ${MAX_FOLDER_FILES} files`);
      const data = readFile(join(dir, name));
      bytes += data.length;
      if (bytes > MAX_PACKAGE_BYTES) throw new PackageError(`${root}: more than ${MAX_PACKAGE_BYTES} bytes`);
      files.push({ path, data });
    }
  };
  walk(root, "", 0);
  return files;
}

function readFile(path: string): Uint8Array {
  try {
    return readBytes(path);
  } catch (e) {
    throw new PackageError(`${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
}
