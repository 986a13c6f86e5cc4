/**
 * Block planning: walks one body's operators and records where charges, checks, syncs
 * and flushes go, and how much each charge is (plus the uncharged code: the refused-grow count
 * after memory.grow, the stack budget at entry and after calls). Nothing is written here (see _code.ts);
 * keeping the decision apart from the bytes is what lets the per-operator reference mode
 * and the block-based mode share everything after it.
 *
 * Positions are input offsets; a block's charge slot is reserved when the block opens and
 * its cost filled in when it closes, so insertions come out sorted by position.
 *
 * Besides splitting basic blocks, it hoists: the code right after the `end` of a block, if
 * or loop whose inside has no call that may end the program, return, unreachable or branch
 * out of it runs exactly once each time the code before it runs (for a program that
 * finishes), so its cost is added to that earlier charge instead of getting its own.
 */
import type { InstrReader } from "../instr.ts";
import { Op } from "../instr.ts";
import type { CallExits } from "../call-graph.ts";
import { fuelCost } from "./cost.ts";
import { Ins, type Scratch } from "./_insertions.ts";
import type { FuelIn } from "./options.ts";

const FRAME_REACHABLE = 1; // entered from live code
const FRAME_LOOP = 2;
const FRAME_TARGETED = 4; // a branch in live code goes to this label
const FRAME_IF = 8;

/** Where code goes into one function body: the result of the analysis pass. */
export interface BodyPlan {
  count: number;
  needsScratchLocal: boolean;
  /** The function makes calls and keeps the stack budget (then it needs an i32 local for it). */
  needsStackLocal: boolean;
}

/** What the planner needs to know about the module and the options. */
export interface PlanConfig {
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
  /** Keep the native stack budget (see stack.ts); then makesCalls says which functions call. */
  stack: boolean;
  /** Per defined function: 1 if it calls anything. */
  makesCalls: Uint8Array;
  /** Imported functions: calls to indices below this go to the host. */
  importedFuncs: number;
}

/** Plans one body at a time into its Scratch (see the file comment). */
export class BodyPlanner {
  private r!: InstrReader;
  private cfg!: PlanConfig;
  /** Insertions recorded so far. */
  private n = 0;
  /** Insertion slot of the open block's charge. */
  private slot = -1;
  /** Cost of the open block so far. */
  private cost = 0;
  private reachable = true;
  /** Open control frames; the function body is the outermost. */
  private depth = 1;
  private needsScratchLocal = false;
  /** Insertion slot reserved at entry for the stack budget (Ins.None until a call is seen). */
  private stackSlot = -1;

  constructor(private readonly s: Scratch) {}

  /** Plans the body `r` is positioned in (after its locals). */
  plan(r: InstrReader, cfg: PlanConfig): BodyPlan {
    this.r = r;
    this.cfg = cfg;
    this.n = 0;
    this.slot = -1;
    this.cost = 0;
    this.reachable = true;
    this.depth = 1;
    this.needsScratchLocal = false;
    const end = r.end;
    this.s.frameFlags[0] = FRAME_REACHABLE;
    this.s.frameEscape[0] = 0;

    this.open(r.pos, Ins.Entry);
    this.stackSlot = cfg.stack ? this.add(r.pos, Ins.None) : -1;
    while (this.depth > 0) {
      if (r.pos >= end) r.fail("function body ends before its final `end`");
      const op = r.next();
      if (this.reachable) this.live(op);
      else this.dead(op);
    }
    if (r.pos !== end) r.fail("function body has bytes after its final `end`");
    const needsStackLocal = this.stackSlot >= 0 && this.s.insKind[this.stackSlot] === Ins.StackEnter;
    return { count: this.n, needsScratchLocal: this.needsScratchLocal, needsStackLocal };
  }

  private add(pos: number, kind: number): number {
    const s = this.s;
    if (this.n === s.insPos.length) s.growInsertions();
    s.insPos[this.n] = pos;
    s.insKind[this.n] = kind;
    s.insCost[this.n] = 0;
    return this.n++;
  }

  private open(pos: number, kind: number): void {
    this.slot = this.add(pos, kind);
    this.cost = 0;
  }

