/**
 * Decoding and encoding of code-section operators: the MVP, sign extension, the 0xFC
 * prefix (saturating truncation, bulk memory, table ops), reference types and multivalue
 * block types — exactly the set our CPython build uses. Anything else (SIMD, threads,
 * exceptions, tail calls, GC, multi-memory) is rejected with a clear error rather than
 * guessed at, since a wrong length would silently corrupt the rewrite. Opcodes are named
 * in `Op`; how each one's immediates are laid out is a table, and each layout has one
 * decoder and one encoder in `IMMEDIATES`.
 */
import { ByteReader, type ByteWriter, WasmFormatError } from "./bytes.ts";
import { EMPTY_BLOCK_TYPE, isValType, ValType } from "./binary.ts";

/** The byte that introduces the 0xFC family (saturating truncation, bulk memory, tables). */
const PREFIX_FC = 0xfc;
/** How 0xFC-prefixed operators are reported: `PREFIXED_FC_BASE | sub-opcode`. */
const PREFIXED_FC_BASE = 0xfc00;

/**
 * Opcodes by name; 0xFC-prefixed ones are `0xFC00 | sub-opcode`. Where a range of opcodes
 * shares a layout, its first and last members are named (`I32Load`..`I64Store32`).
 *
 * @example
 * ```ts
 * const r = new InstrReader(body, codeStart, bodyEnd);
 * if (r.next() === Op.Call) console.log("calls function", r.a);
 * ```
 */
export const Op = {
  Unreachable: 0x00,
  Nop: 0x01,
  Block: 0x02,
  Loop: 0x03,
  If: 0x04,
  Else: 0x05,
  End: 0x0b,
  Br: 0x0c,
  BrIf: 0x0d,
  BrTable: 0x0e,
  Return: 0x0f,
  Call: 0x10,
  CallIndirect: 0x11,
  Drop: 0x1a,
  Select: 0x1b,
  SelectT: 0x1c,
  LocalGet: 0x20,
  LocalSet: 0x21,
  LocalTee: 0x22,
  GlobalGet: 0x23,
  GlobalSet: 0x24,
  TableGet: 0x25,
  TableSet: 0x26,
  /** First memory access (loads and stores: 0x28..0x3e). */
  I32Load: 0x28,
  /** Last memory access. */
  I64Store32: 0x3e,
  MemorySize: 0x3f,
  MemoryGrow: 0x40,
  I32Const: 0x41,
  I64Const: 0x42,
  F32Const: 0x43,
  F64Const: 0x44,
  /** First plain numeric operator (0x45..0xc4, sign extension included). */
  I32Eqz: 0x45,
  I32Eq: 0x46,
  I32Ne: 0x47,
  I32LtS: 0x48,
  I64LtS: 0x53,
  I32Add: 0x6a,
  I32Sub: 0x6b,
  I64Add: 0x7c,
  I64Sub: 0x7d,
  I64Mul: 0x7e,
  I64ShrU: 0x88,
  I64ExtendI32U: 0xad,
  /** Last plain numeric operator. */
  I64Extend32S: 0xc4,
  RefNull: 0xd0,
  RefIsNull: 0xd1,
  RefFunc: 0xd2,
  /** First saturating truncation (0xFC 0..7). */
  I32TruncSatF32S: 0xfc00,
  /** Last saturating truncation. */
  I64TruncSatF64U: 0xfc07,
  MemoryInit: 0xfc08,
  DataDrop: 0xfc09,
  MemoryCopy: 0xfc0a,
  MemoryFill: 0xfc0b,
  TableInit: 0xfc0c,
  ElemDrop: 0xfc0d,
  TableCopy: 0xfc0e,
  TableGrow: 0xfc0f,
  TableSize: 0xfc10,
  TableFill: 0xfc11,
} as const;

