/**
 * Takes the data segments out of a module that imports its memory, into one memory image. The
 * snapshotted interpreter has ~51,600 active segments (5.3 MB over 12.6 MB of memory): V8 copies
 * them one by one at every instantiation, and that was most of a back-to-back run. Without them
 * the module instantiates in under a millisecond, and the host writes the image into the memory
 * it imports before instantiating: a fresh memory gets only the pages that hold data (the pages
 * the segments touched), a reused one is restored whole (src/sandbox/_guest-memory.ts).
 *
 * The result is exactly what instantiation would have written, or the split is refused (the
 * module is then used as it is): every segment active in memory 0 at an `i32.const` offset,
 * inside the initial memory (else instantiation fails today, and must still fail), no start
 * function, and no `memory.init` / `data.drop` anywhere (they name segments that would be gone).
 */
import { ByteReader } from "./bytes.ts";
import { ExternKind, readImportSection, readSections, SectionId } from "./binary.ts";
import type { SectionSpan } from "./binary.ts";
import { InstrReader, Op, readLocals } from "./instr.ts";

/** Bytes of a WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;
/** Granularity of the fresh-memory copy: an OS page, so only pages holding data are touched. */
const TOUCH_BYTES = 4096;

/**
 * The memory an instantiation would leave, before the program runs: zero outside the runs. Sparse,
 * because a fresh copy of anything costs its first touch (~13 µs of CPU per 4 KiB page on the test
 * machine): the interpreter's segments fill 6.4 MB of 4 KiB pages in 13 runs, over 12.6 MB.
 */
export interface MemoryImage {
  /** The runs' contents, one after the other. */
  bytes: Uint8Array;
  /**
   * Triples (memory start, memory end, start in `bytes`), ascending: the 4 KiB-aligned ranges (cut
   * to the segments' extent) that hold any segment byte.
   */
  runs: Int32Array;
  /** End of the last run: nothing above it is written. */
  top: number;
}

/**
 * A module without its data segments, and the image they made. The module is the input's bytes up
 * to its data section (custom sections after it are left out) with its DataCount section replaced
 * by a custom section of the same length: `prefix` is a view of the input, not a copy (a copy of
 * the 6.8 MB costs ~20 ms of page faults on the test machine), and `withSplitModule` applies the
 * replacement only while the caller uses it.
 */
export interface SplitModule {
  /** The input up to its data section (a view: the input is not changed). */
  prefix: Uint8Array;
  /** Where in `prefix` the DataCount section is, and what replaces it; undefined if there is none. */
  patch: { at: number; bytes: Uint8Array } | undefined;
  image: MemoryImage;
}

/** The active segments as found: per segment, its memory offset, and its bytes' start and length in the module. */
interface Segments {
  count: number;
  offset: Int32Array;
  start: Int32Array;
  length: Int32Array;
}

const I32_CONST = 0x41;
const END = 0x0b;
/** Data segment flags: active in memory 0; passive; active with an explicit memory index. */
const ACTIVE = 0;
const ACTIVE_EXPLICIT = 2;
/** Below this length a segment is copied byte by byte (cheaper than a subarray and a set()). */
const SHORT_SEGMENT_BYTES = 64;

/**
 * Splits the module's data segments into an image; undefined when it cannot be done exactly (see
 * the file comment) or there is nothing to split. Never throws for a malformed module: the engine
 * reports that when it compiles the original.
 *
 * @example
 * ```ts
 * const split = splitDataSegments(wasm);
 * const module = await WebAssembly.compile(split?.module ?? wasm);
 * ```
 */
