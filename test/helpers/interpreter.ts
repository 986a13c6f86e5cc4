/**
 * The interpreter the tests run: $WASI_PY_WASM / $WASI_PY_STDLIB if set (to try a candidate
 * build), else undefined, so Sandbox.create takes the committed assets via src/sandbox/assets.ts.
 */
import { readFileSync } from "node:fs";
import process from "node:process";

export function interpreterOptions(): { wasm?: Uint8Array; stdlib?: Uint8Array } {
  const wasm = process.env["WASI_PY_WASM"];
  const stdlib = process.env["WASI_PY_STDLIB"];
  return {
    wasm: wasm ? new Uint8Array(readFileSync(wasm)) : undefined,
    stdlib: stdlib ? new Uint8Array(readFileSync(stdlib)) : undefined,
  };
}
