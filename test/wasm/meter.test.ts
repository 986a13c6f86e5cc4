import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { brotliDecompressSync } from "node:zlib";
import process from "node:process";
import wabtInit from "wabt";
import {
  DEFAULT_FUEL_PER_PAGE,
  DEFAULT_STACK_BUDGET_BYTES,
  frameWeight,
  fuelCost,
  meterModule,
  type MeterOptions,
  ZERO_COST_OPS,
} from "../../src/wasm/meter/mod.ts";
import { ByteReader, WasmFormatError } from "../../src/wasm/bytes.ts";
import { readSections } from "../../src/wasm/binary.ts";
import { InstrReader, Op, readLocals } from "../../src/wasm/instr.ts";
import { reencodeModule } from "../../src/wasm/reencode.ts";
import { readFixtureText } from "../helpers/fixtures.ts";
import { join } from "node:path";
import { repoRoot } from "../../src/sandbox/assets.ts";

// Expected costs below are counted by hand from the wat, with wasmtime's model: every
// operator costs 1 except nop, drop, block, loop, unreachable, return, else, end (0).

/** The parts of the WebAssembly JS API used here, typed locally (tsconfig's lib has none under Deno). */
interface WasmGlobal {
  value: bigint;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type Exports = Record<string, unknown>;
interface WasmApi {
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
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
  reference_types: true,
};

async function assemble(wat: string, extra: Record<string, boolean> = {}): Promise<Uint8Array> {
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

interface Metered {
  exports: Exports;
  fuel: WasmGlobal;
  memory: WasmMemory | undefined;
  /** Calls an export with `budget` fuel; returns its result and the fuel it used. */
  call(name: string, args?: unknown[], budget?: bigint): { result: unknown; used: bigint };
}

const BIG = 10n ** 12n;

async function meterAndInstantiate(
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

/** Both ways of keeping the fuel must count the same. */
const MODES: { name: string; options: MeterOptions }[] = [
  { name: "fuel in a local (default)", options: {} },
  { name: "fuel in a local where there are loops", options: { fuelIn: "loops" } },
  { name: "fuel in the global", options: { fuelIn: "global" } },
  { name: "every call ends a block", options: { splitAllCalls: true } },
  { name: "no hoisting", options: { hoist: false } },
  { name: "every operator charged alone (reference)", options: { perOperator: true } },
];

for (const mode of MODES) {
  describe(`fuel metering: exact counts (${mode.name})`, () => {
    const LOOP = `(module
    (func (export "sum") (param $n i32) (result i32) (local $acc i32)
      (block $done                                             ;; 0
        (loop $l                                               ;; 0
          (br_if $done (i32.eqz (local.get $n)))               ;; 3
          (local.set $acc (i32.add (local.get $acc) (local.get $n)))  ;; 4
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))       ;; 4
          (br $l)))                                            ;; 1
      (local.get $acc)))                                       ;; 1`;

    for (const n of [0, 1, 2, 10, 1000, 60_000]) {
      it(`a loop of ${n} iterations costs 12 per iteration + 4`, async () => {
        const m = await meterAndInstantiate(LOOP, {}, mode.options);
        const { result, used } = m.call("sum", [n]);
        assert.equal(result, ((n * (n + 1)) / 2) | 0);
        // 12 per full iteration; the last test (3) and the final local.get (1).
        assert.equal(used, BigInt(12 * n + 4));
      });
    }

    it("a loop with a parameter (multivalue block type) costs 5 per iteration + 1", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "countdown") (param $n i32) (result i32)
        local.get $n                          ;; 1
        loop $l (param i32) (result i32)      ;; 0
          i32.const 1                         ;; 1
          i32.sub                             ;; 1
          local.tee $n                        ;; 1
          local.get $n                        ;; 1
          br_if $l                            ;; 1
        end))`,
        {},
        mode.options,
      );
      for (const n of [1, 7, 300]) {
        const { result, used } = m.call("countdown", [n]);
        assert.equal(result, 0);
        assert.equal(used, BigInt(1 + 5 * n));
      }
    });

    it("if/else charges only the branch taken", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "pick") (param $x i32) (result i32)
        (if (result i32) (local.get $x)                       ;; 2 (local.get, if)
          (then (i32.const 10))                               ;; 1
          (else (i32.add (i32.const 20) (i32.const 1))))))    ;; 3`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("pick", [1]), { result: 10, used: 3n });
      assert.deepEqual(m.call("pick", [0]), { result: 21, used: 5n });
    });