  private close(): void {
    this.s.insCost[this.slot] = this.cost;
  }

  /** Continues charging into an earlier slot (hoisting). */
  private reopen(earlier: number): void {
    this.slot = earlier;
    this.cost = this.s.insCost[earlier]!;
  }

  /** Records that control may leave the frames inside frame index `to` (-1: the function). */
  private escape(to: number): void {
    const esc = this.s.frameEscape;
    if (to < esc[this.depth - 1]!) esc[this.depth - 1] = to;
  }

  private target(relative: number): void {
    if (relative >= this.depth) this.r.fail(`branch depth ${relative} out of range`, this.r.start);
    const index = this.depth - 1 - relative;
    this.s.frameFlags[index]! |= FRAME_TARGETED;
    this.escape(index);
  }

  private push(flags: number): void {
    const s = this.s;
    if (this.depth === s.frameFlags.length) s.growFrames();
    s.frameFlags[this.depth] = flags;
    s.frameEntrySlot[this.depth] = this.slot;
    s.frameEscape[this.depth] = this.depth;
    this.depth++;
  }

  /** Pops a frame; returns its index. Escapes beyond it also escape its parent. */
  private pop(): number {
    const index = --this.depth;
    const esc = this.s.frameEscape;
    const e = esc[index]!;
    if (index > 0 && e < esc[index - 1]!) esc[index - 1] = e;
    return index;
  }

  /** After the end of frame `index`, live again: a new block, or the frame's entry block. */
  private continueAfter(index: number): void {
    const clean = this.s.frameEscape[index]! >= index;
    if (this.cfg.hoist && clean) this.reopen(this.s.frameEntrySlot[index]!);
    else this.open(this.r.pos, Ins.Charge);
  }

  /** Dead code: never executed, so nothing is charged; only follow the nesting. */
  private dead(op: number): void {
    switch (op) {
      case Op.Block:
        this.push(0);
        break;
      case Op.If:
        this.push(FRAME_IF);
        break;
      case Op.Loop:
        this.push(FRAME_LOOP);
        break;
      case Op.Else:
        if (this.s.frameFlags[this.depth - 1]! & FRAME_REACHABLE) {
          this.reachable = true;
          this.open(this.r.pos, Ins.Charge);
        }
        break;
      case Op.End:
        this.deadEnd();
        break;
    }
  }

  private deadEnd(): void {
    const index = this.pop();
    if (index === 0) return;
    // Live again after the end if a live branch went to the label (block), or the
    // condition may have skipped to it (if: kept simple, whatever the arms did).
    // A loop's end is only reached by falling through, which is dead here.
    const f = this.s.frameFlags[index]!;
    const live = f & FRAME_LOOP ? false : f & FRAME_IF ? f & FRAME_REACHABLE : f & FRAME_TARGETED;
    if (live) {
      this.reachable = true;
      this.continueAfter(index);
    }
  }

  /** Live code: charge the operator, then split blocks and place syncs where it says. */
  private live(op: number): void {
    this.charge(op);
    switch (op) {
      case Op.Block:
        this.push(FRAME_REACHABLE); // entered unconditionally: no new basic block
        break;
      case Op.Loop:
        this.close();
        this.push(FRAME_REACHABLE | FRAME_LOOP);
        this.open(this.r.pos, Ins.LoopCheck);
        break;
      case Op.If:
        this.close();
        this.push(FRAME_REACHABLE | FRAME_IF);
        this.open(this.r.pos, Ins.Charge);
        break;
      case Op.Else:
        this.close();
        this.open(this.r.pos, Ins.Charge);
        break;
      case Op.End:
        this.liveEnd();
        break;
      case Op.Br:
      case Op.BrIf:
        this.branch(op);
        break;
      case Op.BrTable:
        this.brTable();
        break;
      case Op.Return:
      case Op.Unreachable:
        this.escape(-1);
        this.leave(true);
        this.reachable = false;
        break;
      case Op.Call:
      case Op.CallIndirect:
        this.call(op);
        break;
      case Op.MemoryCopy:
      case Op.MemoryFill:
      case Op.MemoryInit:
        if (this.cfg.bulkShift >= 0) this.lengthCharge(Ins.BulkBytes);
        break;
      case Op.MemoryGrow:
        this.add(this.r.pos, Ins.AfterGrow);
        this.needsScratchLocal = true;
        break;
    }
  }

