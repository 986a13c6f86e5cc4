/**
 * The interpreter's data segments are split into an image at load (src/wasm/data-image.ts) and a
 * worker restores its last run's memory instead of making a new one (src/sandbox/_guest-memory.ts).
 * Both must give the guest exactly the memory instantiating the unsplit module gives, and a run
 * must see nothing of the one before, whether that one grew its memory or not.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { newGuest } from "../../src/sandbox/_guest-instance.ts";
import type { GuestTemplate } from "../../src/sandbox/_guest-instance.ts";
import { DEFAULT_LIMITS } from "../../src/limits/mod.ts";
import { moduleShape } from "../../src/sandbox/module-shape.ts";
import { committedInterpreter, compileInterpreter } from "../../src/sandbox/_interpreter-module.ts";
import { buildImageTree } from "../../src/wasi/image-tree.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

/** The WebAssembly global, typed here: tsconfig's lib has no WebAssembly types under Deno's check. */
const wasmApi = (globalThis as unknown as {
  WebAssembly: { compile(b: Uint8Array): Promise<GuestTemplate["module"]>; Module: { imports(m: unknown): [] } };
}).WebAssembly;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Int32Array(a.buffer, a.byteOffset, a.length >> 2);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe("the interpreter's memory image", () => {
  it("a fresh and a restored memory equal what instantiating the whole module writes", async () => {
    const wasm = interpreterOptions().wasm ?? committedInterpreter();
    const { module, memoryImage } = await compileInterpreter(wasm, true);
    assert.ok(memoryImage !== undefined, "the interpreter's data segments were not split");
    const whole = await wasmApi.compile(wasm);
    const pages = moduleShape(wasm, whole).memoryInitialPages;
    const image = buildImageTree([]);
    const template = (m: GuestTemplate["module"], withImage: boolean): GuestTemplate => ({
      module: m,
      moduleImports: wasmApi.Module.imports(m),
      memoryInitialPages: pages,
      memoryImage: withImage ? memoryImage : undefined,
      image,
    });
    const expected = new Uint8Array(newGuest(template(whole, false), DEFAULT_LIMITS).memory!.buffer);
    const fresh = newGuest(template(module, true), DEFAULT_LIMITS).memory!;
    assert.ok(sameBytes(new Uint8Array(fresh.buffer), expected), "fresh memory differs");
    new Uint8Array(fresh.buffer).fill(0x5a);
    const restored = newGuest(template(module, true), DEFAULT_LIMITS, fresh).memory!;
    assert.equal(restored, fresh, "an ungrown memory is reused");
    assert.ok(sameBytes(new Uint8Array(restored.buffer), expected), "restored memory differs");
  });
});

describe("runs on one worker, each after a run that dirtied or grew its memory", () => {
  let sb: Sandbox;
  const probe = "import sys\nprint(len(sys.modules), sum(range(1000)))";
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1 });
  });
  after(async () => {
    await sb.close();
  });

  it("sees the same output, fuel and memory size as the first run", async () => {
    const first = await sb.run(probe);
    assert.equal(first.outcome, "ok", first.stderr);
    const dirtying = [
      "x = [str(i) * 3 for i in range(50_000)]\ndef f(n): return n if n == 0 else f(n - 1)\ny = f(500)",
      "b = bytearray(40 * 1024 * 1024)\nb[-1] = 7", // grows the memory: the next run gets a new one
      "import json\ns = json.dumps({str(i): i for i in range(20_000)})",
    ];
    for (const code of dirtying) {
      const dirty = await sb.run(code);
      assert.equal(dirty.outcome, "ok", dirty.stderr);
      const again = await sb.run(probe);
      assert.deepEqual(
        [again.stdout, again.fuelUsed, again.memoryBytes],
        [first.stdout, first.fuelUsed, first.memoryBytes],
        code,
      );
    }
  });
});
