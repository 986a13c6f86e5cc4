/**
 * The code the rewriter inserts, byte by byte: charges, exhaustion checks, syncs, reloads and
 * flushes of the fuel local, the length-proportional charges of bulk memory and
 * memory.grow, the count of refused memory.grow calls, and the stack budget's take and restore. One class so that the "global" and "local" fuel modes (MeterOptions.fuelIn)
 * are two branches of the same small methods; EMIT maps each planned insertion kind to
 * the method that writes it.
 */
import { EMPTY_BLOCK_TYPE } from "../binary.ts";
import { ByteWriter } from "../bytes.ts";
import { Op } from "../instr.ts";
import { Ins } from "./_insertions.ts";

/**
 * Writes the inserted code. In "global" mode every charge updates the global. In "local"
 * mode a function keeps the REMAINING fuel in a local: loaded from the global at entry, a
 * charge subtracts from the local, the global is set from it before calls, returns and traps
 * (global = local) and the local reloaded from the global after a call returns (the callee
 * charged the global). Checks then compare a local with 0, and each call costs a store and a
 * load instead of a subtract-and-store and a reset: about 360 KB less code on the interpreter
 * than keeping the fuel SPENT in the local, at the same speed and with the same counts.
 */
export class Emitter {
  private readonly getGlobal: Uint8Array;
  private readonly setGlobal: Uint8Array;
  private readonly getRefused: Uint8Array;
  private readonly setRefused: Uint8Array;
  private readonly getStack: Uint8Array;
  private readonly setStack: Uint8Array;
  /** Set per function. */
  fuelLocal = 0;
  scratchLocal = 0;
  /** Set per function: the local holding this function's stack budget level, and its frame weight. */
  stackLocal = 0;
  stackWeight = 0;
  constructor(
    fuelGlobal: number,
    /** The i32 global counting refused memory.grow calls. */
    refusedGlobal: number,
    /** The i32 global holding the stack budget left. */
    stackGlobal: number,
    /** Set per function: whether this function keeps its remaining fuel in a local. */
    public local: boolean,
    private readonly bulkShift: number,
    private readonly fuelPerPage: number,
  ) {
    this.getGlobal = globalOp(Op.GlobalGet, fuelGlobal);
    this.setGlobal = globalOp(Op.GlobalSet, fuelGlobal);
    this.getRefused = globalOp(Op.GlobalGet, refusedGlobal);
    this.setRefused = globalOp(Op.GlobalSet, refusedGlobal);
    this.getStack = globalOp(Op.GlobalGet, stackGlobal);
    this.setStack = globalOp(Op.GlobalSet, stackGlobal);
  }

  private getLocal(w: ByteWriter): void {
    w.u8(Op.LocalGet);
    w.u32(this.fuelLocal);
  }

  private setLocal(w: ByteWriter): void {
    w.u8(Op.LocalSet);
    w.u32(this.fuelLocal);
  }

  /** Pushes the fuel (the local in local mode, else the global). */
  private getFuel(w: ByteWriter): void {
    if (this.local) this.getLocal(w);
    else w.bytes(this.getGlobal);
  }

  /** Pops into the fuel (the local in local mode, else the global). */
  private setFuel(w: ByteWriter): void {
    if (this.local) this.setLocal(w);
    else w.bytes(this.setGlobal);
  }

  /** `- cost`, on the value on the stack (nothing for 0). */
  private minus(w: ByteWriter, cost: number): void {
    if (cost === 0) return;
    w.u8(Op.I64Const);
    w.sLeb(cost);
    w.u8(Op.I64Sub);
  }

  /** Charges a constant: fuel -= cost. */
  charge(w: ByteWriter, cost: number): void {
    if (cost === 0) return;
    this.getFuel(w);
    this.minus(w, cost);
    this.setFuel(w);
  }

  /** if (fuel < 0) { flush; unreachable }. */
  check(w: ByteWriter): void {
    this.getFuel(w);
    this.trapIfNegative(w);
  }

  /**
   * With the fuel (i64), or a stack level (i32, `wide` false), on the stack: if it is negative,
   * bring the fuel global up to date and trap.
   */
  private trapIfNegative(w: ByteWriter, wide = true): void {
    w.u8(wide ? Op.I64Const : Op.I32Const);
    w.u8(0);
    w.u8(wide ? Op.I64LtS : Op.I32LtS);
    w.u8(Op.If);
    w.u8(EMPTY_BLOCK_TYPE);
    this.flush(w);
    w.u8(Op.Unreachable);
    w.u8(Op.End);
  }

  /** Local mode, before leaving the function: global = local. */
  flush(w: ByteWriter): void {
    if (!this.local) return;
    this.getLocal(w);
    w.bytes(this.setGlobal);
  }

  /** Local mode, before a call: global = local (the callee, or the host, reads the global). */
  sync(w: ByteWriter): void {
    this.flush(w);
  }

  /** Local mode, after a call that returned: local = global (the callee charged the global). */
  reload(w: ByteWriter): void {
    if (!this.local) return;
    w.bytes(this.getGlobal);
    this.setLocal(w);
  }

