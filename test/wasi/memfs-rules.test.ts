/**
 * MemFs against the rules a hostile guest would probe (issue 11): POSIX rename as a table, stale
 * directory descriptors (descriptors hold nodes, so a moved directory is followed, never the path it
 * was opened by), removed directories, and the quota counting the bytes held (capacity), not sizes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemFs } from "../../src/wasi/memfs.ts";
import { buildImageTree } from "../../src/wasi/image-tree.ts";
import type { DirNode, FileNode } from "../../src/wasi/memfs.ts";
import { Errno } from "../../src/wasi/constants.ts";
import { errno } from "../helpers/fs-errno.ts";
import { PAGE_WORK_PER_BYTE, PAGE_WORK_PER_CALL } from "../../src/wasi/file-bytes.ts";

const IMAGE = buildImageTree([
  { path: "usr/lib/os.py", type: "file", data: new Uint8Array(3), linkTarget: "", mode: 0o644, mtime: 0 },
]);

function fresh(quota = 1 << 20, files = 100): MemFs {
  return new MemFs(IMAGE, { tmpQuotaBytes: quota, tmpMaxFiles: files, now: () => 1n });
}

/** Builds /tmp from a list: names ending in "/" are directories. */
function populate(fs: MemFs, paths: readonly string[]): void {
  for (const p of paths) {
    if (p.endsWith("/")) fs.mkdir(fs.resolve(fs.root, `tmp/${p.slice(0, -1)}`));
    else fs.createFile(fs.resolve(fs.root, `tmp/${p}`));
  }
}

