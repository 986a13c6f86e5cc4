/**
 * The committed stdlib image read a file at a time (issue 23, src/sandbox/_image-fill.ts): end to
 * end through the command, in a private cache. Fuel is the same whether the image was read up
 * front or a file at a time; a stdlib file whose bytes change in the cached copy under a one-shot
 * run fails that import with EIO (its bytes are checked against the sealed index's sha256, never
 * used), other modules still load, and the next start, whose stamp check fails, expands the image
 * again and runs right. A sandbox that lives on (a library sandbox: the bot, --batch and the
 * service use one) pins the image in memory once its first run has answered, so the cache deleted
 * under it breaks nothing.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assetSha256 } from "../../src/sandbox/assets.ts";
import { INDEX_SUFFIX } from "../../src/sandbox/_image-index.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { alive, withCacheEnv } from "../helpers/cache-env.ts";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { committedPin } from "../../src/sandbox/_interpreter-init.ts";

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

/** A one-shot `wasi-py -fraw CODE` with its cache in `dir`, its stdin a pipe: `next()` resolves with each chunk of stdout. */
function oneShot(dir: string, code: string) {
  const [cmd, argv] = cliCommand(["-fraw", code]);
  const child = spawn("env", [...envArgs(dir), cmd, ...argv], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "", err = "";
  let wake: (() => void) | undefined;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    wake?.();
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    /** Waits until stdout holds `text`. */
    async until(text: string): Promise<void> {
      while (!out.includes(text)) await new Promise<void>((resolve) => (wake = resolve));
    },
    async finish(stdin: string): Promise<{ out: string; err: string; status: number | null }> {
      child.stdin.end(stdin);
      const status = await closed;
      return { out, err, status };
    },
  };
}

describe(`the stdlib read a file at a time, on ${isDeno ? "Deno" : "Node"}`, () => {
  it("fuel does not depend on it; a file changed under a run fails its import with EIO; the next start re-expands", {
    timeout: 300_000,
  }, async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-lazy-e2e-"));
    try {
      // The first start reads the whole image (and caches its index); the second reads files lazily.
      const upFront = runJson(cache, PROBE);
      const lazily = runJson(cache, PROBE);
      assert.equal(upFront.stdout, "statistics fractions\n", upFront.stderr);
      assert.deepEqual([lazily.stdout, lazily.fuelUsed], [upFront.stdout, upFront.fuelUsed]);

      // A one-shot run reads files lazily for its whole life: change two files under it.
      const run = oneShot(
        cache,
        "import sys; print('ready', flush=True); sys.stdin.readline()\n" +
          "try:\n  import statistics\nexcept OSError as e: print('statistics:', e.errno)\n" +
          "import decimal; print(decimal.__name__)",
      );
      await run.until("ready\n");
      corrupt(cache, ["statistics.py", "__pycache__/statistics.cpython-313.pyc"]);
      const r = await run.finish("go\n");
      assert.equal(r.out, "ready\nstatistics: 5\ndecimal\n", r.err);
      assert.equal(r.status, 0);

      const after = runJson(cache, PROBE);
      assert.deepEqual([after.stdout, after.stderr, after.fuelUsed], [upFront.stdout, "", upFront.fuelUsed]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("a sandbox that lives on pins the image once its first run answered: the cache deleted then breaks no import", {
    timeout: 300_000,
  }, async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-lazy-pin-"));
    const vars = { WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache };
    try {
      runJson(cache, "print(1)"); // caches the index: the sandbox below reads the image lazily
      // This process's committed image comes from its first sandbox, made here with the private cache.
      const sb = await withCacheEnv(vars, () => Sandbox.create({ workers: 1 }));
      try {
        const before = committedPin();
        assert.equal(before, undefined, "no pinning before a run has answered");
        assert.equal((await sb.run("print(2)")).stdout, "2\n");
        const pin = committedPin();
        assert.ok(pin !== undefined, "pinning began after the first answer");
        assert.ok(pin.file.startsWith(`${cache}/`), pin.file);
        assert.equal(await alive(pin.pinned), true);
        rmSync(join(cache, assetSha256("stdlib.tar")), { recursive: true, force: true });
        const r = await sb.run(PROBE);
        assert.deepEqual([r.stdout, r.outcome], ["statistics fractions\n", "ok"], r.stderr);
      } finally {
        await sb.close();
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
