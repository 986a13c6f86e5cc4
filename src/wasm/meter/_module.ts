/**
 * Reads what the rewrite needs to know about the input module before writing anything:
 * types, imports, each defined function's parameter count, where the fuel global goes,
 * the memory to turn into an import, and whether tables are visible to the host. All the
 * input's structural errors surface here, before a byte of output exists.
 */
import {
  ExternKind,
  type FuncType,
  type ImportEntry,
  type Limits,
  readImportSection,
  readMemoryLimits,
  readTypeSection,
  readU32Vector,
  SectionId,
  type SectionSpan,
} from "../binary.ts";
import { ByteReader, WasmFormatError } from "../bytes.ts";
import type { ResolvedMeterOptions } from "./options.ts";

/** The input module, as far as the rewrite is concerned. */
export interface ModuleInfo {
  /** Non-custom sections by id. */
  byId: Map<number, SectionSpan>;
  types: FuncType[];
  imports: ImportEntry[];
  /** Type index of each defined function. */
  funcTypes: number[];
  /** Parameter count of each defined function (its first local index for new locals). */
  paramCounts: number[];
  /** Index the fuel global gets: after every imported and defined global. */
  fuelGlobal: number;
  /** Index the grow-refused counter gets (instrumented output only): right after the fuel global. */
  refusedGlobal: number;
  /** Index the stack budget global gets (instrumented, with a budget): after the counter. */
  stackGlobal: number;
  /** Number of imported functions (function indices below it are the host's). */
  importedFuncs: number;
  /** The single defined memory that becomes an import, if any. */
  memoryLimits: Limits | undefined;
  /** A table is imported or exported, so the host may put anything into it. */
  tablesVisible: boolean;
}

/** Reads the module's structure; throws WasmFormatError on input the rewrite cannot take. */
export function readModuleInfo(input: Uint8Array, sections: SectionSpan[], opts: ResolvedMeterOptions): ModuleInfo {
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
  const fuelGlobal = importedGlobals + countVector(input, byId.get(SectionId.Global));

  const exportSpan = byId.get(SectionId.Export);
  const exportNames = exportSpan ? readExportNames(input, exportSpan) : [];
  for (const name of [opts.fuelExportName, opts.growRefusedExportName, opts.stackLeftExportName]) {
    if (exportNames.includes(name)) throw new WasmFormatError(`module already exports "${name}" (metered twice?)`);
  }
  const memoryLimits = memoryToImport(input, byId.get(SectionId.Memory), imports, opts.importMemory);
  const tablesVisible = imports.some((i) => i.kind === ExternKind.Table) ||
    (exportSpan !== undefined && readExportKinds(input, exportSpan).includes(ExternKind.Table));
  const importedFuncs = imports.filter((i) => i.kind === ExternKind.Func).length;
  return {
    byId,
    types,
    imports,
    funcTypes,
    paramCounts,
    fuelGlobal,
    refusedGlobal: fuelGlobal + 1,
    stackGlobal: fuelGlobal + 2,
    importedFuncs,
    memoryLimits,
    tablesVisible,
  };
}

/** The memory to turn into an import: the single defined memory, if there is one. */
function memoryToImport(
  input: Uint8Array,
  memorySpan: SectionSpan | undefined,
  imports: ImportEntry[],
  importMemory: boolean,
): Limits | undefined {
  if (!importMemory || !memorySpan) return undefined;
  const importedMemories = imports.filter((i) => i.kind === ExternKind.Memory).length;
  const r = new ByteReader(input, memorySpan.start, memorySpan.end);
  const n = r.u32();
  if (n === 0) return undefined;
  if (n > 1 || importedMemories > 0) throw new WasmFormatError("modules with several memories are not supported");
  return readMemoryLimits(r);
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
