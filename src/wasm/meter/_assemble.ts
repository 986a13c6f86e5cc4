/**
 * Writes the output module around the rewritten code: copies the sections it keeps,
 * drops the custom sections it does not, replaces the defined memory by an import,
 * appends the fuel global, the grow-refused counter and their exports (creating those sections when the input has
 * none, each at its place in the required order).
 */
import {
  ExternKind,
  LimitsFlags,
  Mutability,
  SECTION_ORDER,
  SectionId,
  type SectionSpan,
  ValType,
  WASM_MAGIC_AND_VERSION,
  writeSection,
} from "../binary.ts";
import { ByteReader, ByteWriter } from "../bytes.ts";
import { Op } from "../instr.ts";
import type { ModuleInfo } from "./_module.ts";
import type { ResolvedMeterOptions } from "./options.ts";

/** Writes one entry into a vector section. */
type EntryWriter = (w: ByteWriter) => void;

/** The entries the rewrite adds to the module. */
interface Additions {
  memoryImport: EntryWriter;
  /** The fuel global, then (instrumented output) the grow-refused counter and the stack budget. */
  globals: EntryWriter[];
  /** Their exports, in the same order. */
  exports: EntryWriter[];
}

function additions(info: ModuleInfo, opts: ResolvedMeterOptions): Additions {
  const fuelGlobal: EntryWriter = (w) => {
    w.u8(ValType.I64);
    w.u8(Mutability.Var);
    w.u8(Op.I64Const);
    w.s64(opts.initialFuel);
    w.u8(Op.End);
  };
  const i32Global = (value: number): EntryWriter => (w) => {
    w.u8(ValType.I32);
    w.u8(Mutability.Var);
    w.u8(Op.I32Const);
    w.sLeb(value);
    w.u8(Op.End);
  };
  const exportOf = (name: string, index: number): EntryWriter => (w) => {
    w.name(name);
    w.u8(ExternKind.Global);
    w.u32(index);
  };
  const globals = [fuelGlobal];
  const exports = [exportOf(opts.fuelExportName, info.fuelGlobal)];
  if (opts.instrument) {
    globals.push(i32Global(0));
    exports.push(exportOf(opts.growRefusedExportName, info.refusedGlobal));
    if (opts.stackBudgetBytes > 0) {
      globals.push(i32Global(opts.stackBudgetBytes));
      exports.push(exportOf(opts.stackLeftExportName, info.stackGlobal));
    }
  }
  return {
    memoryImport: (w) => {
      w.name(opts.memModule);
      w.name(opts.memField);
      w.u8(ExternKind.Memory);
      w.u8(LimitsFlags.MinOnly); // no maximum: the host's Memory object decides
      w.u32(info.memoryLimits!.min);
    },
    globals,
    exports,
  };
}

/** A new vector section holding the given entries. */
function fresh(entries: EntryWriter[]): ByteWriter {
  const w = new ByteWriter(64);
  w.u32(entries.length);
  for (const write of entries) write(w);
  return w;
}

/** Copies a vector section, appending the entries written by `extra`. */
function appendToVector(bytes: Uint8Array, span: SectionSpan, extra: EntryWriter[]): ByteWriter {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const w = new ByteWriter(span.end - span.start + 64);
  w.u32(n + extra.length);
  w.bytes(bytes, r.pos, span.end);
  for (const write of extra) write(w);
  return w;
}

/**
 * Writes the output module; `code` gives the payload of the code section (rewritten or
 * not). Returns the module's bytes.
 */
export function assembleModule(
  input: Uint8Array,
  sections: SectionSpan[],
  info: ModuleInfo,
  opts: ResolvedMeterOptions,
  code: (span: SectionSpan) => ByteWriter | Uint8Array,
): Uint8Array {
  const add = additions(info, opts);
  const { byId, memoryLimits } = info;
  // Sections this rewrite must create when the input has none.
  const missing: { id: number; payload: () => ByteWriter }[] = [];
  if (memoryLimits && !byId.has(SectionId.Import)) {
    missing.push({ id: SectionId.Import, payload: () => fresh([add.memoryImport]) });
  }
  if (!byId.has(SectionId.Global)) missing.push({ id: SectionId.Global, payload: () => fresh(add.globals) });
  if (!byId.has(SectionId.Export)) missing.push({ id: SectionId.Export, payload: () => fresh(add.exports) });

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
      if (opts.keep.has(s.name)) writeSection(out, s.id, input.subarray(s.start, s.end));
      continue;
    }
    flushMissingBefore(SECTION_ORDER[s.id]!);
    const payload = sectionPayload(input, s, memoryLimits !== undefined, add, code);
    if (payload) writeSection(out, s.id, payload);
  }
  flushMissingBefore(Infinity);
  return out.toBytes();
}

/** The output payload of one non-custom input section; undefined: the section goes. */
function sectionPayload(
  input: Uint8Array,
  s: SectionSpan,
  memoryImported: boolean,
  add: Additions,
  code: (span: SectionSpan) => ByteWriter | Uint8Array,
): ByteWriter | Uint8Array | undefined {
  switch (s.id) {
    case SectionId.Import:
      return memoryImported ? appendToVector(input, s, [add.memoryImport]) : input.subarray(s.start, s.end);
    case SectionId.Memory:
      // Its only memory is now imported: the section goes.
      return memoryImported ? undefined : input.subarray(s.start, s.end);
    case SectionId.Global:
      return appendToVector(input, s, add.globals);
    case SectionId.Export:
      return appendToVector(input, s, add.exports);
    case SectionId.Code:
      return code(s);
    default:
      return input.subarray(s.start, s.end);
  }
}
