/**
 * The vocabulary between planning and writing a body: the kinds of code inserted into a
 * function (Ins), and the reusable scratch arrays where the planner records them (and
 * keeps its stack of open control frames). Typed arrays reused across all functions,
 * because the interpreter has ~12,000 of them and allocation per body would show.
 */

/** Kinds of code inserted into a function body. */
export const Ins = {
  None: 0,
  /** fuel -= cost (a block's start). */
  Charge: 1,
  /** Function entry: (load fuel), charge, trap if negative. */
  Entry: 2,
  /** Loop header: charge, trap if negative. */
  LoopCheck: 3,
  /** After a call that may end the program: reload the local, charge the new block. */
  ChargeAfterCall: 4,
  /** Before leaving the function (local mode): bring the global up to date. */
  Flush: 5,
  /** Before a call (local mode): bring the global up to date (global = local). */
  Sync: 9,
  /** After a call that returned (local mode): local = global (the callee charged the global). */
  Reload: 10,
  /** Before memory.copy/fill/init: charge by the byte count on the stack. */
  BulkBytes: 6,
  /** After memory.grow: count a refusal (result -1) in the grow-refused global, else charge the pages grown; result kept. */
  AfterGrow: 11,
  /** Function entry of a function that calls: take its frame from the stack budget, trap below 0. */
  StackEnter: 12,
  /** After a call that may have taken from the stack budget: put it back to this function's level. */
  StackRestore: 13,
} as const;

/** Reusable, growable scratch arrays for the per-function analysis. */
export class Scratch {
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
