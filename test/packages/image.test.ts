/**
 * Package images (issue 25): the writer scripts/build-packages.sh packs with reads back through
 * the stdlib image's reader; a `.tar.br` is expanded once into the cache with a sealed index, and a
 * mount reads no file's bytes (the workers read them when the guest opens the file); a cache file
 * that was changed is never used: a changed index or tar is replaced at the next mount, a file
 * changed after the mount fails to read; a corrupt image or one with a compiled extension is
 * refused in one line; and an image made here mounts and imports, without apt or Debian.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
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
  const cached = () => {
    const hashes = readdirSync(join(dir, "cache", "packages")).filter((h) => h !== "stamps");
    assert.equal(hashes.length, 1);
    return join(dir, "cache", "packages", hashes[0]!);
  };
  /** Overwrites bytes of a file in place (same size), as a stray writer would. */
  const scribble = (path: string, at: number, text: string) => {
    const fd = openSync(path, "r+");
    writeSync(fd, enc.encode(text), 0, text.length, at);
    closeSync(fd);
  };
  const coreOffset = (tar: Uint8Array) => dec.decode(tar).indexOf("def answer");

  it("a .tar.br is expanded once into the cache; a mount reads no file's bytes", () => {
    const first = imageFiles(join(dir, "img.tar.br"));
    assert.deepEqual(readdirSync(cached()).sort(), ["image.index.txt", "image.tar", "image.tar.verified"]);
    // The image's sha256 is remembered under its path and stamp: the next mount need not hash it.
    const stamps = join(dir, "cache", "packages", "stamps");
    const remembered = readdirSync(stamps).map((f) => readFileSync(join(stamps, f), "utf8"));
    assert.deepEqual(remembered, [cached().split(/[\\/]/).pop()]);
    for (const f of [...first, ...imageFiles(join(dir, "img.tar.br"))]) {
      assert.equal(f.lazy?.file, join(cached(), "image.tar"));
      assert.equal(f.data.length, files.get(f.path)!.length);
      assert.ok(f.data.every((b) => b === 0), `${f.path} was read at mount`);
    }
  });
  it("a changed index or tar in the cache is not used: the next mount expands again", () => {
    imageFiles(join(dir, "img.tar.br"));
    const tarPath = join(cached(), "image.tar");
    const good = readFileSync(tarPath);
    scribble(tarPath, coreOffset(good), "def ANSWER");
    imageFiles(join(dir, "img.tar.br"));
    assert.deepEqual(readFileSync(tarPath), good);
    const indexPath = join(cached(), "image.index.txt");
    const index = readFileSync(indexPath, "utf8");
    writeFileSync(indexPath, index.replace(/"archiveBytes":\d+/, '"archiveBytes":1'));
    imageFiles(join(dir, "img.tar.br"));
    assert.equal(readFileSync(indexPath, "utf8"), index);
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
  it("mounts and imports; a file changed after the mount fails to read, and is not run", async () => {
    const sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [join(dir, "img.tar.br")] });
    try {
      const tarPath = join(cached(), "image.tar");
      const r = await sb.run("import imgpkg; print(imgpkg.answer())");
      assert.equal(r.stdout, "42\n", r.stderr);
      scribble(tarPath, coreOffset(readFileSync(tarPath)), "def ANSWER");
      // core.py is loaded already, in memory the workers share: the change does not reach it.
      assert.equal((await sb.run("import imgpkg; print(imgpkg.answer())")).stdout, "42\n");
    } finally {
      await sb.close();
    }
    const sb2 = await Sandbox.create({ ...interpreterOptions(), workers: 1, packages: [join(dir, "img.tar.br")] });
    try {
      const tarPath = join(cached(), "image.tar");
      scribble(tarPath, coreOffset(readFileSync(tarPath)), "def ANSWER");
      const r = await sb2.run("import imgpkg; print(imgpkg.answer())");
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^OSError: \[Errno 5\] Input\/output error$/m);
    } finally {
      await sb2.close();
    }
  });
});
