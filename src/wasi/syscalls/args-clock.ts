/**
 * The process-level syscalls: argv and the environment, clocks, randomness, sched_yield and
 * proc_exit. Nothing here touches a descriptor.
 */
import type { HostContext, SyscallTable } from "./context.ts";
import { FUEL_PER_RANDOM_BYTE, fuelForBytes } from "../cost.ts";

/** Thrown by proc_exit to unwind the guest; the runner catches it and reads `code`. */
export class ExitSignal {
  constructor(readonly code: number) {}
}

/** Clock resolution reported by clock_res_get: 1 µs. */
const CLOCK_RESOLUTION_NS = 1000n;

/** Writes a list of NUL-terminated strings and the array of pointers to them (argv / environ). */
function writeStrings(h: HostContext, list: Uint8Array[], ptrs: number, buf: number): void {
  const m = h.m;
  let total = 0;
  for (const s of list) total += s.length;
  m.check(ptrs, list.length * 4);
  m.check(buf, total);
  h.charge(fuelForBytes(total));
  let at = buf >>> 0;
  list.forEach((s, i) => {
    m.setU32(ptrs + i * 4, at);
    m.write(at, s);
    at += s.length;
  });
}

/** Writes a list's count and its total size in bytes (args_sizes_get / environ_sizes_get). */
function writeSizes(h: HostContext, list: Uint8Array[], countPtr: number, sizePtr: number): void {
  const m = h.m;
  m.check(countPtr, 4);
  m.check(sizePtr, 4);
  m.setU32(countPtr, list.length);
  m.setU32(sizePtr, list.reduce((a, s) => a + s.length, 0));
}

export const argsClockSyscalls: SyscallTable = {
  args_get: (h: HostContext, argv: number, buf: number) => writeStrings(h, h.argBytes, argv, buf),
  args_sizes_get: (h: HostContext, c: number, s: number) => writeSizes(h, h.argBytes, c, s),
  environ_get: (h: HostContext, envp: number, buf: number) => writeStrings(h, h.envBytes, envp, buf),
  environ_sizes_get: (h: HostContext, c: number, s: number) => writeSizes(h, h.envBytes, c, s),

  clock_res_get: (h: HostContext, id: number, ptr: number) => {
    h.clockNow(id);
    h.m.setU64(ptr, CLOCK_RESOLUTION_NS);
  },
  clock_time_get: (h: HostContext, id: number, _precision: bigint, ptr: number) => {
    h.m.check(ptr, 8);
    h.m.setU64(ptr, h.clockNow(id));
  },

  random_get: (h: HostContext, ptr: number, len: number) => {
    const buf = h.m.bytes(ptr, len);
    h.charge(buf.length * FUEL_PER_RANDOM_BYTE); // before the work: refused when the fuel is gone
    h.randomFill(buf);
  },

  sched_yield: () => {},

  proc_exit: (_h: HostContext, code: number) => {
    throw new ExitSignal(code >>> 0);
  },
};