  /** After a call that may end the program (and its sync): reload, and charge the new block. */
  chargeAfterSync(w: ByteWriter, cost: number): void {
    if (!this.local) return this.charge(w, cost);
    w.bytes(this.getGlobal);
    this.minus(w, cost);
    this.setLocal(w);
  }

  /** Function entry: (local = global) charge the first block, trap if negative. */
  entry(w: ByteWriter, cost: number): void {
    if (!this.local) {
      this.charge(w, cost);
      this.check(w);
      return;
    }
    w.bytes(this.getGlobal);
    this.minus(w, cost);
    w.u8(Op.LocalTee);
    w.u32(this.fuelLocal);
    this.trapIfNegative(w);
  }

  /** With an i32 byte count on top of the stack: charge count >> bulkShift, count kept. */
  lengthCharge(w: ByteWriter): void {
    w.u8(Op.LocalTee);
    w.u32(this.scratchLocal);
    this.getFuel(w);
    w.u8(Op.LocalGet);
    w.u32(this.scratchLocal);
    w.u8(Op.I64ExtendI32U);
    if (this.bulkShift > 0) {
      w.u8(Op.I64Const);
      w.sLeb(this.bulkShift);
      w.u8(Op.I64ShrU);
    }
    w.u8(Op.I64Sub);
    this.setFuel(w);
  }

  /** Entry: level = budget - weight; budget = level; if (level < 0) { flush; unreachable }. Uncharged. */
  stackEnter(w: ByteWriter): void {
    w.bytes(this.getStack);
    w.u8(Op.I32Const);
    w.sLeb(this.stackWeight);
    w.u8(Op.I32Sub);
    w.u8(Op.LocalTee);
    w.u32(this.stackLocal);
    w.bytes(this.setStack);
    w.u8(Op.LocalGet);
    w.u32(this.stackLocal);
    this.trapIfNegative(w, false);
  }

  /** After a call: budget = this function's level. Uncharged. */
  stackRestore(w: ByteWriter): void {
    w.u8(Op.LocalGet);
    w.u32(this.stackLocal);
    w.bytes(this.setStack);
  }

  /**
   * With memory.grow's result on the stack: refused += (result == -1); and, when it grew, fuel -=
   * (pages now - result) * fuelPerPage: pages are charged only once they exist (a grow refused by
   * the memory limit costs nothing, so the limit, not the fuel, reports it). Result kept.
   */
  afterGrow(w: ByteWriter): void {
    w.u8(Op.LocalTee);
    w.u32(this.scratchLocal);
    w.u8(Op.I32Const);
    w.sLeb(-1);
    w.u8(Op.I32Eq);
    w.bytes(this.getRefused);
    w.u8(Op.I32Add);
    w.bytes(this.setRefused);
    if (this.fuelPerPage > 0) {
      this.getFuel(w);
      w.u8(Op.MemorySize);
      w.u32(0);
      w.u8(Op.LocalGet);
      w.u32(this.scratchLocal);
      w.u8(Op.I32Sub); // pages grown, if it grew
      w.u8(Op.I32Const);
      w.sLeb(0);
      w.u8(Op.LocalGet);
      w.u32(this.scratchLocal);
      w.u8(Op.I32Const);
      w.sLeb(-1);
      w.u8(Op.I32Ne);
      w.u8(Op.Select);
      w.u8(Op.I64ExtendI32U);
      if (this.fuelPerPage !== 1) {
        w.u8(Op.I64Const);
        w.sLeb(this.fuelPerPage);
        w.u8(Op.I64Mul);
      }
      w.u8(Op.I64Sub);
      this.setFuel(w);
    }
    w.u8(Op.LocalGet);
    w.u32(this.scratchLocal);
  }
}

/** The bytes of global.get/global.set `index`. */
function globalOp(op: number, index: number): Uint8Array {
  const w = new ByteWriter(8);
  w.u8(op);
  w.u32(index);
  return w.toBytes();
}

/** Writes one planned insertion of cost `cost`. */
type EmitInsertion = (e: Emitter, w: ByteWriter, cost: number) => void;

/** The writer of each insertion kind (Ins). */
export const EMIT: Readonly<Record<number, EmitInsertion>> = {
  [Ins.Charge]: (e, w, cost) => e.charge(w, cost),
  [Ins.Entry]: (e, w, cost) => e.entry(w, cost),
  [Ins.LoopCheck]: (e, w, cost) => {
    e.charge(w, cost);
    e.check(w);
  },
  [Ins.ChargeAfterCall]: (e, w, cost) => e.chargeAfterSync(w, cost),
  [Ins.Flush]: (e, w) => e.flush(w),
  [Ins.Sync]: (e, w) => e.sync(w),
  [Ins.Reload]: (e, w) => e.reload(w),
  [Ins.BulkBytes]: (e, w) => e.lengthCharge(w),
  [Ins.AfterGrow]: (e, w) => e.afterGrow(w),
  [Ins.StackEnter]: (e, w) => e.stackEnter(w),
  [Ins.StackRestore]: (e, w) => e.stackRestore(w),
};
