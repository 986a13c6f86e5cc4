/**
 * Writes a deterministic USTAR archive (what src/wasi/tar.ts reads): regular files only, sorted by
 * path, mode 0644, mtime 0, owner 0 with empty names, long paths split into prefix and name as
 * USTAR allows. Used by scripts/compile-packages.ts to pack a package image without any tool
 * beyond Node.
 */

const BLOCK = 512;
const enc = new TextEncoder();

function octal(header: Uint8Array, at: number, width: number, value: number): void {
  header.set(enc.encode(value.toString(8).padStart(width - 1, "0") + "\0"), at);
}

/** Splits `path` into USTAR's prefix (≤155 bytes) and name (≤100 bytes) at a "/"; throws if it cannot. */
function splitPath(path: string): [string, string] {
  if (enc.encode(path).length <= 100) return ["", path];
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100) return [prefix, name];
  }
  throw new Error(`path too long for a USTAR archive: ${path}`);
}

function header(path: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const [prefix, name] = splitPath(path);
  h.set(enc.encode(name), 0);
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum counted as spaces
  h[156] = 0x30; // "0": regular file
  h.set(enc.encode("ustar\0"), 257);
  h.set(enc.encode("00"), 263);
  h.set(enc.encode(prefix), 345);
  let sum = 0;
  for (const b of h) sum += b;
  octal(h, 148, 7, sum);
  h[155] = 0x20;
  return h;
}

/**
 * The archive of `files` (path → bytes), entries sorted by path.
 *
 * @example
 * ```ts
 * const tar = writeUstar(new Map([["six.py", bytes]]));
 * ```
 */
export function writeUstar(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const paths = [...files.keys()].sort();
  let total = 2 * BLOCK;
  for (const p of paths) total += BLOCK + Math.ceil(files.get(p)!.length / BLOCK) * BLOCK;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of paths) {
    const data = files.get(p)!;
    out.set(header(p, data.length), at);
    out.set(data, at + BLOCK);
    at += BLOCK + Math.ceil(data.length / BLOCK) * BLOCK;
  }
  return out;
}
