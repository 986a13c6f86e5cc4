/**
 * The native stack budget (MeterOptions.stackBudgetBytes): how much of the engine's stack a
 * frame is assumed to take, and how much all counted frames together may take. V8 ends a wasm
 * recursion that outgrows its stack with a RangeError whose depth depends on the runtime (Deno's
 * workers have ~1 MB, Node's what the pool asks for), the compiler tier each function happens to
 * run in (Liftoff frames are larger than TurboFan's) and what else is on the stack: fuel at that
 * point differed by run and runtime. Counting estimated frame bytes in the module itself makes
 * the end of a too-deep recursion a fixed point of the program.
 */

/**
 * Estimated native bytes of one frame of a function with `locals` parameters and locals: a
 * slot of 8 bytes for each (how V8's baseline compiler lays frames out on x64), plus 64 for the
 * return address, frame pointer, instance and spilled operands.
 *
 * @example
 * ```ts
 * frameWeight(10); // 144
 * ```
 */
export function frameWeight(locals: number): number {
  return 64 + 8 * locals;
}

/**
 * The default budget, in estimated bytes, for the frames of functions that make calls (leaf
 * frames, at most one at a time, are not counted). The estimate overstates V8's baseline frames
 * by about half: recursions measured on Deno's worker stack (V8's default of 984 KiB) overflowed
 * between 1.40 M and 1.55 M estimated bytes. 1.1 M keeps a fifth of that in reserve for one
 * uncounted leaf and the host's own frames during a WASI call, and is above what CPython's deepest
 * guarded recursion needs at the C recursion limit of our build (scripts/build-cpython.sh), so
 * that still ends as RecursionError.
 *
 * @example
 * ```ts
 * meterModule(wasm, { stackBudgetBytes: DEFAULT_STACK_BUDGET_BYTES / 2 });
 * ```
 */
export const DEFAULT_STACK_BUDGET_BYTES = 1_100_000;