    it("nested blocks and br_table charge each target's own code", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "switch") (param $x i32) (result i32)
        (block $c (block $b (block $a
          (br_table $a $b $c (local.get $x)))                          ;; 2
          (return (i32.add (i32.const 100) (i32.const 1))))            ;; $a: 3
          (return (i32.const 200)))                                    ;; $b: 1
        (i32.mul (i32.const 300) (i32.const 1))))                      ;; $c: 3`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("switch", [0]), { result: 101, used: 5n });
      assert.deepEqual(m.call("switch", [1]), { result: 200, used: 3n });
      assert.deepEqual(m.call("switch", [2]), { result: 300, used: 5n });
      assert.deepEqual(m.call("switch", [99]), { result: 300, used: 5n });
    });

    it("an early return stops charging", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "early") (param $x i32) (result i32)
        (if (i32.eqz (local.get $x)) (then (return (i32.const -1))))  ;; 3, then 1
        (i32.mul (local.get $x) (i32.const 2))))                      ;; 3`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("early", [0]), { result: -1, used: 4n });
      assert.deepEqual(m.call("early", [5]), { result: 10, used: 6n });
    });

    it("code after br in the same block (dead code) is not charged", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "dead") (result i32)
        (block (result i32) (br 0 (i32.const 1)) (i32.add) (drop) (i32.const 5))  ;; 2
        (i32.const 2) (i32.add)))                                                   ;; 2`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("dead"), { result: 3, used: 4n });
    });

    it("calls charge the call and the callee; host functions cost only the call", async () => {
      let hostCalls = 0;
      const m = await meterAndInstantiate(
        `(module
        (import "env" "host" (func $host (param i32) (result i32)))
        (func $double (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))  ;; 3
        (func (export "calls") (param $x i32) (result i32)
          (call $double (local.get $x))        ;; 2 + callee 3
          (call $host)                         ;; 1
          (i32.const 1) (i32.add)))            ;; 2`,
        { env: { host: (v: number) => (hostCalls++, v + 1) } },
        mode.options,
      );
      assert.deepEqual(m.call("calls", [4]), { result: 10, used: 8n });
      assert.equal(hostCalls, 1);
    });

    it("call_indirect charges the call and the callee it reaches", async () => {
      const m = await meterAndInstantiate(
        `(module
      (type $t (func (param i32) (result i32)))
      (table 2 funcref)
      (elem (i32.const 0) $double $square)
      (func $double (type $t) (i32.add (local.get 0) (local.get 0)))                 ;; 3
      (func $square (type $t) (i32.mul (local.get 0) (local.get 0)) (i32.const 0) (i32.add))  ;; 5
      (func (export "indirect") (param $x i32) (param $i i32) (result i32)
        (call_indirect (type $t) (local.get $x) (local.get $i))))                    ;; 3`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("indirect", [5, 0]), { result: 10, used: 6n });
      assert.deepEqual(m.call("indirect", [5, 1]), { result: 25, used: 8n });
    });

    it("a call that never returns (like proc_exit) is not charged for the code after it", async () => {
      class Exit extends Error {}
      let exits = true;
      const m = await meterAndInstantiate(
        `(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (func (export "quit")
          (call $exit (i32.const 3))                          ;; 2
          (drop (i32.add (i32.const 1) (i32.const 2)))))      ;; 3`,
        {
          wasi_snapshot_preview1: {
            proc_exit: () => {
              if (exits) throw new Exit();
            },
          },
        },
        mode.options,
      );
      m.fuel.value = 100n;
      assert.throws(() => (m.exports.quit as () => void)(), Exit);
      assert.equal(100n - m.fuel.value, 2n);
      exits = false;
      assert.equal(m.call("quit").used, 5n);
    });

    it("a block no branch goes to does not split its basic block", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "plain") (result i32)
        (block (nop)) (i32.const 1)                        ;; 1
        (block (result i32) (i32.const 2)) (i32.add)))     ;; 2`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("plain"), { result: 3, used: 3n });
    });

    it("code after an if without else is charged once on both paths", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "clamp") (param $x i32) (result i32)
        (if (i32.gt_s (local.get $x) (i32.const 10))          ;; 4
          (then (local.set $x (i32.const 10))))               ;; 2
        (i32.mul (local.get $x) (i32.const 3))))              ;; 3`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("clamp", [5]), { result: 15, used: 7n });
      assert.deepEqual(m.call("clamp", [50]), { result: 30, used: 9n });
    });

    it("code after a block that a branch leaves early is charged only when reached", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "esc") (param $x i32) (result i32)
        (block $out (result i32)
          (block (drop (br_if $out (i32.const 7) (local.get $x))))   ;; 3
          (i32.add (i32.const 1) (i32.const 2)))))                   ;; 3`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("esc", [1]), { result: 7, used: 3n });
      assert.deepEqual(m.call("esc", [0]), { result: 3, used: 6n });
    });

    it("code after an if whose arm calls a function that never returns is not charged", async () => {
      class Exit extends Error {}
      let exits = true;
      const m = await meterAndInstantiate(
        `(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (func (export "maybeQuit") (param $x i32)
          (if (local.get $x) (then (call $exit (i32.const 1))))     ;; 2, then 2
          (drop (i32.add (i32.const 1) (i32.const 2)))))            ;; 3`,
        {
          wasi_snapshot_preview1: {
            proc_exit: () => {
              if (exits) throw new Exit();
            },
          },
        },
        mode.options,
      );
      m.fuel.value = 100n;
      assert.throws(() => (m.exports.maybeQuit as (x: number) => void)(1), Exit);
      assert.equal(100n - m.fuel.value, 4n);
      assert.equal(m.call("maybeQuit", [0]).used, 5n);
      exits = false;
      assert.equal(m.call("maybeQuit", [1]).used, 7n);
    });

    it("a long function (thousands of charges in reference mode) is counted exactly", async () => {
      // 3 per step; the steps are split by br_if so the block modes also need many charges.
      const steps = 3000;
      const body = "(br_if 0 (i32.eqz (i32.const 1)))".repeat(steps);
      const m = await meterAndInstantiate(`(module (func (export "long") (block ${body})))`, {}, mode.options);
      assert.equal(m.call("long").used, BigInt(3 * steps));
    });

    it("a loop whose body falls through continues the block after its end", async () => {
      const m = await meterAndInstantiate(
        `(module
      (func (export "once") (result i32)
        (loop (result i32) (i32.const 4))    ;; 1
        (i32.const 2) (i32.add)))            ;; 2`,
        {},
        mode.options,
      );
      assert.deepEqual(m.call("once"), { result: 6, used: 3n });
    });
  });
}

