/**
 * Build-time CLI: adds fuel metering to a wasm module.
 *   node build/scripts/meter-wasm.js in.wasm out.wasm
 * Prints one line: sizes before/after, functions, blocks instrumented, time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { meterModule } from "../src/fuel-meter.ts";
import { WasmFormatError } from "../src/wasm-binary.ts";

function main(argv: string[]): number {
  if (argv.length !== 2 || argv.some((a) => a.startsWith("-"))) {
    process.stderr.write("usage: meter-wasm <in.wasm> <out.wasm>\n");
    return 2;
  }
  const [inPath, outPath] = argv as [string, string];
  let input: Uint8Array;
  try {
    input = readFileSync(inPath);
  } catch (e) {
    process.stderr.write(`meter-wasm: cannot read ${inPath}: ${(e as Error).message}\n`);
    return 1;
  }
  const t0 = performance.now();
  let result;
  try {
    result = meterModule(input);
  } catch (e) {
    if (e instanceof WasmFormatError || e instanceof RangeError) {
      process.stderr.write(`meter-wasm: ${inPath}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const ms = performance.now() - t0;
  try {
    writeFileSync(outPath, result.bytes);
  } catch (e) {
    process.stderr.write(`meter-wasm: cannot write ${outPath}: ${(e as Error).message}\n`);
    return 1;
  }
  const s = result.stats;
  const growth = ((s.outputBytes / s.inputBytes - 1) * 100).toFixed(1);
  process.stdout.write(
    `meter-wasm: ${s.inputBytes} -> ${s.outputBytes} bytes (${growth}%), ${s.functions} functions, ` +
      `${s.blocksCharged} blocks charged, ${s.checks} checks, ${s.bulkCharges} bulk charges, ${ms.toFixed(0)} ms\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
