/**
 * The snapshot (scripts/build-snapshot.sh) keeps the driver (src/sandbox/_driver.ts) compiled, and
 * its variant taking program arguments (src/sandbox/_program-args.ts). When the driver changes and
 * the interpreter is not rebuilt, or the build misses the variant, every run (or every run with
 * arguments) silently compiles the driver again: `print(1)` then costs ~9 M fuel instead of
 * ~0.7 M, and a warm run ~80 ms instead of ~2 ms. Runs with packages mounted use the same driver
 * (it adds site-packages when the folder exists). This guard fails instead, with the command that
 * fixes it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

/** Far above print(1) with a pre-compiled driver, far below one that compiles it at run time. */
const PRINT1_FUEL_CEILING = 3_000_000;
const REBUILD = "rebuild it with `scripts/build-cpython.sh meter`";

describe("the snapshot holds the committed driver", () => {
  let sb: Sandbox;
  let withPackages: Sandbox;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wasi-py-site-"));
    writeFileSync(join(dir, "guardmod.py"), "VALUE = 42\n");
    sb = await Sandbox.create({ workers: 1, ...interpreterOptions() });
    withPackages = await Sandbox.create({ workers: 1, packages: [dir], ...interpreterOptions() });
  });
  after(async () => {
    await sb?.close();
    await withPackages?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`print(1) costs under ${PRINT1_FUEL_CEILING.toLocaleString("en")} fuel`, async () => {
    const r = await sb.run("print(1)", { timeoutMs: 120_000 });
    assert.equal(r.stdout, "1\n");
    assert.ok(
      r.fuelUsed < PRINT1_FUEL_CEILING,
      `print(1) used ${r.fuelUsed} fuel: the snapshot was built with another driver text than src/sandbox/_driver.ts; ${REBUILD}`,
    );
  });

  it("so does a run with program arguments (the snapshot's second, compiled variant)", async () => {
    const r = await sb.run("import sys; print(sys.argv)", { args: ["a", "b"], timeoutMs: 120_000 });
    assert.equal(r.stdout, "['-c', 'a', 'b']\n");
    assert.ok(
      r.fuelUsed < PRINT1_FUEL_CEILING,
      `a run with arguments used ${r.fuelUsed} fuel: the snapshot lacks the driver's argument variant; ${REBUILD}`,
    );
  });

  it("so does a run with packages mounted, which finds them on sys.path after the stdlib", async () => {
    const r = await withPackages.run("import sys; print(sys.path[-1])", { timeoutMs: 120_000 });
    assert.equal(r.stdout, "/usr/local/lib/python3.13/site-packages\n", r.stderr);
    assert.ok(r.fuelUsed < PRINT1_FUEL_CEILING, `a run with packages used ${r.fuelUsed} fuel; ${REBUILD}`);
    const m = await withPackages.run("import guardmod; print(guardmod.VALUE)", { timeoutMs: 120_000 });
    assert.equal(m.stdout, "42\n", m.stderr);
  });
});
