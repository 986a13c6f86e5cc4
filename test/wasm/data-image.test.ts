/**
 * splitDataSegments (src/wasm/data-image.ts) and the memories built from its image
 * (src/sandbox/_guest-memory.ts): a module split and instantiated over a fresh or a restored memory
 * must leave exactly the memory the original's instantiation leaves, and a module whose segments
 * cannot be split exactly must be refused.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import wabtInit from "wabt";
import { splitDataSegments, WASM_PAGE_BYTES, withSplitModule } from "../../src/wasm/data-image.ts";
import { freshMemory, restorable, restoreMemory } from "../../src/sandbox/_guest-memory.ts";
import { readSections, SectionId } from "../../src/wasm/binary.ts";

interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** The WebAssembly global, typed here: tsconfig's lib has no WebAssembly types under Deno's check. */
const wasm = (globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (m: object, imports: object) => { exports: Record<string, (...a: number[]) => number> };
    Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
    validate(bytes: Uint8Array): boolean;
  };
}).WebAssembly;

async function assemble(wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const m = wabt.parseWat("test.wat", wat, { bulk_memory: true, reference_types: true });
  try {
    m.resolveNames();
    m.validate();
    return m.toBinary({}).buffer;
  } finally {
    m.destroy();
  }
}

/** Segments that overlap (the later wins), cross a 4 KiB page, sit far apart, and one that is empty. */
const SPLITTABLE = `(module
  (import "env" "memory" (memory 2 8))
  (data (i32.const 16) "abcdef")
  (data (i32.const 18) "XY")
  (data (i32.const 4090) "0123456789")
  (data (i32.const 70000) "far")
  (data (i32.const 90000) "")
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

function memoryOf(bytes: Uint8Array, memory: WasmMemory): Uint8Array {
  new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
  return new Uint8Array(memory.buffer);
}

describe("splitDataSegments", () => {
  it("leaves exactly the memory the segments make, fresh or restored, and a module without them", async () => {
    const bytes = await assemble(SPLITTABLE);
    const split = splitDataSegments(bytes)!;
    assert.ok(split !== undefined);
    const module = withSplitModule(split, (b) => b.slice());
    assert.deepEqual(bytes, await assemble(SPLITTABLE), "the input is left as it was");
    const ids = readSections(module).map((s) => s.id);
    assert.ok(!ids.includes(SectionId.Data) && !ids.includes(SectionId.DataCount));
    assert.ok(wasm.validate(module));
    const expected = memoryOf(bytes, new wasm.Memory({ initial: 2, maximum: 8 }));

    const fresh = freshMemory(split.image, 2, 8);
    assert.deepEqual(memoryOf(module, fresh), expected);

    const used = new wasm.Memory({ initial: 2, maximum: 8 });
    new Uint8Array(used.buffer).fill(0xaa);
    assert.ok(restorable(used, 2));
    restoreMemory(used, split.image);
    assert.deepEqual(memoryOf(module, used), expected);
    assert.equal(String.fromCharCode(...expected.subarray(16, 22)), "abXYef");
  });

  it("copies into a fresh memory only the 4 KiB pages that hold data", async () => {
    const split = splitDataSegments(await assemble(SPLITTABLE))!;
    assert.deepEqual(Array.from(split.image.runs), [16, 8192, 0, 69632, 70003, 8176]);
    assert.equal(split.image.bytes.length, 8176 + 371);
  });

  it("a grown memory is not restorable (its size would show)", () => {
    const m = new wasm.Memory({ initial: 2, maximum: 8 });
    m.grow(1);
    assert.equal(restorable(m, 2), false);
    assert.equal(m.buffer.byteLength, 3 * WASM_PAGE_BYTES);
  });

  const refused: [string, string][] = [
    ["a passive segment", `(module (import "env" "memory" (memory 1)) (data "p"))`],
    [
      "an offset read from a global",
      `(module (import "env" "memory" (memory 1)) (import "env" "g" (global i32)) (data (global.get 0) "g"))`,
    ],
    [
      "a start function",
      `(module (import "env" "memory" (memory 1)) (data (i32.const 0) "s") (func $f) (start $f))`,
    ],
    ["its own memory", `(module (memory 1) (data (i32.const 0) "own"))`],
    ["a segment past the initial memory", `(module (import "env" "memory" (memory 1)) (data (i32.const 65534) "xyz"))`],
    [
      "memory.init",
      `(module (import "env" "memory" (memory 1)) (data (i32.const 0) "i")
        (func (export "f") (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))`,
    ],
    [
      "data.drop",
      `(module (import "env" "memory" (memory 1)) (data (i32.const 0) "d") (func (export "f") (data.drop 0)))`,
    ],
    ["no data at all", `(module (import "env" "memory" (memory 1)))`],
  ];
  for (const [name, wat] of refused) {
    it(`refuses a module with ${name}`, async () => {
      assert.equal(splitDataSegments(await assemble(wat)), undefined);
    });
  }

  it("still splits when 0xFC 0x08 appears in code only as an immediate", async () => {
    const bytes = await assemble(`(module (import "env" "memory" (memory 1)) (data (i32.const 0) "k")
      (func (export "f") (result i32) (i32.const 1148)))`);
    assert.ok(Array.from(bytes).some((b, i) => b === 0xfc && bytes[i + 1] === 0x08));
    assert.ok(splitDataSegments(bytes) !== undefined);
  });

  it("gives the same module from a shared buffer, without writing into it", async () => {
    const bytes = await assemble(SPLITTABLE);
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    const fromShared = withSplitModule(splitDataSegments(shared)!, (b) => b.slice());
    assert.deepEqual(fromShared, withSplitModule(splitDataSegments(bytes)!, (b) => b.slice()));
    assert.deepEqual(shared.slice(), bytes);
  });

  it("refuses a truncated module instead of throwing", async () => {
    const bytes = await assemble(SPLITTABLE);
    assert.equal(splitDataSegments(bytes.subarray(0, bytes.length - 3)), undefined);
  });
});
