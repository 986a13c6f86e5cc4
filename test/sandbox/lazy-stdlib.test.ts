/**
 * The committed stdlib image read a file at a time (issue 23, src/sandbox/_image-fill.ts): end to
 * end through the command, in a private cache. Fuel is the same whether the image was read up
 * front or a file at a time; a stdlib file whose bytes change in the cached copy while a batch
 * runs fails that import with EIO (its bytes are checked against the sealed index's sha256, never
 * used), other modules still load, and the next start, whose stamp check fails, expands the image
 * again and runs right.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assetSha256 } from "../../src/sandbox/assets.ts";
import { INDEX_SUFFIX } from "../../src/sandbox/_image-index.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { startBatch } from "../helpers/batch-process.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const LIB = "usr/local/lib/python3.13/";
/** Modules the snapshot has not imported: a run importing them reads their files from the image. */
const PROBE = "import statistics, fractions; print(statistics.__name__, fractions.__name__)";

/** The env(1) arguments that keep a child's cache inside `dir`. */
const envArgs = (dir: string) => ["-u", "XDG_CACHE_HOME", `WASI_PY_CACHE=${dir}`, `HOME=${dir}`, `TMPDIR=${dir}`];

/** One run of the command with its cache in `dir`, as the json format's object. */
function runJson(dir: string, code: string): { stdout: string; stderr: string; fuelUsed: number; outcome: string } {
  const [cmd, argv] = cliCommand(["-fjson", code]);
  const r = spawnSync("env", [...envArgs(dir), cmd, ...argv], {
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Flips one byte of each of `paths`' data in the cached stdlib.tar, in place (as a disk fault or a stray write would). */
function corrupt(cache: string, paths: readonly string[]): void {
  const folder = join(cache, assetSha256("stdlib.tar"));
  const text = readFileSync(join(folder, `stdlib.tar${INDEX_SUFFIX}`), "utf8");
  const rows = (JSON.parse(text.slice(text.indexOf("\n") + 1)) as { rows: [string, string, number][] }).rows;
  const fd = openSync(join(folder, "stdlib.tar"), "r+");
  try {
    for (const path of paths) {
      const row = rows.find((r) => r[0] === LIB + path);
      assert.ok(row !== undefined, path);
      writeSync(fd, new TextEncoder().encode("#"), 0, 1, row[2] + 1);
    }
  } finally {
    closeSync(fd);
  }
}

describe(`the stdlib read a file at a time, on ${isDeno ? "Deno" : "Node"}`, () => {
  it("fuel does not depend on it; a file changed in the cache fails its import with EIO; the next start re-expands", async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-lazy-e2e-"));
    try {
      // The first start reads the whole image (and caches its index); the second reads files lazily.
      const upFront = runJson(cache, PROBE);
      const lazily = runJson(cache, PROBE);
      assert.equal(upFront.stdout, "statistics fractions\n", upFront.stderr);
      assert.deepEqual([lazily.stdout, lazily.fuelUsed], [upFront.stdout, upFront.fuelUsed]);

      const b = startBatch([], { WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache, XDG_CACHE_HOME: undefined });
      try {
        assert.equal((await b.run("import fractions; print(fractions.__name__)")).stdout, "fractions\n");
        corrupt(cache, ["statistics.py", "__pycache__/statistics.cpython-313.pyc"]);
        const bad = await b.run("import statistics");
        assert.equal(bad.outcome, "error", JSON.stringify(bad));
        assert.match(bad.stderr, /Errno 5/);
        assert.doesNotMatch(bad.stderr, /SyntaxError|bad marshal/, "the changed bytes never reach the guest");
        const still = await b.run("import fractions, decimal; print(decimal.__name__)");
        assert.equal(still.stdout, "decimal\n", still.stderr);
      } finally {
        await b.end();
      }

      const after = runJson(cache, PROBE);
      assert.deepEqual([after.stdout, after.stderr, after.fuelUsed], [upFront.stdout, "", upFront.fuelUsed]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
