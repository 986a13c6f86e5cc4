/// <reference path="../platform/webassembly.d.ts" />
/**
 * Priming, for a one-shot run (the CLI evaluating one program): V8 compiles the interpreter's
 * functions lazily, each on its first call, and the compiled code belongs to the module, which
 * every thread it is posted to shares. A cold `print(1)` spent ~70 ms of its run compiling,
 * after the worker thread had spent ~60-200 ms starting (longer on a busy 2-core machine).
 * Running a throwaway program on the calling thread while the worker starts does most of that
 * compiling in the meantime, so the worker's run finds the code ready.
 *
 * The primer is our own fixed program under a small fuel budget, in its own instance with an
 * empty file system and discarded output: it shares nothing with a user's run but the compiled
 * code, which is deterministic. It blocks the calling thread for as long as it takes, so a
 * long-lived embedder (a bot) does not want it: Sandbox's `warm` option warms the workers instead.
 *
 * @example
 * ```ts
 * const status = primeCompiledCode(template, ["python", "-c", driver, PRIME_PROGRAM], env);
 * ```
 */
import { buildImageTree } from "../wasi/image-tree.ts";
import { ExitSignal } from "../wasi/host.ts";
import { DEFAULT_LIMITS } from "../limits/mod.ts";
import { newGuest } from "./_guest-instance.ts";
import type { GuestTemplate } from "./_guest-instance.ts";
import { FUEL_EXPORT, START_EXPORT } from "./module-shape.ts";

/** What the primer runs: the path of a typical short program (parse, compile, run, print). */
export const PRIME_PROGRAM = "print(1)";

/** The primer's fuel: ~1 M is what it needs; anything else ends it early (it only warms). */
const PRIME_FUEL = 50_000_000n;

/**
 * Runs `args` (the driver and PRIME_PROGRAM) once on this thread in a fresh instance with an
 * empty file system. Returns the exit status, or undefined if the run did not end by exiting
 * (fuel spent, a trap): priming is best effort and never throws.
 */
export function primeCompiledCode(
  template: Omit<GuestTemplate, "image">,
  args: readonly string[],
  env: readonly string[],
): number | undefined {
  try {
    const { host, instance } = newGuest({ ...template, image: buildImageTree([]) }, DEFAULT_LIMITS);
    const nothing = () => {};
    host.bindRun({
      args: [...args],
      env: [...env],
      stdin: new Uint8Array(0),
      stdout: nothing,
      stderr: nothing,
      sleep: nothing,
      onSyscall: nothing,
      chargeFuel: nothing,
    });
    const fuel = instance.exports[FUEL_EXPORT];
    if (fuel instanceof WebAssembly.Global) fuel.value = PRIME_FUEL;
    (instance.exports[START_EXPORT] as () => void)();
    return 0;
  } catch (e) {
    return e instanceof ExitSignal ? e.code : undefined;
  }
}
