/**
 * Writes the output module around the rewritten code: copies the sections it keeps,
 * drops the custom sections it does not, replaces the defined memory by an import,
 * appends the fuel global and its export (creating those sections when the input has
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

/** The three entries the rewrite adds to the module. */
interface Additions {
  memoryImport: EntryWriter;
  fuelGlobal: EntryWriter;
  fuelExport: EntryWriter;
}

function additions(info: ModuleInfo, opts: ResolvedMeterOptions): Additions {
  return {
    memoryImport: (w) => {
      w.name(opts.memModule);
      w.name(opts.memField);
      w.u8(ExternKind.Memory);
      w.u8(LimitsFlags.MinOnly); // no maximum: the host's Memory object decides
      w.u32(info.memoryLimits!.min);
    },
    fuelGlobal: (w) => {
      w.u8(ValType.I64);
      w.u8(Mutability.Var);
      w.u8(Op.I64Const);
      w.s64(opts.initialFuel);
      w.u8(Op.End);
    },
    fuelExport: (w) => {
      w.name(opts.fuelExportName);
      w.u8(ExternKind.Global);
      w.u32(info.fuelGlobal);
    },
  };
}

/** A new vector section holding one entry. */
function fresh(write: EntryWriter): ByteWriter {
  const w = new ByteWriter(64);
  w.u32(1);
  write(w);
  return w;
}

/** Copies a vector section, appending one entry written by `extra`. */
function appendToVector(bytes: Uint8Array, span: SectionSpan, extra: EntryWriter): ByteWriter {
  const r = new ByteReader(bytes, span.start, span.end);
  const n = r.u32();
  const w = new ByteWriter(span.end - span.start + 64);
  w.u32(n + 1);
  w.bytes(bytes, r.pos, span.end);
  extra(w);
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
    missing.push({ id: SectionId.Import, payload: () => fresh(add.memoryImport) });
  }
  if (!byId.has(SectionId.Global)) missing.push({ id: SectionId.Global, payload: () => fresh(add.fuelGlobal) });
  if (!byId.has(SectionId.Export)) missing.push({ id: SectionId.Export, payload: () => fresh(add.fuelExport) });

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
      return memoryImported ? appendToVector(input, s, add.memoryImport) : input.subarray(s.start, s.end);
    case SectionId.Memory:
      // Its only memory is now imported: the section goes.
      return memoryImported ? undefined : input.subarray(s.start, s.end);
    case SectionId.Global:
      return appendToVector(input, s, add.fuelGlobal);
    case SectionId.Export:
      return appendToVector(input, s, add.fuelExport);
    case SectionId.Code:
      return code(s);
    default:
      return input.subarray(s.start, s.end);
  }
}