export function splitDataSegments(bytes: Uint8Array): SplitModule | undefined {
  try {
    const sections = readSections(bytes);
    const data = sections.find((s) => s.id === SectionId.Data);
    const importSection = sections.find((s) => s.id === SectionId.Import);
    if (data === undefined || importSection === undefined) return undefined;
    if (sections.some((s) => s.id === SectionId.Start || s.id === SectionId.Memory)) return undefined;
    const memory = readImportSection(bytes, importSection).find((e) => e.kind === ExternKind.Memory);
    if (memory?.limits === undefined) return undefined;
    const segments = readSegments(bytes, data);
    if (segments === undefined || segments.count === 0) return undefined;
    const limit = memory.limits.min * WASM_PAGE_BYTES;
    for (let i = 0; i < segments.count; i++) {
      if (segments.offset[i]! + segments.length[i]! > limit) return undefined;
    }
    if (usesSegmentOps(bytes, sections.find((s) => s.id === SectionId.Code))) return undefined;
    const dataAt = sectionHeaderStart(bytes, data);
    if (sections.some((s) => s.start > data.start && s.id !== SectionId.Custom)) return undefined;
    const count = sections.find((s) => s.id === SectionId.DataCount);
    const patch = count === undefined ? undefined : emptyCustomSection(sectionHeaderStart(bytes, count), count.end);
    return { prefix: bytes.subarray(0, dataAt), patch, image: imageOf(bytes, segments) };
  } catch {
    return undefined;
  }
}

/**
 * The active segments, or undefined if any is passive, in another memory or at a computed offset.
 * (A tight loop over the bytes: it runs once per process, on ~51,600 segments, before V8 has
 * optimised anything.)
 */
function readSegments(bytes: Uint8Array, span: SectionSpan): Segments | undefined {
  const end = span.end;
  let p = span.start;
  // Unsigned LEB128 of at most 5 bytes at p (advancing p); -1 if longer or past the end.
  const u32 = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35 && p < end; shift += 7) {
      const b = bytes[p++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value > 0xffffffff ? -1 : value;
    }
    return -1;
  };
  const count = u32();
  if (count < 0) return undefined;
  const out: Segments = {
    count,
    offset: new Int32Array(count),
    start: new Int32Array(count),
    length: new Int32Array(count),
  };
  for (let i = 0; i < count; i++) {
    const flags = u32();
    if (flags === ACTIVE_EXPLICIT) {
      if (u32() !== 0) return undefined;
    } else if (flags !== ACTIVE) return undefined;
    if (bytes[p++] !== I32_CONST) return undefined;
    // A non-negative i32.const below 2^31: as unsigned LEB128 its last byte has bit 6 clear.
    const offset = u32();
    if (offset < 0 || offset > 0x7fffffff || (bytes[p - 1]! & 0x40) !== 0) return undefined;
    if (bytes[p++] !== END) return undefined;
    const length = u32();
    if (length < 0 || p + length > end) return undefined;
    out.offset[i] = offset;
    out.start[i] = p;
    out.length[i] = length;
    p += length;
  }
  return out;
}

/**
 * Whether any function uses memory.init or data.drop. Only bodies holding a 0xFC byte followed by
 * a byte that could start sub-opcode 8 or 9 are decoded (15 of ~8,000 in the interpreter).
 */
function usesSegmentOps(bytes: Uint8Array, code: SectionSpan | undefined): boolean {
  if (code === undefined) return false;
  const r = new ByteReader(bytes, code.start, code.end);
  let candidate = nextCandidate(bytes, code.start, code.end);
  for (let n = r.u32(); n > 0 && candidate !== -1; n--) {
    const size = r.u32();
    const start = r.pos;
    r.pos += size;
    if (r.pos > code.end) return true; // malformed: leave it to the engine
    if (candidate >= r.pos) continue;
    const ins = new InstrReader(bytes, start, r.pos);
    readLocals(ins);
    while (!ins.atEnd) {
      const op = ins.next();
      if (op === Op.MemoryInit || op === Op.DataDrop) return true;
    }
    candidate = nextCandidate(bytes, r.pos, code.end);
  }
  return false;
}

function nextCandidate(bytes: Uint8Array, from: number, end: number): number {
  for (let i = bytes.indexOf(0xfc, from); i !== -1 && i + 1 < end; i = bytes.indexOf(0xfc, i + 1)) {
    const sub = bytes[i + 1]! & 0x7f;
    if (sub === 8 || sub === 9) return i;
  }
  return -1;
}

