/**
 * Real libraries from Debian in a package image (issue 25, item 4): scripts/build-packages.sh
 * makes one image of the packages in test/fixtures/packages/debian-packages.txt (once; it is
 * kept in build/packages/ under a name derived from the list), and each program of programs.json
 * must print what native CPython printed with the same .deb files (expected.json, made by
 * scripts/gen-package-fixtures.sh). The image records the .deb files it was made from, so a
 * Debian update shows as its own failure, not as a wrong output. Needs apt-get and dpkg (and the
 * archive reachable); without them the test says so and skips.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";
import { DEBIAN_IMAGE, ensureDebianImage, missingTools } from "../helpers/debian-image.ts";

const FIX = join(repoRoot(), "test/fixtures/packages");
const PROGRAMS = JSON.parse(readFileSync(join(FIX, "programs.json"), "utf8")) as { name: string; code: string }[];
const EXPECTED = JSON.parse(readFileSync(join(FIX, "expected.json"), "utf8")) as {
  debs: string[];
  results: { name: string; stdout: string }[];
};
const SITE = "/usr/local/lib/python3.13/site-packages";

const skip = existsSync(DEBIAN_IMAGE) ? undefined : missingTools();
if (skip !== undefined) process.stdout.write(`# debian.test: skipped, cannot build the package image: ${skip}\n`);

describe("Debian's pure-Python packages in a package image", { skip: skip ?? false }, () => {
  let sb: Sandbox;
  before(async () => {
    const image = await ensureDebianImage();
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [image] });
  }, { timeout: 1_800_000 });

  it("the image holds the .deb files the expected outputs were made with", async () => {
    const r = await sb.run(`print(open('${SITE}/WASI-PY-IMAGE').read(), end='')`);
    assert.equal(r.outcome, "ok", r.stderr);
    assert.deepEqual(
      r.stdout.split("\n").filter((l) => l !== ""),
      EXPECTED.debs,
      "Debian's versions changed: run scripts/gen-package-fixtures.sh and delete build/packages/debian-test-*",
    );
  });
  for (const [i, p] of PROGRAMS.entries()) {
    it(`${p.name}: native CPython's output`, async () => {
      const r = await sb.run(p.code, { fuel: 50_000_000_000, timeoutMs: 600_000, memoryMiB: 512 });
      assert.equal(r.stderr, "");
      assert.equal(r.outcome, "ok");
      assert.equal(r.stdout, EXPECTED.results[i]!.stdout);
    });
  }
  it("closes", async () => await sb.close());
});
