/**
 * The read-only image tree (src/wasi/image-tree.ts): topDirectories from index rows (a table), and a
 * deferred tree, which makes its entries only on the first look inside and is then the same tree
 * buildImageTree makes (walked whole, the committed stdlib image with its links), or throws on
 * every look when its entries cannot be made.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildImageTree, deferredImageTree, topDirectories } from "../../src/wasi/image-tree.ts";
import type { ImageEntry } from "../../src/wasi/image-tree.ts";
import { MemFs } from "../../src/wasi/memfs.ts";
import type { DirNode, FsNode } from "../../src/wasi/memfs.ts";
import { readAsset } from "../../src/sandbox/assets.ts";
import { readTar } from "../../src/wasi/tar.ts";

describe("topDirectories", () => {
  const row = (path: string, type: string, mtime = 0) => [path, type, 0, 0, "", 0o755, mtime];
  const cases: Array<[string, unknown[], [string, number][] | undefined]> = [
    ["a dir row gives its mtime", [[row("usr", "dir", 7), row("usr/a.py", "file", 9)]], [["usr", 7]]],
    ["a dir made only by deeper paths has mtime 0", [[row("usr/lib/a.py", "file", 9)]], [["usr", 0]]],
    ["several lists, several tops", [[row("usr/a", "file")], [row("etc", "dir", 3), row("etc/x", "file")]], [
      ["usr", 0],
      ["etc", 3],
    ]],
    ["a top-level file cannot be deferred", [[row("README", "file")]], undefined],
    ["a top-level link cannot be deferred", [[row("lib", "symlink")]], undefined],
    ["an absolute path is malformed", [[row("/usr/a", "file")]], undefined],
    ["a row that is not an array", [["usr/a"]], undefined],
    ["rows that are not a list", [undefined], undefined],
    ["no rows at all", [[]], []],
  ];
  for (const [what, lists, want] of cases) {
    it(what, () => {
      const got = topDirectories(lists);
      assert.deepEqual(got === undefined ? undefined : [...got], want);
    });
  }
});

/** Every node under `dir` by path, with what identifies it (links are the same node as their target). */
function walk(dir: DirNode, prefix = "", seen = new Map<FsNode, string>()): string[] {
  const out: string[] = [];
  for (const [name, node] of [...dir.entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const path = `${prefix}/${name}`;
    const alias = seen.get(node);
    if (alias !== undefined) {
      out.push(`${path} -> ${alias}`);
      continue;
    }
    seen.set(node, path);
    if (node.kind === "dir") out.push(`${path}/ ${node.mtimNs}`, ...walk(node, path, seen));
    else out.push(`${path} ${node.size} ${node.mtimNs} ${node.data.byteOffset}`);
  }
  return out;
}

describe("deferredImageTree", () => {
  const image = readAsset("stdlib.tar");
  const entries: ImageEntry[] = readTar(image);
  const tops = topDirectories([entries.map((e) => [e.path, e.type, 0, 0, "", e.mode, e.mtime])])!;

  it("makes its entries only on the first look inside, then is the tree buildImageTree makes", () => {
    let calls = 0;
    const deferred = deferredImageTree(tops, () => (calls++, entries));
    assert.deepEqual([...deferred.entries.keys()], [...tops.keys()]);
    // A run's filesystem mounts it without looking inside.
    new MemFs(deferred, { tmpQuotaBytes: 1 << 20, tmpMaxFiles: 10, now: () => 0n });
    assert.equal(calls, 0);
    const eager = buildImageTree(entries);
    const [a, b] = [walk(deferred), walk(eager)];
    assert.equal(calls, 1);
    assert.ok(a.length > 1500, `${a.length} nodes`);
    assert.deepEqual(a, b);
    walk(deferred);
    assert.equal(calls, 1, "made once");
    const usr = deferred.entries.get("usr") as DirNode;
    assert.equal((usr.entries.get("local") as DirNode).parent, usr, "the top-level node is filled in place");
  });

  it("entries that cannot be made: every look throws the same error, never an empty tree", () => {
    const broken = deferredImageTree(new Map([["usr", 0]]), () => {
      throw new Error("bad index");
    });
    const usr = broken.entries.get("usr") as DirNode;
    assert.throws(() => usr.entries.get("local"), /bad index/);
    assert.throws(() => usr.entries.size, /bad index/);
  });
});
