/**
 * The fuel counter of a metered run: its starting value for a budget and the one formula for
 * what a run spent, shared by the worker's exact count and the pool's sample at a host call.
 */

/** The value stored in the fuel counter for "unlimited". */
const UNLIMITED_FUEL = (1n << 63n) - 1n;

/**
 * The fuel counter's starting value for a budget.
 *
 * @example
 * fuelCounterStart(Infinity); // 9223372036854775807n
 */
export function fuelCounterStart(fuel: number): bigint {
  return fuel === Infinity ? UNLIMITED_FUEL : BigInt(fuel);
}

/**
 * The fuel a run spent, from the counter's start (fuelCounterStart) and what it holds now: the one
 * formula for the worker's exact count and the pool's sample. A counter below zero (the trap that
 * ends a run out of fuel overshoots by a block's cost) counts as the whole budget.
 *
 * @example
 * spentFuel(1000n, 400n); // 600
 * spentFuel(1000n, -7n); // 1000
 */
export function spentFuel(fuelStart: bigint, remaining: bigint): number {
  return Number(fuelStart - (remaining < 0n ? 0n : remaining));
}
