/**
 * Build-time rewrite that adds deterministic fuel metering to a wasm module, since V8
 * has no fuel of its own. Counting follows wasmtime: every operator costs 1 except nop,
 * drop, block, loop, unreachable, return, else and end (0). The REMAINING fuel lives in an
 * exported mutable i64 global (`wasi_py_fuel`); exhaustion (fuel < 0) traps with
 * `unreachable` at function entry and at loop headers only.
 *
 * Each basic block's cost is charged once, at the block's start. Blocks are split wherever
 * control can enter or leave, and after every call that may end the program (proc_exit,
 * see wasm-call-graph.ts), so the code after such a call is charged only if it runs: a
 * program that finishes is charged exactly what wasmtime would count, plus the documented
 * extras for bulk memory and memory.grow. Two refinements keep the count exact while
 * charging less often: the code after a block, if or loop with no such call, return or
 * branch out of it is charged together with the code before it (it runs exactly once per
 * run of that code), and by default each function adds its charges up in a local and
 * subtracts them from the global only before calls, returns and traps.
 *
 * The module's defined memory also becomes an import `env.memory` without a maximum, so
 * the host creates it and decides how far it may grow. `.debug_*` and other custom
 * sections except `name` and `target_features` are dropped.
 */
import {
  ByteReader,
  ByteWriter,
  ExternKind,
  type FuncType,
  type Limits,
  readImportSection,
  readMemoryLimits,
  readSections,
  readTypeSection,
  readU32Vector,
  SECTION_ORDER,
  SectionId,
  type SectionSpan,
  WASM_MAGIC_AND_VERSION,
  WasmFormatError,
  writeSection,
} from "../binary.ts";
import { fuelCost, InstrReader, Op, readLocals } from "../instr.ts";
import { analyseCallExits, type CallExits } from "../call-graph.ts";

/** V8's limits on a function (exceeding them makes the module fail to compile). */
export const V8_MAX_FUNCTION_BODY_BYTES = 7_654_321;
export const V8_MAX_FUNCTION_LOCALS = 50_000;

export interface MeterOptions {
  /** Export name of the fuel global. Default "wasi_py_fuel". */
  fuelExportName?: string;
  /** Initial value of the fuel global, before the host sets it. Default 0 (fail closed). */
  initialFuel?: bigint;
  /** Turn the defined memory into an import without maximum. Default true. */
  importMemory?: boolean;
  /** Module and field name of that import. Default ["env", "memory"]. */
  memoryImport?: readonly [string, string];
  /**
   * memory.copy / memory.fill / memory.init are charged 1 unit per 2^shift bytes on top
   * of their operator cost (a byte loop would cost more; so does wasmtime's copy in time).
   * Default 3: one unit per 8 bytes. -1 disables the extra charge.
   */
  bulkMemoryShift?: number;
  /** memory.grow is charged this many units per requested page on top of its cost. Default 1. */
  fuelPerPage?: number;
  /**
   * Insert the charges and checks. Default true. With false only the module-level changes
   * are made (memory import, fuel global and its export, custom sections): a module with
   * the same interface for the host, for measuring the metering overhead.
   */
  instrument?: boolean;
  /**
   * Where a function keeps its charges: "global" updates the global at every block;
   * "local" adds them up in a local and subtracts that from the global before calls,
   * returns and traps; "loops" does that only in functions with a loop (where many blocks
   * run per call) and uses the global elsewhere. Same counts every way.
   * Default "local", which measured fastest on CPython under V8.
   */
  fuelIn?: FuelIn;
  /**
   * Charge the code after a block/if with no call, return or branch out of it together
   * with the code before it (it runs exactly once per run of that code). Default true.
   */
  hoist?: boolean;
  /**
   * Charge every operator on its own, right before it runs: slow, but obviously exact, so
   * it is the reference the block-based charging is checked against. Default false.
   */
  perOperator?: boolean;
  /**
   * End a basic block after every call. By default only calls that may end the program
   * (that can reach proc_exit, see wasm-call-graph.ts) do; the others return or trap, so
   * the code after them is charged with the code before. Default false.
   */
  splitAllCalls?: boolean;
  /**
   * Imported functions ("module.field") that may end the program rather than return.
   * Default: WASI's proc_exit.
   */
  exitImports?: readonly string[];
  /** Custom sections to keep (all others, e.g. `.debug_*` and `producers`, are dropped). */
  keepCustomSections?: readonly string[];
}

