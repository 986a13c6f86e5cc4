/**
 * The host filesystem and the few node: facilities around it (hashing, brotli, home/cache
 * folders) that product code needs. Deno 2 implements these node: modules, so one
 * implementation serves both runtimes.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { brotliDecompressSync } from "node:zlib";
import { homedir, tmpdir } from "node:os";
import process, { env } from "node:process";
import { fileURLToPath } from "node:url";
import { delimiter as pathListDelimiter, dirname, isAbsolute, join } from "node:path";

export { dirname, isAbsolute, join, pathListDelimiter };
export { sha256Hex } from "./file-range.ts";

export function readBytes(path: string): Uint8Array {
  return readFileSync(path);
}

/** Reads a whole file straight into shared memory, so workers can use it without a copy. */
export function readBytesShared(path: string): Uint8Array {
  return readWhole(path, (size) => new Uint8Array(new SharedArrayBuffer(size)));
}

/**
 * Reads a whole file into `target`, which must be exactly its size (else it throws, target
 * untouched), e.g. shared memory already handed to workers. Returns `target`.
 */
export function readBytesInto(path: string, target: Uint8Array): Uint8Array {
  return readWhole(path, (size) => {
    if (size !== target.length) throw new Error(`${path}: ${size} bytes, expected ${target.length}`);
    return target;
  });
}

function readWhole(path: string, allocate: (size: number) => Uint8Array): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const out = allocate(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) throw new Error(`${path}: file shrank while being read`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

/** Size in bytes of a regular file, or undefined when there is none at `path`. */
export function fileSize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** What a folder entry is, following symbolic links ("other": devices, sockets, dangling links). */
export type EntryKind = "file" | "dir" | "other";

/**
 * The entries of a host folder, sorted by name, each with its kind (symbolic links followed).
 * Throws when `path` is not a readable folder.
 */
export function listDir(path: string): { name: string; kind: EntryKind }[] {
  return readdirSync(path).sort().map((name) => {
    try {
      const st = statSync(join(path, name));
      return { name, kind: st.isFile() ? "file" : st.isDirectory() ? "dir" : "other" };
    } catch {
      return { name, kind: "other" };
    }
  });
}

/**
 * What `path` is (symbolic links followed), "missing" when nothing is there; throws for any other
 * failure (e.g. Deno without --allow-read for it), with the runtime's one-line message.
 */
export function pathKind(path: string): EntryKind | "missing" {
  try {
    const st = statSync(path);
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw e;
  }
}

/** Most folder levels ensureDir creates (a bound, so odd filesystems cannot keep it busy). */
const MAX_NEW_LEVELS = 16;

/**
 * Creates `path` (absolute) and its missing parents one level at a time; throws on any failure.
 * Node's recursive mkdir can spin on odd filesystems (e.g. under /proc), so it is not used.
 */
export function ensureDir(path: string): void {
  if (!isAbsolute(path)) throw new Error(`not an absolute path: ${path}`);
  const missing: string[] = [];
  let dir = path;
  for (;;) {
    try {
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
    }
    missing.push(dir);
    const parent = dirname(dir);
    if (parent === dir || missing.length > MAX_NEW_LEVELS) throw new Error(`cannot create ${path}`);
    dir = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    }
  }
}

/** Writes via a temporary file and a rename, so concurrent readers never see a partial file. */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
  try {
    writeFileSync(tmp, data, { flag: "wx", mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A file's identity and version as one string (size, inode, mtime, ctime), or undefined when
 * there is no regular file. Any rewrite, truncation, rename over it or utimes changes it (ctime
 * cannot be set by a user).
 */
export function fileStamp(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return st.isFile() ? `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}` : undefined;
  } catch {
    return undefined;
  }
}

/** A small text file's contents, or undefined when it cannot be read. */
export function readTextIfAny(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The OS's folder for temporary files (os.tmpdir()). */
export function tempDir(): string {
  return tmpdir();
}

/**
 * The user's numeric id where the OS has one and we may ask (a per-user folder name in the shared
 * temp dir; Deno needs --allow-sys=uid for it), else "user". Entries are hash-checked on every
 * read, so a folder shared by mistake is never trusted.
 */
export function userId(): string {
  try {
    return typeof process.getuid === "function" ? String(process.getuid()) : "user";
  } catch {
    return "user";
  }
}

/**
 * The current user's numeric id, or undefined where the OS has none (Windows) or it may not be
 * asked (Deno without --allow-sys=uid).
 */
export function currentUid(): number | undefined {
  try {
    return typeof process.getuid === "function" ? process.getuid() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The owner and permission bits (`mode & 0o7777`) of what `path` names, links followed; undefined
 * when nothing is there, null where the OS has no such owners (Windows). Throws for other failures.
 *
 * @example
 * ownership("/tmp"); // { uid: 0, mode: 0o1777 }
 */
export function ownership(path: string): { uid: number; mode: number } | undefined | null {
  if (process.platform === "win32") return null;
  try {
    const st = statSync(path);
    return { uid: st.uid, mode: st.mode & 0o7777 };
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Writes one line to stderr at once (a notice from deep inside; a failure to write is ignored). */
export function stderrLine(text: string): void {
  try {
    writeSync(2, `${text}\n`);
  } catch {
    // no stderr: nobody to tell
  }
}

/**
 * The sha256 of the file at `path`, in hex, read 1 MiB at a time (a large file is never held
 * whole); undefined when it cannot be read.
 */
export function sha256OfFile(path: string): string | undefined {
  const hash = createHash("sha256");
  const chunk = new Uint8Array(1 << 20);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
    return hash.digest("hex");
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The sha256 of the UTF-8 of the texts one after another, hashed piece by piece: ~0.4 ms for
 * 137 kB on Node 20, where encoding or concatenating them first took 4-5 ms.
 */
export function sha256HexOfText(...texts: string[]): string {
  const hash = createHash("sha256");
  for (const t of texts) hash.update(t, "utf8");
  return hash.digest("hex");
}

export function brotliDecompress(data: Uint8Array): Uint8Array {
  return brotliDecompressSync(data);
}

/** The folder holding the module whose `import.meta.url` is given. */
export function moduleDir(url: string): string {
  return dirname(fileURLToPath(url));
}

/** A non-empty environment variable of the host, or undefined. */
export function hostEnv(name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

export function homeDir(): string {
  return homedir();
}

/**
 * Permission bits of a file (`mode & 0o777`), or undefined when they cannot be read (e.g. on
 * Windows they mean little). Used to refuse a config file with secrets that others can read.
 *
 * @example
 * fileMode("bot.json"); // 0o600
 */
export function fileMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}
