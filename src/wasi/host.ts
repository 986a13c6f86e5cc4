/// <reference path="../platform/webassembly.d.ts" />
/**
 * Our WASI preview1 host: the syscalls CPython needs, over an in-memory filesystem, with every
 * pointer checked. We write our own instead of node:wasi (its preopens are real host folders) or
 * browser_wasi_shim (its read-only flag did not stop writes): what the guest can reach is exactly
 * what the tables in syscalls/ implement, and anything else answers ENOSYS.
 *
 * This file assembles the families (syscalls/args-clock.ts, fd.ts, path.ts, poll.ts) over one
 * shared HostContext and turns host-side errors the guest caused into errnos.
 */
import { Errno } from "./constants.ts";
import { FsError } from "./memfs.ts";
import { Fault } from "./memory.ts";
import { FUEL_PER_HOST_CALL } from "./cost.ts";
import { HostContext } from "./syscalls/context.ts";
import type { RunBinding, Syscall, SyscallTable, WasiHostOptions } from "./syscalls/context.ts";
import { argsClockSyscalls } from "./syscalls/args-clock.ts";
import { fdSyscalls } from "./syscalls/fd.ts";
import { pathSyscalls } from "./syscalls/path.ts";
import { pollSyscalls } from "./syscalls/poll.ts";

export { ExitSignal } from "./syscalls/args-clock.ts";
export { MONOTONIC_EPOCH_NS } from "./syscalls/context.ts";

/** The import module name of WASI preview1. */
export const WASI_MODULE = "wasi_snapshot_preview1";

/** Every syscall we implement, by WASI name. */
const SYSCALLS: SyscallTable = { ...argsClockSyscalls, ...fdSyscalls, ...pathSyscalls, ...pollSyscalls };

/** An import the guest calls: its arguments come from wasm, its result is an errno. */
type GuestFunction = (...args: never[]) => unknown;

/**
 * A WASI preview1 host for one guest instance: give `imports()` to the instance as
 * `wasi_snapshot_preview1`, attach its memory, run `_start`; proc_exit arrives as an ExitSignal.
 * The sandbox's worker makes one per evaluation (fresh descriptors, fresh /tmp).
 *
 * @example
 * ```ts
 * import { ExitSignal, WASI_MODULE, WasiHost } from "./host.ts";
 * import { MemFs } from "./memfs.ts";
 * import { buildImageTree } from "./image-tree.ts";
 *
 * const fs = new MemFs(buildImageTree([]), { tmpQuotaBytes: 1 << 20, tmpMaxFiles: 100, now: () => 0n });
 * const host = new WasiHost({
 *   args: ["python", "-c", "print(1)"], env: [], fs, stdin: new Uint8Array(0),
 *   stdout: (b) => console.log(new TextDecoder().decode(b)), stderr: () => {}, sleep: () => {},
 * });
 * const instance = new WebAssembly.Instance(module, { [WASI_MODULE]: host.imports(WebAssembly.Module.imports(module)) });
 * host.setMemory(instance.exports.memory as WebAssembly.Memory);
 * try {
 *   (instance.exports._start as () => void)();
 * } catch (e) {
 *   if (!(e instanceof ExitSignal)) throw e;
 * }
 * ```
 */
export class WasiHost {
  private readonly ctx: HostContext;

  constructor(opts: WasiHostOptions) {
    this.ctx = new HostContext(opts);
  }

  /**
   * Supplies the per-run parts to a host (and instance) made before the run was known, so that a
   * worker can instantiate the next evaluation while idle. Call before the guest starts.
   */
  bindRun(run: RunBinding): void {
    this.ctx.bindRun(run);
  }

  /** Attaches the guest's memory (before instantiation for an imported memory, after for an exported one). */
  setMemory(memory: WebAssembly.Memory): void {
    this.ctx.setMemory(memory);
  }

  /**
   * The import namespace for a module: our syscalls, plus an ENOSYS stub for any other function the
   * module imports from wasi_snapshot_preview1.
   */
  imports(moduleImports: readonly WebAssembly.ModuleImportDescriptor[] = []): Record<string, GuestFunction> {
    const out: Record<string, GuestFunction> = {};
    for (const [name, fn] of Object.entries(SYSCALLS)) out[name] = this.guard(name, fn);
    for (const imp of moduleImports) {
      if (imp.module === WASI_MODULE && imp.kind === "function" && !(imp.name in out)) {
        out[imp.name] = () => {
          this.ctx.opts.onSyscall?.();
          this.ctx.charge(FUEL_PER_HOST_CALL);
          return Errno.NOSYS;
        };
      }
    }
    return out;
  }

  /** Turns host-side errors caused by the guest into errnos; proc_exit's signal passes through. */
  private guard(name: string, fn: Syscall): GuestFunction {
    const ctx = this.ctx;
    // Static constructors read clocks and the environment (mimalloc reads MIMALLOC_* options);
    // any other call means main() has begun (wasi-libc calls args_sizes_get right before main).
    const beforeMain = name.startsWith("clock_") || name.startsWith("environ_");
    return (...args: never[]) => {
      ctx.opts.onSyscall?.();
      if (!beforeMain && ctx.mainStartNs === undefined) ctx.mainStartNs = ctx.monotonicNs();
      ctx.charge(FUEL_PER_HOST_CALL);
      try {
        return fn(ctx, ...args) ?? Errno.SUCCESS;
      } catch (e) {
        if (e instanceof FsError) return e.errno;
        if (e instanceof Fault) return Errno.FAULT;
        throw e;
      }
    };
  }
}