export type FuelIn = "global" | "local" | "loops";

export interface MeterStats {
  inputBytes: number;
  outputBytes: number;
  /** Size of the code section before and after (the part metering grows). */
  inputCodeBytes: number;
  outputCodeBytes: number;
  /** Defined functions rewritten. */
  functions: number;
  /** Basic blocks that got a charge (blocks of cost 0 need none). */
  blocksCharged: number;
  /** Exhaustion checks: one per function entry and per loop header. */
  checks: number;
  /** Length-proportional charges before memory.copy/fill/init and memory.grow. */
  bulkCharges: number;
  /** Index of the fuel global. */
  fuelGlobalIndex: number;
  /** Initial pages of the memory turned into an import, if any. */
  importedMemoryPages: number | undefined;
  /** Largest rewritten function body, in bytes. */
  largestBodyBytes: number;
}

export interface MeterResult {
  bytes: Uint8Array;
  stats: MeterStats;
}

const DEFAULT_KEEP = ["name", "target_features"] as const;

/** Kinds of code inserted into a function body. */
const Ins = {
  None: 0,
  /** fuel -= cost (a block's start). */
  Charge: 1,
  /** Function entry: (load fuel), charge, trap if negative. */
  Entry: 2,
  /** Loop header: charge, trap if negative. */
  LoopCheck: 3,
  /** After a call that may end the program: charge the new block (after a sync). */
  ChargeAfterCall: 4,
  /** Before leaving the function (local mode): bring the global up to date. */
  Flush: 5,
  /** Before a call (local mode): bring the global up to date, restart the local at 0. */
  Sync: 9,
  /** Before memory.copy/fill/init: charge by the byte count on the stack. */
  BulkBytes: 6,
  /** Before memory.grow: charge by the page count on the stack. */
  GrowPages: 7,
} as const;

/** Reusable, growable scratch arrays for the per-function analysis. */
class Scratch {
  insPos = new Int32Array(1024);
  insKind = new Uint8Array(1024);
  insCost = new Int32Array(1024);
  /** Per open control frame: FRAME_* flags, the charge slot open where it began, and the
   *  outermost frame index a branch inside it escapes to (its own index if none). */
  frameFlags = new Uint8Array(256);
  frameEntrySlot = new Int32Array(256);
  frameEscape = new Int32Array(256);

  growInsertions(): void {
    const n = this.insPos.length * 2;
    const pos = new Int32Array(n);
    pos.set(this.insPos);
    const kind = new Uint8Array(n);
    kind.set(this.insKind);
    const cost = new Int32Array(n);
    cost.set(this.insCost);
    this.insPos = pos;
    this.insKind = kind;
    this.insCost = cost;
  }

  growFrames(): void {
    const n = this.frameFlags.length * 2;
    const flags = new Uint8Array(n);
    flags.set(this.frameFlags);
    const entry = new Int32Array(n);
    entry.set(this.frameEntrySlot);
    const escape = new Int32Array(n);
    escape.set(this.frameEscape);
    this.frameFlags = flags;
    this.frameEntrySlot = entry;
    this.frameEscape = escape;
  }
}

const FRAME_REACHABLE = 1; // entered from live code
const FRAME_LOOP = 2;
const FRAME_TARGETED = 4; // a branch in live code goes to this label
const FRAME_IF = 8;

/** Where code goes into one function body: the result of the analysis pass. */
interface BodyPlan {
  count: number;
  needsScratchLocal: boolean;
}

interface PlanConfig {
  bulkShift: number;
  fuelPerPage: number;
  /** Whether this function adds its charges up in a local (then syncs are needed). */
  local: boolean;
  /** Whether to charge the code after a clean block/if/loop with the code before it. */
  hoist: boolean;
  /** Reference mode: every operator charged on its own, right before it. */
  perOperator: boolean;
  /** Which calls may end the program; undefined: assume any may. */
  exits: CallExits | undefined;
  /** Where the fuel lives (see MeterOptions.fuelIn). */
  fuelIn: FuelIn;
  /** Per defined function: 1 if it has a loop. */
  hasLoop: Uint8Array;
}