describe("calls that may end the program", () => {
  const MODULE = `(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (type $v (func (param i32)))
    (table 3 funcref)
    (elem (i32.const 0) $quiet $wrapper)
    (func $quiet (type $v))                                          ;; returns
    (func $wrapper (type $v) (call $exit (local.get 0)))             ;; reaches the import
    (func $deep (param i32) (call $wrapper (local.get 0)))           ;; reaches it through $wrapper
    (func (export "direct") (param $x i32)
      (call $deep (local.get $x))                                    ;; 2 + (2 + (2))
      (drop (i32.add (i32.const 1) (i32.const 2))))                  ;; 3
    (func (export "indirect") (param $x i32) (param $i i32)
      (call_indirect (type $v) (local.get $x) (local.get $i))        ;; 3 (+ 2 for $wrapper)
      (drop (i32.add (i32.const 1) (i32.const 2)))))                 ;; 3`;

  it("are found through direct calls and through call_indirect of the same signature", async () => {
    const { analyseCallExits } = await import("../../src/wasm/call-graph.ts");
    const { readSections, readTypeSection, readImportSection, readU32Vector } = await import(
      "../../src/wasm/binary.ts"
    );
    const bytes = await assemble(MODULE);
    const sections = readSections(bytes);
    const span = (id: number) => sections.find((x) => x.id === id);
    const types = readTypeSection(bytes, span(1)!);
    const result = analyseCallExits(
      bytes,
      types,
      readImportSection(bytes, span(2)!),
      readU32Vector(bytes, span(3)!),
      { code: span(10), element: span(9), global: span(6) },
      false,
    );
    // 0 $exit (import), 1 $quiet, 2 $wrapper, 3 $deep, 4 direct, 5 indirect (calls through the table)
    assert.deepEqual([...result.mayExit], [1, 0, 1, 1, 1, 1]);
    const visible = analyseCallExits(
      bytes,
      types,
      readImportSection(bytes, span(2)!),
      readU32Vector(bytes, span(3)!),
      { code: span(10), element: span(9), global: span(6) },
      true,
    );
    assert.ok([...visible.indirectMayExit].every((x) => x === 1));
  });

  for (const mode of MODES) {
    it(`end the block, so an exit deep down charges nothing after it (${mode.name})`, async () => {
      class Exit extends Error {}
      let exits = true;
      const m = await meterAndInstantiate(MODULE, {
        wasi_snapshot_preview1: {
          proc_exit: () => {
            if (exits) throw new Exit();
          },
        },
      }, mode.options);
      for (
        const [name, args, expected] of [
          ["direct", [1], 6n],
          ["indirect", [1, 1], 5n],
        ] as const
      ) {
        exits = true;
        m.fuel.value = 1000n;
        assert.throws(() => (m.exports[name] as (...a: number[]) => void)(...args), Exit);
        assert.equal(1000n - m.fuel.value, expected, name);
        exits = false;
        assert.equal(m.call(name, [...args]).used, expected + 3n, name);
      }
      assert.equal(m.call("indirect", [1, 0]).used, 6n); // $quiet costs 0
    });
  }
});

