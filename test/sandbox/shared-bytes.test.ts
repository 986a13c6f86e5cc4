/**
 * Long stdin and files cross between the pool and its workers in a bare SharedArrayBuffer
 * (src/sandbox/_protocol.ts, `postable`), because Deno's worker_threads walks a posted typed array
 * byte by byte: the rule as a table, and runs that check long stdin, given and returned files
 * arrive byte for byte, leave the caller's buffers alone and come back in ordinary memory.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Sandbox } from "../../src/sandbox/mod.ts";
import {
  postable,
  postableFiles,
  postedImage,
  received,
  receivedFiles,
  receivedImage,
  SHARED_FROM_BYTES,
} from "../../src/sandbox/_protocol.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

const GENEROUS = { fuel: Infinity, timeoutMs: 120_000 };

/** `n` bytes that are not all alike (so a shifted or partial copy shows). */
function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("postable and received", () => {
  const table: Array<[string, number, boolean]> = [
    ["empty stays a view", 0, false],
    ["one byte short of the threshold stays a view", SHARED_FROM_BYTES - 1, false],
    ["at the threshold: a bare SharedArrayBuffer", SHARED_FROM_BYTES, true],
    ["a megabyte: a bare SharedArrayBuffer", 1 << 20, true],
  ];
  for (const [name, n, shared] of table) {
    it(name, () => {
      const bytes = pattern(n);
      const posted = postable(bytes);
      assert.equal(posted instanceof SharedArrayBuffer, shared);
      assert.deepEqual(received(posted), bytes);
      const copy = received(posted, true);
      assert.ok(copy.buffer instanceof ArrayBuffer && !(copy.buffer instanceof SharedArrayBuffer));
      assert.deepEqual(copy, bytes);
      assert.equal(bytes.length, n, "the caller's bytes are not transferred");
    });
  }
  it("files keep their paths and order", () => {
    const files = [{ path: "a", bytes: pattern(3) }, { path: "d/b", bytes: pattern(5000) }];
    assert.deepEqual(receivedFiles(postableFiles(files)), files);
    assert.deepEqual(receivedFiles(undefined), []);
  });
});

describe("long stdin and files through a worker", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1 });
  });
  after(async () => {
    await sb.close();
  });

  it("a megabyte of stdin arrives byte for byte, and the caller's buffer stays usable", async () => {
    const stdin = pattern(1 << 20);
    const r = await sb.run("import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())", {
      ...GENEROUS,
      stdin,
    });
    assert.equal(r.stdout, `${sha256(stdin)}\n`, r.stderr);
    assert.equal(stdin.length, 1 << 20);
    assert.equal(stdin[12345], pattern(12346)[12345]);
  });

  it("a long file given and one returned cross exactly; an unchanged long file is not returned", async () => {
    const big = pattern(300_000);
    const r = await sb.run(
      "import hashlib\nd = open('in.bin', 'rb').read()\nprint(hashlib.sha256(d).hexdigest())\n" +
        "open('out.bin', 'wb').write(d[::-1])",
      { ...GENEROUS, files: [{ path: "in.bin", content: big }], returnFiles: true },
    );
    assert.equal(r.stdout, `${sha256(big)}\n`, r.stderr);
    assert.deepEqual(r.files?.map((f) => f.path), ["out.bin"]);
    const out = r.files![0]!.content;
    assert.ok(!(out.buffer instanceof SharedArrayBuffer), "returned bytes are in ordinary memory");
    assert.deepEqual(out, big.slice().reverse());
  });
});

describe("the memory image crosses to workers as its bare shared buffer", () => {
  const runs = new Int32Array([0, 4096, 0]);
  it("posts the SharedArrayBuffer itself (no view for Deno to walk) and gets the same bytes back", () => {
    const bytes = new Uint8Array(new SharedArrayBuffer(4096));
    bytes[7] = 42;
    const posted = postedImage({ bytes, runs, top: 4096 });
    assert.ok(posted.buffer instanceof SharedArrayBuffer);
    assert.equal(posted.buffer, bytes.buffer, "shared, not copied");
    const back = receivedImage(structuredClone(posted));
    assert.deepEqual([back.bytes.length, back.bytes[7], back.top, [...back.runs]], [4096, 42, 4096, [0, 4096, 0]]);
  });
  const refused: Array<[string, Uint8Array]> = [
    ["ordinary memory", new Uint8Array(4096)],
    ["a view at an offset", new Uint8Array(new SharedArrayBuffer(8192), 4096)],
    ["a view shorter than its buffer", new Uint8Array(new SharedArrayBuffer(8192), 0, 4096)],
  ];
  for (const [name, bytes] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => postedImage({ bytes, runs, top: 4096 }), TypeError));
  }
});
