/**
 * The snapshot (scripts/build-snapshot.sh) keeps the driver (src/sandbox/driver.ts) compiled. When the
 * driver changes and the interpreter is not rebuilt, every run silently compiles the driver again:
 * `print(1)` then costs ~8.8 M fuel instead of ~0.6 M, and a warm run ~80 ms instead of ~2 ms. This
 * guard fails instead, with the command that fixes it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

/** Far above print(1) with a pre-compiled driver, far below one that compiles it at run time. */
const PRINT1_FUEL_CEILING = 3_000_000;

describe("the snapshot holds the committed driver", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ workers: 1, ...interpreterOptions() });
  });
  after(async () => await sb?.close());

  it(`print(1) costs under ${PRINT1_FUEL_CEILING.toLocaleString("en")} fuel`, async () => {
    const r = await sb.run("print(1)", { timeoutMs: 120_000 });
    assert.equal(r.stdout, "1\n");
    assert.ok(
      r.fuelUsed < PRINT1_FUEL_CEILING,
      `print(1) used ${r.fuelUsed} fuel: the snapshot was built with another driver text than ` +
        "src/sandbox/driver.ts; rebuild it with `scripts/build-cpython.sh meter`",
    );
  });
});
