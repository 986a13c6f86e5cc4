/**
 * What meterModule gives back: the rewritten module and the figures that describe the
 * rewrite (sizes, blocks charged, checks), which scripts/meter-wasm.ts prints and the
 * tests assert on.
 */

/**
 * Figures about one rewrite.
 *
 * @example
 * ```ts
 * const { stats }: { stats: MeterStats } = meterModule(wasm);
 * console.log(`${stats.functions} functions, ${stats.blocksCharged} blocks charged`);
 * ```
 */
export interface MeterStats {
  inputBytes: number;
  outputBytes: number;
  /** Size of the code section before and after (the part metering grows). */
  inputCodeBytes: number;
  outputCodeBytes: number;
  /** Defined functions rewritten. */
  functions: number;
  /** Basic blocks that got a charge (blocks of cost 0 need none). */
  blocksCharged: number;
  /** Exhaustion checks: one per function entry and per loop header. */
  checks: number;
  /** Length-proportional charges before memory.copy/fill/init and memory.grow. */
  bulkCharges: number;
  /** Index of the fuel global. */
  fuelGlobalIndex: number;
  /** Initial pages of the memory turned into an import, if any. */
  importedMemoryPages: number | undefined;
  /** Largest rewritten function body, in bytes. */
  largestBodyBytes: number;
}

/**
 * The metered module and the figures about its rewrite.
 *
 * @example
 * ```ts
 * const result: MeterResult = meterModule(wasm);
 * await WebAssembly.compile(result.bytes);
 * ```
 */
export interface MeterResult {
  bytes: Uint8Array;
  stats: MeterStats;
}
