/**
 * Engine settings for a one-shot run (the CLI evaluating one program and exiting), kept here
 * because they are runtime-specific.
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
export async function tuneForOneShot(): Promise<void> {
  if ("Deno" in globalThis) return;
  try {
    const v8 = await import("node:v8");
    for (const f of ONE_SHOT_V8_FLAGS) v8.setFlagsFromString(f);
  } catch {
    // not settable here: run with the defaults
  }
}
