/**
 * Mounted packages in the real interpreter (issue 25), on Node and Deno: a wheel and folders the
 * test makes import and run; a compiled extension or a platform wheel is refused when mounted, in
 * one line; the package folder is read-only with the stdlib's own error; module state never leaks
 * from one run into the next; a missing module keeps CPython's error; and the same programs spend
 * the same fuel on the other runtime (test/helpers/packages-probe.ts, run as a child).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { PackageError, Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";
import { makePackageFixtures } from "../helpers/package-fixtures.ts";
import type { PackageFixtures } from "../helpers/package-fixtures.ts";
import { PACKAGE_PROBE_PROGRAMS, packageProbe } from "../helpers/packages-probe.ts";
import { otherHalfRuns, THIS_RUNTIME } from "../helpers/halves.ts";
import { otherRuntimeProbe } from "../helpers/other-runtime.ts";

const SITE = "/usr/local/lib/python3.13/site-packages";
const RUN = { fuel: 5_000_000_000, timeoutMs: 120_000 };

describe("mounted packages", () => {
  let fx: PackageFixtures;
  let sb: Sandbox;
  before(async () => {
    fx = makePackageFixtures();
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [fx.wheel, fx.folder, fx.later] });
  });
  after(async () => {
    await sb?.close();
    rmSync(fx.root, { recursive: true, force: true });
  });
  const run = async (code: string) => await sb.run(code, RUN);
  const lastLine = (text: string) => text.trimEnd().split("\n").pop();

  it("imports from a wheel and a folder, on sys.path after the stdlib", async () => {
    const r = await run(
      "import sys, tinywheel, tinyfolder\n" +
        "print(tinywheel.remember('a'), tinyfolder.twice(4), tinywheel.__file__)\n" +
        "print(sys.path.index('" + SITE + "') > sys.path.index('/usr/local/lib/python3.13'))",
    );
    assert.equal(r.outcome, "ok", r.stderr);
    assert.equal(r.stdout, `1 8 ${SITE}/tinywheel/__init__.py\nTrue\n`);
  });
  it("the wheel's metadata is found as installed", async () => {
    const r = await run("import importlib.metadata as m; print(m.version('tinywheel'))");
    assert.equal(r.stdout, "1.0\n", r.stderr);
  });
  it("the first mount wins a file both hold", async () => {
    assert.equal((await run("import shadow; print(shadow.WHO)")).stdout, "first\n");
  });
  it("module state never leaks into the next run", async () => {
    const first = await run(
      "import tinywheel; tinywheel.remember(1); tinywheel.remember(2); print(len(tinywheel.calls))",
    );
    assert.equal(first.stdout, "2\n");
    const second = await run(
      "import sys; print('tinywheel' in sys.modules); import tinywheel; print(tinywheel.calls)",
    );
    assert.equal(second.stdout, "False\n[]\n");
  });
  it("writing into the package folder fails as in the stdlib", async () => {
    const attempt = (path: string) =>
      `try:\n    open('${path}', 'w')\nexcept OSError as e:\n    print(type(e).__name__, e.errno, e.strerror)`;
    const pkg = await run(attempt(`${SITE}/tinyfolder/new.py`));
    const std = await run(attempt("/usr/local/lib/python3.13/new.py"));
    assert.match(pkg.stdout, /^OSError \d+ Read-only file system\n$/);
    assert.equal(pkg.stdout, std.stdout);
    const existing = await run(attempt(`${SITE}/tinyfolder/sub.py`));
    assert.equal(existing.stdout, std.stdout);
    const remove = await run(
      `import os\ntry:\n    os.remove('${SITE}/shadow.py')\nexcept OSError as e:\n    print(e.strerror)`,
    );
    assert.equal(remove.stdout, "Read-only file system\n");
  });
  it("a missing module keeps CPython's own error", async () => {
    const r = await run("import missing_module");
    assert.equal(r.outcome, "error");
    assert.equal(lastLine(r.stderr), "ModuleNotFoundError: No module named 'missing_module'");
  });
  it("reading package bytes is charged fuel like the stdlib's (1 unit per 8 bytes)", async () => {
    const open = `f = open('${SITE}/blob.bin', 'rb')\n`;
    const read = await run(`${open}b = f.read()\nprint(len(b), b[:1] == b'\\x07')`);
    const opened = await run(`${open}b = f.read(0)\nprint(len(b), True)`);
    assert.equal(read.stdout, "262144 True\n", read.stderr);
    assert.ok(read.fuelUsed - opened.fuelUsed >= 262144 / 8, `${read.fuelUsed} - ${opened.fuelUsed}`);
  });
  it("package bytes do not count toward the /tmp quota", async () => {
    const r = await sb.run(
      "import tinywheel\nopen('/tmp/a', 'wb').write(b'x' * 1000)\nprint('ok')",
      { ...RUN, tmpQuotaBytes: 1024 },
    );
    assert.equal(r.stdout, "ok\n", r.stderr);
  });
});

describe("mounting refuses, in one line naming the file", () => {
  let fx: PackageFixtures;
  before(() => (fx = makePackageFixtures()));
  after(() => rmSync(fx.root, { recursive: true, force: true }));
  const cases: [string, (f: PackageFixtures) => string, RegExp][] = [
    [
      "a compiled extension in a wheel",
      (f) => f.soWheel,
      /sowheel-1\.0-py3-none-any\.whl: tinywheel\/_speedups\.so is a compiled extension/,
    ],
    [
      "a compiled extension in a folder",
      (f) => f.soFolder,
      /sofolder: native\/_impl\.cpython-313-wasm32-wasi\.so is a compiled extension/,
    ],
    ["a platform wheel", (f) => f.platformWheel, /tag cp313-cp313-linux_x86_64 is not pure Python/],
    ["a missing path", (f) => join(f.root, "nothing.whl"), /nothing\.whl: no such file or folder/],
    ["a file of no known kind", (f) => join(f.folder, "shadow.py"), /not a folder, a \.whl file or a package image/],
  ];
  for (const [name, path, message] of cases) {
    it(name, async () => {
      await assert.rejects(
        Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [path(fx)] }),
        (e: Error) => {
          assert.ok(e instanceof PackageError, String(e));
          assert.match(e.message, message);
          assert.ok(!e.message.includes("\n"));
          return true;
        },
      );
    });
  }
});

/** The probe's rows from the other runtime, run as a child process. */
function otherRuntime(): Promise<[string, number][]> {
  return otherRuntimeProbe("packages-probe", { WASI_PY_PACKAGES_PROBE: "1" }, 300_000);
}

/** In an `npm test` running both halves, the Node half starts Deno for this; the Deno half leaves it. */
const CROSS_SKIP = THIS_RUNTIME === "deno" && otherHalfRuns()
  ? "npm test's Node half compares with Deno (test/helpers/halves.ts)"
  : false;

describe("with packages mounted, the same fuel on Node and Deno", { skip: CROSS_SKIP }, () => {
  if (CROSS_SKIP) return;
  const rows = packageProbe().then(async (mine) => ({ mine, theirs: await otherRuntime() }));
  rows.catch(() => {}); // reported by each test
  for (const [i, code] of PACKAGE_PROBE_PROGRAMS.entries()) {
    it(`${i}: ${code}`, async () => {
      const { mine, theirs } = await rows;
      assert.deepEqual(theirs[i], mine[i]);
      assert.ok(mine[i]![1] > 0);
    });
  }
  it("an image's file costs the same read by the first run (from the cache) as by the next (loaded)", async () => {
    const { mine } = await rows;
    const [first, second] = mine.slice(-2);
    assert.equal(first![0], "65536\n");
    assert.deepEqual(second, first);
  });
});
