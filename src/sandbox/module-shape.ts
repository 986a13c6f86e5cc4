/// <reference path="../platform/webassembly.d.ts" />
/**
 * Checks that an interpreter module fits the sandbox before any worker instantiates it: it may
 * import only WASI preview1 and (when metered) env.memory, must export _start and a memory, and
 * tells us whether it counts fuel and how large its imported memory starts.
 */
import { ExternKind, readImportSection, readSections, SectionId } from "../wasm/binary.ts";
import { WASI_MODULE } from "../wasi/host.ts";

/** Import module of the memory a metered interpreter imports (so the host can bound its maximum). */
export const ENV_MODULE = "env";
/** Name of the imported memory (env.memory) and of an unmetered module's exported memory. */
export const MEMORY_NAME = "memory";
/** Exported i64 global of a metered module: the remaining fuel (the rewriter's default name). */
export const FUEL_EXPORT = "wasi_py_fuel";
/** The WASI command entry point. */
export const START_EXPORT = "_start";

/**
 * An exported i32 global a module may count refused memory.grow calls in (a metering pass can add
 * it). When present, "memory reached its limit" is that exact fact; otherwise it is approximated
 * from the memory's size at the end (see memoryAtMax in _worker.ts).
 */
export const GROW_REFUSED_EXPORT = "wasi_py_grow_refused";

/**
 * An exported i32 global holding the module's native stack budget left (the metering pass adds
 * it, see src/wasm/meter/stack.ts): below 0 after a trap means the recursion outgrew it.
 */
export const STACK_LEFT_EXPORT = "wasi_py_stack_left";

/**
 * `RunResult.detail` of a run that crashed because a recursion outgrew the module's stack budget.
 *
 * @example
 * ```ts
 * import { run, STACK_EXHAUSTED_DETAIL } from "wasi-py";
 *
 * const r = await run("x = ()\nfor i in range(3 * 10**5): x = (x,)\nhash(x)", { fuel: 1e11 });
 * r.outcome === "crashed" && r.detail === STACK_EXHAUSTED_DETAIL; // true
 * ```
 */
export const STACK_EXHAUSTED_DETAIL = "C stack exhausted (native recursion too deep)";

/**
 * An interpreter module the sandbox cannot run (passed as `SandboxOptions.wasm`); the message
 * says what is missing or extra. Sandbox.create rejects with it before any worker instantiates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModuleShapeError, Sandbox } from "wasi-py";
 *
 * // A valid module with nothing in it (magic and version only): no _start, no memory.
 * const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
 * await assert.rejects(Sandbox.create({ wasm: empty }), ModuleShapeError);
 * ```
 */
export class ModuleShapeError extends Error {
  /** Always "ModuleShapeError". */
  override name = "ModuleShapeError";
}

/** How the interpreter module is shaped: metered (imports env.memory, exports the fuel global) or plain. */
export interface ModuleShape {
  metered: boolean;
  /** Initial pages of the imported env.memory; undefined for a module that exports its own memory. */
  memoryInitialPages: number | undefined;
}

/** Checks a compiled interpreter module (and reads its bytes for the memory limits); throws ModuleShapeError. */
export function moduleShape(bytes: Uint8Array, module: WebAssembly.Module): ModuleShape {
  const imports = WebAssembly.Module.imports(module);
  const exports = WebAssembly.Module.exports(module);
  const isEnvMemory = (i: WebAssembly.ModuleImportDescriptor) => i.module === ENV_MODULE && i.name === MEMORY_NAME;
  const importsMemory = imports.some((i) => isEnvMemory(i) && i.kind === "memory");
  const metered = exports.some((e) => e.name === FUEL_EXPORT && e.kind === "global");
  for (const i of imports) {
    if (i.module !== WASI_MODULE && !isEnvMemory(i)) {
      throw new ModuleShapeError(
        `interpreter module imports ${i.module}.${i.name}, which the sandbox does not provide`,
      );
    }
  }
  if (!exports.some((e) => e.name === START_EXPORT && e.kind === "function")) {
    throw new ModuleShapeError(`interpreter module has no ${START_EXPORT} export`);
  }
  let memoryInitialPages: number | undefined;
  if (importsMemory) {
    const section = readSections(bytes).find((s) => s.id === SectionId.Import)!;
    const entry = readImportSection(bytes, section).find((e) => e.kind === ExternKind.Memory);
    memoryInitialPages = entry?.limits?.min ?? 1;
  } else if (!exports.some((e) => e.name === MEMORY_NAME && e.kind === "memory")) {
    throw new ModuleShapeError(
      `interpreter module neither imports ${ENV_MODULE}.${MEMORY_NAME} nor exports its memory`,
    );
  }
  return { metered, memoryInitialPages };
}
