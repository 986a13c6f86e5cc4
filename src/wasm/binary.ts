/**
 * Low-level reading and writing of the WebAssembly binary format: LEB128 numbers,
 * a growable output buffer and the module's section layout. Pure and allocation-light,
 * because the metering rewrite walks every byte of a ~10 MB interpreter at build time.
 */

/** Thrown for malformed or unsupported input; the message is meant for a human. */
export class WasmFormatError extends Error {
  override name = "WasmFormatError";
}

/** A cursor over a byte array. Methods throw WasmFormatError past the end. */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    readonly end = bytes.length,
  ) {
    this.pos = pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string, at = this.pos): never {
    throw new WasmFormatError(`${message} (at byte offset ${at})`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("unexpected end of data");
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    const bytes = this.bytes;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of data in LEB128");
      const b = bytes[this.pos++]!;
      if (i === 4 && (b & 0xf0) !== 0) this.fail("u32 LEB128 out of range", this.pos - 1);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail("u32 LEB128 too long");
  }

  /** Signed LEB128 of at most 32 bits (also used for i32.const). */
  s32(): number {
    return this.signed(32);
  }

  /** Signed LEB128 of at most 33 bits (block types). */
  s33(): number {
    return this.signed(33);
  }

  /** Signed LEB128 of up to 64 bits, as a bigint (rare: only where the value is needed). */
  s64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      if (i === 9) {
        // The 10th byte holds bit 63 only; the rest must be its sign extension.
        if (b !== 0x00 && b !== 0x7f) this.fail("s64 LEB128 out of range", this.pos - 1);
      }
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 1n << shift;
        return BigInt.asIntN(64, result);
      }
    }
    return this.fail("s64 LEB128 too long");
  }

  /** Advances over a signed or unsigned LEB128 of at most `maxBytes` bytes without decoding it. */
  skipLeb(maxBytes: number): void {
    const bytes = this.bytes;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of data in LEB128");
      if ((bytes[this.pos++]! & 0x80) === 0) return;
    }
    this.fail("LEB128 too long");
  }

  /** Signed LEB128 of at most `bits` (<= 33) bits, as a number. */
  private signed(bits: number): number {
    const bytes = this.bytes;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0;
    let shift = 0;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of data in LEB128");
      const b = bytes[this.pos++]!;
      if (i === maxBytes - 1) {
        // Unused high bits of the last byte must equal the sign bit.
        const used = bits - 7 * i; // bits carried by this byte
        const rest = (b & 0x7f) >> (used - 1); // sign bit and everything above it
        const allowed = rest === 0 || rest === 0x7f >> (used - 1);
        if (!allowed || (b & 0x80) !== 0) this.fail(`s${bits} LEB128 out of range`, this.pos - 1);
      }
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 2 ** shift;
        return result;
      }
    }
    return this.fail(`s${bits} LEB128 too long`);
  }

  /** A length-prefixed UTF-8 name. */
  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) this.fail("name runs past the end");
    const s = utf8Decoder.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** An append-only byte buffer that doubles its capacity as needed. */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;
  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): void {
    if (this.length >= this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    this.buf.set(src.subarray(start, end), this.length);
    this.length += n;
  }

  u32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${value}`);
    }
    this.reserve(5);
    const buf = this.buf;
    let v = value;
    for (;;) {
      const b = v % 128;
      v = Math.floor(v / 128);
      if (v === 0) {
        buf[this.length++] = b;
        return;
      }
      buf[this.length++] = b | 0x80;
    }
  }

  /** Signed LEB128 of a safe integer (covers s32 and s33). */
  sLeb(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    this.reserve(10);
    const buf = this.buf;
    let v = value;
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      if (done) {
        buf[this.length++] = b;
        return;
      }
      buf[this.length++] = b | 0x80;
    }
  }

  s64(value: bigint): void {
    let v = BigInt.asIntN(64, value);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      if (done) {
        this.u8(b);
        return;
      }
      this.u8(b | 0x80);
    }
  }

  name(s: string): void {
    const encoded = utf8Encoder.encode(s);
    this.u32(encoded.length);
    this.bytes(encoded);
  }

  /** Appends `u32 length` then the contents of another writer. */
  sized(other: ByteWriter): void {
    this.u32(other.length);
    this.bytes(other.buf, 0, other.length);
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Encodes a u32 as LEB128 bytes (for tests and small constants). */
export function encodeU32(value: number): Uint8Array {
  const w = new ByteWriter(8);
  w.u32(value);
  return w.toBytes();
}

/** Encodes a signed integer as LEB128 bytes. */
export function encodeS64(value: bigint): Uint8Array {
  const w = new ByteWriter(16);
  w.s64(value);
  return w.toBytes();
}

export const SectionId = {
  Custom: 0,
  Type: 1,
  Import: 2,
  Function: 3,
  Table: 4,
  Memory: 5,
  Global: 6,
  Export: 7,
  Start: 8,
  Element: 9,
  Code: 10,
  Data: 11,
  DataCount: 12,
  Tag: 13,
} as const;

/** Position of each known section in the required order (custom sections excepted). */
export const SECTION_ORDER: Readonly<Record<number, number>> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

/** One section as found in the input: its payload is `bytes[start, end)`. */
export interface SectionSpan {
  id: number;
  /** For custom sections, the name; "" otherwise. */
  name: string;
  start: number;
  end: number;
  /** For custom sections, where the payload after the name begins. */
  contentStart: number;
}

export const WASM_MAGIC_AND_VERSION = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** Splits a module into its sections, checking the header and section order. */
export function readSections(bytes: Uint8Array): SectionSpan[] {
  if (bytes.length < 8 || !WASM_MAGIC_AND_VERSION.every((b, i) => bytes[i] === b)) {
    throw new WasmFormatError("not a WebAssembly 1.0 binary module (bad magic or version)");
  }
  const r = new ByteReader(bytes, 8);
  const sections: SectionSpan[] = [];
  let lastOrder = 0;
  while (!r.atEnd) {
    const headerAt = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) r.fail(`section ${id} runs past the end of the module`, headerAt);
    let name = "";
    let contentStart = start;
    if (id === SectionId.Custom) {
      const nr = new ByteReader(bytes, start, end);
      name = nr.name();
      contentStart = nr.pos;
    } else {
      const order = SECTION_ORDER[id];
      if (order === undefined) r.fail(`unknown section id ${id}`, headerAt);
      if (order <= lastOrder) r.fail(`section ${id} out of order or repeated`, headerAt);
      lastOrder = order;
    }
    sections.push({ id, name, start, end, contentStart });
    r.pos = end;
  }
  return sections;
}

/** Value type bytes (MVP, SIMD v128 for recognition only, and reference types). */
export const ValType = {
  I32: 0x7f,
  I64: 0x7e,
  F32: 0x7d,
  F64: 0x7c,
  V128: 0x7b,
  FuncRef: 0x70,
  ExternRef: 0x6f,
} as const;

export function isValType(b: number): boolean {
  return (b >= 0x7b && b <= 0x7f) || b === 0x70 || b === 0x6f;
}

/** Reads a value type byte, rejecting anything else (e.g. GC types). */
export function readValType(r: ByteReader): number {
  const at = r.pos;
  const b = r.u8();
  if (!isValType(b)) r.fail(`unsupported value type 0x${b.toString(16)}`, at);
  return b;
}

/** A function type, reduced to what the rewriter needs. */
export interface FuncType {
  params: number[];
  results: number[];
}

export function readTypeSection(bytes: Uint8Array, span: SectionSpan): FuncType[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const types: FuncType[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const form = r.u8();
    if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)} (only func types)`, at);
    const params: number[] = [];
    const np = r.u32();
    for (let j = 0; j < np; j++) params.push(readValType(r));
    const results: number[] = [];
    const nr = r.u32();
    for (let j = 0; j < nr; j++) results.push(readValType(r));
    types.push({ params, results });
  }
  if (r.pos !== span.end) r.fail("type section has trailing bytes");
  return types;
}