/** How an operator's immediates are laid out (an index into IMMEDIATES). */
const Imm = {
  Bad: 0,
  None: 1,
  BlockType: 2,
  U32: 3,
  U32x2: 4,
  MemArg: 5,
  BrTable: 6,
  SelectT: 7,
  I32: 8,
  I64: 9,
  F32: 10,
  F64: 11,
  HeapType: 12,
} as const;

const PLAIN = new Uint8Array(256); // immediate layout per single-byte opcode
const PREFIXED_FC = new Uint8Array((Op.TableFill & 0xff) + 1); // immediate layout per 0xFC sub-opcode

{
  const set = (kind: number, ...ops: number[]) => ops.forEach((o) => (PLAIN[o] = kind));
  const range = (kind: number, from: number, to: number) => {
    for (let o = from; o <= to; o++) PLAIN[o] = kind;
  };
  set(Imm.None, Op.Unreachable, Op.Nop, Op.Else, Op.End, Op.Return, Op.Drop, Op.Select, Op.RefIsNull);
  set(Imm.BlockType, Op.Block, Op.Loop, Op.If);
  set(Imm.U32, Op.Br, Op.BrIf, Op.Call, Op.LocalGet, Op.LocalSet, Op.LocalTee, Op.GlobalGet, Op.GlobalSet);
  set(Imm.U32, Op.TableGet, Op.TableSet, Op.MemorySize, Op.MemoryGrow, Op.RefFunc);
  set(Imm.U32x2, Op.CallIndirect); // type table
  set(Imm.BrTable, Op.BrTable);
  set(Imm.SelectT, Op.SelectT);
  range(Imm.MemArg, Op.I32Load, Op.I64Store32);
  set(Imm.I32, Op.I32Const);
  set(Imm.I64, Op.I64Const);
  set(Imm.F32, Op.F32Const);
  set(Imm.F64, Op.F64Const);
  range(Imm.None, Op.I32Eqz, Op.I64Extend32S); // numeric operators, including sign extension (0xc0..0xc4)
  set(Imm.HeapType, Op.RefNull);

  const fc = (kind: number, ...ops: number[]) => ops.forEach((o) => (PREFIXED_FC[o & 0xff] = kind));
  for (let o: number = Op.I32TruncSatF32S; o <= Op.I64TruncSatF64U; o++) fc(Imm.None, o);
  fc(Imm.U32x2, Op.MemoryInit); // data mem
  fc(Imm.U32, Op.DataDrop);
  fc(Imm.U32x2, Op.MemoryCopy); // mem mem
  fc(Imm.U32, Op.MemoryFill); // mem
  fc(Imm.U32x2, Op.TableInit); // elem table
  fc(Imm.U32, Op.ElemDrop);
  fc(Imm.U32x2, Op.TableCopy); // dst src
  fc(Imm.U32, Op.TableGrow, Op.TableSize, Op.TableFill);
}

/** Rejected opcode families, for the error message: first and last byte, and the name. */
const UNSUPPORTED_FAMILIES: readonly (readonly [number, number, string])[] = [
  [0xfd, 0xfd, "SIMD (0xFD prefix)"],
  [0xfe, 0xfe, "threads/atomics (0xFE prefix)"],
  [0xfb, 0xfb, "GC (0xFB prefix)"],
  [0x06, 0x0a, "exception handling"],
  [0x12, 0x13, "tail calls"],
  [0x15, 0x15, "tail calls"],
  [0x14, 0x14, "typed function references"],
  [0xd3, 0xd6, "typed function references"],
  [0x18, 0x19, "exception handling"],
  [0x1f, 0x1f, "exception handling"],
];

/** Name of a rejected opcode's family, for the error message. */
function unsupportedName(byte: number): string {
  const family = UNSUPPORTED_FAMILIES.find(([from, to]) => byte >= from && byte <= to);
  return family ? family[2] : "unknown";
}

/** The memarg alignment bit that says a memory index follows (multi-memory). */
const MEMARG_HAS_MEMORY_INDEX = 0x40;

