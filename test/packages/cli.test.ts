/**
 * The packages option from the command line (issue 25): `--packages` (repeatable) and
 * WASI_PY_PACKAGES (a path list) mount what the program imports, flags before the variable; a path
 * that cannot be mounted is one line on stderr and exit status 2. Runs the real command as a child.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { delimiter } from "node:path";
import process from "node:process";
import { cliCommand } from "../helpers/cli-command.ts";
import { makePackageFixtures } from "../helpers/package-fixtures.ts";
import type { PackageFixtures } from "../helpers/package-fixtures.ts";

function wasiPy(args: string[], env: Record<string, string> = {}) {
  const [cmd, argv] = cliCommand(args);
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...env };
  if (!("WASI_PY_PACKAGES" in env)) delete childEnv["WASI_PY_PACKAGES"];
  return spawnSync(cmd, argv, { encoding: "utf8", env: childEnv, input: "", timeout: 120_000 });
}

describe("wasi-py --packages", () => {
  let fx: PackageFixtures;
  before(() => (fx = makePackageFixtures()));
  after(() => rmSync(fx.root, { recursive: true, force: true }));

  it("mounts every --packages path, in order", () => {
    const r = wasiPy([
      "-fraw",
      "--packages",
      fx.later,
      "--packages",
      fx.wheel,
      "import shadow, tinywheel; print(shadow.WHO, tinywheel.remember(0))",
    ]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "later 1\n");
    assert.equal(r.status, 0);
  });
  it("takes WASI_PY_PACKAGES, after the flags", () => {
    const env = { WASI_PY_PACKAGES: [fx.folder, fx.wheel].join(delimiter) };
    const r = wasiPy(["-fraw", "--packages", fx.later, "import shadow, tinyfolder, tinywheel; print(shadow.WHO)"], env);
    assert.equal(r.stdout, "later\n", r.stderr);
    const alone = wasiPy(["-fraw", "import shadow; print(shadow.WHO)"], env);
    assert.equal(alone.stdout, "first\n", alone.stderr);
  });
  it("a path that cannot be mounted: one line, exit status 2", () => {
    const r = wasiPy(["--packages", fx.soWheel, "1"]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^wasi-py: .*sowheel-1\.0-py3-none-any\.whl: tinywheel\/_speedups\.so is a compiled extension/,
    );
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
  });
});
