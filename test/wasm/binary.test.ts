import { describe, it } from "node:test";
import assert from "node:assert/strict";
import wabtInit from "wabt";
import { ByteReader, ByteWriter, encodeS64, encodeU32, WasmFormatError } from "../../src/wasm/bytes.ts";
import { readSections } from "../../src/wasm/binary.ts";
import { InstrReader, Op, writeInstr } from "../../src/wasm/instr.ts";
import { reencodeModule } from "../../src/wasm/reencode.ts";
import { readFixtureText } from "../helpers/fixtures.ts";

/** The WebAssembly global, typed here: tsconfig's lib has no WebAssembly types under Deno's check. */
const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

const hex = (s: string) => new Uint8Array(s.split(" ").filter(Boolean).map((b) => parseInt(b, 16)));

describe("LEB128", () => {
  const u32Cases: [string, number][] = [
    ["00", 0],
    ["01", 1],
    ["7f", 127],
    ["80 01", 128],
    ["e5 8e 26", 624485],
    ["ff ff ff ff 07", 0x7fffffff],
    ["ff ff ff ff 0f", 0xffffffff],
  ];
  for (const [bytes, value] of u32Cases) {
    it(`u32 ${value} <-> ${bytes}`, () => {
      const r = new ByteReader(hex(bytes));
      assert.equal(r.u32(), value);
      assert.ok(r.atEnd);
      assert.deepEqual(encodeU32(value), hex(bytes));
    });
  }

  it("u32 accepts non-canonical (padded) encodings", () => {
    assert.equal(new ByteReader(hex("80 00")).u32(), 0);
    assert.equal(new ByteReader(hex("81 80 80 80 00")).u32(), 1);
  });

  const badU32: [string, RegExp][] = [
    ["ff ff ff ff 1f", /out of range/],
    ["80 80 80 80 80 00", /out of range/],
    ["80", /unexpected end/],
    ["", /unexpected end/],
  ];
  for (const [bytes, message] of badU32) {
    it(`u32 rejects [${bytes}]`, () => {
      assert.throws(
        () => new ByteReader(hex(bytes)).u32(),
        (e: unknown) => e instanceof WasmFormatError && message.test(e.message),
      );
    });
  }

  const s32Cases: [string, number][] = [
    ["00", 0],
    ["7f", -1],
    ["3f", 63],
    ["c0 00", 64],
    ["40", -64],
    ["bf 7f", -65],
    ["ff ff ff ff 07", 2 ** 31 - 1],
    ["80 80 80 80 78", -(2 ** 31)],
  ];
  for (const [bytes, value] of s32Cases) {
    it(`s32 ${value} <-> ${bytes}`, () => {
      const r = new ByteReader(hex(bytes));
      assert.equal(r.s32(), value);
      assert.ok(r.atEnd);
      const w = new ByteWriter();
      w.sLeb(value);
      assert.deepEqual(w.toBytes(), hex(bytes));
    });
  }

  for (const bytes of ["ff ff ff ff 0f", "80 80 80 80 70", "80 80 80 80 80 00"]) {
    it(`s32 rejects [${bytes}]`, () => {
      assert.throws(() => new ByteReader(hex(bytes)).s32(), WasmFormatError);
    });
  }

  it("s33 covers the whole u32 range of type indices", () => {
    assert.equal(new ByteReader(hex("ff ff ff ff 0f")).s33(), 0xffffffff);
    assert.equal(new ByteReader(hex("40")).s33(), -64);
    assert.throws(() => new ByteReader(hex("ff ff ff ff 1f")).s33(), WasmFormatError);
  });

  const s64Cases: [string, bigint][] = [
    ["00", 0n],
    ["7f", -1n],
    ["80 01", 128n],
    ["ff ff ff ff ff ff ff ff ff 00", 2n ** 63n - 1n],
    ["80 80 80 80 80 80 80 80 80 7f", -(2n ** 63n)],
    ["c0 bb 78", -123456n],
  ];
  for (const [bytes, value] of s64Cases) {
    it(`s64 ${value} <-> ${bytes}`, () => {
      const r = new ByteReader(hex(bytes));
      assert.equal(r.s64(), value);
      assert.ok(r.atEnd);
      assert.deepEqual(encodeS64(value), hex(bytes));
    });
  }

  for (const bytes of ["ff ff ff ff ff ff ff ff ff 01", "80 80 80 80 80 80 80 80 80 80 00"]) {
    it(`s64 rejects [${bytes}]`, () => {
      assert.throws(() => new ByteReader(hex(bytes)).s64(), WasmFormatError);
    });
  }
});

describe("ByteWriter", () => {
  it("grows past its initial capacity and keeps every byte", () => {
    const w = new ByteWriter(16);
    for (let i = 0; i < 10_000; i++) w.u32(i);
    const r = new ByteReader(w.toBytes());
    for (let i = 0; i < 10_000; i++) assert.equal(r.u32(), i);
    assert.ok(r.atEnd);
  });

  it("refuses values that are not u32", () => {
    assert.throws(() => new ByteWriter().u32(-1), RangeError);
    assert.throws(() => new ByteWriter().u32(2 ** 32), RangeError);
  });
});