  /** Adds the operator's cost to the open block, or (reference mode) charges it on its own. */
  private charge(op: number): void {
    if (this.cfg.perOperator) {
      const c = fuelCost(op);
      if (c > 0) {
        const i = this.add(this.r.start, Ins.Charge); // (add may replace s.insCost: index it afterwards)
        this.s.insCost[i] = c;
      }
    } else {
      this.cost += fuelCost(op);
    }
  }

  private liveEnd(): void {
    const s = this.s;
    const index = this.pop();
    // No branch target (a loop's end, or a block no live branch goes to): the code
    // after it continues the same basic block.
    const flags = s.frameFlags[index]!;
    if (index > 0 && flags & FRAME_LOOP) {
      // A loop's end is no branch target. The code after it either continues this
      // block or, for a clean loop, is hoisted to the code before the loop.
      if (this.cfg.hoist && s.frameEscape[index]! >= index) {
        this.close();
        this.reopen(s.frameEntrySlot[index]!);
      }
      return;
    }
    if (index > 0 && !(flags & (FRAME_IF | FRAME_TARGETED))) return;
    this.close();
    if (index > 0) this.continueAfter(index);
    else if (this.cfg.local) this.add(this.r.start, Ins.Flush);
  }

  /** Closes the block; flushes first if control leaves the function (local mode). */
  private leave(leavesFunction: boolean): void {
    this.close();
    if (this.cfg.local && leavesFunction) this.add(this.r.start, Ins.Flush);
  }

  /** br and br_if; a branch to the function's label is a return. */
  private branch(op: number): void {
    const to = this.r.a;
    this.target(to);
    this.leave(to === this.depth - 1);
    if (op === Op.Br) this.reachable = false;
    else this.open(this.r.pos, Ins.Charge);
  }

  private brTable(): void {
    const r = this.r;
    let toFunction = false;
    for (let i = 0; i < r.listLength; i++) {
      this.target(r.list[i]!);
      if (r.list[i] === this.depth - 1) toFunction = true;
    }
    this.leave(toFunction);
    this.reachable = false;
  }

  private call(op: number): void {
    const r = this.r;
    const local = this.cfg.local;
    const exits = this.cfg.exits;
    const mayExit = !exits || (op === Op.Call ? exits.mayExit[r.a] : exits.indirectMayExit[r.a]);
    if (mayExit) {
      // The callee may end the program (proc_exit): the code after the call is
      // charged only once it runs.
      this.escape(-1);
      this.close();
      if (local) this.add(r.start, Ins.Sync);
      this.open(r.pos, local ? Ins.ChargeAfterCall : Ins.Charge);
    } else if (local) {
      // Returns (or traps): the block goes on; the callee charges the global itself, so the
      // local is synced before the call and reloaded after it.
      this.add(r.start, Ins.Sync);
      this.add(r.pos, Ins.Reload);
    }
    this.callStack(op);
  }

  /**
   * Stack budget: a function that calls takes its frame from the budget at entry, and puts the
   * budget back to its own level after each call into a function that may have taken from it
   * (any defined function that calls, or any call_indirect): however the callee left, by return,
   * branch or br_table, the caller's level is right again. Placed after the call's other
   * insertions at the same position.
   */
  private callStack(op: number): void {
    if (this.stackSlot < 0) return;
    this.s.insKind[this.stackSlot] = Ins.StackEnter;
    const callee = this.r.a - this.cfg.importedFuncs;
    if (op === Op.Call && (callee < 0 || this.cfg.makesCalls[callee] !== 1)) return;
    this.add(this.r.pos, Ins.StackRestore);
  }

  /** A charge proportional to the i32 count on the stack (bytes or pages). */
  private lengthCharge(kind: number): void {
    this.add(this.r.start, kind);
    this.needsScratchLocal = true;
  }
}
