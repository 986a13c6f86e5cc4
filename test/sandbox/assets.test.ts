import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { brotliCompressSync } from "node:zlib";
import {
  AssetError,
  type AssetName,
  cachedPath,
  defaultAssetsDir,
  ensureAsset,
  ensureAssets,
  readAsset,
  readAssetShared,
  readManifest,
} from "../../src/sandbox/assets.ts";
import { cacheDirs } from "../../src/platform/cache-dirs.ts";
import process from "node:process";
import { readTar } from "../../src/wasi/tar.ts";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

const ASSETS = defaultAssetsDir();

/** The two WebAssembly calls used here (tsconfig's `lib` has no WebAssembly types under Deno). */
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; exports(m: object): { name: string; kind: string }[] };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const REQUIRED: AssetName[] = ["python.wasm", "python-unmetered.wasm", "stdlib.tar"];

describe("committed assets", () => {
  const manifest = readManifest();

  it("manifest names the versions it was built from", () => {
    assert.match(manifest.python, /^3\.13\.\d+$/);
    assert.equal(typeof manifest.sources["python3.13"], "string");
    for (const lib of ["zlib", "bzip2", "xz-utils", "sqlite3", "wasi-libc", "tzdata"]) {
      assert.equal(typeof manifest.sources[lib], "string", lib);
    }
    assert.match(manifest.buildDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("lists exactly the files in assets/ with their size and sha256", () => {
    const onDisk = listFiles(ASSETS)
      .map((p) => relative(ASSETS, p).split(sep).join("/"))
      .filter((p) => p !== "manifest.json")
      .sort();
    assert.deepEqual(Object.keys(manifest.files).sort(), onDisk);
    for (const rel of onDisk) {
      const bytes = readFileSync(join(ASSETS, rel));
      assert.equal(bytes.length, manifest.files[rel]!.size, `size of ${rel}`);
      assert.equal(sha256(bytes), manifest.files[rel]!.sha256, `sha256 of ${rel}`);
    }
  });

  it("has the interpreters, the stdlib image and the licences", () => {
    for (const name of REQUIRED) assert.ok(manifest.files[`${name}.br`]?.expanded, name);
    for (
      const lic of [
        "cpython-LICENSE.txt",
        "zlib-LICENSE.txt",
        "bzip2-LICENSE.txt",
        "xz-utils-COPYING.txt",
        "sqlite3-LICENSE.txt",
      ]
    ) {
      assert.ok(manifest.files[`licenses/${lic}`], lic);
    }
  });
});

describe("expansion into the cache", () => {
  let cacheDir: string;
  before(() => {
    cacheDir = mkdtempSync(join(tmpdir(), "wasi-py-assets-"));
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("expands every asset to the bytes the manifest describes", () => {
    const paths = ensureAssets({ cacheDir });
    const manifest = readManifest();
    const byName: Record<AssetName, string> = {
      "python.wasm": paths.pythonWasm,
      "python-unmetered.wasm": paths.pythonUnmeteredWasm,
      "stdlib.tar": paths.stdlibTar,
    };
    for (const name of REQUIRED) {
      const expected = manifest.files[`${name}.br`]!.expanded!;
      const bytes = readFileSync(byName[name]);
      assert.equal(bytes.length, expected.size, name);
      assert.equal(sha256(bytes), expected.sha256, name);
      assert.equal(byName[name], join(cacheDir, expected.sha256, name));
    }
  });

  it("the wasm files are WebAssembly modules and the metered one exports its fuel", () => {
    const metered = new WA.Module(readFileSync(ensureAsset("python.wasm", { cacheDir })));
    assert.ok(WA.Module.exports(metered).some((e) => e.name === "wasi_py_fuel" && e.kind === "global"));
    const plain = new WA.Module(readFileSync(ensureAsset("python-unmetered.wasm", { cacheDir })));
    assert.ok(!WA.Module.exports(plain).some((e) => e.name === "wasi_py_fuel"));
  });
});

describe("cache behaviour", () => {
  // A tiny fake assets folder, so these cases do not pay for the real files.
  let root: string;
  let assetsDir: string;
  const payload = new TextEncoder().encode("stdlib image stand-in\n".repeat(100));

  function writeAssets(compressed: Uint8Array, expanded: Uint8Array): void {
    mkdirSync(assetsDir, { recursive: true });
    writeFileSync(join(assetsDir, "stdlib.tar.br"), compressed);
    const manifest = {
      python: "3.13.0",
      hostTriple: "wasm32-wasi",
      sourceDateEpoch: 0,
      buildDate: "1970-01-01T00:00:00Z",
      sources: {},
      toolchain: {},
      files: {
        "stdlib.tar.br": {
          size: compressed.length,
          sha256: sha256(compressed),
          expanded: { name: "stdlib.tar", size: expanded.length, sha256: sha256(expanded) },
        },
      },
    };
    writeFileSync(join(assetsDir, "manifest.json"), JSON.stringify(manifest));
  }

  before(() => {
    root = mkdtempSync(join(tmpdir(), "wasi-py-fake-assets-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("expands once, then uses the cached file (memoised in the process)", () => {
    assetsDir = join(root, "a1");
    const cacheDir = join(root, "c1");
    writeAssets(brotliCompressSync(payload), payload);
    const path = ensureAsset("stdlib.tar", { assetsDir, cacheDir });
    assert.deepEqual(new Uint8Array(readFileSync(path)), payload);
    const mtime = statSync(path).mtimeMs;
    // Same process: memoised, no filesystem work at all.
    assert.equal(ensureAsset("stdlib.tar", { assetsDir, cacheDir }), path);
    assert.equal(statSync(path).mtimeMs, mtime);
  });

  it("re-expands a cached file whose size is wrong", () => {
    assetsDir = join(root, "a2");
    const cacheDir = join(root, "c2");
    writeAssets(brotliCompressSync(payload), payload);
    const path = cachedPath("stdlib.tar", { assetsDir, cacheDir });
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, "truncated");
    ensureAsset("stdlib.tar", { assetsDir, cacheDir });
    assert.deepEqual(new Uint8Array(readFileSync(path)), payload);
  });

  it("re-expands a cached file of the right size whose bytes are wrong (hash check)", () => {
    assetsDir = join(root, "a5");
    const cacheDir = join(root, "c5");
    writeAssets(brotliCompressSync(payload), payload);
    const path = cachedPath("stdlib.tar", { assetsDir, cacheDir });
    mkdirSync(join(path, ".."), { recursive: true });
    const corrupt = payload.slice();
    corrupt[10] ^= 1;
    writeFileSync(path, corrupt);
    assert.deepEqual(new Uint8Array(readAsset("stdlib.tar", { assetsDir, cacheDir })), payload);
    assert.deepEqual(new Uint8Array(readFileSync(path)), payload, "the entry was rewritten");
    assert.deepEqual(
      readdirSync(join(path, "..")).sort(),
      ["stdlib.tar", "stdlib.tar.verified"],
      "no temporary file left",
    );
  });

  it("no usable cache folder: the bytes come from memory; ensureAsset says so", () => {
    assetsDir = join(root, "a6");
    writeAssets(brotliCompressSync(payload), payload);
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    const cacheDir = join(file, "cache"); // under a regular file: ENOTDIR
    assert.deepEqual(new Uint8Array(readAsset("stdlib.tar", { assetsDir, cacheDir })), payload);
    const shared = readAssetShared("stdlib.tar", { assetsDir, cacheDir });
    assert.ok(shared.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(new Uint8Array(shared), payload);
    assert.throws(() => ensureAsset("stdlib.tar", { assetsDir, cacheDir }), AssetError);
  });

  it("in the shared temp dir a .verified stamp is never trusted (anyone could forge one)", () => {
    assetsDir = join(root, "a7");
    writeAssets(brotliCompressSync(payload), payload);
    const saved = { ...process.env };
    const tmp = join(root, "tmp7");
    mkdirSync(tmp);
    try {
      Object.assign(process.env, { WASI_PY_CACHE: "", XDG_CACHE_HOME: "", HOME: "", TMPDIR: tmp });
      assert.deepEqual(new Uint8Array(readAsset("stdlib.tar", { assetsDir })), payload);
      const [folder] = readdirSync(tmp);
      const dir = join(tmp, folder!, sha256(payload));
      assert.deepEqual(readdirSync(dir), ["stdlib.tar"], "no stamp written in the temp dir");
      const file = join(dir, "stdlib.tar");
      const corrupt = payload.slice();
      corrupt[0] ^= 1;
      writeFileSync(file, corrupt);
      const st = statSync(file, { bigint: true });
      writeFileSync(`${file}.verified`, `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs} ${sha256(payload)}`);
      assert.deepEqual(new Uint8Array(readAsset("stdlib.tar", { assetsDir })), payload);
    } finally {
      for (const k of ["WASI_PY_CACHE", "XDG_CACHE_HOME", "HOME", "TMPDIR"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("cache folders: WASI_PY_CACHE, XDG_CACHE_HOME, HOME, the temp dir; relative or empty ones skipped", () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { WASI_PY_CACHE: "/w", XDG_CACHE_HOME: "/x", HOME: "/h", TMPDIR: "/t" });
      const dirs = cacheDirs();
      assert.deepEqual(dirs.slice(0, 3), ["/w", join("/x", "wasi-py"), join("/h", ".cache", "wasi-py")]);
      assert.match(dirs[3] ?? "", /wasi-py-/);
      Object.assign(process.env, { WASI_PY_CACHE: "rel", XDG_CACHE_HOME: "", HOME: "" });
      const fallback = cacheDirs();
      assert.ok(fallback.every((d) => d.startsWith("/")), fallback.join());
      assert.equal(fallback.length, 1, "only the temp dir is left");
    } finally {
      for (const k of ["WASI_PY_CACHE", "XDG_CACHE_HOME", "HOME", "TMPDIR"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("refuses an asset whose expansion does not match the manifest", () => {
    assetsDir = join(root, "a3");
    const cacheDir = join(root, "c3");
    const other = new TextEncoder().encode("x".repeat(payload.length));
    writeAssets(brotliCompressSync(other), payload);
    assert.throws(() => ensureAsset("stdlib.tar", { assetsDir, cacheDir }), AssetError);
    assert.throws(() => statSync(cachedPath("stdlib.tar", { assetsDir, cacheDir })));
  });

  it("names the missing manifest entry", () => {
    assetsDir = join(root, "a4");
    writeAssets(brotliCompressSync(payload), payload);
    assert.throws(
      () => ensureAsset("python.wasm", { assetsDir, cacheDir: join(root, "c4") }),
      /lists no python\.wasm\.br/,
    );
  });
});

describe("stdlib image", () => {
  let cacheDir: string;
  before(() => {
    cacheDir = mkdtempSync(join(tmpdir(), "wasi-py-stdlib-"));
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("is deterministic USTAR with precompiled unchecked-hash .pyc, tzdata, and without the dropped parts", () => {
    const entries = readTar(readFileSync(ensureAsset("stdlib.tar", { cacheDir })));
    const paths = entries.map((e) => e.path);
    assert.deepEqual(paths, [...paths].sort(), "entries are sorted");
    assert.ok(entries.every((e) => e.mtime === 0), "every mtime is 0");
    assert.ok(entries.every((e) => e.type === "file" || e.type === "dir"), "only files and folders");
    const files = new Map(entries.filter((e) => e.type === "file").map((e) => [e.path, e.data]));
    const lib = "usr/local/lib/python3.13";
    for (const f of ["os.py", "json/__init__.py", "_sysconfigdata__wasi_wasm32-wasi.py", "zoneinfo/_zoneinfo.py"]) {
      assert.ok(files.has(`${lib}/${f}`), f);
    }
    assert.ok(paths.includes(`${lib}/lib-dynload`), "lib-dynload exists (getpath looks for it)");
    // Every module has its .pyc; PEP 552 flags word = 1: hash-based, not checked against the source.
    const sources = [...files.keys()].filter((p) => p.endsWith(".py"));
    assert.ok(sources.length > 400);
    for (const src of sources) {
      const slash = src.lastIndexOf("/");
      const pyc = `${src.slice(0, slash)}/__pycache__/${src.slice(slash + 1, -3)}.cpython-313.pyc`;
      const data = files.get(pyc);
      assert.ok(data, `missing ${pyc}`);
      const flags = data[4]! | (data[5]! << 8) | (data[6]! << 16) | (data[7]! << 24);
      assert.equal(flags, 1, `${pyc} is unchecked-hash`);
    }
    const berlin = files.get("usr/share/zoneinfo/Europe/Berlin");
    assert.ok(berlin && new TextDecoder().decode(berlin.subarray(0, 4)) === "TZif", "tzdata Europe/Berlin");
    for (const gone of ["test", "idlelib", "tkinter", "turtledemo", "ensurepip", "venv", "lib2to3"]) {
      assert.ok(!paths.some((p) => p.startsWith(`${lib}/${gone}/`)), `${gone} is dropped`);
    }
    // The build's work dir is renamed in the sysconfig data, so the image does not depend on it.
    const sysconfig = new TextDecoder().decode(files.get(`${lib}/_sysconfigdata__wasi_wasm32-wasi.py`)!);
    assert.match(sysconfig, /'abs_builddir': '\/wasi-py-build\/wasi-full'/);
  });
});
