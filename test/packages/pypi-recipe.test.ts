/**
 * The README's PyPI recipe (issue 25), without PyPI (unreachable here): a wheel laid out as pip
 * downloads it is made from Debian's python3-more-itertools tree (test/helpers/pip-wheel.ts);
 * the recipe's own `pip download --no-deps --only-binary=:all: --platform any --python-version
 * 3.13` picks it from a local index (`--no-index --find-links`) when pip is there, and the
 * recipe's `wasi-py --packages FILE.whl` imports it, its dist-info found as installed, on the
 * runtime running the test. A manylinux wheel of the same tree is refused in one line naming
 * it, exit status 2, and pip's `--platform any` leaves it out too. Needs apt-get and dpkg (and
 * the archive reachable); without them the test says so and skips.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { cliCommand } from "../helpers/cli-command.ts";
import { missingTools } from "../helpers/debian-image.ts";
import { debianTree, wheelFromTree, wheelName } from "../helpers/pip-wheel.ts";
import type { WheelSpec } from "../helpers/pip-wheel.ts";

const PURE: WheelSpec = { project: "more-itertools", version: "8.10.0", tags: ["py3-none-any"], purelib: true };
const MANYLINUX: WheelSpec = {
  ...PURE,
  tags: ["cp313-cp313-manylinux_2_17_x86_64", "cp313-cp313-manylinux2014_x86_64"],
  purelib: false,
};
const PROGRAM = "import importlib.metadata as m, more_itertools\n" +
  "print(m.version('more-itertools'), more_itertools.__version__, list(more_itertools.chunked(range(5), 2)))";

function wasiPy(args: string[]) {
  const [cmd, argv] = cliCommand(args);
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env["WASI_PY_PACKAGES"];
  return spawnSync(cmd, argv, { encoding: "utf8", env, input: "", timeout: 120_000 });
}

/** Why pip cannot run the recipe's download step here, or undefined. */
function pipMissing(): string | undefined {
  const r = spawnSync("python3", ["-m", "pip", "--version"], { encoding: "utf8" });
  return r.status === 0 ? undefined : "python3 -m pip is not installed";
}

const skip = missingTools();
if (skip !== undefined) process.stdout.write(`# pypi-recipe.test: skipped, cannot fetch the Debian package: ${skip}\n`);

describe("the PyPI recipe, with a wheel as pip lays it out", { skip: skip ?? false }, () => {
  let dir: string;
  let index: string;
  let tree: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "wasi-py-pypi-"));
    index = join(dir, "index");
    mkdirSync(index);
    tree = debianTree("more-itertools");
    for (const spec of [PURE, MANYLINUX]) writeFileSync(join(index, wheelName(spec)), wheelFromTree(tree, spec));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tree, "../../../.."), { recursive: true, force: true });
  });

  it("pip download --platform any picks the pure wheel", { skip: pipMissing() ?? false }, () => {
    const wheels = join(dir, "wheels");
    const r = spawnSync("python3", [
      "-m",
      "pip",
      "download",
      "--no-deps",
      "--only-binary=:all:",
      "--platform",
      "any",
      "--python-version",
      "3.13",
      "--no-index",
      "--find-links",
      index,
      "-d",
      wheels,
      "more-itertools",
    ], { encoding: "utf8", env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(wheels), [wheelName(PURE)]);
  });
  it("wasi-py --packages FILE.whl imports it, its metadata found as installed", () => {
    const r = wasiPy(["--packages", join(index, wheelName(PURE)), PROGRAM]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "8.10.0 8.10.0 [[0, 1], [2, 3], [4]]\n");
    assert.equal(r.status, 0);
  });
  it("a manylinux wheel is refused in one line naming it, exit status 2", () => {
    const name = wheelName(MANYLINUX);
    assert.equal(name, "more_itertools-8.10.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
    const r = wasiPy(["--packages", join(index, name), PROGRAM]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^wasi-py: .*manylinux2014_x86_64\.whl: .*not pure Python/);
  });
});
