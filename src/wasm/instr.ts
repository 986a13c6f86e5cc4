/**
 * Decoding and encoding of code-section operators: the MVP, sign extension, the 0xFC
 * prefix (saturating truncation, bulk memory, table ops), reference types and multivalue
 * block types — exactly the set our CPython build uses. Anything else (SIMD, threads,
 * exceptions, tail calls, GC, multi-memory) is rejected with a clear error rather than
 * guessed at, since a wrong length would silently corrupt the rewrite.
 */
import { ByteReader, ByteWriter, isValType, WasmFormatError } from "./binary.ts";

/** Opcodes the metering pass cares about; 0xFC-prefixed ones are `0xFC00 | sub-opcode`. */
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
  MemoryGrow: 0x40,
  I32Const: 0x41,
  I64Const: 0x42,
  I64LtS: 0x53,
  I64Add: 0x7c,
  I64Sub: 0x7d,
  I64Mul: 0x7e,
  I64ShrU: 0x88,
  I64ExtendI32U: 0xad,
  MemoryInit: 0xfc08,
  MemoryCopy: 0xfc0a,
  MemoryFill: 0xfc0b,
} as const;

/** How an operator's immediates are laid out. */
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

const PLAIN = new Uint8Array(256); // immediate kind per single-byte opcode
const PREFIXED_FC = new Uint8Array(18); // immediate kind per 0xFC sub-opcode

{
  const set = (kind: number, ...ops: number[]) => ops.forEach((o) => (PLAIN[o] = kind));
  const range = (kind: number, from: number, to: number) => {
    for (let o = from; o <= to; o++) PLAIN[o] = kind;
  };
  set(Imm.None, 0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1);
  set(Imm.BlockType, 0x02, 0x03, 0x04);
  set(Imm.U32, 0x0c, 0x0d, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0xd2);
  set(Imm.U32x2, 0x11);
  set(Imm.BrTable, 0x0e);
  set(Imm.SelectT, 0x1c);
  range(Imm.MemArg, 0x28, 0x3e);
  set(Imm.I32, 0x41);
  set(Imm.I64, 0x42);
  set(Imm.F32, 0x43);
  set(Imm.F64, 0x44);
  range(Imm.None, 0x45, 0xc4); // numeric operators, including sign extension (0xc0..0xc4)
  set(Imm.HeapType, 0xd0);

  for (let s = 0; s <= 7; s++) PREFIXED_FC[s] = Imm.None; // saturating truncation
  PREFIXED_FC[8] = Imm.U32x2; // memory.init data mem
  PREFIXED_FC[9] = Imm.U32; // data.drop
  PREFIXED_FC[10] = Imm.U32x2; // memory.copy mem mem
  PREFIXED_FC[11] = Imm.U32; // memory.fill mem
  PREFIXED_FC[12] = Imm.U32x2; // table.init elem table
  PREFIXED_FC[13] = Imm.U32; // elem.drop
  PREFIXED_FC[14] = Imm.U32x2; // table.copy dst src
  PREFIXED_FC[15] = Imm.U32; // table.grow
  PREFIXED_FC[16] = Imm.U32; // table.size
  PREFIXED_FC[17] = Imm.U32; // table.fill
}

/** Names of rejected opcode families, for the error message. */
function unsupportedName(byte: number): string {
  if (byte === 0xfd) return "SIMD (0xFD prefix)";
  if (byte === 0xfe) return "threads/atomics (0xFE prefix)";
  if (byte === 0xfb) return "GC (0xFB prefix)";
  if (byte >= 0x06 && byte <= 0x0a) return "exception handling";
  if (byte === 0x12 || byte === 0x13 || byte === 0x15) return "tail calls";
  if (byte === 0x14 || (byte >= 0xd3 && byte <= 0xd6)) return "typed function references";
  if (byte === 0x18 || byte === 0x19 || byte === 0x1f) return "exception handling";
  return "unknown";
}

