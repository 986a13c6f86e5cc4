/**
 * Build-time rewrite that adds deterministic fuel metering to a wasm module, since V8
 * has no fuel of its own. Counting follows wasmtime: every operator costs 1 except nop,
 * drop, block, loop, unreachable, return, else and end (0). The REMAINING fuel lives in an
 * exported mutable i64 global (`wasi_py_fuel`); exhaustion (fuel < 0) traps with
 * `unreachable` at function entry and at loop headers only. A second exported global
 * (`wasi_py_grow_refused`, i32) counts the memory.grow calls the host's maximum refused, so
 * the host can tell "reached its memory limit" from facts rather than from guest output.
 *
 * Each basic block's cost is charged once, at the block's start. Blocks are split wherever
 * control can enter or leave, and after every call that may end the program (proc_exit,
 * see ../call-graph.ts), so the code after such a call is charged only if it runs: a
 * program that finishes is charged exactly what wasmtime would count, plus the documented
 * extras for bulk memory and memory.grow. Two refinements keep the count exact while
 * charging less often: the code after a block, if or loop with no such call, return or
 * branch out of it is charged together with the code before it (it runs exactly once per
 * run of that code), and by default each function keeps the remaining fuel in a local,
 * written to the global only before calls, returns and traps and read back after calls.
 *
 * The module's defined memory also becomes an import `env.memory` without a maximum, so
 * the host creates it and decides how far it may grow. `.debug_*` and other custom
 * sections except `name` and `target_features` are dropped.
 */

import { readSections, SectionId, type SectionSpan } from "../binary.ts";
import { WasmFormatError } from "../bytes.ts";
import { analyseCallExits } from "../call-graph.ts";
import { assembleModule } from "./_assemble.ts";
import { meterCode } from "./_code.ts";
import { Emitter } from "./_emit.ts";
import { type ModuleInfo, readModuleInfo } from "./_module.ts";
import type { PlanConfig } from "./_plan.ts";
import { type MeterOptions, type ResolvedMeterOptions, resolveMeterOptions } from "./options.ts";
import type { MeterResult, MeterStats } from "./result.ts";

export { DEFAULT_BULK_MEMORY_SHIFT, DEFAULT_FUEL_PER_PAGE, fuelCost, ZERO_COST_OPS } from "./cost.ts";
export type { FuelIn, MeterOptions } from "./options.ts";
export type { MeterResult, MeterStats } from "./result.ts";
export { V8_MAX_FUNCTION_BODY_BYTES, V8_MAX_FUNCTION_LOCALS } from "./v8-limits.ts";
export { DEFAULT_STACK_BUDGET_BYTES, frameWeight } from "./stack.ts";

/**
 * Adds fuel metering to a module (see the file comment). Throws RangeError on a bad
 * option and WasmFormatError on input it cannot rewrite.
 *
 * @example
 * ```ts
 * const { bytes, stats } = meterModule(readFileSync("python-unmetered.wasm"));
 * console.log(`${stats.blocksCharged} blocks charged`);
 * const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory }, ...wasi });
 * (instance.exports.wasi_py_fuel as WebAssembly.Global).value = 1_000_000n;
 * ```
 */
export function meterModule(input: Uint8Array, options: MeterOptions = {}): MeterResult {
  const opts = resolveMeterOptions(options);
  const sections = readSections(input);
  const info = readModuleInfo(input, sections, opts);
  const stats = emptyStats(input.length, info);
  const cfg = planConfig(input, info, opts);
  const emitter = new Emitter(
    info.fuelGlobal,
    info.refusedGlobal,
    info.stackGlobal,
    opts.fuelIn === "local",
    opts.bulkShift,
    opts.fuelPerPage,
  );
  const code = (s: SectionSpan) => {
    const out = opts.instrument
      ? meterCode(input, s, info.paramCounts, emitter, stats, cfg)
      : input.subarray(s.start, s.end);
    stats.inputCodeBytes = s.end - s.start;
    stats.outputCodeBytes = out.length;
    return out;
  };
  const bytes = assembleModule(input, sections, info, opts, code);
  if (info.funcTypes.length > 0 && !info.byId.has(SectionId.Code)) {
    throw new WasmFormatError("function section without a code section");
  }
  stats.outputBytes = bytes.length;
  return { bytes, stats };
}

function emptyStats(inputBytes: number, info: ModuleInfo): MeterStats {
  return {
    inputBytes,
    outputBytes: 0,
    inputCodeBytes: 0,
    outputCodeBytes: 0,
    functions: 0,
    blocksCharged: 0,
    checks: 0,
    bulkCharges: 0,
    fuelGlobalIndex: info.fuelGlobal,
    importedMemoryPages: info.memoryLimits?.min,
    largestBodyBytes: 0,
  };
}

/** The planner's view of the module: which calls may end the program, which functions loop. */
function planConfig(input: Uint8Array, info: ModuleInfo, opts: ResolvedMeterOptions): PlanConfig {
  const { byId } = info;
  const callInfo = opts.instrument
    ? analyseCallExits(
      input,
      info.types,
      info.imports,
      info.funcTypes,
      { code: byId.get(SectionId.Code), element: byId.get(SectionId.Element), global: byId.get(SectionId.Global) },
      info.tablesVisible,
      opts.exitImports,
    )
    : undefined;
  return {
    exits: opts.splitAllCalls ? undefined : callInfo,
    bulkShift: opts.bulkShift,
    fuelPerPage: opts.fuelPerPage,
    local: opts.fuelIn === "local",
    fuelIn: opts.fuelIn,
    hasLoop: callInfo?.hasLoop ?? new Uint8Array(info.funcTypes.length),
    hoist: opts.hoist,
    perOperator: opts.perOperator,
    stack: opts.instrument && opts.stackBudgetBytes > 0,
    makesCalls: callInfo?.makesCalls ?? new Uint8Array(info.funcTypes.length),
    importedFuncs: info.importedFuncs,
  };
}
