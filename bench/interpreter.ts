/**
 * Which interpreter the Sandbox-API sections use: the committed assets, or candidates given by
 * environment variables (to compare builds, e.g. snapshot variants, before they are committed):
 *   WASI_PY_BENCH_WASM       metered interpreter (default assets/python.wasm)
 *   WASI_PY_BENCH_UNMETERED  unmetered interpreter for the fuel-overhead section
 *   WASI_PY_BENCH_STDLIB     stdlib image (default assets/stdlib.tar)
 * The cold CLI section always runs the CLI as shipped (committed assets).
 */
import { readFileSync } from "node:fs";
import process from "node:process";

export interface InterpreterChoice {
  wasm?: Uint8Array;
  stdlib?: Uint8Array;
}

const cache = new Map<string, Uint8Array>();

function fromEnv(name: string): Uint8Array | undefined {
  const path = process.env[name];
  if (!path) return undefined;
  let bytes = cache.get(path);
  if (bytes === undefined) {
    bytes = new Uint8Array(readFileSync(path));
    cache.set(path, bytes);
  }
  return bytes;
}

/** Options to spread into Sandbox.create. */
export function interpreter(): InterpreterChoice {
  const out: InterpreterChoice = {};
  const wasm = fromEnv("WASI_PY_BENCH_WASM");
  const stdlib = fromEnv("WASI_PY_BENCH_STDLIB");
  if (wasm) out.wasm = wasm;
  if (stdlib) out.stdlib = stdlib;
  return out;
}

/** For the record: which overrides were in effect. */
export function interpreterOverrides(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["WASI_PY_BENCH_WASM", "WASI_PY_BENCH_UNMETERED", "WASI_PY_BENCH_STDLIB"]) {
    const v = process.env[k];
    if (v) out[k] = v;
  }
  return out;
}