/**
 * Reads one operator at a time from a function body, leaving its immediates in fields:
 * no allocation per operator except for br_table/select target lists (reused array).
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
    if (op === 0xfc) {
      const sub = this.u32();
      kind = sub < PREFIXED_FC.length ? PREFIXED_FC[sub]! : Imm.Bad;
      if (kind === Imm.Bad) this.fail(`unsupported operator 0xFC ${sub}`, this.start);
      op = 0xfc00 | sub;
    } else {
      kind = PLAIN[op]!;
      if (kind === Imm.Bad) {
        this.fail(`unsupported operator 0x${op.toString(16).padStart(2, "0")} (${unsupportedName(op)})`, this.start);
      }
    }
    this.op = op;
    this.immStart = this.pos;
    switch (kind) {
      case Imm.None:
        break;
      case Imm.BlockType: {
        const at = this.pos;
        const bt = this.s33();
        // Negative: empty (-64) or a single value type; non-negative: a type index.
        if (bt < 0 && bt !== -64 && !isValType(bt + 128)) this.fail(`bad block type ${bt}`, at);
        this.a = bt;
        break;
      }
      case Imm.U32:
        this.a = this.u32();
        break;
      case Imm.U32x2:
        this.a = this.u32();
        this.b = this.u32();
        break;
      case Imm.MemArg: {
        const at = this.pos;
        this.a = this.u32();
        if (this.a >= 0x40) this.fail(`unsupported memarg alignment ${this.a} (multi-memory)`, at);
        this.b = this.u32();
        break;
      }
      case Imm.BrTable: {
        const n = this.u32();
        const list = this.list;
        for (let i = 0; i <= n; i++) list[i] = this.u32();
        this.listLength = n + 1;
        break;
      }
      case Imm.SelectT: {
        const n = this.u32();
        const list = this.list;
        for (let i = 0; i < n; i++) {
          const at = this.pos;
          const t = this.u8();
          if (!isValType(t)) this.fail(`bad select type 0x${t.toString(16)}`, at);
          list[i] = t;
        }
        this.listLength = n;
        break;
      }
      case Imm.I32:
        this.a = this.s32();
        break;
      case Imm.I64:
        this.skipLeb(10);
        break;
      case Imm.F32:
        this.skipBytes(4);
        break;
      case Imm.F64:
        this.skipBytes(8);
        break;
      case Imm.HeapType: {
        const at = this.pos;
        this.a = this.u8();
        if (this.a !== 0x70 && this.a !== 0x6f) this.fail(`unsupported heap type 0x${this.a.toString(16)}`, at);
        break;
      }
    }
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

/** Writes the reader's current operator from its decoded fields (canonical LEB128). */
export function writeInstr(w: ByteWriter, r: InstrReader): void {
  const op = r.op;
  let kind: number;
  if (op >= 0xfc00) {
    w.u8(0xfc);
    w.u32(op & 0xff);
    kind = PREFIXED_FC[op & 0xff]!;
  } else {
    w.u8(op);
    kind = PLAIN[op]!;
  }
  switch (kind) {
    case Imm.None:
      break;
    case Imm.BlockType:
      w.sLeb(r.a);
      break;
    case Imm.U32:
      w.u32(r.a);
      break;
    case Imm.U32x2:
    case Imm.MemArg:
      w.u32(r.a);
      w.u32(r.b);
      break;
    case Imm.BrTable:
      w.u32(r.listLength - 1);
      for (let i = 0; i < r.listLength; i++) w.u32(r.list[i]!);
      break;
    case Imm.SelectT:
      w.u32(r.listLength);
      for (let i = 0; i < r.listLength; i++) w.u8(r.list[i]!);
      break;
    case Imm.I32:
      w.sLeb(r.a);
      break;
    case Imm.I64:
      w.s64(r.i64Value());
      break;
    case Imm.F32:
      w.bytes(r.bytes, r.immStart, r.immStart + 4);
      break;
    case Imm.F64:
      w.bytes(r.bytes, r.immStart, r.immStart + 8);
      break;
    case Imm.HeapType:
      w.u8(r.a);
      break;
    default:
      throw new WasmFormatError(`cannot encode operator 0x${op.toString(16)}`);
  }
}

/** wasmtime's fuel cost of an operator: 0 for nop, drop, block, loop, unreachable, return, else, end; else 1. */
export function fuelCost(op: number): number {
  switch (op) {
    case Op.Nop:
    case Op.Drop:
    case Op.Block:
    case Op.Loop:
    case Op.Unreachable:
    case Op.Return:
    case Op.Else:
    case Op.End:
      return 0;
    default:
      return 1;
  }
}

/** Local declarations at the head of a function body. */
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

/** Reads the locals of the body at `r.pos`, leaving `r` at the first operator. */
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