/**
 * Walks one body's operators, recording where charges and checks go. Positions are input
 * offsets; a block's charge slot is reserved when the block opens and its cost filled in
 * when it closes, so insertions come out sorted by position.
 *
 * Besides splitting basic blocks, it hoists: the code right after the `end` of a block, if
 * or loop whose inside has no call that may end the program, return, unreachable or branch
 * out of it runs exactly once each time the code before it runs (for a program that
 * finishes), so its cost is added to that earlier charge instead of getting its own.
 */
function planBody(r: InstrReader, s: Scratch, cfg: PlanConfig): BodyPlan {
  let n = 0;
  let slot = -1; // insertion slot of the open block's charge
  let cost = 0; // cost of the open block so far
  let reachable = true;
  let depth = 1; // the function body is the outermost frame
  let needsScratchLocal = false;
  const end = r.end;
  const local = cfg.local;

  const add = (pos: number, kind: number) => {
    if (n === s.insPos.length) s.growInsertions();
    s.insPos[n] = pos;
    s.insKind[n] = kind;
    s.insCost[n] = 0;
    return n++;
  };
  const open = (pos: number, kind: number) => {
    slot = add(pos, kind);
    cost = 0;
  };
  const close = () => {
    s.insCost[slot] = cost;
  };
  /** Continues charging into an earlier slot (hoisting). */
  const reopen = (earlier: number) => {
    slot = earlier;
    cost = s.insCost[earlier]!;
  };
  /** Records that control may leave the frames inside frame index `to` (-1: the function). */
  const escape = (to: number) => {
    if (to < s.frameEscape[depth - 1]!) s.frameEscape[depth - 1] = to;
  };
  const target = (relative: number) => {
    if (relative >= depth) r.fail(`branch depth ${relative} out of range`, r.start);
    const index = depth - 1 - relative;
    s.frameFlags[index]! |= FRAME_TARGETED;
    escape(index);
  };
  const push = (flags: number) => {
    if (depth === s.frameFlags.length) s.growFrames();
    s.frameFlags[depth] = flags;
    s.frameEntrySlot[depth] = slot;
    s.frameEscape[depth] = depth;
    depth++;
  };
  /** Pops a frame; returns its index. Escapes beyond it also escape its parent. */
  const pop = () => {
    const index = --depth;
    const esc = s.frameEscape[index]!;
    if (index > 0 && esc < s.frameEscape[index - 1]!) s.frameEscape[index - 1] = esc;
    return index;
  };
  /** After the end of frame `index`, live again: a new block, or the frame's entry block. */
  const continueAfter = (index: number) => {
    const clean = s.frameEscape[index]! >= index;
    if (cfg.hoist && clean) reopen(s.frameEntrySlot[index]!);
    else open(r.pos, Ins.Charge);
  };
  s.frameFlags[0] = FRAME_REACHABLE;
  s.frameEscape[0] = 0;

  open(r.pos, Ins.Entry);
  while (depth > 0) {
    if (r.pos >= end) r.fail("function body ends before its final `end`");
    const op = r.next();
    if (!reachable) {
      // Dead code: never executed, so nothing is charged; only follow the nesting.
      switch (op) {
        case Op.Block:
          push(0);
          break;
        case Op.If:
          push(FRAME_IF);
          break;
        case Op.Loop:
          push(FRAME_LOOP);
          break;
        case Op.Else:
          if (s.frameFlags[depth - 1]! & FRAME_REACHABLE) {
            reachable = true;
            open(r.pos, Ins.Charge);
          }
          break;
        case Op.End: {
          const index = pop();
          if (index === 0) break;
          // Live again after the end if a live branch went to the label (block), or the
          // condition may have skipped to it (if: kept simple, whatever the arms did).
          // A loop's end is only reached by falling through, which is dead here.
          const f = s.frameFlags[index]!;
          const live = f & FRAME_LOOP ? false : f & FRAME_IF ? f & FRAME_REACHABLE : f & FRAME_TARGETED;
          if (live) {
            reachable = true;
            continueAfter(index);
          }
          break;
        }
      }
      continue;
    }
    if (cfg.perOperator) {
      const c = fuelCost(op);
      if (c > 0) {
        const i = add(r.start, Ins.Charge); // (add may replace s.insCost: index it afterwards)
        s.insCost[i] = c;
      }
    } else {
      cost += fuelCost(op);
    }
    switch (op) {
      case Op.Block:
        push(FRAME_REACHABLE); // entered unconditionally: no new basic block
        break;
      case Op.Loop:
        close();
        push(FRAME_REACHABLE | FRAME_LOOP);
        open(r.pos, Ins.LoopCheck);
        break;
      case Op.If:
        close();
        push(FRAME_REACHABLE | FRAME_IF);
        open(r.pos, Ins.Charge);
        break;
      case Op.Else:
        close();
        open(r.pos, Ins.Charge);
        break;
      case Op.End: {
        const index = pop();
        // No branch target (a loop's end, or a block no live branch goes to): the code
        // after it continues the same basic block.
        const flags = s.frameFlags[index]!;
        if (index > 0 && flags & FRAME_LOOP) {
          // A loop's end is no branch target. The code after it either continues this
          // block or, for a clean loop, is hoisted to the code before the loop.
          if (cfg.hoist && s.frameEscape[index]! >= index) {
            close();
            reopen(s.frameEntrySlot[index]!);
          }
          break;
        }
        if (index > 0 && !(flags & (FRAME_IF | FRAME_TARGETED))) break;
        close();
        if (index > 0) continueAfter(index);
        else if (local) add(r.start, Ins.Flush);
        break;
      }
      case Op.Br:
        target(r.a);
        close();
        if (local && r.a === depth - 1) add(r.start, Ins.Flush); // to the function's label: a return
        reachable = false;
        break;
      case Op.BrTable: {
        let toFunction = false;
        for (let i = 0; i < r.listLength; i++) {
          target(r.list[i]!);
          if (r.list[i] === depth - 1) toFunction = true;
        }
        close();
        if (local && toFunction) add(r.start, Ins.Flush);
        reachable = false;
        break;
      }
      case Op.Return:
      case Op.Unreachable:
        escape(-1);
        close();
        if (local) add(r.start, Ins.Flush);
        reachable = false;
        break;
      case Op.BrIf:
        target(r.a);
        close();
        if (local && r.a === depth - 1) add(r.start, Ins.Flush);
        open(r.pos, Ins.Charge);
        break;
      case Op.Call:
      case Op.CallIndirect: {
        const exits = cfg.exits;
        const mayExit = !exits || (op === Op.Call ? exits.mayExit[r.a] : exits.indirectMayExit[r.a]);
        if (mayExit) {
          // The callee may end the program (proc_exit): the code after the call is
          // charged only once it runs.
          escape(-1);
          close();
          if (local) add(r.start, Ins.Sync);
          open(r.pos, local ? Ins.ChargeAfterCall : Ins.Charge);
        } else if (local) {
          // Returns (or traps): the block goes on; the callee charges the global itself.
          add(r.start, Ins.Sync);
        }
        break;
      }
      case Op.MemoryCopy:
      case Op.MemoryFill:
      case Op.MemoryInit:
        if (cfg.bulkShift >= 0) {
          add(r.start, Ins.BulkBytes);
          needsScratchLocal = true;
        }
        break;
      case Op.MemoryGrow:
        if (cfg.fuelPerPage > 0) {
          add(r.start, Ins.GrowPages);
          needsScratchLocal = true;
        }
        break;
    }
  }
  if (r.pos !== end) r.fail("function body has bytes after its final `end`");
  return { count: n, needsScratchLocal };
}

