/**
 * The shared harness of the fuel-metering tests (meter-*.test.ts): assembles wat with wabt, meters
 * it, instantiates it and calls exports with a known budget, so each test file checks one concern
 * of src/wasm/meter/ without its own copy of this plumbing. Not a test file itself.
 */
import assert from "node:assert/strict";
import wabtInit from "wabt";
import { meterModule, type MeterOptions } from "../../src/wasm/meter/mod.ts";

/** The parts of the WebAssembly JS API used here, typed locally (tsconfig's lib has none under Deno). */
export interface WasmGlobal {
  value: bigint;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export type Exports = Record<string, unknown>;
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: {
    new (bytes: Uint8Array): object;
    imports(m: object): { module: string; name: string; kind: string }[];
    exports(m: object): { name: string; kind: string }[];
  };
  Instance: new (module: object, imports: object) => { exports: Exports };
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Global: new (d: { value: string; mutable?: boolean }, v: number) => object;
  RuntimeError: new () => Error;
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
  reference_types: true,
};

/** Assembles wat (with the features the meter supports, plus `extra`) into a module. */
export async function assemble(wat: string, extra: Record<string, boolean> = {}): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const m = wabt.parseWat("test.wat", wat, { ...FEATURES, ...extra });
  try {
    m.resolveNames();
    m.validate();
    return m.toBinary({ write_debug_names: true }).buffer;
  } finally {
    m.destroy();
  }
}

/** A metered instance and its fuel global. */
export interface Metered {
  exports: Exports;
  fuel: WasmGlobal;
  memory: WasmMemory | undefined;
  /** Calls an export with `budget` fuel; returns its result and the fuel it used. */
  call(name: string, args?: unknown[], budget?: bigint): { result: unknown; used: bigint };
}

/** A budget no test exhausts. */
export const BIG = 10n ** 12n;

/** Meters `wat`, instantiates it (giving it a memory if it imports one) and wraps its calls. */
export async function meterAndInstantiate(
  wat: string,
  imports: Record<string, Record<string, unknown>> = {},
  options: MeterOptions = {},
  memoryLimits?: { initial: number; maximum?: number },
): Promise<Metered> {
  const { bytes } = meterModule(await assemble(wat), options);
  assert.ok(wasm.validate(bytes), "metered module validates");
  const module = new wasm.Module(bytes);
  let memory: WasmMemory | undefined;
  if (wasm.Module.imports(module).some((i) => i.kind === "memory")) {
    memory = new wasm.Memory(memoryLimits ?? { initial: 1 });
    imports = { ...imports, env: { ...imports.env, memory } };
  }
  const { exports } = new wasm.Instance(module, imports);
  const fuel = exports.wasi_py_fuel as WasmGlobal;
  return {
    exports,
    fuel,
    memory,
    call(name, args = [], budget = BIG) {
      fuel.value = budget;
      const result = (exports[name] as (...a: unknown[]) => unknown)(...args);
      return { result, used: budget - fuel.value };
    },
  };
}

/** Thrown by exitImports' proc_exit: the guest's call never returns, as a real exit's does not. */
export class Exit extends Error {}

/**
 * A `wasi_snapshot_preview1.proc_exit` import that throws Exit while `stub.exits` is true and
 * returns otherwise, for the tests of code after a call that never returns.
 *
 * @example
 * ```ts
 * const stub = exitImports();
 * const m = await meterAndInstantiate(wat, stub.imports);
 * assert.throws(() => (m.exports.quit as () => void)(), Exit);
 * stub.exits = false;
 * ```
 */
export function exitImports(): { exits: boolean; imports: Record<string, Record<string, () => void>> } {
  const stub = {
    exits: true,
    imports: {
      wasi_snapshot_preview1: {
        proc_exit: () => {
          if (stub.exits) throw new Exit();
        },
      },
    },
  };
  return stub;
}

/** Every way of keeping the fuel must count the same: each test runs under each of these. */
export const MODES: { name: string; options: MeterOptions }[] = [
  { name: "fuel in a local (default)", options: {} },
  { name: "fuel in a local where there are loops", options: { fuelIn: "loops" } },
  { name: "fuel in the global", options: { fuelIn: "global" } },
  { name: "every call ends a block", options: { splitAllCalls: true } },
  { name: "no hoisting", options: { hoist: false } },
  { name: "every operator charged alone (reference)", options: { perOperator: true } },
];