/** Every path under /tmp ("d/" for directories), sorted: the observable tree. */
function listing(fs: MemFs, dir = fs.resolve(fs.root, "tmp").node as DirNode, prefix = ""): string[] {
  const out: string[] = [];
  for (const [name, node] of dir.entries) {
    if (node.kind === "dir") out.push(`${prefix}${name}/`, ...listing(fs, node, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out.sort();
}

interface RenameCase {
  rule: string;
  tree: string[];
  from: string;
  to: string;
  /** 0 for success. */
  errno: number;
  /** The tree afterwards (unchanged when omitted and the rename fails). */
  after?: string[];
}

const RENAMES: RenameCase[] = [
  { rule: "file to a new name", tree: ["a"], from: "tmp/a", to: "tmp/b", errno: 0, after: ["b"] },
  {
    rule: "file into another directory",
    tree: ["a", "d/"],
    from: "tmp/a",
    to: "tmp/d/a",
    errno: 0,
    after: ["d/", "d/a"],
  },
  { rule: "file replaces a file", tree: ["a", "b"], from: "tmp/a", to: "tmp/b", errno: 0, after: ["b"] },
  { rule: "file onto a directory: EISDIR", tree: ["a", "d/"], from: "tmp/a", to: "tmp/d", errno: Errno.ISDIR },
  { rule: "directory onto a file: ENOTDIR", tree: ["a", "d/"], from: "tmp/d", to: "tmp/a", errno: Errno.NOTDIR },
  {
    rule: "directory replaces an empty directory",
    tree: ["d/", "d/x", "e/"],
    from: "tmp/d",
    to: "tmp/e",
    errno: 0,
    after: ["e/", "e/x"],
  },
  {
    rule: "directory onto a non-empty directory: ENOTEMPTY",
    tree: ["d/", "e/", "e/x"],
    from: "tmp/d",
    to: "tmp/e",
    errno: Errno.NOTEMPTY,
  },
  { rule: "directory into itself: EINVAL", tree: ["d/"], from: "tmp/d", to: "tmp/d/x", errno: Errno.INVAL },
  { rule: "directory below itself: EINVAL", tree: ["d/", "d/e/"], from: "tmp/d", to: "tmp/d/e/x", errno: Errno.INVAL },
  { rule: "a name onto itself does nothing", tree: ["a"], from: "tmp/a", to: "tmp/a", errno: 0, after: ["a"] },
  { rule: "a directory onto itself does nothing", tree: ["d/"], from: "tmp/d", to: "tmp/d", errno: 0, after: ["d/"] },
  { rule: "missing source: ENOENT", tree: [], from: "tmp/a", to: "tmp/b", errno: Errno.NOENT },
  { rule: "missing destination directory: ENOENT", tree: ["a"], from: "tmp/a", to: "tmp/no/b", errno: Errno.NOENT },
  { rule: "destination through a file: ENOTDIR", tree: ["a", "f"], from: "tmp/a", to: "tmp/f/b", errno: Errno.NOTDIR },
  { rule: "source '.': EINVAL", tree: ["d/"], from: "tmp/d/.", to: "tmp/e", errno: Errno.INVAL },
  { rule: "source '..': EINVAL", tree: ["d/"], from: "tmp/d/..", to: "tmp/e", errno: Errno.INVAL },
  { rule: "destination '.': EINVAL", tree: ["a", "d/"], from: "tmp/a", to: "tmp/d/.", errno: Errno.INVAL },
  { rule: "out of the image: EROFS", tree: [], from: "usr/lib/os.py", to: "tmp/os.py", errno: Errno.ROFS },
  { rule: "into the image: EROFS", tree: ["a"], from: "tmp/a", to: "usr/lib/a", errno: Errno.ROFS },
  { rule: "/tmp itself: EROFS", tree: [], from: "tmp", to: "tmp2", errno: Errno.ROFS },
];

describe("MemFs: rename follows POSIX", () => {
  for (const c of RENAMES) {
    it(c.rule, () => {
      const fs = fresh();
      populate(fs, c.tree);
      const before = listing(fs);
      const got = errno(() => fs.rename(fs.resolve(fs.root, c.from), fs.resolve(fs.root, c.to)));
      assert.equal(got, c.errno);
      assert.deepEqual(listing(fs), c.after ?? before);
    });
  }

  it("a replaced file's entry returns to the quota; an open one only when closed", () => {
    const fs = fresh(1 << 20, 3);
    populate(fs, ["a", "b"]);
    const b = fs.resolve(fs.root, "tmp/b").node as FileNode;
    b.opens++;
    fs.rename(fs.resolve(fs.root, "tmp/a"), fs.resolve(fs.root, "tmp/b"));
    assert.equal(fs.quota.files, 2, "the replaced file is still open");
    fs.closeFile(b);
    assert.equal(fs.quota.files, 1);
  });
});

describe("MemFs: directory descriptors hold nodes", () => {
  it("refuses moving a directory inside itself through a stale descriptor (the issue's cycle)", () => {
    const fs = fresh();
    populate(fs, ["p/", "p/c/", "q/"]);
    const F = fs.resolve(fs.root, "tmp/p/c").node as DirNode; // what an open fd holds
    fs.rename(fs.resolve(fs.root, "tmp/p/c"), fs.resolve(fs.root, "tmp/q/c"));
    // os.rename("/tmp/q", "x", dst_dir_fd=F): F is now /tmp/q/c, inside /tmp/q.
    assert.equal(errno(() => fs.rename(fs.resolve(fs.root, "tmp/q"), fs.resolve(F, "x"))), Errno.INVAL);
    assert.deepEqual(listing(fs), ["p/", "q/", "q/c/"]);
  });

  it("'..' of a moved directory is its new parent", () => {
    const fs = fresh();
    populate(fs, ["p/", "p/c/", "q/", "q/marker"]);
    const F = fs.resolve(fs.root, "tmp/p/c").node as DirNode;
    fs.rename(fs.resolve(fs.root, "tmp/p/c"), fs.resolve(fs.root, "tmp/q/c"));
    assert.notEqual(fs.resolve(F, "../marker").node, undefined);
    assert.equal(fs.resolve(F, "../../q").node, fs.resolve(fs.root, "tmp/q").node);
  });

  it("a removed directory takes no new entries and has no '..'", () => {
    const fs = fresh();
    populate(fs, ["d/"]);
    const D = fs.resolve(fs.root, "tmp/d").node as DirNode;
    fs.rmdir(fs.resolve(fs.root, "tmp/d"));
    assert.equal(errno(() => fs.createFile(fs.resolve(D, "x"))), Errno.NOENT);
    assert.equal(errno(() => fs.mkdir(fs.resolve(D, "x"))), Errno.NOENT);
    assert.equal(errno(() => fs.resolve(D, "../x")), Errno.NOENT);
    assert.equal(fs.quota.files, 0);
  });

  it("'..' never leaves the root", () => {
    const fs = fresh();
    assert.equal(fs.resolve(fs.root, "../../..").node, fs.root);
    assert.equal(fs.resolve(fs.resolve(fs.root, "usr").node as DirNode, "../..").node, fs.root);
  });
});

describe("MemFs: the quota counts bytes held", () => {
  it("the issue's create/truncate(8 MiB)/truncate(0) loop keeps working and holds nothing", () => {
    const quota = 8 << 20;
    const fs = fresh(quota, 1000);
    for (let i = 0; i < 50; i++) {
      const f = fs.createFile(fs.resolve(fs.root, `tmp/${i}`));
      fs.setSize(f, 8 << 20);
      assert.ok(fs.quota.usedBytes <= quota);
      fs.setSize(f, 0);
      assert.equal(f.data.length, 0, "truncating to 0 gives the buffer back");
    }
    assert.equal(fs.quota.usedBytes, 0);
  });

  it("capacity, not size, is what counts; shrinking below half gives the rest back", () => {
    const fs = fresh(1000);
    const f = fs.createFile(fs.resolve(fs.root, "tmp/a"));
    fs.writeAt(f, 0, new Uint8Array(100));
    assert.equal(f.data.length, 100);
    fs.writeAt(f, 100, new Uint8Array(1));
    assert.equal(f.data.length, 200, "appends double the buffer");
    assert.equal(fs.quota.usedBytes, 200);
    fs.setSize(f, 150);
    assert.equal(fs.quota.usedBytes, 200, "above half: kept");
    fs.setSize(f, 40);
    assert.equal(fs.quota.usedBytes, 40, "below half: given back");
    const g = fs.createFile(fs.resolve(fs.root, "tmp/b"));
    assert.equal(errno(() => fs.setSize(g, 961)), Errno.NOSPC);
    fs.setSize(g, 960);
    assert.equal(fs.quota.usedBytes, 1000);
    assert.equal(
      errno(() => fs.writeAt(f, 40, new Uint8Array(10))),
      Errno.NOSPC,
      "f's buffer is full and no room is left",
    );
  });

  for (const quota of [4096, 3 << 20]) {
    it(`held bytes are the quota's count and never exceed it (${quota} bytes, random operations)`, () => {
      heldBytesStayCounted(quota);
    });
  }

  it("bytes past the end read as zeros after any shrink and regrow", () => {
    const fs = fresh(4 << 20);
    const f = fs.createFile(fs.resolve(fs.root, "tmp/a"));
    for (const [shrink, grow] of [[100, 200], [70_000, 2 << 20], [1 << 20, 3 << 20], [10, 100_000], [0, 4 << 20]]) {
      fs.writeAt(f, 0, new Uint8Array(f.size).fill(7));
      fs.setSize(f, shrink!);
      fs.setSize(f, grow!);
      const tail = f.data.subarray(shrink, grow);
      assert.ok(tail.every((b) => b === 0), `${shrink} -> ${grow}`);
      assert.equal(fs.quota.usedBytes, f.data.length);
    }
  });

  function heldBytesStayCounted(quota: number): void {
    const fs = fresh(quota, 10);
    const files = [0, 1, 2].map((i) => fs.createFile(fs.resolve(fs.root, `tmp/${i}`)));
    let seed = 1;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 2000; step++) {
      const f = files[rand(3)]!;
      const op = rand(3);
      errno(() =>
        op === 0
          ? fs.setSize(f, rand(quota + 100))
          : op === 1
          ? fs.writeAt(f, rand(quota), new Uint8Array(rand(quota / 6)))
          : fs.setSize(f, rand(10))
      );
      const held = files.reduce((a, x) => a + x.data.length, 0);
      assert.equal(fs.quota.usedBytes, held, `step ${step}: the quota is the bytes held`);
      assert.ok(held <= quota);
    }
  }

  it("reports each allocation, zero-fill and copy to onWork before doing it", () => {
    const fs = fresh(1 << 20);
    const work: number[] = [];
    fs.onWork = (bytes) => work.push(bytes);
    const f = fs.createFile(fs.resolve(fs.root, "tmp/a"));
    const alloc = (bytes: number) => PAGE_WORK_PER_CALL + bytes * PAGE_WORK_PER_BYTE;
    fs.setSize(f, 1000); // allocate 1000
    fs.setSize(f, 900); // zero 100
    fs.setSize(f, 10); // reallocate to 10, copy 10
    fs.setSize(f, 20); // reallocate to 64 (the smallest capacity), copy 10
    fs.setSize(f, 30); // grow within the buffer: its bytes past the end are zero already
    fs.setSize(f, 100_000); // a resizable buffer of 100,000 bytes, 30 copied
    fs.setSize(f, 100_008); // resized in place by 8 bytes
    fs.setSize(f, 10); // a plain buffer of 10 bytes, 10 copied; the resizable one's pages released
    assert.deepEqual(work, [
      alloc(1000),
      100,
      alloc(10) + 10,
      alloc(64) + 10,
      alloc(100_000) + 30,
      alloc(8),
      alloc(10) + 10 + alloc(100_008),
    ]);
    fs.onWork = () => {
      throw new Error("refused");
    };
    assert.throws(() => fs.setSize(f, 1 << 19), /refused/);
    assert.equal(f.size, 10, "a refused growth changes nothing");
    assert.equal(fs.quota.usedBytes, 10);
  });
});
