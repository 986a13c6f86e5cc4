/**
 * The asset cache against tampering and races (issue 21 item 8): the stdlib index is sealed (a
 * digest over the image's sha256 and the JSON) and a truncated, corrupt, planted or swapped one
 * is rebuilt, never used; a cache folder that is not the user's alone (another owner, or
 * writable by others, e.g. planted in the shared temp dir when HOME is unset) is never read, and
 * the fallback is said once; two processes filling one cache at once leave only good files.
 * Tables for the pure parts, the index functions against a private cache, then the command.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { assetSha256, cacheNotice, readAssetShared, readManifest, sideFilePath } from "../../src/sandbox/assets.ts";
import { cachedImageIndex, committedImageIndex, INDEX_SUFFIX } from "../../src/sandbox/_image-index.ts";
import { openIndex, sealIndex } from "../../src/wasi/sealed-index.ts";
import { ownershipProblem } from "../../src/platform/cache-dirs.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { withCacheEnv } from "../helpers/cache-env.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
/** An index whose rows for statistics.py and fractions.py trade their data: `import statistics` would give fractions. */
function swappedIndex(json: string): string {
  const ix = JSON.parse(json) as { rows: [string, string, number, number][] };
  const lib = "usr/local/lib/python3.13/";
  const find = (name: string) => ix.rows.find((r) => r[0] === lib + name)!;
  for (
    const [a, b] of [["statistics.py", "fractions.py"], [
      "__pycache__/statistics.cpython-313.pyc",
      "__pycache__/fractions.cpython-313.pyc",
    ]]
  ) {
    const ra = find(a!), rb = find(b!);
    [ra[2], rb[2], ra[3], rb[3]] = [rb[2], ra[2], rb[3], ra[3]];
  }
  return JSON.stringify(ix);
}

describe("who may have written a cache folder or file", () => {
  const cases: Array<[{ uid: number; mode: number }, number | undefined, RegExp | undefined]> = [
    [{ uid: 1000, mode: 0o700 }, 1000, undefined],
    [{ uid: 1000, mode: 0o755 }, 1000, undefined],
    [{ uid: 1000, mode: 0o644 }, 1000, undefined],
    [{ uid: 1001, mode: 0o700 }, 1000, /^owned by uid 1001, not by uid 1000$/],
    [{ uid: 1000, mode: 0o775 }, 1000, /^writable by others \(mode 775\)$/],
    [{ uid: 1000, mode: 0o1777 }, 1000, /^writable by others \(mode 777\)$/],
    [{ uid: 1000, mode: 0o666 }, undefined, /^writable by others/],
    [{ uid: 1001, mode: 0o700 }, undefined, undefined], // the user's id unknown: the bits only
  ];
  for (const [info, me, want] of cases) {
    it(`${JSON.stringify(info)} for uid ${me}`, () => {
      const got = ownershipProblem(info, me);
      if (want === undefined) assert.equal(got, undefined);
      else assert.match(got ?? "", want);
    });
  }
});

describe("the sealed index", () => {
  const sha = "a".repeat(64);
  const json = '{"version":1,"archiveBytes":1024,"rows":[["x","file",512,1,"",420,0]]}';
  const sealed = sealIndex(sha, json);
  const cases: Array<[string, string, string, number]> = [
    ["good", sealed, sha, 1024],
    ["truncated", sealed.slice(0, -1), sha, 1024],
    ["a byte changed", sealed.replace('"x"', '"y"'), sha, 1024],
    ["the seal of another image (swapped in)", sealed, "b".repeat(64), 1024],
    ["an archive of another size", sealIndex(sha, json), sha, 2048],
    ["unsealed JSON (the old format)", json, sha, 1024],
    ["empty", "", sha, 1024],
    ["the seal alone", sealed.slice(0, 65), sha, 1024],
  ];
  for (const [what, file, image, bytes] of cases) {
    it(what, () => assert.equal(openIndex(file, image, bytes), what === "good" ? json : undefined));
  }
});

