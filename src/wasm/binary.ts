/**
 * The module layout of the WebAssembly binary format: section ids and their required
 * order, value types, limits, and the few sections the rewriter and the sandbox read
 * (types, imports, u32 vectors). Every byte with a meaning in the format is named here
 * once, so the rewriter writes `ValType.I64`, never `0x7e`. The byte layer (LEB128,
 * buffers) is in bytes.ts.
 */
import { ByteReader, ByteWriter, WasmFormatError } from "./bytes.ts";

/**
 * Section ids, in the numbering of the binary format.
 *
 * @example
 * ```ts
 * const code = readSections(bytes).find((s) => s.id === SectionId.Code);
 * ```
 */
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

/**
 * Position of each known section in the required order (custom sections excepted).
 *
 * @example
 * ```ts
 * SECTION_ORDER[SectionId.DataCount]! < SECTION_ORDER[SectionId.Code]!; // true
 * ```
 */
export const SECTION_ORDER: Readonly<Record<number, number>> = {
  [SectionId.Type]: 1,
  [SectionId.Import]: 2,
  [SectionId.Function]: 3,
  [SectionId.Table]: 4,
  [SectionId.Memory]: 5,
  [SectionId.Tag]: 6,
  [SectionId.Global]: 7,
  [SectionId.Export]: 8,
  [SectionId.Start]: 9,
  [SectionId.Element]: 10,
  [SectionId.DataCount]: 11,
  [SectionId.Code]: 12,
  [SectionId.Data]: 13,
};

/**
 * One section as found in the input: its payload is `bytes[start, end)`.
 *
 * @example
 * ```ts
 * const [first]: SectionSpan[] = readSections(bytes);
 * const payload = bytes.subarray(first!.start, first!.end);
 * ```
 */
export interface SectionSpan {
  id: number;
  /** For custom sections, the name; "" otherwise. */
  name: string;
  start: number;
  end: number;
  /** For custom sections, where the payload after the name begins. */
  contentStart: number;
}

/**
 * The 8-byte header of a WebAssembly 1.0 binary module: `\0asm` and version 1.
 *
 * @example
 * ```ts
 * out.bytes(WASM_MAGIC_AND_VERSION); // start of every module written
 * ```
 */
export const WASM_MAGIC_AND_VERSION = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * Splits a module into its sections, checking the header and section order.
 *
 * @example
 * ```ts
 * for (const s of readSections(bytes)) console.log(s.id, s.name, s.end - s.start);
 * ```
 */
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

/**
 * Value type bytes (MVP, SIMD v128 for recognition only, and reference types).
 *
 * @example
 * ```ts
 * w.u8(ValType.I64); // declare an i64 local or global
 * ```
 */
export const ValType = {
  I32: 0x7f,
  I64: 0x7e,
  F32: 0x7d,
  F64: 0x7c,
  V128: 0x7b,
  FuncRef: 0x70,
  ExternRef: 0x6f,
} as const;

/**
 * The block type of a block, loop or if without params or results (a single byte; read
 * as the signed LEB128 a block type is, it is -64).
 *
 * @example
 * ```ts
 * w.u8(Op.If);
 * w.u8(EMPTY_BLOCK_TYPE);
 * ```
 */
export const EMPTY_BLOCK_TYPE = 0x40;

/**
 * The byte that opens a function type in the type section.
 *
 * @example
 * ```ts
 * if (r.u8() !== FUNC_TYPE_FORM) r.fail("only func types");
 * ```
 */
export const FUNC_TYPE_FORM = 0x60;

/**
 * The flags byte of memory and table limits: a minimum only, or a minimum and a maximum.
 *
 * @example
 * ```ts
 * w.u8(LimitsFlags.MinOnly); // no maximum: the host decides how far memory grows
 * w.u32(pages);
 * ```
 */
export const LimitsFlags = {
  MinOnly: 0x00,
  MinMax: 0x01,
} as const;

/**
 * The mutability byte of a global type.
 *
 * @example
 * ```ts
 * w.u8(ValType.I64);
 * w.u8(Mutability.Var);
 * ```
 */
export const Mutability = {
  Const: 0x00,
  Var: 0x01,
} as const;

/**
 * Whether a byte is a value type this code knows.
 *
 * @example
 * ```ts
 * isValType(ValType.F64); // true
 * isValType(FUNC_TYPE_FORM); // false
 * ```
 */
export function isValType(b: number): boolean {
  return (b >= ValType.V128 && b <= ValType.I32) || b === ValType.FuncRef || b === ValType.ExternRef;
}

/**
 * Reads a value type byte, rejecting anything else (e.g. GC types).
 *
 * @example
 * ```ts
 * readValType(new ByteReader(new Uint8Array([ValType.I32]))); // 0x7f
 * ```
 */