/** Resizable limits of a memory or table. */
export interface Limits {
  min: number;
  max: number | undefined;
}

/** Reads memory limits; shared and 64-bit memories are rejected. */
export function readMemoryLimits(r: ByteReader): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags !== 0x00 && flags !== 0x01) {
    r.fail(`unsupported memory limits flags 0x${flags.toString(16)} (shared or 64-bit memory)`, at);
  }
  const min = r.u32();
  const max = flags === 0x01 ? r.u32() : undefined;
  return { min, max };
}

export function readTableType(r: ByteReader): void {
  readValType(r);
  const at = r.pos;
  const flags = r.u8();
  if (flags !== 0x00 && flags !== 0x01) r.fail(`unsupported table limits flags 0x${flags.toString(16)}`, at);
  r.u32();
  if (flags === 0x01) r.u32();
}

/** Reads a global type (value type and mutability). */
export function readGlobalType(r: ByteReader): void {
  readValType(r);
  const at = r.pos;
  const mut = r.u8();
  if (mut > 1) r.fail(`bad global mutability ${mut}`, at);
}

export const ExternKind = {
  Func: 0,
  Table: 1,
  Memory: 2,
  Global: 3,
  Tag: 4,
} as const;

/** An import entry with the byte range it occupies, so entries can be copied verbatim. */
export interface ImportEntry {
  module: string;
  field: string;
  kind: number;
  /** For functions, the type index. */
  typeIndex: number;
  /** For memories, the limits. */
  limits: Limits | undefined;
  start: number;
  end: number;
}

export function readImportSection(bytes: Uint8Array, span: SectionSpan): ImportEntry[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const out: ImportEntry[] = [];
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    const module = r.name();
    const field = r.name();
    const kindAt = r.pos;
    const kind = r.u8();
    let typeIndex = -1;
    let limits: Limits | undefined;
    switch (kind) {
      case ExternKind.Func:
        typeIndex = r.u32();
        break;
      case ExternKind.Table:
        readTableType(r);
        break;
      case ExternKind.Memory:
        limits = readMemoryLimits(r);
        break;
      case ExternKind.Global:
        readGlobalType(r);
        break;
      default:
        r.fail(`unsupported import kind ${kind}`, kindAt);
    }
    out.push({ module, field, kind, typeIndex, limits, start, end: r.pos });
  }
  if (r.pos !== span.end) r.fail("import section has trailing bytes");
  return out;
}

/** Reads a vector of u32 (e.g. the function section's type indices). */
export function readU32Vector(bytes: Uint8Array, span: SectionSpan): number[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32();
  if (r.pos !== span.end) r.fail("section has trailing bytes");
  return out;
}

/** Writes one section (id, size, payload) to `out`. */
export function writeSection(out: ByteWriter, id: number, payload: ByteWriter | Uint8Array): void {
  out.u8(id);
  if (payload instanceof ByteWriter) {
    out.sized(payload);
  } else {
    out.u32(payload.length);
    out.bytes(payload);
  }
}