describe("readSections", () => {
  const header = "00 61 73 6d 01 00 00 00";
  it("splits a module into sections", () => {
    const s = readSections(hex(`${header} 01 04 01 60 00 00 00 05 04 6e 61 6d 65`));
    assert.deepEqual(
      s.map((x) => [x.id, x.name, x.end - x.start]),
      [
        [1, "", 4],
        [0, "name", 5],
      ],
    );
  });
  const bad: [string, string, RegExp][] = [
    ["bad magic", "00 61 73 6e 01 00 00 00", /magic/],
    ["section past the end", `${header} 01 09 01`, /past the end/],
    ["sections out of order", `${header} 03 01 00 01 01 00`, /out of order/],
    ["unknown section", `${header} 0e 00`, /unknown section/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => readSections(hex(bytes)),
        (e: unknown) => e instanceof WasmFormatError && message.test(e.message),
      );
    });
  }
});

/** Decodes one operator from `bytes`, re-encodes it and returns [opcode, length, re-encoded]. */
function decodeOne(bytes: Uint8Array): [number, number, Uint8Array] {
  const r = new InstrReader(bytes);
  const op = r.next();
  const w = new ByteWriter();
  writeInstr(w, r);
  return [op, r.pos, w.toBytes()];
}

describe("InstrReader", () => {
  it("decodes every numeric and sign-extension operator (0x45..0xc4) as one byte", () => {
    for (let op = 0x45; op <= 0xc4; op++) {
      const [decoded, length, again] = decodeOne(new Uint8Array([op, 0x0b]));
      assert.equal(decoded, op);
      assert.equal(length, 1);
      assert.deepEqual(again, new Uint8Array([op]));
    }
  });

  const cases: [string, string, number][] = [
    ["block with a type index", "02 85 01", Op.Block],
    ["loop with a value type", "03 7f", Op.Loop],
    ["br_table", "0e 03 00 01 02 00", Op.BrTable],
    ["call_indirect", "11 05 00", Op.CallIndirect],
    ["typed select", "1c 01 7e", Op.SelectT],
    ["i32.load memarg", "28 02 90 4e", 0x28],
    ["i32.const", "41 80 80 80 80 78", Op.I32Const],
    ["i64.const", "42 ff ff ff ff ff ff ff ff ff 00", Op.I64Const],
    ["f32.const", "43 00 00 c0 3f", 0x43],
    ["f64.const", "44 00 00 00 00 00 00 02 c0", 0x44],
    ["ref.null extern", "d0 6f", 0xd0],
    ["ref.func", "d2 07", 0xd2],
    ["table.get", "25 01", 0x25],
    ["i32.trunc_sat_f32_s", "fc 00", 0xfc00],
    ["i64.trunc_sat_f64_u", "fc 07", 0xfc07],
    ["memory.init", "fc 08 03 00", Op.MemoryInit],
    ["data.drop", "fc 09 03", 0xfc09],
    ["memory.copy", "fc 0a 00 00", Op.MemoryCopy],
    ["memory.fill", "fc 0b 00", Op.MemoryFill],
    ["table.init", "fc 0c 01 00", 0xfc0c],
    ["elem.drop", "fc 0d 01", 0xfc0d],
    ["table.copy", "fc 0e 00 01", 0xfc0e],
    ["table.grow", "fc 0f 00", 0xfc0f],
    ["table.size", "fc 10 00", 0xfc10],
    ["table.fill", "fc 11 00", 0xfc11],
  ];
  for (const [what, bytes, op] of cases) {
    it(`decodes and re-encodes ${what}`, () => {
      const input = hex(bytes);
      const [decoded, length, again] = decodeOne(input);
      assert.equal(decoded, op);
      assert.equal(length, input.length);
      assert.deepEqual(again, input);
    });
  }

  const rejected: [string, string, RegExp][] = [
    ["SIMD", "fd 0c 00", /SIMD/],
    ["atomics", "fe 00", /threads/],
    ["exception handling", "06 40", /exception/],
    ["tail calls", "12 00", /tail calls/],
    ["unknown 0xFC operator", "fc 12 00", /0xFC 18/],
    ["multi-memory memarg", "28 42 00 00", /multi-memory/],
    ["GC heap type", "d0 6e", /heap type/],
    ["bad block type", "02 60", /block type/],
    ["truncated immediate", "41 80", /unexpected end/],
  ];
  for (const [what, bytes, message] of rejected) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => new InstrReader(hex(bytes)).next(),
        (e: unknown) => e instanceof WasmFormatError && message.test(e.message),
      );
    });
  }
});

function fixture(name: string): string {
  return readFixtureText("wat", name);
}

describe("module round trip", () => {
  it("decodes and re-encodes every operator of a module using every operator class", async () => {
    const wabt = await wabtInit();
    const m = wabt.parseWat("all-ops.wat", fixture("all-ops.wat"));
    m.resolveNames();
    m.validate();
    const bytes = m.toBinary({ write_debug_names: true }).buffer;
    m.destroy();
    assert.ok(wasm.validate(bytes));
    assert.deepEqual(reencodeModule(bytes), bytes);
  });
});