describe("fuel metering: exhaustion", () => {
  it("traps inside an infinite loop and leaves the global negative", async () => {
    const m = await meterAndInstantiate(`(module (func (export "spin") (loop $l (br $l))))`);
    m.fuel.value = 1000n;
    assert.throws(() => (m.exports.spin as () => void)(), wasm.RuntimeError);
    // Each iteration charges its br (1) at the loop header, then checks: 1001st makes it -1.
    assert.equal(m.fuel.value, -1n);
  });

  it("traps at function entry once fuel is negative", async () => {
    const m = await meterAndInstantiate(`(module (func (export "f") (result i32) (i32.const 1)))`);
    m.fuel.value = -5n;
    assert.throws(() => (m.exports.f as () => number)(), wasm.RuntimeError);
  });

  it("a program that needs exactly the budget finishes with 0 left", async () => {
    const m = await meterAndInstantiate(`(module
      (func (export "count") (param $n i32)
        (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`);
    // 5 per iteration (get, const, sub, tee, br_if).
    const { used } = m.call("count", [10], 50n);
    assert.equal(used, 50n);
    assert.equal(m.fuel.value, 0n);
  });

  it("fuel starts at 0 (fail closed) until the host sets it", async () => {
    const { bytes } = meterModule(await assemble(`(module (func (export "f") (result i32) (i32.const 1)))`));
    const { exports } = new wasm.Instance(new wasm.Module(bytes), {});
    assert.equal((exports.wasi_py_fuel as WasmGlobal).value, 0n);
    assert.throws(() => (exports.f as () => number)(), wasm.RuntimeError);
  });
});

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