/** A custom section with an empty name filling bytes [at, end) exactly (at least 3 bytes, under 130). */
function emptyCustomSection(at: number, end: number): { at: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(end - at); // id 0 (custom), then its size, then name length 0 and zeros
  bytes[1] = bytes.length - 2;
  return { at, bytes };
}

/**
 * Calls `use` with the split module's bytes and returns its result. The DataCount replacement is
 * written into the caller's buffer for the call and put back after it, so `use` must be done with
 * the bytes when it returns (WebAssembly.compile copies them at once); a SharedArrayBuffer, which
 * another thread could be reading, gets a copy instead.
 *
 * @example
 * ```ts
 * const module = await withSplitModule(split, (bytes) => WebAssembly.compile(bytes));
 * ```
 */
export function withSplitModule<T>(split: SplitModule, use: (bytes: Uint8Array) => T): T {
  const { prefix, patch } = split;
  if (patch === undefined) return use(prefix);
  if (prefix.buffer instanceof SharedArrayBuffer) {
    const copy = prefix.slice();
    copy.set(patch.bytes, patch.at);
    return use(copy);
  }
  const saved = prefix.slice(patch.at, patch.at + patch.bytes.length);
  prefix.set(patch.bytes, patch.at);
  try {
    return use(prefix);
  } finally {
    prefix.set(saved, patch.at);
  }
}

/** Where a section's id byte is: before its size (an unsigned LEB128 ending at `start`). */
function sectionHeaderStart(bytes: Uint8Array, s: SectionSpan): number {
  let p = s.start - 1; // last byte of the size
  while (p > 0 && bytes[p - 1]! >= 0x80) p--;
  return p - 1;
}

/** The segments applied in order (a later one overwrites an earlier) into the runs of pages they touch. */
function imageOf(bytes: Uint8Array, seg: Segments): MemoryImage {
  const runs = pageRuns(seg);
  let size = 0;
  for (let r = 0; r < runs.length; r += 3) {
    runs[r + 2] = size;
    size += runs[r + 1]! - runs[r]!;
  }
  const image = new Uint8Array(new SharedArrayBuffer(size));
  let r = 0;
  for (let i = 0; i < seg.count; i++) {
    const offset = seg.offset[i]!, start = seg.start[i]!, length = seg.length[i]!;
    if (length === 0) continue;
    // Segments come in ascending order in practice; search from the start otherwise.
    if (offset < runs[r]!) r = 0;
    while (offset >= runs[r + 1]!) r += 3;
    const to = runs[r + 2]! + offset - runs[r]!;
    if (length < SHORT_SEGMENT_BYTES) {
      for (let k = 0; k < length; k++) image[to + k] = bytes[start + k]!;
    } else image.set(bytes.subarray(start, start + length), to);
  }
  return { bytes: image, runs, top: runs.length === 0 ? 0 : runs[runs.length - 2]! };
}

/** The (start, end, 0) triples of the TOUCH_BYTES pages the segments write, cut to their extent. */
function pageRuns(seg: Segments): Int32Array {
  let low = Infinity, high = 0;
  for (let i = 0; i < seg.count; i++) {
    if (seg.length[i] === 0) continue; // writes nothing (its bounds were checked)
    low = Math.min(low, seg.offset[i]!);
    high = Math.max(high, seg.offset[i]! + seg.length[i]!);
  }
  if (high === 0) return new Int32Array(0);
  const touched = new Uint8Array(Math.ceil(high / TOUCH_BYTES));
  for (let i = 0; i < seg.count; i++) {
    const length = seg.length[i]!;
    if (length === 0) continue;
    const first = Math.floor(seg.offset[i]! / TOUCH_BYTES);
    const last = Math.floor((seg.offset[i]! + length - 1) / TOUCH_BYTES);
    for (let p = first; p <= last; p++) touched[p] = 1;
  }
  const out: number[] = [];
  for (let p = 0; p < touched.length; p++) {
    if (touched[p] === 0) continue;
    const from = p;
    while (p < touched.length && touched[p] === 1) p++;
    out.push(Math.max(from * TOUCH_BYTES, low), Math.min(p * TOUCH_BYTES, high), 0);
  }
  return Int32Array.from(out);
}
