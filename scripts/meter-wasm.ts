/**
 * Build-time CLI: adds fuel metering to a wasm module (see src/wasm/meter/mod.ts).
 *   node build/scripts/meter-wasm.js [--interface-only] <in.wasm> <out.wasm>
 * --interface-only makes only the module-level changes (memory import, fuel global,
 * dropped debug sections), so an unmetered module has the same interface for the host.
 * Prints one line: sizes before/after, functions, blocks instrumented, time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { meterModule, type MeterResult } from "../src/wasm/meter/mod.ts";
import { WasmFormatError } from "../src/wasm/bytes.ts";

const USAGE = "usage: meter-wasm [--interface-only] <in.wasm> <out.wasm>\n";

function percent(after: number, before: number): string {
  const p = (after / before - 1) * 100;
  return `${p >= 0 ? "+" : ""}${p.toFixed(1)}%`;
}

function main(argv: string[]): number {
  const interfaceOnly = argv[0] === "--interface-only";
  const paths = interfaceOnly ? argv.slice(1) : argv;
  if (paths.length !== 2 || paths.some((a) => a.startsWith("-"))) {
    process.stderr.write(USAGE);
    return 2;
  }
  const [inPath, outPath] = paths as [string, string];
  let input: Uint8Array;
  try {
    input = readFileSync(inPath);
  } catch (e) {
    process.stderr.write(`meter-wasm: cannot read ${inPath}: ${(e as Error).message}\n`);
    return 1;
  }
  const t0 = performance.now();
  let result: MeterResult;
  try {
    result = meterModule(input, { instrument: !interfaceOnly });
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
  process.stdout.write(
    `meter-wasm: ${s.inputBytes} -> ${s.outputBytes} bytes (${percent(s.outputBytes, s.inputBytes)}; ` +
      `code ${s.inputCodeBytes} -> ${s.outputCodeBytes}, ${percent(s.outputCodeBytes, s.inputCodeBytes)}), ` +
      `${s.functions} functions, ${s.blocksCharged} blocks charged, ${s.checks} checks, ` +
      `${s.bulkCharges} bulk charges, ${ms.toFixed(0)} ms\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