/**
 * Writes the inserted code. In "global" mode every charge updates the global. In "local"
 * mode a function keeps the fuel it has spent since it last synced in a local (zero at
 * entry, as wasm locals are): a charge only adds to that local, and the global is brought
 * up to date (global -= spent) before calls, returns and traps.
 */
class Emitter {
  private readonly getGlobal: Uint8Array;
  private readonly setGlobal: Uint8Array;
  /** Set per function. */
  fuelLocal = 0;
  scratchLocal = 0;
  constructor(
    fuelGlobal: number,
    /** Set per function: whether this function keeps its spent fuel in a local. */
    public local: boolean,
    private readonly bulkShift: number,
    private readonly fuelPerPage: number,
  ) {
    const g = new ByteWriter(8);
    g.u8(Op.GlobalGet);
    g.u32(fuelGlobal);
    this.getGlobal = g.toBytes();
    const sw = new ByteWriter(8);
    sw.u8(Op.GlobalSet);
    sw.u32(fuelGlobal);
    this.setGlobal = sw.toBytes();
  }

  private getLocal(w: ByteWriter): void {
    w.u8(Op.LocalGet);
    w.u32(this.fuelLocal);
  }

  private setLocal(w: ByteWriter): void {
    w.u8(Op.LocalSet);
    w.u32(this.fuelLocal);
  }

