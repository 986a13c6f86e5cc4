/**
 * The stdlib image filled after the first run is posted (src/sandbox/_image-fill.ts): the worker's
 * gate (_protocol.ts awaitImage, memfs.ts beforeRead) and the filling itself.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { awaitImage, IMAGE_FAILED, IMAGE_FILLING, IMAGE_READY } from "../../src/sandbox/_protocol.ts";
import { pendingStdlib, readyState } from "../../src/sandbox/_image-fill.ts";
import { readAsset, readAssetShared } from "../../src/sandbox/assets.ts";
import { committedImageIndex } from "../../src/sandbox/_image-index.ts";
import { buildImageTree, MemFs } from "../../src/wasi/memfs.ts";
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

describe("pendingStdlib", () => {
  it("hands out zeroed memory and the index, and fill() puts the committed image's bytes in", () => {
    committedImageIndex(readAssetShared("stdlib.tar")); // the index is cached after any first start
    const pending = pendingStdlib();
    assert.ok(pending !== undefined, "the index is cached, so the image can be filled later");
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
  });
});
