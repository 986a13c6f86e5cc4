/**
 * Fuel metering of whole modules: a module using every operator class, pinned output bytes, custom
 * sections, option checks and refusals, and the shipped CPython interpreter itself when it is built.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { brotliDecompressSync } from "node:zlib";
import process from "node:process";
import { meterModule, type MeterOptions } from "../../src/wasm/meter/mod.ts";
import { ByteReader, WasmFormatError } from "../../src/wasm/bytes.ts";
import { readSections } from "../../src/wasm/binary.ts";
import { InstrReader, readLocals } from "../../src/wasm/instr.ts";
import { reencodeModule } from "../../src/wasm/reencode.ts";
import { readFixtureText } from "../helpers/fixtures.ts";
import { join } from "node:path";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { assemble, BIG, wasm, type WasmGlobal } from "./_meter-harness.ts";

function fixture(name: string): string {
  return readFixtureText("wat", name);
}

describe("whole modules", () => {
  it("a module using every operator class validates and runs after metering", async () => {
    const input = await assemble(fixture("all-ops.wat"));
    const { bytes, stats } = meterModule(input);
    assert.ok(wasm.validate(bytes));
    // One imported global and two defined ones come first.
    assert.equal(stats.fuelGlobalIndex, 3);
    assert.equal(stats.functions, 3);
    const module = new wasm.Module(bytes);
    const used: bigint[] = [];
    // Twice, on fresh instances (it drops its passive segments), to see the same count.
    for (let i = 0; i < 2; i++) {
      const memory = new wasm.Memory({ initial: 1, maximum: 4 });
      const g = new wasm.Global({ value: "i32" }, 5);
      const { exports } = new wasm.Instance(module, { env: { memory, g, host: (x: number) => x } });
      const fuel = exports.wasi_py_fuel as WasmGlobal;
      fuel.value = BIG;
      assert.equal((exports.everything as (x: number) => number)(1), 42);
      used.push(BIG - fuel.value);
    }
    assert.ok(used[0]! > 100n);
    assert.equal(used[0], used[1]);
  });

  it("the output is the same bytes every time, on every runtime", async () => {
    const input = await assemble(fixture("all-ops.wat"));
    const a = meterModule(input).bytes;
    const b = meterModule(input).bytes;
    assert.deepEqual(a, b);
    // Pinned, so a change of output (or a runtime difference) is noticed; update deliberately.
    assert.equal(
      createHash("sha256").update(a).digest("hex"),
      "747eaaf73f64c079e6318ba92c08674b46aea9f0571b07c7b925046d298c2faa",
    );
  });

  it("drops debug and producers sections, keeps name and target_features", async () => {
    const input = await assemble(`(module (func $f))`);
    const custom = (name: string, payload: number[]) => {
      const n = new TextEncoder().encode(name);
      return [0, n.length + 1 + payload.length, n.length, ...n, ...payload];
    };
    const withCustom = new Uint8Array([
      ...input,
      ...custom(".debug_info", [1, 2, 3]),
      ...custom("producers", [0]),
      ...custom("target_features", [1, 0x2b, 4, ...new TextEncoder().encode("sign")]),
    ]);
    assert.ok(wasm.validate(withCustom));
    const { bytes } = meterModule(withCustom);
    const text = new TextDecoder("latin1").decode(bytes);
    assert.ok(!text.includes(".debug_info"));
    assert.ok(!text.includes("producers"));
    assert.ok(text.includes("target_features"));
    assert.ok(text.includes("name"));
  });

  it("with instrument: false, changes only the interface (memory import, fuel global)", async () => {
    const input = await assemble(
      `(module (memory (export "memory") 2) (func (export "f") (result i32) (i32.const 7)))`,
    );
    const { bytes, stats } = meterModule(input, { instrument: false });
    assert.equal(stats.outputCodeBytes, stats.inputCodeBytes);
    const module = new wasm.Module(bytes);
    assert.deepEqual(wasm.Module.imports(module), [{ module: "env", name: "memory", kind: "memory" }]);
    const { exports } = new wasm.Instance(module, { env: { memory: new wasm.Memory({ initial: 2 }) } });
    assert.equal((exports.f as () => number)(), 7);
    assert.equal((exports.wasi_py_fuel as WasmGlobal).value, 0n);
  });

  const badOptions: [string, MeterOptions][] = [
    ["bulkMemoryShift 40", { bulkMemoryShift: 40 }],
    ["bulkMemoryShift 1.5", { bulkMemoryShift: 1.5 }],
    ["fuelPerPage -1", { fuelPerPage: -1 }],
    ["fuelIn elsewhere", { fuelIn: "elsewhere" as "local" }],
    ["initialFuel 2^63", { initialFuel: 2n ** 63n }],
  ];
  for (const [what, options] of badOptions) {
    it(`rejects the option ${what}`, async () => {
      const input = await assemble(`(module (func))`);
      assert.throws(() => meterModule(input, options), RangeError);
    });
  }

  it("refuses SIMD rather than guessing", async () => {
    const simd = await assemble(`(module (func (drop (v128.const i32x4 0 0 0 0))))`, { simd: true });
    assert.throws(() => meterModule(simd), (e: unknown) => e instanceof WasmFormatError && /SIMD/.test(e.message));
  });

  it("refuses to meter a module twice", async () => {
    const once = meterModule(await assemble(`(module (func))`)).bytes;
    assert.throws(() => meterModule(once), /already exports "wasi_py_fuel"/);
  });

  it("refuses a function that would exceed V8's 50,000 locals", async () => {
    const wat = `(module (memory 1) (func (local ${"i32 ".repeat(50_000)})
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))`;
    const input = await assemble(wat);
    assert.throws(() => meterModule(input), /50000/);
  });
});

/** The interpreter the build ships, unmetered, if the assets are there ($WASI_PY_TEST_WASM: another, uncompressed). */
function shippedInterpreter(): Uint8Array | undefined {
  const override = process.env["WASI_PY_TEST_WASM"];
  if (override) return new Uint8Array(readFileSync(override));
  const path = join(repoRoot(), "assets", "python-unmetered.wasm.br");
  if (existsSync(path)) return new Uint8Array(brotliDecompressSync(readFileSync(path)));
  return undefined;
}