  /** Charges a constant. */
  charge(w: ByteWriter, cost: number): void {
    if (cost === 0) return;
    if (this.local) {
      // spent = spent + cost (constant last: baseline compilers fold it into the add)
      this.getLocal(w);
      w.u8(Op.I64Const);
      w.sLeb(cost);
      w.u8(Op.I64Add);
      this.setLocal(w);
    } else {
      w.bytes(this.getGlobal);
      w.u8(Op.I64Const);
      w.sLeb(cost);
      w.u8(Op.I64Sub);
      w.bytes(this.setGlobal);
    }
  }

  /** if (fuel - spent < 0) { sync; unreachable }. `spent`: its value when known here. */
  check(w: ByteWriter, spent?: number): void {
    w.bytes(this.getGlobal);
    if (this.local && spent === undefined) {
      this.getLocal(w);
    } else {
      w.u8(Op.I64Const);
      w.sLeb(this.local ? spent! : 0);
    }
    w.u8(Op.I64LtS);
    w.u8(Op.If);
    w.u8(0x40);
    this.flush(w);
    w.u8(Op.Unreachable);
    w.u8(Op.End);
  }

  /** Local mode, before leaving the function: global -= spent. */
  flush(w: ByteWriter): void {
    if (!this.local) return;
    w.bytes(this.getGlobal);
    this.getLocal(w);
    w.u8(Op.I64Sub);
    w.bytes(this.setGlobal);
  }

  /** Local mode, before a call: global -= spent; spent = 0. */
  sync(w: ByteWriter): void {
    if (!this.local) return;
    this.flush(w);
    w.u8(Op.I64Const);
    w.u8(0);
    this.setLocal(w);
  }

  /** Charges the block that starts after a sync (spent is 0 there, so it is set). */
  chargeAfterSync(w: ByteWriter, cost: number): void {
    if (!this.local) return this.charge(w, cost);
    if (cost === 0) return;
    w.u8(Op.I64Const);
    w.sLeb(cost);
    this.setLocal(w);
  }

  entry(w: ByteWriter, cost: number): void {
    this.chargeAfterSync(w, cost); // a fresh local is 0, as after a sync
    this.check(w, cost);
  }

  /** With an i32 byte count or page count on top of the stack: charge f(count), count kept. */
  lengthCharge(w: ByteWriter, pages: boolean): void {
    w.u8(Op.LocalTee);
    w.u32(this.scratchLocal);
    if (this.local) this.getLocal(w);
    else w.bytes(this.getGlobal);
    w.u8(Op.LocalGet);
    w.u32(this.scratchLocal);
    w.u8(Op.I64ExtendI32U);
    if (pages) {
      if (this.fuelPerPage !== 1) {
        w.u8(Op.I64Const);
        w.sLeb(this.fuelPerPage);
        w.u8(Op.I64Mul);
      }
    } else if (this.bulkShift > 0) {
      w.u8(Op.I64Const);
      w.sLeb(this.bulkShift);
      w.u8(Op.I64ShrU);
    }
    if (this.local) {
      w.u8(Op.I64Add);
      this.setLocal(w);
    } else {
      w.u8(Op.I64Sub);
      w.bytes(this.setGlobal);
    }
  }
}

