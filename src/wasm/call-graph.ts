/**
 * Which calls may never return, in the sense that matters for exact fuel: a call that
 * ends the program (WASI proc_exit, reached from exit() or os._exit()) must end its basic
 * block, or the code after it would be charged without running. A defined function may
 * end the program if it can reach such an import through direct calls or through
 * call_indirect of the same signature into a function whose address is taken. Traps and endless loops do not count: programs
 * that trap are not required to be charged exactly, and endless loops run out of fuel.
 */
import { ByteReader } from "./bytes.ts";
import { ExternKind, type FuncType, type ImportEntry, readValType, type SectionSpan } from "./binary.ts";
import { InstrReader, Op, readLocals } from "./instr.ts";

/**
 * Imports that may end the program instead of returning. Other host functions return (or
 * throw to abort a run, which is no finished program, so its count need not be exact).
 *
 * @example
 * ```ts
 * meterModule(wasm, { exitImports: [...DEFAULT_EXIT_IMPORTS, "env.abort"] });
 * ```
 */
export const DEFAULT_EXIT_IMPORTS: readonly string[] = ["wasi_snapshot_preview1.proc_exit", "wasi_unstable.proc_exit"];

/**
 * Which calls may end the program, and which functions loop.
 *
 * @example
 * ```ts
 * const exits: CallExits = analyseCallExits(bytes, types, imports, funcTypes, spans, false);
 * if (exits.mayExit[callee]) console.log("the code after this call is charged only if it runs");
 * ```
 */
export interface CallExits {
  /** Per function index (imports first): 1 if a call to it may end the program. */
  mayExit: Uint8Array;
  /** Per type index: whether a call_indirect with that type may end the program. */
  indirectMayExit: Uint8Array;
  /** Per defined function: 1 if its body has a loop. */
  hasLoop: Uint8Array;
  /** Per defined function: 1 if its body calls anything (0: a leaf). */
  makesCalls: Uint8Array;
}

function signature(t: FuncType): string {
  return `${t.params.join(",")}>${t.results.join(",")}`;
}

/** Collects ref.func targets of a constant expression at `r.pos` (ends after its `end`). */
function readConstExpr(bytes: Uint8Array, r: ByteReader, taken: Set<number>): void {
  const ir = new InstrReader(bytes, r.pos, r.end);
  for (;;) {
    const op = ir.next();
    if (op === Op.RefFunc) taken.add(ir.a);
    if (op === Op.End) break;
  }
  r.pos = ir.pos;
}

/** Functions whose address is taken by element segments and global initialisers. */
function addressTaken(
  bytes: Uint8Array,
  elementSpan: SectionSpan | undefined,
  globalSpan: SectionSpan | undefined,
  taken: Set<number>,
): void {
  if (elementSpan) {
    const r = new ByteReader(bytes, elementSpan.start, elementSpan.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const flags = r.u32();
      if (flags > 7) r.fail(`unsupported element segment flags ${flags}`);
      if (flags === 2 || flags === 6) r.u32(); // table index
      if ((flags & 1) === 0) readConstExpr(bytes, r, taken); // active: offset
      if (flags & 3) {
        if (flags & 4) readValType(r); // reference type
        else r.u8(); // element kind (0 = funcref)
      }
      const count = r.u32();
      for (let j = 0; j < count; j++) {
        if (flags & 4) readConstExpr(bytes, r, taken);
        else taken.add(r.u32());
      }
    }
  }
  if (globalSpan) {
    const r = new ByteReader(bytes, globalSpan.start, globalSpan.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      readValType(r);
      r.u8();
      readConstExpr(bytes, r, taken);
    }
  }
}

/**
 * Analyses the call graph. `tablesVisible`: a table is imported or exported, so the
 * host may put anything (its own functions included) into it.
 *
 * @example
 * ```ts
 * const byId = new Map(readSections(bytes).map((s) => [s.id, s]));
 * const exits = analyseCallExits(
 *   bytes,
 *   readTypeSection(bytes, byId.get(SectionId.Type)!),
 *   readImportSection(bytes, byId.get(SectionId.Import)!),
 *   readU32Vector(bytes, byId.get(SectionId.Function)!),
 *   { code: byId.get(SectionId.Code), element: byId.get(SectionId.Element) },
 *   false,
 * );
 * ```
 */
