/**
 * Takes the data segments out of a module that imports its memory, into one memory image. The
 * snapshotted interpreter has ~51,600 active segments (5.3 MB over 12.6 MB of memory): V8 copies
 * them one by one at every instantiation, and that was most of a back-to-back run. Without them
 * the module instantiates in under a millisecond, and the host writes the image into the memory
 * it imports before instantiating: a fresh memory gets only the pages that hold data (as many
 * pages as the segments touched), a reused one is restored whole (guest-memory.ts).
 *
 * The result is exactly what instantiation would have written, or the split is refused (the
 * module is then used as it is): every segment active in memory 0 at an `i32.const` offset,
 * inside the initial memory (else instantiation fails today, and must still fail), no start
 * function, and no `memory.init` / `data.drop` anywhere (they name segments that would be gone).
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import { ExternKind, readImportSection, readSections, SectionId, WASM_MAGIC_AND_VERSION } from "./binary.ts";
import type { SectionSpan } from "./binary.ts";
import { InstrReader, Op, readLocals } from "./instr.ts";

/** Bytes of a WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;
/** Granularity of the fresh-memory copy: an OS page, so only pages holding data are touched. */
const TOUCH_BYTES = 4096;

/** The memory an instantiation would leave, before the program runs: zero outside `bytes`. */
export interface MemoryImage {
  /** Memory offset of bytes[0]. */
  base: number;
  /** Memory contents from `base` to the end of the last segment. */
  bytes: Uint8Array;
  /**
   * [start, end) memory ranges, ascending, in TOUCH_BYTES units, that hold any segment byte: what
   * a fresh (all-zero) memory needs copied.
   */
  runs: readonly (readonly [number, number])[];
}

/** A module without its data segments, and the image they made. */
export interface SplitModule {
  module: Uint8Array;
  image: MemoryImage;
}

/** One active segment as found: where it goes, and its bytes in the module. */
interface Segment {
  offset: number;
  start: number;
  end: number;
}

const I32_CONST = 0x41;
const END = 0x0b;
/** Data segment flags: active in memory 0; passive; active with an explicit memory index. */
const ACTIVE = 0;
const ACTIVE_EXPLICIT = 2;

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
    const limit = memory.limits.min * WASM_PAGE_BYTES;
    if (segments === undefined || segments.length === 0) return undefined;
    if (segments.some((s) => s.offset + (s.end - s.start) > limit)) return undefined;
    if (usesSegmentOps(bytes, sections.find((s) => s.id === SectionId.Code))) return undefined;
    return {
      module: withoutSections(bytes, sections, [SectionId.Data, SectionId.DataCount]),
      image: imageOf(bytes, segments),
    };
  } catch {
    return undefined;
  }
}

/** The active segments, or undefined if any is passive, in another memory or at a computed offset. */
function readSegments(bytes: Uint8Array, span: SectionSpan): Segment[] | undefined {
  const r = new ByteReader(bytes, span.start, span.end);
  const out: Segment[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    if (flags === ACTIVE_EXPLICIT) {
      if (r.u32() !== 0) return undefined;
    } else if (flags !== ACTIVE) return undefined;
    if (r.u8() !== I32_CONST) return undefined;
    const offset = r.s32() >>> 0;
    if (r.u8() !== END) return undefined;
    const length = r.u32();
    out.push({ offset, start: r.pos, end: r.pos + length });
    r.pos += length;
    if (r.pos > span.end) return undefined;
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

/** The module with the sections of the given ids left out. */
function withoutSections(bytes: Uint8Array, sections: SectionSpan[], ids: number[]): Uint8Array {
  const out = new ByteWriter(bytes.length);
  out.bytes(WASM_MAGIC_AND_VERSION);
  let from = WASM_MAGIC_AND_VERSION.length;
  for (const s of sections) {
    if (!ids.includes(s.id)) continue;
    const headerStart = sectionHeaderStart(bytes, s);
    out.bytes(bytes, from, headerStart);
    from = s.end;
  }
  out.bytes(bytes, from, bytes.length);
  return out.toBytes();
}

/** Where a section's id byte is: before its size (an unsigned LEB128 ending at `start`). */
function sectionHeaderStart(bytes: Uint8Array, s: SectionSpan): number {
  let p = s.start - 1; // last byte of the size
  while (p > 0 && bytes[p - 1]! >= 0x80) p--;
  return p - 1;
}

/** The segments applied in order (a later one overwrites an earlier), and the pages they touch. */
function imageOf(bytes: Uint8Array, segments: Segment[]): MemoryImage {
  let base = Infinity, top = 0;
  for (const s of segments) {
    if (s.end === s.start) continue; // writes nothing (its bounds were checked)
    base = Math.min(base, s.offset);
    top = Math.max(top, s.offset + s.end - s.start);
  }
  if (top === 0) base = 0;
  const image = new Uint8Array(new SharedArrayBuffer(top - base));
  const touched = new Uint8Array(Math.ceil(top / TOUCH_BYTES));
  for (const s of segments) {
    if (s.end === s.start) continue;
    image.set(bytes.subarray(s.start, s.end), s.offset - base);
    touched.fill(1, Math.floor(s.offset / TOUCH_BYTES), Math.floor((s.offset + s.end - s.start - 1) / TOUCH_BYTES) + 1);
  }
  const runs: [number, number][] = [];
  for (let p = 0; p < touched.length; p++) {
    if (touched[p] === 0) continue;
    const from = p;
    while (p < touched.length && touched[p] === 1) p++;
    runs.push([Math.max(from * TOUCH_BYTES, base), Math.min(p * TOUCH_BYTES, top)]);
  }
  return { base, bytes: image, runs };
}
