/**
 * Reads the stdlib image: an uncompressed USTAR archive whose paths are relative to the guest's
 * `/`. File contents are returned as subarrays of the archive (no copies), so a worker can build its
 * read-only tree straight on top of one shared buffer.
 */

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink";

export interface TarEntry {
  /** Normalised relative path, no leading "/" or "./", no trailing "/", never containing "..". */
  path: string;
  type: TarEntryType;
  /** File contents: a subarray of the archive. Empty for other types. */
  data: Uint8Array;
  /** Target of a symlink or hard link, as written in the archive. */
  linkTarget: string;
  mode: number;
  /** Modification time in seconds since the epoch. */
  mtime: number;
}

/** A malformed archive; the message names the offset. */
export class TarError extends Error {
  override name = "TarError";
}

const BLOCK = 512;

const utf8 = new TextDecoder();

/**
 * Decodes header fields. Tar headers are ASCII in practice, so that case is decoded directly;
 * anything else goes through UTF-8 on a copy (TextDecoder refuses views of a SharedArrayBuffer).
 */
function text(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) return utf8.decode(bytes.slice());
    s += String.fromCharCode(b);
  }
  return s;
}

/** A NUL-terminated field. */
function field(block: Uint8Array, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return text(end < 0 ? raw : raw.subarray(0, end));
}

/** An octal numeric field (space/NUL padded), or GNU base-256 when the high bit is set. */
function number(block: Uint8Array, offset: number, length: number, at: number): number {
  const raw = block.subarray(offset, offset + length);
  if (raw[0]! & 0x80) {
    let v = raw[0]! & 0x7f;
    for (let i = 1; i < raw.length; i++) v = v * 256 + raw[i]!;
    return v;
  }
  // Octal digits, optionally surrounded by spaces and ended by NULs/spaces.
  let i = 0;
  while (i < raw.length && raw[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < raw.length && raw[i]! >= 0x30 && raw[i]! <= 0x37; i++, digits++) v = v * 8 + (raw[i]! - 0x30);
  for (; i < raw.length; i++) {
    if (raw[i] !== 0 && raw[i] !== 0x20) {
      const s = text(raw).replace(/[\0 ]+$/, "").replace(/^ +/, "");
      throw new TarError(`bad numeric field at offset ${at + offset}: ${JSON.stringify(s)}`);
    }
  }
  return digits === 0 ? 0 : v;
}

function checksumOk(block: Uint8Array, at: number): boolean {
  const stored = number(block, 148, 8, at);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** Normalises an archive path; rejects absolute escapes and "..". Returns "" for the root. */
export function normalizeTarPath(raw: string): string {
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new TarError(`path escapes the image: ${JSON.stringify(raw)}`);
    parts.push(part);
  }
  return parts.join("/");
}

/** Parses pax extended-header records ("len key=value\n"). */
function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const s = text(data);
  let i = 0;
  while (i < s.length) {
    const space = s.indexOf(" ", i);
    if (space < 0) break;
    const len = parseInt(s.slice(i, space), 10);
    if (!(len > 0)) break;
    // Lengths count bytes; the stdlib's names are ASCII in practice, so slicing by characters is safe
    // enough for the keys we read (path, linkpath, size).
    const record = s.slice(space + 1, i + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Lists the entries of a USTAR archive (pax and GNU long names understood). */
export function readTar(archive: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Map<string, string> | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumOk(header, offset)) throw new TarError(`bad header checksum at offset ${offset}`);
    const typeflag = String.fromCharCode(header[156]!);
    let size = number(header, 124, 12, offset);
    if (pax?.has("size")) size = Number(pax.get("size"));
    const dataStart = offset + BLOCK;
    if (!Number.isSafeInteger(size) || size < 0 || dataStart + size > archive.length) {
      throw new TarError(`entry at offset ${offset} runs past the end of the archive`);
    }
    const data = archive.subarray(dataStart, dataStart + size);
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === "x") {
      pax = paxRecords(data);
      offset = next;
      continue;
    }
    if (typeflag === "g") {
      offset = next;
      continue;
    }
    if (typeflag === "L") {
      longName = field(data, 0, data.length);
      offset = next;
      continue;
    }
    if (typeflag === "K") {
      longLink = field(data, 0, data.length);
      offset = next;
      continue;
    }

    const magic = field(header, 257, 6);
    const prefix = magic.startsWith("ustar") ? field(header, 345, 155) : "";
    let name = field(header, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    name = pax?.get("path") ?? longName ?? name;
    const linkTarget = pax?.get("linkpath") ?? longLink ?? field(header, 157, 100);
    pax = undefined;
    longName = undefined;
    longLink = undefined;

    const type: TarEntryType | undefined = typeflag === "0" || typeflag === "\0" || typeflag === "7"
      ? (name.endsWith("/") ? "dir" : "file")
      : typeflag === "5"
      ? "dir"
      : typeflag === "2"
      ? "symlink"
      : typeflag === "1"
      ? "hardlink"
      : undefined; // devices, fifos: not part of a stdlib image
    if (type !== undefined) {
      const path = normalizeTarPath(name);
      if (path !== "" || type !== "dir") {
        if (path === "") throw new TarError(`entry at offset ${offset} has an empty name`);
        entries.push({
          path,
          type,
          data: type === "file" ? data : archive.subarray(dataStart, dataStart),
          linkTarget,
          mode: number(header, 100, 8, offset),
          mtime: number(header, 136, 12, offset),
        });
      }
    }
    offset = next;
  }
  return entries;
}
