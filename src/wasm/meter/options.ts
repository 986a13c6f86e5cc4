/**
 * What the metering rewrite can be asked to do (MeterOptions), its defaults, and the
 * checks that turn a bad option into a RangeError before any input is read. The rest of
 * the rewriter only sees ResolvedMeterOptions, where every default is filled in.
 */
import { DEFAULT_BULK_MEMORY_SHIFT, DEFAULT_FUEL_PER_PAGE } from "./cost.ts";
import { DEFAULT_STACK_BUDGET_BYTES } from "./stack.ts";

/**
 * Where a function keeps its charges (see MeterOptions.fuelIn).
 *
 * @example
 * ```ts
 * const fuelIn: FuelIn = "loops";
 * meterModule(wasm, { fuelIn });
 * ```
 */
export type FuelIn = "global" | "local" | "loops";

/** The accepted values of FuelIn, for validation. */
const FUEL_IN_VALUES: readonly string[] = ["global", "local", "loops"];

/**
 * Options of meterModule; every one has a default.
 *
 * @example
 * ```ts
 * const options: MeterOptions = { fuelExportName: "fuel", bulkMemoryShift: -1, perOperator: true };
 * const { bytes } = meterModule(wasm, options);
 * ```
 */
export interface MeterOptions {
  /** Export name of the fuel global. Default "wasi_py_fuel". */
  fuelExportName?: string;
  /**
   * Export name of an i32 global counting the memory.grow calls that returned -1 (refused by
   * the host's memory maximum), so the host knows exactly whether the guest hit its memory
   * limit. Added when instrumenting. Default "wasi_py_grow_refused".
   */
  growRefusedExportName?: string;
  /**
   * Export name of the i32 global holding the native stack budget left, in estimated bytes
   * (see stackBudgetBytes). Default "wasi_py_stack_left".
   */
  stackLeftExportName?: string;
  /**
   * Deterministic stack exhaustion: every function that makes calls subtracts an estimate of
   * its native frame (64 + 8 bytes per parameter and local) from a budget at entry and traps
   * when it goes below 0; its caller puts the budget back after the call returns. Deep
   * recursion then ends at the same call on every run and runtime, before the engine's own
   * stack runs out (whose depth depends on the engine, its stack size and its compiler tier).
   * An export called by the host keeps its own frame taken when it returns (no caller inside the
   * module puts it back): a host calling exports repeatedly on one instance resets the global.
   * 0 turns it off. Default DEFAULT_STACK_BUDGET_BYTES.
   */
  stackBudgetBytes?: number;
  /** Initial value of the fuel global, before the host sets it. Default 0 (fail closed). */
  initialFuel?: bigint;
  /** Turn the defined memory into an import without maximum. Default true. */
  importMemory?: boolean;
  /** Module and field name of that import. Default ["env", "memory"]. */
  memoryImport?: readonly [string, string];
  /**
   * memory.copy / memory.fill / memory.init are charged 1 unit per 2^shift bytes on top
   * of their operator cost (a byte loop would cost more; so does wasmtime's copy in time).
   * Default 3: one unit per 8 bytes. -1 disables the extra charge.
   */
  bulkMemoryShift?: number;
  /**
   * A memory.grow that grew is charged this many units per page it added, on top of its cost (a
   * refused grow costs only the operator). Default DEFAULT_FUEL_PER_PAGE.
   */
  fuelPerPage?: number;
  /**
   * Insert the charges and checks. Default true. With false only the module-level changes
   * are made (memory import, fuel global and its export, custom sections): a module with
   * the same interface for the host, for measuring the metering overhead.
   */
  instrument?: boolean;
  /**
   * Where a function keeps its fuel: "global" updates the global at every block; "local"
   * keeps the remaining fuel in a local (read from the global at entry and after calls,
   * written back before calls, returns and traps); "loops" does that only in functions with
   * a loop (where many blocks run per call) and uses the global elsewhere. Same counts every way.
   * Default "local", which measured fastest on CPython under V8.
   */
  fuelIn?: FuelIn;
  /**
   * Charge the code after a block/if with no call, return or branch out of it together
   * with the code before it (it runs exactly once per run of that code). Default true.
   */
  hoist?: boolean;
  /**
   * Charge every operator on its own, right before it runs: slow, but obviously exact, so
   * it is the reference the block-based charging is checked against. Default false.
   */
  perOperator?: boolean;
  /**
   * End a basic block after every call. By default only calls that may end the program
   * (that can reach proc_exit, see call-graph.ts) do; the others return or trap, so
   * the code after them is charged with the code before. Default false.
   */
  splitAllCalls?: boolean;
  /**
   * Imported functions ("module.field") that may end the program rather than return.
   * Default: WASI's proc_exit.
   */
  exitImports?: readonly string[];
  /** Custom sections to keep (all others, e.g. `.debug_*` and `producers`, are dropped). */
  keepCustomSections?: readonly string[];
}

