/**
 * Programs with files (issue 22): `RunOptions.files` are written into the program's working folder,
 * `/home`, before it starts, and with `returnFiles` what the program left there comes back in
 * `RunResult.files`. The checks are pure and run when a run is asked for (a bad path is the
 * caller's LimitError, never a crash); writing and collecting run on the worker, against the run's
 * own fresh MemFs, so the files count in the run's /tmp and /home quota like any the program makes.
 */
import { HOME_NAME, MAX_NAME_BYTES, MAX_PATH_BYTES } from "../wasi/memfs.ts";
import type { DirNode, MemFs } from "../wasi/memfs.ts";
import { LimitError, mustBeNumber, typeWords } from "../limits/mod.ts";
import type { RunLimits } from "../limits/mod.ts";

/**
 * The folder programs start in (their cwd and HOME), where `files` land.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HOME_DIR, run } from "wasi-py";
 *
 * const r = await run("import os; print(os.getcwd())");
 * assert.equal(r.stdout, `${HOME_DIR}\n`);
 * ```
 */
export const HOME_DIR = `/${HOME_NAME}`;

/**
 * A file given to a program: its path relative to /home and its contents (text is written as UTF-8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { run } from "wasi-py";
 * import type { RunFile } from "wasi-py";
 *
 * const files: RunFile[] = [{ path: "data/in.txt", content: "3 4" }];
 * const r = await run("print(sum(map(int, open('data/in.txt').read().split())))", { files });
 * assert.equal(r.stdout, "7\n");
 * ```
 */
export interface RunFile {
  /** Relative to /home, `/`-separated, without empty, `.` or `..` parts: `data/in.txt`. */
  path: string;
  /** Text (written as UTF-8) or bytes. */
  content: string | Uint8Array;
}

/**
 * A file the program left in /home: its path relative to /home and its bytes.
 *
 * @example
 * ```ts
 * import { run } from "wasi-py";
 * import type { ReturnedFile } from "wasi-py";
 *
 * const r = await run("open('out.txt', 'w').write('hi')", { returnFiles: true });
 * const out: ReturnedFile | undefined = r.files?.find((f) => f.path === "out.txt");
 * const text = out === undefined ? "" : new TextDecoder().decode(out.content); // "hi"
 * ```
 */
export interface ReturnedFile {
  /** Relative to /home, `/`-separated: `data/out.txt`. */
  path: string;
  /** The file's bytes (decode them if they are text). */
  content: Uint8Array;
}

/**
 * Caps on what `returnFiles` brings back.
 *
 * @example
 * ```ts
 * import { run } from "wasi-py";
 * import type { ReturnFilesOptions } from "wasi-py";
 *
 * const caps: ReturnFilesOptions = { maxFiles: 10, maxBytes: 1 << 20 };
 * const r = await run("for i in range(20): open(f'{i}.txt', 'w').write('x')", { returnFiles: caps });
 * r.filesTruncated; // true: 10 of the 20 files came back
 * ```
 */
export interface ReturnFilesOptions {
  /** Most files returned (default 100, as snekbox). */
  maxFiles?: number;
  /** Most bytes returned in all (default: the run's tmpQuotaBytes, i.e. everything that fits there). */
  maxBytes?: number;
}

/** Default of ReturnFilesOptions.maxFiles. */
export const DEFAULT_RETURN_MAX_FILES = 100;

/** A file as the worker writes it. */
export interface FileBytes {
  path: string;
  bytes: Uint8Array;
}

/** Resolved caps of returnFiles, as the worker applies them. */
export interface ReturnCaps {
  maxFiles: number;
  maxBytes: number;
}

const encoder = new TextEncoder();

/** The path's components, or a LimitError saying why it is not a plain relative path. */
function pathParts(path: unknown, i: number): string[] {
  if (typeof path !== "string") throw new TypeError(`files[${i}].path must be a string, got ${typeWords(path)}`);
  if (path === "") throw new LimitError(`files[${i}].path must be a non-empty string`);
  const quoted = JSON.stringify(path);
  if (path.startsWith("/")) throw new LimitError(`files[${i}].path must be relative to the home folder: ${quoted}`);
  if (path.includes("\0")) throw new LimitError(`files[${i}].path must not contain NUL: ${quoted}`);
  if (encoder.encode(path).length > MAX_PATH_BYTES - HOME_DIR.length - 1) {
    throw new LimitError(`files[${i}].path is too long: ${quoted}`);
  }
  const parts = path.split("/");
  for (const part of parts) {
    if (part === "" || part === "." || part === "..") {
      throw new LimitError(`files[${i}].path must not have empty, "." or ".." parts: ${quoted}`);
    }
    if (encoder.encode(part).length > MAX_NAME_BYTES) {
      throw new LimitError(`files[${i}].path has a name longer than ${MAX_NAME_BYTES} bytes: ${quoted}`);
    }
  }
  return parts;
}

/**
 * Checks `RunOptions.files` (paths relative, no `.`/`..`, no duplicates or file/folder clashes; the
 * files and the folders they need within tmpMaxFiles, their bytes within tmpQuotaBytes) and returns
 * them as bytes. Throws LimitError.
 *
 * @example
 * checkFiles([{ path: "data/in.txt", content: "hi" }], DEFAULT_LIMITS)[0].bytes.length; // 2
 */