export function readValType(r: ByteReader): number {
  const at = r.pos;
  const b = r.u8();
  if (!isValType(b)) r.fail(`unsupported value type 0x${b.toString(16)}`, at);
  return b;
}

/**
 * A function type, reduced to what the rewriter needs.
 *
 * @example
 * ```ts
 * const add: FuncType = { params: [ValType.I32, ValType.I32], results: [ValType.I32] };
 * ```
 */
export interface FuncType {
  params: number[];
  results: number[];
}

/**
 * Reads the type section (function types only).
 *
 * @example
 * ```ts
 * const span = readSections(bytes).find((s) => s.id === SectionId.Type)!;
 * const types = readTypeSection(bytes, span);
 * ```
 */
export function readTypeSection(bytes: Uint8Array, span: SectionSpan): FuncType[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const types: FuncType[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const form = r.u8();
    if (form !== FUNC_TYPE_FORM) r.fail(`unsupported type form 0x${form.toString(16)} (only func types)`, at);
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

/**
 * Resizable limits of a memory or table.
 *
 * @example
 * ```ts
 * const limits: Limits = { min: 16, max: undefined }; // 1 MiB, no maximum
 * ```
 */
export interface Limits {
  min: number;
  max: number | undefined;
}

/**
 * Reads memory limits; shared and 64-bit memories are rejected.
 *
 * @example
 * ```ts
 * readMemoryLimits(new ByteReader(new Uint8Array([LimitsFlags.MinMax, 1, 2]))); // { min: 1, max: 2 }
 * ```
 */
export function readMemoryLimits(r: ByteReader): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags !== LimitsFlags.MinOnly && flags !== LimitsFlags.MinMax) {
    r.fail(`unsupported memory limits flags 0x${flags.toString(16)} (shared or 64-bit memory)`, at);
  }
  const min = r.u32();
  const max = flags === LimitsFlags.MinMax ? r.u32() : undefined;
  return { min, max };
}

/**
 * Reads (and skips) a table type: reference type and limits.
 *
 * @example
 * ```ts
 * readTableType(new ByteReader(new Uint8Array([ValType.FuncRef, LimitsFlags.MinOnly, 1])));
 * ```
 */
export function readTableType(r: ByteReader): void {
  readValType(r);
  const at = r.pos;
  const flags = r.u8();
  if (flags !== LimitsFlags.MinOnly && flags !== LimitsFlags.MinMax) {
    r.fail(`unsupported table limits flags 0x${flags.toString(16)}`, at);
  }
  r.u32();
  if (flags === LimitsFlags.MinMax) r.u32();
}

/**
 * Reads (and skips) a global type: value type and mutability.
 *
 * @example
 * ```ts
 * readGlobalType(new ByteReader(new Uint8Array([ValType.I64, Mutability.Var])));
 * ```
 */
export function readGlobalType(r: ByteReader): void {
  readValType(r);
  const at = r.pos;
  const mut = r.u8();
  if (mut > Mutability.Var) r.fail(`bad global mutability ${mut}`, at);
}

/**
 * The kind byte of an import or export.
 *
 * @example
 * ```ts
 * const memories = imports.filter((i) => i.kind === ExternKind.Memory).length;
 * ```
 */
export const ExternKind = {
  Func: 0,
  Table: 1,
  Memory: 2,
  Global: 3,
  Tag: 4,
} as const;

/**
 * An import entry with the byte range it occupies, so entries can be copied verbatim.
 *
 * @example
 * ```ts
 * const names = imports.map((i: ImportEntry) => `${i.module}.${i.field}`);
 * ```
 */
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

/**
 * Reads the import section.
 *
 * @example
 * ```ts
 * const span = readSections(bytes).find((s) => s.id === SectionId.Import)!;
 * const wasi = readImportSection(bytes, span).filter((i) => i.module === "wasi_snapshot_preview1");
 * ```
 */
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

/**
 * Reads a vector of u32 (e.g. the function section's type indices).
 *
 * @example
 * ```ts
 * const funcTypes = readU32Vector(bytes, readSections(bytes).find((s) => s.id === SectionId.Function)!);
 * ```
 */
export function readU32Vector(bytes: Uint8Array, span: SectionSpan): number[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32();
  if (r.pos !== span.end) r.fail("section has trailing bytes");
  return out;
}

/**
 * Writes one section (id, size, payload) to `out`.
 *
 * @example
 * ```ts
 * writeSection(out, SectionId.Code, codeWriter);
 * ```
 */
export function writeSection(out: ByteWriter, id: number, payload: ByteWriter | Uint8Array): void {
  out.u8(id);
  if (payload instanceof ByteWriter) {
    out.sized(payload);
  } else {
    out.u32(payload.length);
    out.bytes(payload);
  }
}
