/**
 * Engine settings, kept here because they are runtime-specific: V8's wasm inlining for every
 * sandbox (tuneWasmInlining), and for a one-shot run (the CLI evaluating one program and exiting)
 * the baseline compiler (tuneForOneShot).
 *
 * Baseline compiler only: V8 compiles wasm lazily with Liftoff and tiers hot functions up to
 * TurboFan in the background. For CPython the first function to get hot is the 117 KB eval
 * loop, whose TurboFan compile takes ~110 ms of CPU, and Node waits for a running background
 * compile before the process can exit: a cold `wasi-py 'print(1)'` on Node 20 measured 0.30 s
 * with tier-up and 0.20 s without; a 0.4 s CPU-bound program 0.69 s vs 0.59 s; a 1.5 s one
 * 14% slower (primes) to 20% faster (a simple loop). The long-running bot and the library keep
 * tier-up. Node accepts V8 flags from a running program (v8.setFlagsFromString, effective
 * for modules compiled afterwards; Node 24 does not freeze them: --no-freeze-flags-after-init
 * is its default); Deno takes them only on its command line, so there this is a no-op (Deno
 * does not wait for the background compile at exit).
 *
 * @example
 * ```ts
 * import { tuneForOneShot } from "../platform/engine.ts";
 * await tuneForOneShot(); // before the sandbox compiles the interpreter
 * ```
 */

/**
 * V8 flags for a one-shot run (ignored, silently, where V8 has frozen its flags). A tiering
 * budget no program spends keeps every function on Liftoff: unlike `--liftoff-only`, which
 * Node 24 accepts at run time but which then still tiers up (measured: the same ~100 ms exit
 * wait), the budget is read when a module is compiled and works on Node 20 and Node 24 alike
 * (Node 24, cold print(1), median of 9 alternating runs at load 5.5: 0.27 -> 0.20 s of CPU,
 * 0.63 -> 0.42 s wall). Lazy validation: a function is validated when first compiled, not all
 * 8,000 up front (the interpreter was validated when it was built and by the test suite):
 * ~15 ms less compile.
 */
const ONE_SHOT_V8_FLAGS = ["--wasm-tiering-budget=2000000000", "--wasm-lazy-validation"] as const;

/** Applies the one-shot settings where the runtime allows; never throws. */
export function tuneForOneShot(): Promise<void> {
  return setNodeV8Flags(ONE_SHOT_V8_FLAGS);
}

/**
 * Sets V8 flags from the running program on Node, when `wanted` holds for its V8 version; on
 * Deno (flags only on its command line), or where V8 refuses them, nothing. Never throws.
 */
async function setNodeV8Flags(
  flags: readonly string[],
  wanted: (v8Version: string) => boolean = () => true,
): Promise<void> {
  if ("Deno" in globalThis) return;
  try {
    const [v8, process] = await Promise.all([import("node:v8"), import("node:process")]);
    if (!wanted(process.default.versions.v8 ?? "")) return;
    for (const f of flags) v8.setFlagsFromString(f);
  } catch {
    // not settable here: run with the defaults
  }
}

/**
 * V8 flags for TurboFan's wasm inlining, for every sandbox. CPython calls through function
 * pointers everywhere (type slots, vectorcall), which V8 13.6 (Node 24) inlines only with
 * `--wasm-inlining-call-indirect`, and its default budgets (5,000 nodes, callees of at most 500
 * bytes, 3x growth) stop short of the interpreter's helpers. Measured on 8 pyperformance
 * benchmarks in a warm library sandbox, 3 interleaved rounds (bench/pyperformance.ts's shim):
 * Node 24 0.86x the time (budget alone 0.92–0.93x; call-indirect alone 0.98x; 60,000 nodes /
 * 4,000 bytes / 12x 0.87x, no better), Deno (given as --v8-flags) 0.93x; a fresh sandbox's first
 * run no slower. Fuel and the stack budget are in the module, so no count changes.
 */
const WASM_INLINING_V8_FLAGS = [
  "--wasm-inlining-budget=20000",
  "--wasm-inlining-max-size=1500",
  "--wasm-inlining-factor=6",
  "--wasm-inlining-call-indirect",
] as const;

/** V8 majors known to have every flag of WASM_INLINING_V8_FLAGS (an unknown flag is an error line on stderr). */
const WASM_INLINING_V8_MAJORS = { min: 13, max: 15 } as const;

/** Whether V8 `version` (process.versions.v8) takes WASM_INLINING_V8_FLAGS. */
export function takesInliningFlags(version: string): boolean {
  const major = Number(version.split(".")[0]);
  return major >= WASM_INLINING_V8_MAJORS.min && major <= WASM_INLINING_V8_MAJORS.max;
}

let inlining: Promise<void> | undefined;

/**
 * Applies WASM_INLINING_V8_FLAGS once per process, on Node with a V8 that has them (Deno takes V8
 * flags only on its command line: `--v8-flags=`, see README). Process-wide: they change how V8
 * inlines any wasm it optimises afterwards, never what the code does. Never throws.
 *
 * @example
 * ```ts
 * import { tuneWasmInlining } from "../platform/engine.ts";
 * await tuneWasmInlining(); // before the sandbox compiles the interpreter
 * ```
 */
export function tuneWasmInlining(): Promise<void> {
  inlining ??= setNodeV8Flags(WASM_INLINING_V8_FLAGS, takesInliningFlags);
  return inlining;
}
