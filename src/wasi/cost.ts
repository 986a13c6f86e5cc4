/**
 * The host-call cost model: what a WASI call costs in fuel beyond the wasm call itself. Without it a
 * guest could make the host do unbounded work for free (a loop of 512 MiB ftruncate calls costs
 * the guest a few hundred wasm operators per iteration and the host a 512 MiB zero-fill). Every
 * call whose work grows with a size pays for that size, at the same rate as the metered module's
 * bulk memory operations (1 unit per 8 bytes), so host work and wasm work are priced alike.
 *
 * Work the host does not do by copying costs more per byte, by what it was measured to cost the
 * host (bench/host-cost.ts): pages a /tmp file's buffer takes from or gives back to the system
 * (file-bytes.ts's PAGE_WORK_*) and random bytes (FUEL_PER_RANDOM_BYTE).
 *
 * The charges depend only on the call's arguments and the filesystem's state, never on time or the
 * runtime, so a program spends the same fuel on Node and Deno. Calls with fixed-size work (stat,
 * seek, clocks, open, unlink, …) cost nothing extra.
 */

/** Bytes per fuel unit for host work (the meter's bulk-memory rate). */
export const BYTES_PER_FUEL = 8;

/**
 * Fuel of every host call, before its own work: crossing into the host and back, the deadline
 * check, the argument checks (about 0.4 µs on Node 20, what ~1,000 units of a Python loop take).
 * At 5,000 a loop of 1-byte writes still cost 3.3x a Python loop's host CPU per unit (bench
 * hostcost, Node, load 8); at 8,000 `select` with a zero timeout was 2.6x (Node 24, idle) and up
 * to 3.2x at load 3: 10,000 leaves room under the 3x goal on a noisy machine.
 */
export const FUEL_PER_HOST_CALL = 10000;

/**
 * Fuel per path a call resolves (besides its bytes): decoding, walking the tree, the name checks
 * (an open/close or a rename took 3-9 µs of host time per path).
 */
export const FUEL_PER_PATH = 24000; // at 8,000: rename 3.0x, truncate by path 3.3x; at 16,000 create/unlink 3.1x (Deno)

/**
 * Fuel a write into a file (`/tmp`, `/home`) pays on top of the call's: its bookkeeping (size,
 * quota, times) made a loop of 1-byte `os.write` calls cost the host 3.4x (Node) and 5.2x (Deno) a
 * Python loop's CPU per unit with the call's fee alone (bench hostcost, load 5-8), about 2-3 µs more
 * than a write to stdout. At 12,000 it was still 3.2x on Node 24 on an idle machine (2026-12-06).
 */
export const FUEL_PER_FILE_WRITE = 18000;

/**
 * Fuel a write to stdout or stderr pays on top of the call's: the output sink (the run's buffer,
 * the stream to the caller, its cap). A loop of `print(1)` cost the host 3.05x a Python loop's CPU
 * per unit without it (Node 24, load 8).
 */
export const FUEL_PER_STREAM_WRITE = 4000;

/**
 * Fuel per directory entry a fd_readdir call walks (encoding its name, building its record); at
 * 1,024 a listing of the stdlib's folders cost 3.7x a Python loop's host CPU per unit, at 2,048
 * 3.2x (Node 24, idle machine), at 3,072 3.25x (load 8): each entry written allocates its record.
 */
export const FUEL_PER_DIRENT = 6144;

/**
 * Fuel per random byte (random_get): Web Crypto makes about 0.3 bytes a nanosecond, some 30 times
 * slower than a copy, so a byte costs what 32 copied bytes do.
 */
export const FUEL_PER_RANDOM_BYTE = 8;

/** Fuel per iovec a read or write passes (its record). */
export const FUEL_PER_RECORD = 1;

/**
 * Fuel per poll_oneoff subscription (`select`, `poll`, `time.sleep`): decoding it and finding
 * whether stdin is ready; `select([stdin], [], [], 0)` in a loop cost 2.9x (Deno, load 4) at 1.
 */
export const FUEL_PER_SUBSCRIPTION = 4000;

/**
 * The fuel for `bytes` bytes of host work (allocating, zero-filling, copying, hashing).
 *
 * @example
 * fuelForBytes(0); // 0
 * fuelForBytes(1); // 1
 * fuelForBytes(512 * 1024 * 1024); // 67108864
 */
export function fuelForBytes(bytes: number): number {
  return bytes <= 0 ? 0 : Math.ceil(bytes / BYTES_PER_FUEL);
}

/**
 * Thrown by a host call whose charge took the fuel counter below zero: the call's work is not done
 * (or not continued) and the guest unwinds as if it had trapped, so the run ends `fuel_exhausted`.
 *
 * @example
 * throw new HostFuelExhausted(67108864);
 */
export class HostFuelExhausted extends Error {
  override name = "HostFuelExhausted";
  constructor(readonly units: number) {
    super(`out of fuel in a host call charging ${units} units`);
  }
}