/** Every operator of every body as a string of its opcode and immediates. */
function* operators(bytes: Uint8Array): Generator<string> {
  const code = readSections(bytes).find((x) => x.id === 10)!;
  const r = new ByteReader(bytes, code.start, code.end);
  const n = r.u32();
  for (let f = 0; f < n; f++) {
    const size = r.u32();
    const ir = new InstrReader(bytes, r.pos, r.pos + size);
    readLocals(ir);
    while (!ir.atEnd) {
      const op = ir.next();
      const imm = bytes.subarray(ir.immStart, ir.pos);
      // Immediates compared by value (LEB128 padding may differ), floats by their bytes.
      const value = op === 0x42
        ? String(ir.i64Value())
        : op === 0x43 || op === 0x44
        ? imm.join(",")
        : `${ir.a},${ir.b}`;
      const list = op === 0x0e || op === 0x1c ? ir.list.slice(0, ir.listLength).join(",") : "";
      yield imm.length === 0 ? `${op}` : `${op}:${value}:${list}`;
    }
    r.pos += size;
  }
}

describe("the shipped CPython interpreter", () => {
  const wasmBytes = shippedInterpreter();
  const skip = wasmBytes ? false : "assets/python-unmetered.wasm.br not found (build it with scripts/build-cpython.sh)";

  it("meters into a module that validates and compiles", { skip }, () => {
    const { bytes, stats } = meterModule(wasmBytes!);
    assert.ok(stats.functions > 5000);
    assert.ok(wasm.validate(bytes));
    const module = new wasm.Module(bytes);
    assert.deepEqual(
      wasm.Module.imports(module).filter((i) => i.kind === "memory"),
      [{ module: "env", name: "memory", kind: "memory" }],
    );
  });

  it("has every operator decoded and re-encoded to the same operator and immediates", { skip }, () => {
    const again = reencodeModule(wasmBytes!);
    const a = operators(wasmBytes!);
    const b = operators(again);
    let count = 0;
    for (;;) {
      const x = a.next();
      const y = b.next();
      assert.equal(x.done, y.done);
      if (x.done) break;
      if (x.value !== y.value) assert.fail(`operator ${count} differs: ${x.value} vs ${y.value}`);
      count++;
    }
    assert.ok(count > 1_000_000);
  });
});
