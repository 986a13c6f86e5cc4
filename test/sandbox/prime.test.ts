/**
 * SandboxOptions.prime (src/sandbox/_prime.ts): the primer really runs the driver's path to the
 * end on the caller's thread, and a primed sandbox gives exactly what an unprimed one gives.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { GUEST_ENV } from "../../src/sandbox/pool.ts";
import type { OneShotOptions } from "../../src/sandbox/sandbox-options.ts";
import { PRIME_PROGRAM, primeCompiledCode } from "../../src/sandbox/_prime.ts";
import { DRIVER_PY } from "../../src/sandbox/_driver.ts";
import { readAsset } from "../../src/sandbox/assets.ts";
import { moduleShape } from "../../src/sandbox/module-shape.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

describe("priming", () => {
  it("runs PRIME_PROGRAM to a clean exit (so it compiles the path a real run takes)", async () => {
    const wasm = interpreterOptions().wasm ?? readAsset("python.wasm");
    const module = await WebAssembly.compile(wasm);
    const template = {
      module,
      moduleImports: WebAssembly.Module.imports(module),
      memoryInitialPages: moduleShape(wasm, module).memoryInitialPages,
    };
    assert.equal(primeCompiledCode(template, ["python", "-c", DRIVER_PY, PRIME_PROGRAM], GUEST_ENV), 0);
    // Our program failing is reported as its status, not thrown.
    assert.equal(primeCompiledCode(template, ["python", "-c", DRIVER_PY, "1/0"], GUEST_ENV), 1);
  });

  it("a primed sandbox gives the same output, outcome and fuel as an unprimed one", async () => {
    const programs = ["print(1)", "[2**n for n in range(5)]", "import json; print(json.dumps({'a': [1, 2]}))", "1/0"];
    const results = [];
    for (const prime of [true, false]) {
      const options: OneShotOptions = { ...interpreterOptions(), workers: 1, prime };
      const sb = await Sandbox.create(options);
      try {
        const rows = [];
        for (const code of programs) {
          const r = await sb.run(code, { timeoutMs: 60_000 });
          rows.push([r.outcome, r.exitCode, r.stdout, r.stderr, r.fuelUsed]);
        }
        results.push(rows);
      } finally {
        await sb.close();
      }
    }
    assert.deepEqual(results[0], results[1]);
    assert.equal(results[0]![0]![2], "1\n");
  });
});
