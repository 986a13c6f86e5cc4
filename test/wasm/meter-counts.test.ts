/**
 * Fuel metering counts exactly wasmtime's model, in every way of keeping the fuel: per-construct
 * counts of hand-assembled modules, the cost of each operator, and what happens when fuel runs out.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuelCost, meterModule, ZERO_COST_OPS } from "../../src/wasm/meter/mod.ts";
import { Op } from "../../src/wasm/instr.ts";
import { assemble, Exit, exitImports, meterAndInstantiate, MODES, wasm, type WasmGlobal } from "./_meter-harness.ts";

// Expected costs below are counted by hand from the wat, with wasmtime's model: every
// operator costs 1 except nop, drop, block, loop, unreachable, return, else, end (0).

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
      const stub = exitImports();
      const m = await meterAndInstantiate(
        `(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (func (export "quit")
          (call $exit (i32.const 3))                          ;; 2
          (drop (i32.add (i32.const 1) (i32.const 2)))))      ;; 3`,
        stub.imports,
        mode.options,
      );
      m.fuel.value = 100n;
      assert.throws(() => (m.exports.quit as () => void)(), Exit);
      assert.equal(100n - m.fuel.value, 2n);
      stub.exits = false;
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
      const stub = exitImports();
      const m = await meterAndInstantiate(
        `(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (func (export "maybeQuit") (param $x i32)
          (if (local.get $x) (then (call $exit (i32.const 1))))     ;; 2, then 2
          (drop (i32.add (i32.const 1) (i32.const 2)))))            ;; 3`,
        stub.imports,
        mode.options,
      );
      m.fuel.value = 100n;
      assert.throws(() => (m.exports.maybeQuit as (x: number) => void)(1), Exit);
      assert.equal(100n - m.fuel.value, 4n);
      assert.equal(m.call("maybeQuit", [0]).used, 5n);
      stub.exits = false;
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