describe("the cached stdlib index against tampering", () => {
  it("a truncated, corrupt, planted or swapped index is rebuilt from the image, never used", () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-index-"));
    try {
      withCacheEnv({ WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache }, () => {
        const image = readAssetShared("stdlib.tar");
        const good = committedImageIndex(image);
        const path = sideFilePath("stdlib.tar", INDEX_SUFFIX);
        assert.equal(path, join(cache, assetSha256("stdlib.tar"), `stdlib.tar${INDEX_SUFFIX}`));
        assert.equal(cachedImageIndex(image.length), good);
        assert.match(readFileSync(`${path}.verified`, "utf8"), / [0-9a-f]{64}$/, "a stamp spares the next hash");
        assert.equal(cachedImageIndex(image.length), good, "through the stamp");
        const sealed = readFileSync(path!, "utf8");
        const bad: Array<[string, string]> = [
          ["truncated", sealed.slice(0, sealed.length >> 1)],
          ["a byte changed", sealed.replace("statistics.py", "statistics.pz")],
          ["planted, unsealed", swappedIndex(good)],
          ["planted, sealed for another image", sealIndex("0".repeat(64), swappedIndex(good))],
          ["planted, the seal of the good one", `${sealed.slice(0, 65)}${swappedIndex(good)}`],
        ];
        for (const [what, text] of bad) {
          writeFileSync(path!, text);
          assert.equal(cachedImageIndex(image.length), undefined, what);
          assert.equal(committedImageIndex(image), good, what);
          assert.equal(readFileSync(path!, "utf8"), sealed, `${what}: rewritten`);
        }
      });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("a cache folder others can write is never read, and that is said once", () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-open-"));
    const said: string[] = [];
    const say = cacheNotice.say;
    cacheNotice.say = (m) => said.push(m);
    try {
      withCacheEnv({ WASI_PY_CACHE: cache, TMPDIR: join(cache, "..", `${cache.split("/").pop()}-tmp`) }, () => {
        const image = readAssetShared("stdlib.tar");
        const good = committedImageIndex(image);
        const path = sideFilePath("stdlib.tar", INDEX_SUFFIX);
        const planted = sealIndex(assetSha256("stdlib.tar"), swappedIndex(good));
        writeFileSync(path!, planted);
        chmodSync(cache, 0o777);
        assert.ok(!sideFilePath("stdlib.tar", INDEX_SUFFIX)?.startsWith(`${cache}/`));
        assert.equal(cachedImageIndex(image.length), undefined);
        assert.equal(committedImageIndex(readAssetShared("stdlib.tar")), good);
        assert.equal(said.length, 1, said.join("\n"));
        assert.match(
          said[0]!,
          /^cache folder .* not used: writable by others \(mode 777\); using the next place or memory$/,
        );
        assert.equal(readFileSync(path!, "utf8"), planted, "nothing was written there either");
      });
    } finally {
      cacheNotice.say = say;
      rmSync(cache, { recursive: true, force: true });
      rmSync(`${cache}-tmp`, { recursive: true, force: true });
    }
  });

  it("a cache folder another user owns is never read", {
    skip: uid === 0 ? false : "needs root to give a folder to another user (chown)",
  }, () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-owner-"));
    const say = cacheNotice.say;
    const said: string[] = [];
    cacheNotice.say = (m) => said.push(m);
    try {
      withCacheEnv({ WASI_PY_CACHE: cache, TMPDIR: join(cache, "..", `${cache.split("/").pop()}-tmp`) }, () => {
        chownSync(cache, 12345, 12345);
        assert.ok(!sideFilePath("stdlib.tar", INDEX_SUFFIX)?.startsWith(`${cache}/`));
        assert.match(said.join("\n"), /owned by uid 12345, not by uid 0/);
      });
    } finally {
      cacheNotice.say = say;
      rmSync(cache, { recursive: true, force: true });
      rmSync(`${cache}-tmp`, { recursive: true, force: true });
    }
  });
});

/**
 * Runs the command with `env` over ours; an undefined value removes the variable. Through env(1):
 * Deno's child_process keeps the parent's variables that a given env leaves out.
 */
function wasiPy(args: string[], env: Record<string, string | undefined>) {
  const [cmd, argv] = cliCommand(args);
  const unset = Object.keys(env).filter((k) => env[k] === undefined).flatMap((k) => ["-u", k]);
  const set = Object.entries({ NO_COLOR: "1", ...env }).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync("env", [...unset, ...set, cmd, ...argv], {
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) throw r.error;
  return r;
}

/** The cache variables that keep a child's cache inside `dir` (no other place holds a good copy). */
function isolated(dir: string): Record<string, string | undefined> {
  return { WASI_PY_CACHE: dir, HOME: dir, XDG_CACHE_HOME: undefined, TMPDIR: dir };
}

const PROBE =
  "import statistics, fractions; print(statistics.__name__, hasattr(statistics, 'mean'), fractions.__name__)";
const PROBE_OUT = "statistics True fractions\n";

/** Every stdlib index file in a cache tree. */
function indexFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /^stdlib\.tar\.index-v.*\.(json|txt)$/.test(e.name)) out.push(join(e.parentPath ?? dir, e.name));
  }
  return out;
}

