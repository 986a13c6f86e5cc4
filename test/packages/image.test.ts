/**
 * Package images (issue 25): the writer scripts/build-packages.sh packs with reads back through
 * the stdlib image's reader; a `.tar.br` is expanded once into the cache with its index (a second
 * mount reads those); a corrupt image or one with a compiled extension is refused in one line; and
 * an image made here mounts and imports, `.pyc` included, without apt or Debian.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { brotliCompressSync } from "node:zlib";
import { writeUstar } from "../../scripts/ustar.ts";
import { readTar } from "../../src/wasi/tar.ts";
import { imageFiles } from "../../src/packages/image.ts";
import { PackageError, Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("writeUstar", () => {
  it("reads back with readTar, long paths included, sorted", () => {
    const long = `${"d".repeat(70)}/${"e".repeat(70)}/module_with_a_long_name.py`;
    const tar = writeUstar(
      new Map([["b.py", enc.encode("B")], [long, enc.encode("L".repeat(600))], ["a.py", enc.encode("")]]),
    );
    const entries = readTar(tar);
    assert.deepEqual(entries.map((e) => [e.path, e.type, e.data.length, e.mtime]), [
      ["a.py", "file", 0, 0],
      ["b.py", "file", 1, 0],
      [long, "file", 600, 0],
    ]);
    assert.equal(dec.decode(entries[2]!.data), "L".repeat(600));
  });
  it("refuses a path it cannot store", () => {
    assert.throws(() => writeUstar(new Map([["x".repeat(300), new Uint8Array(0)]])), /too long/);
  });
});

describe("package images", () => {
  let dir: string;
  let cacheBefore: string | undefined;
  const files = new Map([
    ["imgpkg/__init__.py", enc.encode("from .core import answer\n")],
    ["imgpkg/core.py", enc.encode("def answer():\n    return 42\n")],
  ]);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "wasi-py-image-"));
    cacheBefore = process.env["WASI_PY_CACHE"];
    process.env["WASI_PY_CACHE"] = join(dir, "cache");
    writeFileSync(join(dir, "img.tar"), writeUstar(files));
    writeFileSync(join(dir, "img.tar.br"), brotliCompressSync(writeUstar(files)));
    writeFileSync(join(dir, "bad.tar.br"), enc.encode("not brotli at all"));
    writeFileSync(join(dir, "so.tar"), writeUstar(new Map([...files, ["imgpkg/_fast.so", new Uint8Array(4)]])));
  });
  after(() => {
    if (cacheBefore === undefined) delete process.env["WASI_PY_CACHE"];
    else process.env["WASI_PY_CACHE"] = cacheBefore;
    rmSync(dir, { recursive: true, force: true });
  });

  it("a plain .tar is read as is", () => {
    assert.deepEqual(imageFiles(join(dir, "img.tar")).map((f) => f.path), [...files.keys()]);
  });
  it("a .tar.br is expanded once into the cache, with its index", () => {
    const first = imageFiles(join(dir, "img.tar.br"));
    const hashes = readdirSync(join(dir, "cache", "packages"));
    assert.equal(hashes.length, 1);
    assert.ok(existsSync(join(dir, "cache", "packages", hashes[0]!, "image.tar.index.json")));
    const second = imageFiles(join(dir, "img.tar.br"));
    assert.deepEqual(second.map((f) => [f.path, dec.decode(f.data)]), first.map((f) => [f.path, dec.decode(f.data)]));
  });
  it("refuses a corrupt image, in one line", () => {
    assert.throws(() => imageFiles(join(dir, "bad.tar.br")), (e: Error) => {
      assert.ok(e instanceof PackageError);
      assert.match(e.message, /bad\.tar\.br: not a package image: not valid brotli data$/);
      return true;
    });
  });
  it("refuses an image with a compiled extension, naming it", () => {
    assert.throws(() => imageFiles(join(dir, "so.tar")), /so\.tar: imgpkg\/_fast\.so is a compiled extension/);
  });
  it("mounts and imports", async () => {
    const sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [join(dir, "img.tar.br")] });
    try {
      const r = await sb.run("import imgpkg; print(imgpkg.answer())");
      assert.equal(r.stdout, "42\n", r.stderr);
    } finally {
      await sb.close();
    }
  });
});
