/**
 * Fuel metering of memory: bulk memory and memory.grow are charged by size, refused grows are
 * counted for the host, and the module's memory becomes an import the host sizes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_FUEL_PER_PAGE, meterModule } from "../../src/wasm/meter/mod.ts";
import { assemble, BIG, meterAndInstantiate, MODES, wasm, type WasmGlobal } from "./_meter-harness.ts";

describe("fuel metering: bulk memory and memory growth", () => {
  const BULK = `(module
    (memory 1 8)
    (func (export "fill") (param $n i32)
      (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))        ;; 4
    (func (export "copy") (param $n i32)
      (memory.copy (i32.const 8192) (i32.const 0) (local.get $n)))     ;; 4
    (func (export "grow") (param $pages i32) (result i32)
      (memory.grow (local.get $pages))))                               ;; 2`;

  it("memory.fill and memory.copy cost 1 more per 8 bytes by default, and still work", async () => {
    const m = await meterAndInstantiate(BULK);
    assert.equal(m.call("fill", [800]).used, 4n + 100n);
    assert.equal(m.call("fill", [7]).used, 4n);
    assert.equal(m.call("copy", [4096]).used, 4n + 512n);
    assert.equal(m.call("copy", [0]).used, 4n);
    const mem = new Uint8Array(m.memory!.buffer);
    assert.equal(mem[799], 7);
    assert.equal(mem[800], 0);
    assert.equal(mem[8192 + 799], 7);
    assert.equal(mem[8192 + 800], 0);
  });

  it("the bytes-per-unit of bulk memory is an option", async () => {
    const perByte = await meterAndInstantiate(BULK, {}, { bulkMemoryShift: 0 });
    assert.equal(perByte.call("fill", [800]).used, 804n);
    const off = await meterAndInstantiate(BULK, {}, { bulkMemoryShift: -1 });
    assert.equal(off.call("fill", [800]).used, 4n);
  });

  it("memory.grow costs fuelPerPage more per page it added, and nothing more when refused", async () => {
    const m = await meterAndInstantiate(BULK, {}, { fuelPerPage: 1 }, { initial: 1, maximum: 3 });
    assert.deepEqual(m.call("grow", [2]), { result: 1, used: 4n });
    const heavy = await meterAndInstantiate(BULK, {}, { fuelPerPage: 10 }, { initial: 1, maximum: 3 });
    assert.deepEqual(heavy.call("grow", [2]), { result: 1, used: 22n });
    // Refused (past the maximum): the operator's cost only, whatever the price per page.
    assert.deepEqual(heavy.call("grow", [5]), { result: -1, used: 2n });
    // Grown by 0 pages: memory.size is returned, nothing added.
    assert.deepEqual(heavy.call("grow", [0]), { result: 3, used: 2n });
    const byDefault = await meterAndInstantiate(BULK, {}, {}, { initial: 1, maximum: 3 });
    assert.deepEqual(byDefault.call("grow", [1]), { result: 1, used: 2n + BigInt(DEFAULT_FUEL_PER_PAGE) });
  });
});

describe("refused memory.grow calls are counted for the host", () => {
  const GROW = `(module
    (memory 1)
    (func (export "grow") (param $pages i32) (result i32)
      (memory.grow (local.get $pages)))
    (func (export "growTwiceDropped") (param $pages i32)
      (drop (memory.grow (local.get $pages)))
      (drop (memory.grow (local.get $pages)))))`;

  for (const mode of MODES) {
    it(`counts each -1 from memory.grow, keeps the result and the fuel (${mode.name})`, async () => {
      const m = await meterAndInstantiate(GROW, {}, { ...mode.options, fuelPerPage: 1 }, { initial: 1, maximum: 4 });
      const refused = m.exports.wasi_py_grow_refused as WasmGlobal;
      assert.equal(refused.value, 0);
      assert.deepEqual(m.call("grow", [2]), { result: 1, used: 4n }, "granted: old size, 2 + 2 pages");
      assert.equal(refused.value, 0, "a granted grow is not counted");
      assert.deepEqual(m.call("grow", [5]), { result: -1, used: 2n }, "refused: -1, no charge per page");
      assert.equal(refused.value, 1);
      m.call("growTwiceDropped", [100]);
      assert.equal(refused.value, 3);
      m.call("grow", [0]);
      assert.equal(refused.value, 3, "growing by 0 pages succeeds");
    });
  }

  it("is left out of an interface-only module, whose code counts nothing", async () => {
    const { bytes } = meterModule(await assemble(GROW), { instrument: false });
    const names = wasm.Module.exports(new wasm.Module(bytes)).map((e) => e.name);
    assert.ok(names.includes("wasi_py_fuel"));
    assert.ok(!names.includes("wasi_py_grow_refused"));
  });

  it("takes another export name, and refuses a module that already has it", async () => {
    const { bytes } = meterModule(await assemble(GROW), { growRefusedExportName: "refusals" });
    assert.ok(wasm.Module.exports(new wasm.Module(bytes)).some((e) => e.name === "refusals"));
    assert.throws(() => meterModule(bytes, { fuelExportName: "f2", growRefusedExportName: "refusals" }), /"refusals"/);
    assert.throws(() => meterModule(bytes, { fuelExportName: "x", growRefusedExportName: "x" }), RangeError);
  });
});

describe("memory becomes an import", () => {
  it("imports env.memory with the same initial size and no maximum, and re-exports it", async () => {
    const { bytes, stats } = meterModule(
      await assemble(`(module (memory (export "memory") 3 10)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`),
    );
    assert.equal(stats.importedMemoryPages, 3);
    const module = new wasm.Module(bytes);
    assert.deepEqual(wasm.Module.imports(module), [{ module: "env", name: "memory", kind: "memory" }]);
    // Smaller than declared initial size: refused at instantiation.
    assert.throws(() => new wasm.Instance(module, { env: { memory: new wasm.Memory({ initial: 2 }) } }));
    // The host's maximum (4) applies, not the module's declared 10.
    const memory = new wasm.Memory({ initial: 3, maximum: 4 });
    const { exports } = new wasm.Instance(module, { env: { memory } });
    assert.equal(exports.memory, memory);
    const fuel = exports.wasi_py_fuel as WasmGlobal;
    fuel.value = BIG;
    const grow = exports.grow as (n: number) => number;
    assert.equal(grow(1), 3);
    assert.equal(grow(1), -1);
    assert.equal(memory.buffer.byteLength, 4 * 65536);
  });

  it("can be switched off", async () => {
    const { bytes, stats } = meterModule(await assemble(`(module (memory 1))`), { importMemory: false });
    assert.equal(stats.importedMemoryPages, undefined);
    assert.deepEqual(wasm.Module.imports(new wasm.Module(bytes)), []);
  });
});