/** Custom sections kept by default. */
const DEFAULT_KEEP = ["name", "target_features"] as const;

/**
 * MeterOptions with every default filled in (exitImports stays optional: call-graph.ts owns its default).
 *
 * @example
 * ```ts
 * const opts: ResolvedMeterOptions = resolveMeterOptions({});
 * opts.fuelIn; // "local"
 * ```
 */
export interface ResolvedMeterOptions {
  fuelExportName: string;
  growRefusedExportName: string;
  stackLeftExportName: string;
  stackBudgetBytes: number;
  initialFuel: bigint;
  importMemory: boolean;
  memModule: string;
  memField: string;
  bulkShift: number;
  fuelPerPage: number;
  keep: Set<string>;
  instrument: boolean;
  fuelIn: FuelIn;
  hoist: boolean;
  perOperator: boolean;
  splitAllCalls: boolean;
  exitImports: readonly string[] | undefined;
}

/**
 * Fills in the defaults and checks the ranges; throws RangeError on a bad option.
 *
 * @example
 * ```ts
 * resolveMeterOptions({ bulkMemoryShift: 40 }); // RangeError: bulkMemoryShift must be an integer from -1 to 32, got 40
 * ```
 */
export function resolveMeterOptions(options: MeterOptions): ResolvedMeterOptions {
  const [memModule, memField] = options.memoryImport ?? ["env", "memory"];
  const resolved: ResolvedMeterOptions = {
    fuelExportName: options.fuelExportName ?? "wasi_py_fuel",
    growRefusedExportName: options.growRefusedExportName ?? "wasi_py_grow_refused",
    stackLeftExportName: options.stackLeftExportName ?? "wasi_py_stack_left",
    stackBudgetBytes: options.stackBudgetBytes ?? DEFAULT_STACK_BUDGET_BYTES,
    initialFuel: options.initialFuel ?? 0n,
    importMemory: options.importMemory ?? true,
    memModule,
    memField,
    bulkShift: options.bulkMemoryShift ?? DEFAULT_BULK_MEMORY_SHIFT,
    fuelPerPage: options.fuelPerPage ?? DEFAULT_FUEL_PER_PAGE,
    keep: new Set(options.keepCustomSections ?? DEFAULT_KEEP),
    instrument: options.instrument ?? true,
    fuelIn: options.fuelIn ?? "local",
    hoist: options.hoist ?? true,
    perOperator: options.perOperator ?? false,
    splitAllCalls: options.splitAllCalls ?? false,
    exitImports: options.exitImports,
  };
  checkRanges(resolved);
  return resolved;
}

function checkRanges(o: ResolvedMeterOptions): void {
  const { fuelIn, bulkShift, initialFuel, fuelPerPage, stackBudgetBytes } = o;
  const names = [o.fuelExportName, o.growRefusedExportName, o.stackLeftExportName];
  if (new Set(names).size !== names.length) {
    throw new RangeError(`the export names of the fuel, grow-refused and stack globals must differ, got ${names}`);
  }
  if (!Number.isInteger(stackBudgetBytes) || stackBudgetBytes < 0 || stackBudgetBytes > 0x7fffffff) {
    throw new RangeError(`stackBudgetBytes must be an integer from 0 to 2^31-1, got ${stackBudgetBytes}`);
  }
  if (!FUEL_IN_VALUES.includes(fuelIn)) {
    throw new RangeError(`fuelIn must be global, local or loops, got ${fuelIn}`);
  }
  if (!Number.isInteger(bulkShift) || bulkShift < -1 || bulkShift > 32) {
    throw new RangeError(`bulkMemoryShift must be an integer from -1 to 32, got ${bulkShift}`);
  }
  if (initialFuel !== BigInt.asIntN(64, initialFuel)) {
    throw new RangeError(`initialFuel must fit in an i64, got ${initialFuel}`);
  }
  if (!Number.isSafeInteger(fuelPerPage) || fuelPerPage < 0) {
    throw new RangeError(`fuelPerPage must be a non-negative integer, got ${fuelPerPage}`);
  }
}
