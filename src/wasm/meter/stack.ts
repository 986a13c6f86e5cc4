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
 * slot of 8 bytes for each (how V8's baseline compiler lays frames out on x64), plus 192 for
 * the return address, frame pointer, instance, spilled operands and what the optimising tier
 * adds. The fixed part was chosen by measurement: with 64, recursion through small frames
 * (hash of nested tuples once V8 had optimised it) overflowed Deno's stack at 1.24 M estimated
 * bytes while CPython's heaviest guarded recursion needed 1.21 M; with 192 the recursions
 * measured spread less (overflows from 2.26 M, nested map/zip iterators, to 3.04 M, hash).
 *
 * @example
 * ```ts
 * frameWeight(10); // 272
 * ```
 */
export function frameWeight(locals: number): number {
  return 192 + 8 * locals;
}

/**
 * The default budget, in estimated bytes, for the frames of functions that make calls (leaf
 * frames, at most one at a time, are not counted). Recursions measured on a Deno worker's stack
 * (V8's default of 984 KiB), fresh and after warming the functions they use up to the optimising
 * tier, overflowed at 2.26 M estimated bytes at the least (nested map and zip iterators); 1.9 M
 * keeps 16% of that in reserve for one uncounted leaf, the host's frames during a WASI call and
 * tiers not seen. CPython's heaviest guarded recursion needs ~1.64 M at the C recursion limit of
 * our build (scripts/build-cpython.sh explains it), so that still ends as RecursionError.
 *
 * @example
 * ```ts
 * meterModule(wasm, { stackBudgetBytes: DEFAULT_STACK_BUDGET_BYTES / 2 });
 * ```
 */
export const DEFAULT_STACK_BUDGET_BYTES = 1_900_000;
