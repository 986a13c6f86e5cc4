/**
 * A small zip reader, enough for wheels (PEP 427 files are plain zip archives): the end record,
 * the central directory, and each entry's local header, with stored and deflated entries
 * (inflated by src/platform/inflate.ts) checked against their CRC-32. Everything else a zip may
 * hold (zip64, encryption, other methods, multi-disk, symlinks) is refused by name. Every error
 * is a ZipError whose message gives the byte offset where the archive went wrong.
 */
import { inflateRaw } from "../platform/inflate.ts";
import { crc32 } from "./crc32.ts";

/** A malformed or unsupported archive; the message names the byte offset (and the entry, if any). */
export class ZipError extends Error {
  override name = "ZipError";
}

/** One central-directory entry. */
export interface ZipEntry {
  /** The name as stored ("/"-separated; directories end with "/"). */
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedBytes: number;
  sizeBytes: number;
  /** Offset of the entry's local header in the archive. */
  headerOffset: number;
  /** Offset of its central-directory record (for messages). */
  recordOffset: number;
}

const END_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const END_BYTES = 22;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
const MAX_COMMENT_BYTES = 0xffff;
const STORED = 0;
const DEFLATED = 8;
const FLAG_ENCRYPTED = 1;
/** Unix file-type bits in the high half of the external attributes, and the symlink type. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** Host system "Unix" in "version made by": only then do external attributes hold a mode. */
const HOST_UNIX = 3;

const names = new TextDecoder();

function view(zip: Uint8Array): DataView {
  return new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
}

/** Offset of the end-of-central-directory record: the last signature that can be one. */
function findEnd(zip: Uint8Array, dv: DataView): number {
  const lowest = Math.max(0, zip.length - END_BYTES - MAX_COMMENT_BYTES);
  for (let at = zip.length - END_BYTES; at >= lowest; at--) {
    if (dv.getUint32(at, true) === END_SIGNATURE && at + END_BYTES + dv.getUint16(at + 20, true) === zip.length) {
      return at;
    }
  }
  throw new ZipError(`no end-of-central-directory record in the last ${zip.length - lowest} bytes: not a zip file`);
}

/**
 * The entries of a zip archive, from its central directory, in stored order.
 *
 * @example
 * ```ts
 * for (const e of listZip(bytes)) console.log(e.name, e.sizeBytes);
 * ```
 */
export function listZip(zip: Uint8Array): ZipEntry[] {
  if (zip.length < END_BYTES) throw new ZipError(`${zip.length} bytes: too short for a zip file`);
  const dv = view(zip);
  const end = findEnd(zip, dv);
  const count = dv.getUint16(end + 10, true);
  const dirBytes = dv.getUint32(end + 12, true);
  const dirStart = dv.getUint32(end + 16, true);
  if (dv.getUint16(end + 4, true) !== 0 || dv.getUint16(end + 6, true) !== 0 || dv.getUint16(end + 8, true) !== count) {
    throw new ZipError(`end record at offset ${end}: multi-disk archives are not supported`);
  }
  if (count === 0xffff || dirBytes === 0xffffffff || dirStart === 0xffffffff) {
    throw new ZipError(`end record at offset ${end}: zip64 archives are not supported`);
  }
  if (dirStart + dirBytes > end) throw new ZipError(`end record at offset ${end}: central directory outside the file`);
  const entries: ZipEntry[] = [];
  let at = dirStart;
  for (let i = 0; i < count; i++) {
    const entry = centralRecord(zip, dv, at, dirStart + dirBytes);
    entries.push(entry.entry);
    at = entry.next;
  }
  return entries;
}

function centralRecord(zip: Uint8Array, dv: DataView, at: number, limit: number): { entry: ZipEntry; next: number } {
  if (at + CENTRAL_BYTES > limit || dv.getUint32(at, true) !== CENTRAL_SIGNATURE) {
    throw new ZipError(`no central-directory record at offset ${at}`);
  }
  const nameBytes = dv.getUint16(at + 28, true);
  const next = at + CENTRAL_BYTES + nameBytes + dv.getUint16(at + 30, true) + dv.getUint16(at + 32, true);
  if (next > limit) throw new ZipError(`central-directory record at offset ${at} runs past the directory`);
  const name = names.decode(zip.subarray(at + CENTRAL_BYTES, at + CENTRAL_BYTES + nameBytes));
  const bad = (why: string) => new ZipError(`${JSON.stringify(name)} (record at offset ${at}): ${why}`);
  if (dv.getUint16(at + 8, true) & FLAG_ENCRYPTED) throw bad("encrypted entries are not supported");
  const method = dv.getUint16(at + 10, true);
  if (method !== STORED && method !== DEFLATED) throw bad(`compression method ${method} is not supported`);
  const mode = dv.getUint32(at + 38, true) >>> 16;
  if (dv.getUint8(at + 5) === HOST_UNIX && (mode & S_IFMT) === S_IFLNK) throw bad("symbolic links are not supported");
  const entry: ZipEntry = {
    name,
    method,
    crc32: dv.getUint32(at + 16, true),
    compressedBytes: dv.getUint32(at + 20, true),
    sizeBytes: dv.getUint32(at + 24, true),
    headerOffset: dv.getUint32(at + 42, true),
    recordOffset: at,
  };
  if (entry.compressedBytes === 0xffffffff || entry.sizeBytes === 0xffffffff || entry.headerOffset === 0xffffffff) {
    throw bad("zip64 entries are not supported");
  }
  return { entry, next };
}

/**
 * The contents of one entry, inflated if needed and checked against its size and CRC-32.
 *
 * @example
 * ```ts
 * const text = new TextDecoder().decode(readZipEntry(bytes, listZip(bytes)[0]!));
 * ```
 */
export function readZipEntry(zip: Uint8Array, entry: ZipEntry): Uint8Array {
  const dv = view(zip);
  const at = entry.headerOffset;
  const bad = (why: string) => new ZipError(`${JSON.stringify(entry.name)} (local header at offset ${at}): ${why}`);
  if (at + LOCAL_BYTES > zip.length || dv.getUint32(at, true) !== LOCAL_SIGNATURE) throw bad("no local header there");
  const start = at + LOCAL_BYTES + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  const end = start + entry.compressedBytes;
  if (end > zip.length) throw bad("data runs past the end of the file");
  const raw = zip.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === STORED) {
    if (entry.compressedBytes !== entry.sizeBytes) throw bad("stored entry with differing sizes");
    data = raw;
  } else {
    try {
      data = inflateRaw(raw, entry.sizeBytes);
    } catch (e) {
      throw bad(`data at offset ${start}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (crc32(data) !== entry.crc32) throw bad(`data at offset ${start} fails its CRC-32 check`);
  return data;
}
