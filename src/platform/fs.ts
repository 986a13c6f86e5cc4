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
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { brotliDecompressSync } from "node:zlib";
import { homedir } from "node:os";
import { env } from "node:process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export { dirname, join };

export function readBytes(path: string): Uint8Array {
  return readFileSync(path);
}

/** Reads a whole file straight into shared memory, so workers can use it without a copy. */
export function readBytesShared(path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(new SharedArrayBuffer(size));
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

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** Writes via a temporary file and a rename, so concurrent readers never see a partial file. */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
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
