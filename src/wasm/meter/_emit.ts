/**
 * The code the rewriter inserts, byte by byte: charges, exhaustion checks, syncs and
 * flushes of the fuel local, and the length-proportional charges of bulk memory and
 * memory.grow. One class so that the "global" and "local" fuel modes (MeterOptions.fuelIn)
 * are two branches of the same small methods; EMIT maps each planned insertion kind to
 * the method that writes it.
 */
import { EMPTY_BLOCK_TYPE } from "../binary.ts";
import { ByteWriter } from "../bytes.ts";
import { Op } from "../instr.ts";
import { Ins } from "./_insertions.ts";

/**
 * Writes the inserted code. In "global" mode every charge updates the global. In "local"
 * mode a function keeps the fuel it has spent since it last synced in a local (zero at
 * entry, as wasm locals are): a charge only adds to that local, and the global is brought
 * up to date (global -= spent) before calls, returns and traps.
 */
export class Emitter {
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
    w.u8(EMPTY_BLOCK_TYPE);
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

  /** Function entry: charge the first block, then check. */
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
  [Ins.BulkBytes]: (e, w) => e.lengthCharge(w, false),
  [Ins.GrowPages]: (e, w) => e.lengthCharge(w, true),
};