/**
 * Reads one operator at a time from a function body, leaving its immediates in fields:
 * no allocation per operator except for br_table/select target lists (reused array).
 *
 * @example
 * ```ts
 * const r = new InstrReader(bytes, bodyStart, bodyEnd);
 * readLocals(r);
 * let calls = 0;
 * while (!r.atEnd) if (r.next() === Op.Call) calls++;
 * ```
 */
export class InstrReader extends ByteReader {
  /** Current opcode; 0xFC-prefixed operators are reported as `0xFC00 | sub-opcode`. */
  op = 0;
  /** Offset of the current operator's first byte. */
  start = 0;
  /** Offset of the current operator's first immediate byte. */
  immStart = 0;
  /** First and second integer immediates (index, depth, align/offset, block type, i32 value...). */
  a = 0;
  b = 0;
  /** br_table targets (default last) or select's types; valid up to `listLength`. */
  list: number[] = [];
  listLength = 0;

  /** Decodes the next operator and returns its opcode. */
  next(): number {
    this.start = this.pos;
    let op = this.u8();
    let kind: number;
    if (op === PREFIX_FC) {
      const sub = this.u32();
      kind = sub < PREFIXED_FC.length ? PREFIXED_FC[sub]! : Imm.Bad;
      if (kind === Imm.Bad) this.fail(`unsupported operator 0xFC ${sub}`, this.start);
      op = PREFIXED_FC_BASE | sub;
    } else {
      kind = PLAIN[op]!;
      if (kind === Imm.Bad) {
        this.fail(`unsupported operator 0x${op.toString(16).padStart(2, "0")} (${unsupportedName(op)})`, this.start);
      }
    }
    this.op = op;
    this.immStart = this.pos;
    if (kind !== Imm.None) IMMEDIATES[kind]!.read(this);
    return op;
  }

  skipBytes(n: number): void {
    if (this.pos + n > this.end) this.fail("unexpected end of data");
    this.pos += n;
  }

  /** The value of the current i64.const (decoded on demand: it needs a bigint). */
  i64Value(): bigint {
    return new ByteReader(this.bytes, this.immStart, this.end).s64();
  }
}

/** One immediate layout: how to decode it into the reader's fields and encode it back. */
interface Immediates {
  read(r: InstrReader): void;
  write(w: ByteWriter, r: InstrReader): void;
}

function readBlockType(r: InstrReader): void {
  const at = r.pos;
  const bt = r.s33();
  // Negative: empty or a single value type (one byte, read as s33: byte - 0x80);
  // non-negative: a type index.
  if (bt < 0 && bt !== EMPTY_BLOCK_TYPE - 0x80 && !isValType(bt + 0x80)) r.fail(`bad block type ${bt}`, at);
  r.a = bt;
}

function readMemArg(r: InstrReader): void {
  const at = r.pos;
  r.a = r.u32();
  if (r.a >= MEMARG_HAS_MEMORY_INDEX) r.fail(`unsupported memarg alignment ${r.a} (multi-memory)`, at);
  r.b = r.u32();
}

function readBrTable(r: InstrReader): void {
  const n = r.u32();
  const list = r.list;
  for (let i = 0; i <= n; i++) list[i] = r.u32();
  r.listLength = n + 1;
}

function readSelectTypes(r: InstrReader): void {
  const n = r.u32();
  const list = r.list;
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const t = r.u8();
    if (!isValType(t)) r.fail(`bad select type 0x${t.toString(16)}`, at);
    list[i] = t;
  }
  r.listLength = n;
}

function readHeapType(r: InstrReader): void {
  const at = r.pos;
  r.a = r.u8();
  if (r.a !== ValType.FuncRef && r.a !== ValType.ExternRef) r.fail(`unsupported heap type 0x${r.a.toString(16)}`, at);
}