export function checkFiles(files: unknown, limits: Pick<RunLimits, "tmpQuotaBytes" | "tmpMaxFiles">): FileBytes[] {
  if (files === undefined) return [];
  if (!Array.isArray(files)) {
    throw new TypeError(`files must be an array of { path, content }, got ${typeWords(files)}`);
  }
  const out: FileBytes[] = [];
  const filePaths = new Set<string>();
  const dirPaths = new Set<string>();
  let totalBytes = 0;
  files.forEach((file: unknown, i) => {
    if (typeof file !== "object" || file === null) {
      throw new TypeError(`files[${i}] must be { path, content }, got ${typeWords(file)}`);
    }
    const { path, content } = file as Partial<RunFile>;
    const parts = pathParts(path, i);
    const joined = parts.join("/");
    if (filePaths.has(joined) || dirPaths.has(joined)) {
      throw new LimitError(`files[${i}].path is given twice or is also a folder: ${JSON.stringify(joined)}`);
    }
    for (let k = 1; k < parts.length; k++) {
      const dir = parts.slice(0, k).join("/");
      if (filePaths.has(dir)) throw new LimitError(`files[${i}].path goes through a file: ${JSON.stringify(joined)}`);
      dirPaths.add(dir);
    }
    filePaths.add(joined);
    const bytes = typeof content === "string" ? encoder.encode(content) : content;
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`files[${i}].content must be a string or a Uint8Array, got ${typeWords(bytes)}`);
    }
    totalBytes += bytes.length;
    out.push({ path: joined, bytes });
  });
  const entries = filePaths.size + dirPaths.size;
  if (entries > limits.tmpMaxFiles) {
    throw new LimitError(`files: ${entries} files and folders, more than tmpMaxFiles (${limits.tmpMaxFiles})`);
  }
  if (totalBytes > limits.tmpQuotaBytes) {
    throw new LimitError(`files: ${totalBytes} bytes in all, more than tmpQuotaBytes (${limits.tmpQuotaBytes})`);
  }
  return out;
}

/**
 * The caps of `RunOptions.returnFiles`, or undefined when files are not asked for. Throws LimitError.
 *
 * @example
 * returnCaps(true, DEFAULT_LIMITS); // { maxFiles: 100, maxBytes: 8388608 }
 */
export function returnCaps(
  option: boolean | ReturnFilesOptions | undefined,
  limits: Pick<RunLimits, "tmpQuotaBytes">,
): ReturnCaps | undefined {
  if (option === undefined || option === false) return undefined;
  const given: ReturnFilesOptions = option === true ? {} : option;
  if (typeof given !== "object" || given === null) {
    throw new TypeError(`returnFiles must be a boolean or an object, got ${typeWords(given)}`);
  }
  const caps = {
    maxFiles: given.maxFiles ?? DEFAULT_RETURN_MAX_FILES,
    maxBytes: given.maxBytes ?? limits.tmpQuotaBytes,
  };
  for (const [key, value] of Object.entries(caps)) {
    mustBeNumber(`returnFiles.${key}`, value);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new LimitError(`returnFiles.${key} must be a non-negative integer, got ${String(value)}`);
    }
  }
  return caps;
}

/**
 * Writes the files into the run's home (worker side), making the folders they need. The quota
 * was checked with the request; a write the quota still refuses throws FsError.
 */
export function writeFiles(fs: MemFs, files: readonly FileBytes[]): void {
  for (const { path, bytes } of files) {
    const parts = path.split("/");
    let dir = fs.home;
    for (const part of parts.slice(0, -1)) {
      const r = fs.resolve(dir, part);
      dir = r.node?.kind === "dir" ? r.node : fs.mkdir(r);
    }
    const file = fs.createFile(fs.resolve(dir, parts[parts.length - 1]!));
    fs.setSize(file, bytes.length);
    fs.writeAt(file, 0, bytes);
  }
}

/** What the program left in its home, within the caps (worker side). */
export interface CollectedFiles {
  files: ReturnedFile[];
  /** Some files were left out by the caps. */
  truncated: boolean;
}

/**
 * The files in the run's home, depth first in name order, skipping the given files the program
 * left unchanged; files beyond `caps` are left out (and `truncated` says so).
 */
export function collectFiles(fs: MemFs, caps: ReturnCaps, given: readonly FileBytes[]): CollectedFiles {
  const unchanged = new Map(given.map((f) => [f.path, f.bytes]));
  const out: CollectedFiles = { files: [], truncated: false };
  let bytesLeft = caps.maxBytes;
  const walk = (dir: DirNode, prefix: string): void => {
    for (const name of [...dir.entries.keys()].sort()) {
      const node = dir.entries.get(name)!;
      const path = prefix + name;
      if (node.kind === "dir") {
        walk(node, `${path}/`);
        continue;
      }
      const content = node.data.subarray(0, node.size);
      const before = unchanged.get(path);
      if (before !== undefined && sameBytes(before, content)) continue;
      if (out.files.length >= caps.maxFiles || content.length > bytesLeft) {
        out.truncated = true;
        continue;
      }
      bytesLeft -= content.length;
      out.files.push({ path, content: content.slice() });
    }
  };
  walk(fs.home, "");
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
