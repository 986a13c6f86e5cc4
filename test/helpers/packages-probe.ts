/**
 * Programs that import mounted packages, whose fuel must be the same on Node and Deno (issue 25).
 * test/packages/mount.test.ts runs them in its own runtime and, through this file as a script
 * (WASI_PY_PACKAGES_PROBE=1), in the other one, and compares.
 */
import { rmSync } from "node:fs";
import process from "node:process";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "./interpreter.ts";
import { makePackageFixtures } from "./package-fixtures.ts";

export const PACKAGE_PROBE_PROGRAMS: readonly string[] = [
  "print(1)",
  "import tinywheel; print(tinywheel.remember(1))",
  "import tinyfolder; print(tinyfolder.twice(21), tinyfolder.NAME)",
  "import importlib.metadata as m; print(m.version('tinywheel'))",
  "import shadow; print(shadow.WHO)",
  "import missing_module",
  // The image's files are read from the cache by the first run, found loaded by the second: same fuel.
  "import lazyimg; print(len(lazyimg.DATA))",
  "import lazyimg; print(len(lazyimg.DATA))",
];

/** [stdout, fuelUsed] of each program, in a sandbox with the fixtures mounted. */
export async function packageProbe(): Promise<[string, number][]> {
  const fx = makePackageFixtures();
  const sb = await Sandbox.create({
    ...interpreterOptions(),
    workers: 1,
    packages: [fx.wheel, fx.folder, fx.later, fx.image],
  });
  try {
    const rows: [string, number][] = [];
    for (const code of PACKAGE_PROBE_PROGRAMS) {
      const r = await sb.run(code, { fuel: 5_000_000_000, timeoutMs: 120_000 });
      rows.push([r.stdout, r.fuelUsed]);
    }
    return rows;
  } finally {
    await sb.close();
    rmSync(fx.root, { recursive: true, force: true });
  }
}

if (process.env["WASI_PY_PACKAGES_PROBE"] === "1") {
  process.stdout.write(JSON.stringify(await packageProbe()) + "\n");
}
