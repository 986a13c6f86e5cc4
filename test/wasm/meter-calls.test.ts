/**
 * Fuel metering across calls: calls that may end the program (proc_exit) close the block so nothing
 * after them is charged, and the native stack budget ends a runaway recursion at the same depth
 * every time, without costing fuel.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_STACK_BUDGET_BYTES, frameWeight, meterModule } from "../../src/wasm/meter/mod.ts";
import { assemble, Exit, exitImports, meterAndInstantiate, MODES, wasm, type WasmGlobal } from "./_meter-harness.ts";

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
      const stub = exitImports();
      const m = await meterAndInstantiate(MODULE, stub.imports, mode.options);
      for (
        const [name, args, expected] of [
          ["direct", [1], 6n],
          ["indirect", [1, 1], 5n],
        ] as const
      ) {
        stub.exits = true;
        m.fuel.value = 1000n;
        assert.throws(() => (m.exports[name] as (...a: number[]) => void)(...args), Exit);
        assert.equal(1000n - m.fuel.value, expected, name);
        stub.exits = false;
        assert.equal(m.call(name, [...args]).used, expected + 3n, name);
      }
      assert.equal(m.call("indirect", [1, 0]).used, 6n); // $quiet costs 0
    });
  }
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