describe("the native stack budget", () => {
  // $rec(n) recurses n times (n + 1 frames); $twice calls a calling function in a loop; $tbl
  // leaves by br_table to the function's label; $ind calls through the table; $leaf calls nothing.
  const STACK = `(module
    (type $t (func (param i32) (result i32)))
    (table 1 funcref)
    (elem (i32.const 0) $rec)
    (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func $rec (export "rec") (param $n i32) (result i32)
      (if (result i32) (local.get $n)
        (then (call $leaf (call $rec (i32.sub (local.get $n) (i32.const 1)))))
        (else (i32.const 0))))
    (global $g (mut i32) (i32.const 0))
    (func $tbl (param $k i32)
      (block (block (br_table 0 1 2 (local.get $k)))
        (global.set $g (call $leaf (i32.const 10)))
        (return))
      (global.set $g (call $leaf (i32.const 20))))
    (func (export "loop") (param $n i32) (result i32) (local $acc i32)
      (loop $again
        (local.set $acc (i32.add (local.get $acc) (call $rec (i32.const 2))))
        (call $tbl (i32.rem_u (local.get $n) (i32.const 3)))
        (local.set $acc (i32.add (local.get $acc) (global.get $g)))
        (local.set $acc (i32.add (local.get $acc) (call_indirect (type $t) (i32.const 1) (i32.const 0))))
        (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc))
    (func (export "leaf") (result i32) (i32.const 7)))`;

  const modes = MODES.filter((m) => !m.options.perOperator);
  for (const mode of modes) {
    it(`ends a recursion at the same depth every time, from the budget alone (${mode.name})`, async () => {
      const probe = await meterAndInstantiate(STACK, {}, mode.options);
      const left = probe.exports.wasi_py_stack_left as WasmGlobal;
      const budget = Number(left.value);
      assert.equal(budget, DEFAULT_STACK_BUDGET_BYTES);
      probe.call("rec", [0]);
      // The outermost frame stays taken (nothing inside the module returns to restore it).
      const frame = budget - Number(left.value);
      assert.ok(frame >= frameWeight(1), `one frame of $rec: ${frame}`);
      for (const depth of [1, 5, 40]) {
        const m = await meterAndInstantiate(STACK, {}, { ...mode.options, stackBudgetBytes: depth * frame });
        assert.equal(m.call("rec", [depth - 1]).result, depth - 1, `${depth} frames fit`);
        const over = await meterAndInstantiate(STACK, {}, { ...mode.options, stackBudgetBytes: depth * frame });
        assert.throws(() => over.call("rec", [depth]), wasm.RuntimeError, `${depth + 1} frames do not`);
        assert.ok((over.exports.wasi_py_stack_left as WasmGlobal).value < 0, "the host can tell why");
      }
    });

    it(`gives the budget back after every call, however the callee left (${mode.name})`, async () => {
      const m = await meterAndInstantiate(STACK, {}, { ...mode.options, stackBudgetBytes: 1000 });
      const off = await meterAndInstantiate(STACK, {}, { ...mode.options, stackBudgetBytes: 0 });
      assert.equal(m.call("loop", [300]).result, off.call("loop", [300]).result);
      const left = Number((m.exports.wasi_py_stack_left as WasmGlobal).value);
      assert.ok(left > 0 && left < 1000, `only the outermost frame stays taken: ${left} left`);
      assert.equal(m.call("leaf").result, 7);
      assert.equal(Number((m.exports.wasi_py_stack_left as WasmGlobal).value), left, "a leaf takes nothing");
    });

    it(`costs no fuel (${mode.name})`, async () => {
      const on = await meterAndInstantiate(STACK, {}, mode.options);
      const off = await meterAndInstantiate(STACK, {}, { ...mode.options, stackBudgetBytes: 0 });
      assert.equal(on.call("loop", [50]).used, off.call("loop", [50]).used);
      assert.equal(on.call("rec", [30]).used, off.call("rec", [30]).used);
      assert.equal(off.exports.wasi_py_stack_left, undefined, "0 turns it off: no global");
    });
  }

  it("rejects a budget out of range", () => {
    assert.throws(() => meterModule(new Uint8Array(8), { stackBudgetBytes: -1 }), RangeError);
    assert.throws(() => meterModule(new Uint8Array(8), { stackBudgetBytes: 2 ** 31 }), RangeError);
    assert.throws(() => meterModule(new Uint8Array(8), { stackBudgetBytes: 1.5 }), RangeError);
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

describe("cost model table (wasmtime's counting)", () => {
  const cases: [string, number, number][] = [
    ["nop", Op.Nop, 0],
    ["drop", Op.Drop, 0],
    ["block", Op.Block, 0],
    ["loop", Op.Loop, 0],
    ["unreachable", Op.Unreachable, 0],
    ["return", Op.Return, 0],
    ["else", Op.Else, 0],
    ["end", Op.End, 0],
    ["if", Op.If, 1],
    ["br", Op.Br, 1],
    ["call", Op.Call, 1],
    ["i64.add", Op.I64Add, 1],
    ["select", Op.Select, 1],
    ["memory.grow", Op.MemoryGrow, 1],
    ["memory.copy (0xFC prefix)", Op.MemoryCopy, 1],
    ["i32.trunc_sat_f32_s (0xFC prefix)", Op.I32TruncSatF32S, 1],
  ];
  for (const [name, op, cost] of cases) {
    it(`${name} costs ${cost}`, () => assert.equal(fuelCost(op), cost));
  }
  it("exactly the eight zero-cost operators cost 0 among single-byte opcodes", () => {
    const zero = [];
    for (let op = 0; op < 256; op++) if (fuelCost(op) === 0) zero.push(op);
    assert.deepEqual(zero, [...ZERO_COST_OPS].sort((a, b) => a - b));
    assert.equal(ZERO_COST_OPS.length, 8);
  });
});