function writeU32x2(w: ByteWriter, r: InstrReader): void {
  w.u32(r.a);
  w.u32(r.b);
}

/** Decoder and encoder per immediate layout, indexed by `Imm`. */
const IMMEDIATES: readonly Immediates[] = [
  {
    read: () => {},
    write: (_w, r) => {
      throw new WasmFormatError(`cannot encode operator 0x${r.op.toString(16)}`);
    },
  }, // Bad
  { read: () => {}, write: () => {} }, // None
  { read: readBlockType, write: (w, r) => w.sLeb(r.a) }, // BlockType
  { read: (r) => (r.a = r.u32()), write: (w, r) => w.u32(r.a) }, // U32
  {
    read: (r) => {
      r.a = r.u32();
      r.b = r.u32();
    },
    write: writeU32x2,
  }, // U32x2
  { read: readMemArg, write: writeU32x2 }, // MemArg
  {
    read: readBrTable,
    write: (w, r) => {
      w.u32(r.listLength - 1);
      for (let i = 0; i < r.listLength; i++) w.u32(r.list[i]!);
    },
  }, // BrTable
  {
    read: readSelectTypes,
    write: (w, r) => {
      w.u32(r.listLength);
      for (let i = 0; i < r.listLength; i++) w.u8(r.list[i]!);
    },
  }, // SelectT
  { read: (r) => (r.a = r.s32()), write: (w, r) => w.sLeb(r.a) }, // I32
  { read: (r) => r.skipLeb(10), write: (w, r) => w.s64(r.i64Value()) }, // I64
  { read: (r) => r.skipBytes(4), write: (w, r) => w.bytes(r.bytes, r.immStart, r.immStart + 4) }, // F32
  { read: (r) => r.skipBytes(8), write: (w, r) => w.bytes(r.bytes, r.immStart, r.immStart + 8) }, // F64
  { read: readHeapType, write: (w, r) => w.u8(r.a) }, // HeapType
];

/**
 * Writes the reader's current operator from its decoded fields (canonical LEB128).
 *
 * @example
 * ```ts
 * while (!r.atEnd) {
 *   r.next();
 *   writeInstr(out, r); // same operator, same immediates
 * }
 * ```
 */
export function writeInstr(w: ByteWriter, r: InstrReader): void {
  const op = r.op;
  let kind: number;
  if (op >= PREFIXED_FC_BASE) {
    w.u8(PREFIX_FC);
    w.u32(op & 0xff);
    kind = PREFIXED_FC[op & 0xff]!;
  } else {
    w.u8(op);
    kind = PLAIN[op]!;
  }
  (IMMEDIATES[kind] ?? IMMEDIATES[Imm.Bad]!).write(w, r);
}

/**
 * Local declarations at the head of a function body.
 *
 * @example
 * ```ts
 * const { count, codeStart }: LocalsHeader = readLocals(r);
 * ```
 */
export interface LocalsHeader {
  /** Number of (count, type) groups. */
  groups: number;
  /** Total number of declared locals (not counting parameters). */
  count: number;
  /** Byte range of the groups (after the group count), for verbatim copying. */
  groupsStart: number;
  /** Where the operators begin. */
  codeStart: number;
}

/**
 * Reads the locals of the body at `r.pos`, leaving `r` at the first operator.
 *
 * @example
 * ```ts
 * const locals = readLocals(r);
 * body.bytes(bytes, locals.groupsStart, locals.codeStart); // copy the declarations verbatim
 * ```
 */
export function readLocals(r: ByteReader): LocalsHeader {
  const groups = r.u32();
  const groupsStart = r.pos;
  let count = 0;
  for (let i = 0; i < groups; i++) {
    count += r.u32();
    const at = r.pos;
    const t = r.u8();
    if (!isValType(t)) r.fail(`bad local type 0x${t.toString(16)}`, at);
  }
  return { groups, count, groupsStart, codeStart: r.pos };
}
