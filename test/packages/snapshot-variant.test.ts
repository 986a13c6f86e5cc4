/**
 * A snapshot variant with a package pre-imported (issue 25 item 5, scripts/build-package-snapshot.sh):
 * built here from the test's small package image with `lazyimg` pre-imported, it keeps the module
 * out of sys.modules until imported, then hands it over for a fraction of the fuel an import from
 * the image costs the shipped interpreter, with the same result, and a run's changes to it never
 * reach the next run. Needs a built CPython tree (scripts/build-cpython.sh's, $WASI_PY_WORK or
 * /work/build, `wasi-full`); without one the test says so and skips. About 20 s of CPU (no wasm-opt).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";
import { makePackageFixtures } from "../helpers/package-fixtures.ts";
import type { PackageFixtures } from "../helpers/package-fixtures.ts";

const PYBUILD = join(process.env["WASI_PY_WORK"] ?? "/work/build", "wasi-full");
const skip = existsSync(join(PYBUILD, "libpython3.13.a")) ? undefined : `no built CPython tree at ${PYBUILD}`;
if (skip !== undefined) process.stdout.write(`# snapshot-variant.test: skipped: ${skip}\n`);

const RUN = { fuel: 5_000_000_000, timeoutMs: 120_000 };
const IMPORT = "import lazyimg; print(len(lazyimg.DATA))";

function buildVariant(fx: PackageFixtures, out: string): Promise<void> {
  const script = join(repoRoot(), "scripts/build-package-snapshot.sh");
  const args = ["--pybuild", PYBUILD, "--image", fx.image, "-o", out, "--no-opt", "lazyimg"];
  return new Promise((resolve, reject) => {
    execFile(script, args, { timeout: 900_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`build-package-snapshot.sh failed: ${stderr.slice(-2000)}`));
      else resolve();
    });
  });
}

describe("a snapshot variant with a package pre-imported", { skip: skip ?? false }, () => {
  let fx: PackageFixtures;
  let dir: string;
  let variant: Sandbox;
  let shipped: Sandbox;
  before(async () => {
    fx = makePackageFixtures();
    dir = mkdtempSync(join(tmpdir(), "wasi-py-variant-"));
    await buildVariant(fx, join(dir, "variant.wasm"));
    const wasm = new Uint8Array(readFileSync(join(dir, "variant.wasm")));
    variant = await Sandbox.create({ ...interpreterOptions(), wasm, workers: 1, packages: [fx.image] });
    shipped = await Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [fx.image] });
  }, { timeout: 900_000 });
  after(async () => {
    await variant?.close();
    await shipped?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(fx.root, { recursive: true, force: true });
  });

  it("the module is not in sys.modules until imported", async () => {
    const r = await variant.run("import sys; print([m for m in sys.modules if m.startswith('lazyimg')])", RUN);
    assert.equal(r.stdout, "[]\n", r.stderr);
  });
  it("importing it gives the same result for a fraction of the fuel", async () => {
    const cost = async (sb: Sandbox) => {
      const r = await sb.run(IMPORT, RUN);
      assert.equal(r.stdout, "65536\n", r.stderr);
      return r.fuelUsed - (await sb.run("pass", RUN)).fuelUsed;
    };
    const [pre, fresh] = [await cost(variant), await cost(shipped)];
    // 0.43 M against 2.5 M when written (the variant is built without wasm-opt, so its fuel per
    // operation is not quite the shipped interpreter's).
    assert.ok(pre > 0 && pre * 4 < fresh, `pre-imported ${pre} fuel, imported from the image ${fresh}`);
  });
  it("a run's changes to the module never reach the next run", async () => {
    const r = await variant.run("import lazyimg; lazyimg.DATA = b''; print(len(lazyimg.DATA))", RUN);
    assert.equal(r.stdout, "0\n", r.stderr);
    assert.equal((await variant.run(IMPORT, RUN)).stdout, "65536\n");
  });
});
