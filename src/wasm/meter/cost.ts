/**
 * The fuel cost model, as data: what each operator costs and what the length-dependent
 * operators (bulk memory, memory.grow) cost on top. It follows wasmtime's counting so a
 * program's fuel is the same number on every runtime; the rewriter only decides where the
 * charges go, never how much they are.
 */
import { Op } from "../instr.ts";

/**
 * Operators that cost 0 fuel (as in wasmtime): they do no work of their own. Every other
 * operator costs 1.
 *
 * @example
 * ```ts
 * ZERO_COST_OPS.includes(Op.End); // true
 * ```
 */
export const ZERO_COST_OPS: readonly number[] = [
  Op.Nop,
  Op.Drop,
  Op.Block,
  Op.Loop,
  Op.Unreachable,
  Op.Return,
  Op.Else,
  Op.End,
];

/** Cost per single-byte opcode; 0xFC-prefixed operators all cost 1. */
const COST_BY_OPCODE = new Uint8Array(256).fill(1);
for (const op of ZERO_COST_OPS) COST_BY_OPCODE[op] = 0;

/**
 * wasmtime's fuel cost of an operator: 0 for the ZERO_COST_OPS, else 1.
 *
 * @example
 * ```ts
 * fuelCost(Op.I64Add); // 1
 * fuelCost(Op.Nop); // 0
 * ```
 */
export function fuelCost(op: number): number {
  return op < COST_BY_OPCODE.length ? COST_BY_OPCODE[op]! : 1;
}

/**
 * Default extra charge of memory.copy / memory.fill / memory.init: one unit per
 * 2^shift bytes, here 8 (a byte loop would cost more; so does wasmtime's copy in time).
 *
 * @example
 * ```ts
 * const extra = bytes >> DEFAULT_BULK_MEMORY_SHIFT; // 4096 bytes copied: 512 units
 * ```
 */
export const DEFAULT_BULK_MEMORY_SHIFT = 3;

/**
 * Default extra charge of a memory.grow that grew, in units per 64 KiB page added: 10 units per
 * byte. A new page costs the host far more than a Python loop's work of the same fuel: its first
 * touch is a page fault and the kernel zeroing it (~13 µs per 4 KiB page in the Firecracker VM
 * the bench runs in, ~210 µs per wasm page), and freeing it again when the instance goes. At one
 * unit per page, a program growing its memory made the host spend ~200x the CPU per fuel unit
 * of a plain loop (bench/host-cost.ts); at this price about 3x at worst (issue 21, item 16).
 *
 * @example
 * ```ts
 * const extra = pagesAdded * DEFAULT_FUEL_PER_PAGE; // 16 pages (1 MiB): 10,485,760 units
 * ```
 */
export const DEFAULT_FUEL_PER_PAGE = 655_360;