/** Rewrites the code section, metering every defined function. */
function meterCode(
  bytes: Uint8Array,
  span: SectionSpan,
  paramCounts: number[],
  emitter: Emitter,
  stats: MeterStats,
  cfg: PlanConfig,
): ByteWriter {
  const r = new ByteReader(bytes, span.start, span.end);
  const count = r.u32();
  if (count !== paramCounts.length) {
    r.fail(`code section has ${count} bodies but the function section declares ${paramCounts.length}`);
  }
  const out = new ByteWriter(Math.ceil((span.end - span.start) * 1.4) + 64);
  out.u32(count);
  const body = new ByteWriter(1 << 16);
  const scratch = new Scratch();
  for (let f = 0; f < count; f++) {
    const size = r.u32();
    const bodyStart = r.pos;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > span.end) r.fail(`body of function ${f} runs past the code section`);
    const ir = new InstrReader(bytes, bodyStart, bodyEnd);
    const locals = readLocals(ir);
    let plan: BodyPlan;
    const local = cfg.fuelIn === "local" || (cfg.fuelIn === "loops" && cfg.hasLoop[f] === 1);
    const fcfg = local === cfg.local ? cfg : { ...cfg, local };
    emitter.local = local;
    try {
      plan = planBody(ir, scratch, fcfg);
    } catch (e) {
      if (e instanceof WasmFormatError) throw new WasmFormatError(`defined function ${f}: ${e.message}`);
      throw e;
    }

    // New locals go after the existing ones: the fuel (i64, local mode), then the scratch i32.
    let next = paramCounts[f]! + locals.count;
    let groups = locals.groups;
    if (local) {
      emitter.fuelLocal = next++;
      groups++;
    }
    if (plan.needsScratchLocal) {
      emitter.scratchLocal = next++;
      groups++;
    }
    const declared = next - paramCounts[f]!;
    if (declared > V8_MAX_FUNCTION_LOCALS) {
      throw new WasmFormatError(
        `defined function ${f}: ${declared} locals exceed V8's limit of ${V8_MAX_FUNCTION_LOCALS}`,
      );
    }
    body.length = 0;
    body.u32(groups);
    body.bytes(bytes, locals.groupsStart, locals.codeStart);
    if (local) {
      body.u8(1);
      body.u8(0x7e); // one i64
    }
    if (plan.needsScratchLocal) {
      body.u8(1);
      body.u8(0x7f); // one i32
    }
    let copied = locals.codeStart;
    const { insPos, insKind, insCost } = scratch;
    for (let i = 0; i < plan.count; i++) {
      const kind = insKind[i]!;
      if (kind === Ins.None || (kind === Ins.Charge && insCost[i] === 0)) continue;
      if (insCost[i]! > 0) stats.blocksCharged++;
      if (kind === Ins.Entry || kind === Ins.LoopCheck) stats.checks++;
      if (kind === Ins.BulkBytes || kind === Ins.GrowPages) stats.bulkCharges++;
      const pos = insPos[i]!;
      if (pos < copied) throw new Error(`internal error: insertions out of order in function ${f}`);
      body.bytes(bytes, copied, pos);
      copied = pos;
      switch (kind) {
        case Ins.Charge:
          emitter.charge(body, insCost[i]!);
          break;
        case Ins.Entry:
          emitter.entry(body, insCost[i]!);
          break;
        case Ins.LoopCheck:
          emitter.charge(body, insCost[i]!);
          emitter.check(body);
          break;
        case Ins.ChargeAfterCall:
          emitter.chargeAfterSync(body, insCost[i]!);
          break;
        case Ins.Flush:
          emitter.flush(body);
          break;
        case Ins.Sync:
          emitter.sync(body);
          break;
        case Ins.BulkBytes:
          emitter.lengthCharge(body, false);
          break;
        case Ins.GrowPages:
          emitter.lengthCharge(body, true);
          break;
      }
    }
    body.bytes(bytes, copied, bodyEnd);
    if (body.length > V8_MAX_FUNCTION_BODY_BYTES) {
      throw new WasmFormatError(
        `defined function ${f}: metered body of ${body.length} bytes exceeds V8's limit of ${V8_MAX_FUNCTION_BODY_BYTES}`,
      );
    }
    if (body.length > stats.largestBodyBytes) stats.largestBodyBytes = body.length;
    out.sized(body);
    r.pos = bodyEnd;
    stats.functions++;
  }
  if (r.pos !== span.end) r.fail("code section has trailing bytes");
  return out;
}

/** Copies a vector section, appending one entry written by `extra`. */
function appendToVector(bytes: Uint8Array, span: SectionSpan, extra: (w: ByteWriter) => void): ByteWriter {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const w = new ByteWriter(span.end - span.start + 64);
  w.u32(n + 1);
  w.bytes(bytes, r.pos, span.end);
  extra(w);
  return w;
}

