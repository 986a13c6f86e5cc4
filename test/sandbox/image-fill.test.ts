/**
 * The committed stdlib image as the workers get it (src/sandbox/_image-fill.ts): read a file at a
 * time from the verified cached copy, or filled after the first run is posted: the worker's gate
 * (_protocol.ts awaitImage, memfs.ts beforeRead), the lazy reads and the filling.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { awaitImage, IMAGE_FAILED, IMAGE_FILLING, IMAGE_READY } from "../../src/sandbox/_protocol.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { committedStdlib, readyState } from "../../src/sandbox/_image-fill.ts";
import { assetSha256, readAsset, readAssetShared } from "../../src/sandbox/assets.ts";
import { lazyEntries, LOADED } from "../../src/packages/lazy.ts";
import { alive, withCacheEnv } from "../helpers/cache-env.ts";
import { committedImageIndex } from "../../src/sandbox/_image-index.ts";
import { MemFs } from "../../src/wasi/memfs.ts";
import { buildImageTree } from "../../src/wasi/image-tree.ts";
import type { FileNode } from "../../src/wasi/memfs.ts";
import { Errno } from "../../src/wasi/constants.ts";
import { errno } from "../helpers/fs-errno.ts";

const flagOf = (state: number) => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  flag[0] = state;
  return flag;
};

describe("awaitImage", () => {
  it("returns at once for a ready image and throws for a failed one", () => {
    awaitImage(flagOf(IMAGE_READY));
    assert.equal(new Int32Array(readyState())[0], IMAGE_READY);
    assert.throws(() => awaitImage(flagOf(IMAGE_FAILED)), /could not be read/);
  });

  it("blocks a thread until another sets the flag", async () => {
    const flag = flagOf(IMAGE_FILLING);
    // The waiting side runs in a worker (the main thread of Deno may not block); it reports
    // what the flag said when it woke.
    const source = `
      const { parentPort, workerData } = require("node:worker_threads");
      const flag = new Int32Array(workerData);
      while (Atomics.load(flag, 0) === ${IMAGE_FILLING}) Atomics.wait(flag, 0, ${IMAGE_FILLING});
      parentPort.postMessage(Atomics.load(flag, 0));`;
    const w = new Worker(source, { eval: true, workerData: flag.buffer });
    try {
      const woke = new Promise((resolve) => w.on("message", resolve));
      await new Promise((r) => setTimeout(r, 50));
      Atomics.store(flag, 0, IMAGE_READY);
      Atomics.notify(flag, 0);
      assert.equal(await woke, IMAGE_READY);
    } finally {
      await w.terminate();
    }
  });
});

describe("memfs beforeRead", () => {
  const entry = { path: "a.py", type: "file" as const, data: new TextEncoder().encode("x = 1\n"), linkTarget: "" };
  const tree = (beforeRead: () => void) => buildImageTree([{ ...entry, mode: 0o644, mtime: 0 }], beforeRead);
  const fileOf = (root: ReturnType<typeof buildImageTree>) => root.entries.get("a.py") as FileNode;

  it("is called before every read of an image file", () => {
    let calls = 0;
    const file = fileOf(tree(() => calls++));
    const dst = new Uint8Array(3);
    assert.equal(MemFs.readAt(file, 0, dst), 3);
    assert.equal(MemFs.readAt(file, 3, dst), 3);
    assert.equal(calls, 2);
  });

  it("a throw makes the read fail with EIO, not a host error", () => {
    const file = fileOf(tree(() => awaitImage(flagOf(IMAGE_FAILED))));
    assert.equal(errno(() => MemFs.readAt(file, 0, new Uint8Array(3))), Errno.IO);
  });
});

describe("committedStdlib", () => {
  /** Runs `body` against a private cache holding the expanded image, its stamp and its index. */
  function withPrivateCache(body: (cache: string) => void): void {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-lazy-"));
    try {
      withCacheEnv({ WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache }, () => {
        committedImageIndex(readAssetShared("stdlib.tar")); // what any first start leaves
        body(cache);
      });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }

  it("hands out zeroed memory, the index with each file's sha256, and the verified copy to read files from", () => {
    withPrivateCache((cache) => {
      const image = committedStdlib();
      assert.ok(image !== undefined, "the index is cached");
      assert.equal(image.fill, undefined, "nothing needs reading up front");
      assert.equal(typeof image.pin, "function");
      assert.equal(new Int32Array(image.state)[0], IMAGE_READY);
      assert.equal(image.lazy?.file, join(cache, assetSha256("stdlib.tar"), "stdlib.tar"));
      assert.ok(new Uint8Array(image.image).every((b) => b === 0));
      const index = JSON.parse(image.index) as { rows: unknown[]; sha256: string[] };
      assert.equal(index.sha256.length, index.rows.length);
      assert.ok(image.lazy!.loaded.byteLength >= 4 * index.rows.length);
      // A worker's tree from it: a file's bytes arrive when it is first read, and are the image's.
      const whole = readAsset("stdlib.tar");
      const entries = lazyEntries(image.image, index, { ...image.lazy!, sha256: index.sha256 });
      const json = entries.find((e) => e.path === "usr/local/lib/python3.13/json/__init__.py")!;
      assert.ok(json.data.every((b) => b === 0));
      json.beforeRead!();
      const at = json.data.byteOffset;
      assert.deepEqual(json.data, new Uint8Array(whole.subarray(at, at + json.data.length)));
    });
  });

  it("pin() reads a lazily read image in, in steps: every file checked and marked loaded; the copy then unneeded", async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-pin-"));
    try {
      const vars = { WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache };
      const image = withCacheEnv(vars, () => {
        committedImageIndex(readAssetShared("stdlib.tar"));
        return committedStdlib()!;
      });
      const index = JSON.parse(image.index) as { rows: [string, string, number, number][]; sha256: string[] };
      const files = index.rows.map((r, i) => ({ r, i })).filter(({ r }) => r[1] === "file" && r[3] > 0);
      const flags = new Int32Array(image.lazy!.loaded);
      const pinned = image.pin!();
      assert.equal(image.pin!(), pinned, "once");
      assert.ok(files.some(({ i }) => flags[i] !== LOADED), "pin() returns before the work is done");
      // It goes on between turns of the event loop (its timers do not keep a process alive; this test's do).
      assert.equal(await alive(pinned), true);
      assert.ok(files.every(({ i }) => flags[i] === LOADED));
      const whole = new Uint8Array(readAsset("stdlib.tar"));
      const bytes = new Uint8Array(image.image);
      for (const { r } of files) assert.deepEqual(bytes.subarray(r[2], r[2] + r[3]), whole.subarray(r[2], r[2] + r[3]));
      // A worker's read now needs no file: point the source at one that does not exist.
      const entries = lazyEntries(image.image, index, { ...image.lazy!, file: "/nonexistent", sha256: index.sha256 });
      entries.find((e) => e.path.endsWith("python3.13/fractions.py"))!.beforeRead!();
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("pin() with the cached copy gone stops quietly: the files stay read lazily", async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-pin-gone-"));
    try {
      const image = withCacheEnv({ WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache }, () => {
        committedImageIndex(readAssetShared("stdlib.tar"));
        return committedStdlib()!;
      });
      rmSync(join(cache, assetSha256("stdlib.tar")), { recursive: true, force: true });
      assert.equal(await alive(image.pin!()), false);
      assert.ok(new Int32Array(image.lazy!.loaded).every((f) => f === 0));
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("without the copy's stamp, hands out a pending image that fill() reads (checking its hash)", () => {
    withPrivateCache((cache) => {
      rmSync(join(cache, assetSha256("stdlib.tar"), "stdlib.tar.verified"));
      const pending = committedStdlib();
      assert.ok(pending?.fill !== undefined, "the bytes are to be filled");
      assert.equal(pending.lazy, undefined);
      const state = new Int32Array(pending.state);
      assert.equal(state[0], IMAGE_FILLING);
      const bytes = new Uint8Array(pending.image);
      assert.ok(bytes.every((b) => b === 0));
      assert.equal(pending.index, committedImageIndex(readAssetShared("stdlib.tar")));
      pending.fill();
      assert.equal(state[0], IMAGE_READY);
      assert.deepEqual(bytes, new Uint8Array(readAsset("stdlib.tar")));
      pending.fill(); // once only: a second call changes nothing
      assert.equal(state[0], IMAGE_READY);
      assert.ok(committedStdlib()?.lazy !== undefined, "the fill wrote the stamp: the next start reads lazily");
    });
  });
});