export function analyseCallExits(
  bytes: Uint8Array,
  types: FuncType[],
  imports: ImportEntry[],
  funcTypes: number[],
  spans: { code?: SectionSpan; element?: SectionSpan; global?: SectionSpan },
  tablesVisible: boolean,
  exitImports: readonly string[] = DEFAULT_EXIT_IMPORTS,
): CallExits {
  const importedFuncs = imports.filter((i) => i.kind === ExternKind.Func);
  const nImported = importedFuncs.length;
  const total = nImported + funcTypes.length;
  const typeOf = (f: number) => (f < nImported ? importedFuncs[f]!.typeIndex : funcTypes[f - nImported]!);

  // Direct callees and call_indirect types of each defined function, flattened.
  const calleeStart = new Int32Array(funcTypes.length + 1);
  const callees: number[] = [];
  const indirectStart = new Int32Array(funcTypes.length + 1);
  const indirectTypes: number[] = [];
  const taken = new Set<number>();
  const hasLoop = new Uint8Array(funcTypes.length);
  const makesCalls = new Uint8Array(funcTypes.length);
  if (spans.code) {
    const r = new ByteReader(bytes, spans.code.start, spans.code.end);
    const count = r.u32();
    for (let f = 0; f < count; f++) {
      const size = r.u32();
      const ir = new InstrReader(bytes, r.pos, r.pos + size);
      readLocals(ir);
      calleeStart[f] = callees.length;
      indirectStart[f] = indirectTypes.length;
      while (!ir.atEnd) {
        const op = ir.next();
        if (op === Op.Call) {
          callees.push(ir.a);
          makesCalls[f] = 1;
        } else if (op === Op.CallIndirect) {
          indirectTypes.push(ir.a);
          makesCalls[f] = 1;
        } else if (op === Op.RefFunc) taken.add(ir.a);
        else if (op === Op.Loop) hasLoop[f] = 1;
      }
      r.pos += size;
    }
    calleeStart[count] = callees.length;
    indirectStart[count] = indirectTypes.length;
  }
  addressTaken(bytes, spans.element, spans.global, taken);

  const sigOfType = types.map(signature);
  const mayExit = new Uint8Array(total);
  for (let f = 0; f < nImported; f++) {
    const imp = importedFuncs[f]!;
    mayExit[f] = exitImports.includes(`${imp.module}.${imp.field}`) ? 1 : 0;
  }
  const exitingSignatures = new Set<string>();
  const indirectMayExit = (t: number) => tablesVisible || exitingSignatures.has(sigOfType[t]!);
  const takenList = [...taken].filter((f) => f < total);
  // Fixpoint: repeat until no function changes (the chains are short in practice).
  for (let changed = true; changed;) {
    changed = false;
    for (const f of takenList) if (mayExit[f]) exitingSignatures.add(sigOfType[typeOf(f)]!);
    for (let g = 0; g < funcTypes.length; g++) {
      const fi = nImported + g;
      if (mayExit[fi]) continue;
      let exits = false;
      for (let k = calleeStart[g]!; k < calleeStart[g + 1]! && !exits; k++) exits = mayExit[callees[k]!] === 1;
      for (let k = indirectStart[g]!; k < indirectStart[g + 1]! && !exits; k++) {
        exits = indirectMayExit(indirectTypes[k]!);
      }
      if (exits) {
        mayExit[fi] = 1;
        changed = true;
      }
    }
  }
  const byType = new Uint8Array(types.length);
  for (let t = 0; t < types.length; t++) byType[t] = indirectMayExit(t) ? 1 : 0;
  return { mayExit, indirectMayExit: byType, hasLoop, makesCalls };
}