describe(`the asset cache end to end on ${isDeno ? "Deno" : "Node"}`, () => {
  it("a truncated or planted index in the cache: the next run still imports the right modules", () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-e2e-"));
    try {
      const env = isolated(cache);
      const first = wasiPy(["-fraw", PROBE], env);
      assert.deepEqual([first.stdout, first.status], [PROBE_OUT, 0], first.stderr);
      const files = indexFiles(cache);
      assert.ok(files.length > 0, "the first run cached an index");
      for (const f of files) writeFileSync(f, readFileSync(f, "utf8").slice(0, 1000));
      const second = wasiPy(["-fraw", PROBE], env);
      assert.deepEqual([second.stdout, second.stderr, second.status], [PROBE_OUT, "", 0]);
      for (const f of indexFiles(cache)) {
        const text = readFileSync(f, "utf8");
        const json = text.slice(text.indexOf("\n") + 1);
        writeFileSync(f, text.slice(0, text.indexOf("\n") + 1) + swappedIndex(json));
      }
      const third = wasiPy(["-fraw", PROBE], env);
      assert.deepEqual([third.stdout, third.stderr, third.status], [PROBE_OUT, "", 0]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("HOME unset, the shared temp folder planted and open to all: not read, said once, the run is right", () => {
    const tmp = mkdtempSync(join(tmpdir(), "wasi-py-shared-"));
    try {
      const shared = join(tmp, `wasi-py-${uid ?? "user"}`);
      const image = readManifest().files["stdlib.tar.br"]!.expanded!;
      const folder = join(shared, image.sha256);
      mkdirSync(folder, { recursive: true });
      // A truncated index of the right image: used, it would crash every run (as it did before).
      for (const name of ["stdlib.tar.index-v1.json", `stdlib.tar${INDEX_SUFFIX}`]) {
        writeFileSync(join(folder, name), `{"version":1,"archiveBytes":${image.size},"rows":[["usr`);
      }
      chmodSync(shared, 0o777);
      const r = wasiPy(["-fraw", PROBE], {
        HOME: undefined,
        XDG_CACHE_HOME: undefined,
        WASI_PY_CACHE: undefined,
        TMPDIR: tmp,
      });
      assert.deepEqual([r.stdout, r.status], [PROBE_OUT, 0], r.stderr);
      const notices = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(notices.length, 1, r.stderr);
      assert.match(notices[0]!, /^wasi-py: cache folder .*wasi-py-.* not used: writable by others/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("two processes filling one empty cache at once leave only good files", async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-race-"));
    try {
      const [cmd, argv] = cliCommand(["-fraw", PROBE]);
      const one = () =>
        new Promise<{ out: string; status: number | null }>((resolve) => {
          const vars = [`WASI_PY_CACHE=${cache}`, `HOME=${cache}`, `TMPDIR=${cache}`];
          const child = spawn("env", ["-u", "XDG_CACHE_HOME", ...vars, cmd, ...argv], {
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
          child.on("close", (status) => resolve({ out, status }));
        });
      const results = await Promise.all([one(), one()]);
      assert.deepEqual(results, [{ out: PROBE_OUT, status: 0 }, { out: PROBE_OUT, status: 0 }]);
      const m = readManifest();
      for (const name of ["python.wasm", "stdlib.tar"] as const) {
        const e = m.files[`${name}.br`]!.expanded!;
        const dir = join(cache, e.sha256);
        assert.deepEqual(readdirSync(dir).filter((f) => f.includes(".tmp-")), [], "no temporary file left");
        assert.equal(readFileSync(join(dir, name)).length, e.size, name);
      }
      withCacheEnv({ WASI_PY_CACHE: cache, HOME: cache, TMPDIR: cache }, () => {
        assert.notEqual(
          cachedImageIndex(m.files["stdlib.tar.br"]!.expanded!.size),
          undefined,
          "the index is sealed and whole",
        );
      });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