function readExportKinds(bytes: Uint8Array, span: SectionSpan): number[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const kinds: number[] = [];
  for (let i = 0; i < n; i++) {
    r.name();
    kinds.push(r.u8());
    r.u32();
  }
  return kinds;
}

function readExportNames(bytes: Uint8Array, span: SectionSpan): string[] {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    names.push(r.name());
    r.u8();
    r.u32();
  }
  return names;
}

function countVector(bytes: Uint8Array, span: SectionSpan | undefined): number {
  return span ? new ByteReader(bytes, span.start, span.end).u32() : 0;
}

/** Adds fuel metering to a module (see the file comment). Throws WasmFormatError on bad input. */
export function meterModule(input: Uint8Array, options: MeterOptions = {}): MeterResult {
  const fuelExportName = options.fuelExportName ?? "wasi_py_fuel";
  const initialFuel = options.initialFuel ?? 0n;
  const importMemory = options.importMemory ?? true;
  const [memModule, memField] = options.memoryImport ?? ["env", "memory"];
  const bulkShift = options.bulkMemoryShift ?? 3;
  const fuelPerPage = options.fuelPerPage ?? 1;
  const keep = new Set(options.keepCustomSections ?? DEFAULT_KEEP);
  const instrument = options.instrument ?? true;
  const fuelIn = options.fuelIn ?? "local";
  if (!["global", "local", "loops"].includes(fuelIn)) {
    throw new RangeError(`fuelIn must be global, local or loops, got ${fuelIn}`);
  }
  if (!Number.isInteger(bulkShift) || bulkShift < -1 || bulkShift > 32) {
    throw new RangeError(`bulkMemoryShift must be an integer from -1 to 32, got ${bulkShift}`);
  }
  if (initialFuel !== BigInt.asIntN(64, initialFuel)) {
    throw new RangeError(`initialFuel must fit in an i64, got ${initialFuel}`);
  }
  if (!Number.isSafeInteger(fuelPerPage) || fuelPerPage < 0) {
    throw new RangeError(`fuelPerPage must be a non-negative integer, got ${fuelPerPage}`);
  }

  const sections = readSections(input);
  const byId = new Map<number, SectionSpan>();
  for (const s of sections) if (s.id !== SectionId.Custom) byId.set(s.id, s);

  const typeSpan = byId.get(SectionId.Type);
  const types: FuncType[] = typeSpan ? readTypeSection(input, typeSpan) : [];
  const importSpan = byId.get(SectionId.Import);
  const imports = importSpan ? readImportSection(input, importSpan) : [];
  const funcSpan = byId.get(SectionId.Function);
  const funcTypes = funcSpan ? readU32Vector(input, funcSpan) : [];
  const paramCounts = funcTypes.map((t, i) => {
    const type = types[t];
    if (!type) throw new WasmFormatError(`defined function ${i} has unknown type ${t}`);
    return type.params.length;
  });
  const importedGlobals = imports.filter((i) => i.kind === ExternKind.Global).length;
  const importedMemories = imports.filter((i) => i.kind === ExternKind.Memory).length;
  const fuelGlobal = importedGlobals + countVector(input, byId.get(SectionId.Global));

  const exportSpan = byId.get(SectionId.Export);
  if (exportSpan && readExportNames(input, exportSpan).includes(fuelExportName)) {
    throw new WasmFormatError(`module already exports "${fuelExportName}" (metered twice?)`);
  }

  // The memory to turn into an import: the single defined memory, if there is one.
  let memoryLimits: Limits | undefined;
  const memorySpan = byId.get(SectionId.Memory);
  if (importMemory && memorySpan) {
    const r = new ByteReader(input, memorySpan.start, memorySpan.end);
    const n = r.u32();
    if (n > 0) {
      if (n > 1 || importedMemories > 0) throw new WasmFormatError("modules with several memories are not supported");
      memoryLimits = readMemoryLimits(r);
    }
  }

  const stats: MeterStats = {
    inputBytes: input.length,
    outputBytes: 0,
    inputCodeBytes: 0,
    outputCodeBytes: 0,
    functions: 0,
    blocksCharged: 0,
    checks: 0,
    bulkCharges: 0,
    fuelGlobalIndex: fuelGlobal,
    importedMemoryPages: memoryLimits?.min,
    largestBodyBytes: 0,
  };
  const tablesVisible = imports.some((i) => i.kind === ExternKind.Table) ||
    (exportSpan !== undefined && readExportKinds(input, exportSpan).includes(ExternKind.Table));
  const callInfo = instrument
    ? analyseCallExits(
      input,
      types,
      imports,
      funcTypes,
      { code: byId.get(SectionId.Code), element: byId.get(SectionId.Element), global: byId.get(SectionId.Global) },
      tablesVisible,
      options.exitImports,
    )
    : undefined;
  const exits = options.splitAllCalls ? undefined : callInfo;
  const cfg: PlanConfig = {
    exits,
    bulkShift,
    fuelPerPage,
    local: fuelIn === "local",
    fuelIn,
    hasLoop: callInfo?.hasLoop ?? new Uint8Array(funcTypes.length),
    hoist: options.hoist ?? true,
    perOperator: options.perOperator ?? false,
  };
  const emitter = new Emitter(fuelGlobal, fuelIn === "local", bulkShift, fuelPerPage);

  const writeMemoryImport = (w: ByteWriter) => {
    w.name(memModule);
    w.name(memField);
    w.u8(ExternKind.Memory);
    w.u8(0x00); // no maximum: the host's Memory object decides
    w.u32(memoryLimits!.min);
  };
  const writeFuelGlobal = (w: ByteWriter) => {
    w.u8(0x7e); // i64
    w.u8(0x01); // mutable
    w.u8(Op.I64Const);
    w.s64(initialFuel);
    w.u8(Op.End);
  };
  const writeFuelExport = (w: ByteWriter) => {
    w.name(fuelExportName);
    w.u8(ExternKind.Global);
    w.u32(fuelGlobal);
  };
  const fresh = (write: (w: ByteWriter) => void) => {
    const w = new ByteWriter(64);
    w.u32(1);
    write(w);
    return w;
  };

  // Sections this rewrite must create when the input has none.
  const missing: { id: number; payload: () => ByteWriter }[] = [];
  if (memoryLimits && !importSpan) missing.push({ id: SectionId.Import, payload: () => fresh(writeMemoryImport) });
  if (!byId.has(SectionId.Global)) missing.push({ id: SectionId.Global, payload: () => fresh(writeFuelGlobal) });
  if (!exportSpan) missing.push({ id: SectionId.Export, payload: () => fresh(writeFuelExport) });

  const out = new ByteWriter(input.length + (input.length >> 2) + 1024);
  out.bytes(WASM_MAGIC_AND_VERSION);
  const flushMissingBefore = (order: number) => {
    while (missing.length > 0 && SECTION_ORDER[missing[0]!.id]! < order) {
      const m = missing.shift()!;
      writeSection(out, m.id, m.payload());
    }
  };

  for (const s of sections) {
    if (s.id === SectionId.Custom) {
      if (keep.has(s.name)) writeSection(out, s.id, input.subarray(s.start, s.end));
      continue;
    }
    flushMissingBefore(SECTION_ORDER[s.id]!);
    switch (s.id) {
      case SectionId.Import:
        writeSection(
          out,
          s.id,
          memoryLimits ? appendToVector(input, s, writeMemoryImport) : input.subarray(s.start, s.end),
        );
        break;
      case SectionId.Memory:
        if (!memoryLimits) writeSection(out, s.id, input.subarray(s.start, s.end));
        break; // else: its only memory is now imported; the section goes
      case SectionId.Global:
        writeSection(out, s.id, appendToVector(input, s, writeFuelGlobal));
        break;
      case SectionId.Export:
        writeSection(out, s.id, appendToVector(input, s, writeFuelExport));
        break;
      case SectionId.Code: {
        const code = instrument
          ? meterCode(input, s, paramCounts, emitter, stats, cfg)
          : input.subarray(s.start, s.end);
        stats.inputCodeBytes = s.end - s.start;
        stats.outputCodeBytes = code.length;
        writeSection(out, s.id, code);
        break;
      }
      default:
        writeSection(out, s.id, input.subarray(s.start, s.end));
    }
  }
  flushMissingBefore(Infinity);
  if (funcTypes.length > 0 && !byId.has(SectionId.Code)) {
    throw new WasmFormatError("function section without a code section");
  }

  const bytes = out.toBytes();
  stats.outputBytes = bytes.length;
  return { bytes, stats };
}
