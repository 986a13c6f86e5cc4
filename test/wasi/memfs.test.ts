import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemFs } from "../../src/wasi/memfs.ts";
import { buildImageTree } from "../../src/wasi/image-tree.ts";
import type { DirNode, FileNode } from "../../src/wasi/memfs.ts";
import type { TarEntry } from "../../src/wasi/tar.ts";
import { Errno } from "../../src/wasi/constants.ts";
import { errno } from "../helpers/fs-errno.ts";

const enc = new TextEncoder();
const e = (path: string, type: TarEntry["type"], content = "", linkTarget = ""): TarEntry => ({
  path,
  type,
  data: enc.encode(content),
  linkTarget,
  mode: 0o644,
  mtime: 0,
});

const IMAGE = buildImageTree([
  e("usr", "dir"),
  e("usr/local/lib/python3.13/os.py", "file", "import sys\n"),
  e("usr/share/zoneinfo/UTC", "file", "TZif2"),
  e("usr/share/zoneinfo/Zulu", "symlink", "", "UTC"),
  e("usr/share/zoneinfo/Etc/UCT", "symlink", "", "../UTC"),
  e("usr/share/zoneinfo/Hard", "hardlink", "", "usr/share/zoneinfo/UTC"),
  e("usr/share/zoneinfo/Dangling", "symlink", "", "/etc/localtime"),
]);

function fresh(quota = 1000, files = 10): MemFs {
  return new MemFs(IMAGE, { tmpQuotaBytes: quota, tmpMaxFiles: files, now: () => 5n });
}

const text = (f: FileNode) => new TextDecoder().decode(f.data.subarray(0, f.size));

describe("MemFs: the image", () => {
  it("shows the image's top level plus /tmp and /home (writable), and nothing else", () => {
    const fs = fresh();
    assert.deepEqual([...fs.root.entries.keys()].sort(), ["home", "tmp", "usr"]);
    assert.equal(fs.resolve(fs.root, "etc").node, undefined);
    assert.equal(errno(() => fs.resolve(fs.root, "etc/passwd")), Errno.NOENT);
    assert.equal(errno(() => fs.resolve(fs.root, "usr/local/lib/python3.13/os.py/x")), Errno.NOTDIR);
  });

  it("resolves .. through each directory's parent and never above the root", () => {
    const fs = fresh();
    const r = fs.resolve(fs.root, "../../usr/../usr/local/lib/python3.13/os.py");
    assert.equal(text(r.node as FileNode), "import sys\n");
    const tmp = fs.resolve(fs.root, "tmp");
    const up = fs.resolve(tmp.node as DirNode, "../usr");
    assert.equal(up.node, fs.root.entries.get("usr"));
  });

  it("turns image links into aliases of their targets and drops dangling ones", () => {
    const fs = fresh();
    const utc = fs.resolve(fs.root, "usr/share/zoneinfo/UTC").node;
    assert.equal(fs.resolve(fs.root, "usr/share/zoneinfo/Zulu").node, utc);
    assert.equal(fs.resolve(fs.root, "usr/share/zoneinfo/Etc/UCT").node, utc);
    assert.equal(fs.resolve(fs.root, "usr/share/zoneinfo/Hard").node, utc);
    assert.equal(fs.resolve(fs.root, "usr/share/zoneinfo/Dangling").node, undefined);
  });

  it("refuses every change inside the image with EROFS", () => {
    const fs = fresh();
    const os = () => fs.resolve(fs.root, "usr/local/lib/python3.13/os.py");
    const newName = () => fs.resolve(fs.root, "usr/local/lib/python3.13/new.py");
    assert.equal(errno(() => fs.createFile(newName())), Errno.ROFS);
    assert.equal(errno(() => fs.mkdir(newName())), Errno.ROFS);
    assert.equal(errno(() => fs.unlink(os())), Errno.ROFS);
    assert.equal(errno(() => fs.rmdir(fs.resolve(fs.root, "usr/share/zoneinfo/Etc"))), Errno.ROFS);
    assert.equal(errno(() => fs.rename(os(), newName())), Errno.ROFS);
    assert.equal(errno(() => fs.rename(os(), fs.resolve(fs.root, "tmp/os.py"))), Errno.ROFS);
    assert.equal(errno(() => fs.writeAt(os().node as FileNode, 0, enc.encode("x"))), Errno.ROFS);
    assert.equal(errno(() => fs.setSize(os().node as FileNode, 0)), Errno.ROFS);
    assert.equal(errno(() => fs.rmdir(fs.resolve(fs.root, "tmp"))), Errno.ROFS, "/tmp itself cannot go");
    assert.equal(text(os().node as FileNode), "import sys\n");
  });

  it("rejects over-long names and paths, NUL bytes and empty paths", () => {
    const fs = fresh();
    assert.equal(errno(() => fs.resolve(fs.root, "tmp/" + "a".repeat(256))), Errno.NAMETOOLONG);
    assert.equal(errno(() => fs.resolve(fs.root, "tmp/" + "a/".repeat(2100))), Errno.NAMETOOLONG);
    assert.equal(errno(() => fs.resolve(fs.root, "tmp/a\0b")), Errno.INVAL);
    assert.equal(errno(() => fs.resolve(fs.root, "")), Errno.NOENT);
  });
});

describe("MemFs: /tmp", () => {
  it("creates, writes, reads, renames and removes files and directories", () => {
    const fs = fresh();
    const d = fs.mkdir(fs.resolve(fs.root, "tmp/d"));
    assert.equal(d.kind, "dir");
    const f = fs.createFile(fs.resolve(fs.root, "tmp/d/f.txt"));
    assert.equal(fs.writeAt(f, 0, enc.encode("hello")), 5);
    assert.equal(fs.writeAt(f, 7, enc.encode("!")), 1, "writing past the end leaves a zero-filled hole");
    assert.deepEqual([...f.data.subarray(0, f.size)], [...enc.encode("hello"), 0, 0, 33]);
    const buf = new Uint8Array(3);
    assert.equal(MemFs.readAt(f, 1, buf), 3);
    assert.equal(new TextDecoder().decode(buf), "ell");
    fs.rename(fs.resolve(fs.root, "tmp/d/f.txt"), fs.resolve(fs.root, "tmp/g.txt"));
    assert.equal(fs.resolve(fs.root, "tmp/g.txt").node, f);
    assert.equal(errno(() => fs.rename(fs.resolve(fs.root, "tmp"), fs.resolve(fs.root, "tmp/d/x"))), Errno.ROFS);
    assert.equal(errno(() => fs.rename(fs.resolve(fs.root, "tmp/d"), fs.resolve(fs.root, "tmp/d/x"))), Errno.INVAL);
    assert.equal(errno(() => fs.rmdir(fs.resolve(fs.root, "tmp/g.txt"))), Errno.NOTDIR);
    assert.equal(errno(() => fs.unlink(fs.resolve(fs.root, "tmp/d"))), Errno.ISDIR);
    fs.createFile(fs.resolve(fs.root, "tmp/d/h"));
    assert.equal(errno(() => fs.rmdir(fs.resolve(fs.root, "tmp/d"))), Errno.NOTEMPTY);
    fs.unlink(fs.resolve(fs.root, "tmp/d/h"));
    fs.rmdir(fs.resolve(fs.root, "tmp/d"));
    assert.equal(errno(() => fs.createFile(fs.resolve(fs.root, "tmp/g.txt"))), Errno.EXIST);
    assert.equal(errno(() => fs.mkdir(fs.resolve(fs.root, "tmp/."))), Errno.EXIST);
  });

  it("enforces the byte quota with short writes, then ENOSPC, and frees space on unlink", () => {
    const fs = fresh(10, 10);
    const f = fs.createFile(fs.resolve(fs.root, "tmp/a"));
    assert.equal(fs.writeAt(f, 0, enc.encode("12345678")), 8);
    assert.equal(fs.writeAt(f, 8, enc.encode("abcd")), 2, "only what fits");
    assert.equal(errno(() => fs.writeAt(f, 10, enc.encode("x"))), Errno.NOSPC);
    assert.equal(fs.writeAt(f, 0, enc.encode("zz")), 2, "overwriting needs no new space");
    assert.equal(errno(() => fs.setSize(f, 11)), Errno.NOSPC);
    assert.equal(errno(() => fs.setSize(f, 2 ** 40)), Errno.NOSPC);
    assert.equal(fs.quota.usedBytes, 10);
    fs.unlink(fs.resolve(fs.root, "tmp/a"));
    assert.equal(fs.quota.usedBytes, 0);
    const b = fs.createFile(fs.resolve(fs.root, "tmp/b"));
    assert.equal(fs.writeAt(b, 0, enc.encode("0123456789")), 10);
  });

  it("keeps an unlinked file's bytes charged while it is open", () => {
    const fs = fresh(10, 10);
    const f = fs.createFile(fs.resolve(fs.root, "tmp/a"));
    f.opens++;
    fs.writeAt(f, 0, enc.encode("12345"));
    fs.unlink(fs.resolve(fs.root, "tmp/a"));
    assert.equal(fs.quota.usedBytes, 10, "its buffer (capacity, all the quota allowed) still counts");
    assert.equal(fs.quota.files, 1, "and so does the file");
    assert.equal(errno(() => fs.createFile(fs.resolve(fs.root, "tmp/b"))), 0);
    assert.equal(
      errno(() => fs.writeAt(fs.resolve(fs.root, "tmp/b").node as FileNode, 0, enc.encode("x"))),
      Errno.NOSPC,
    );
    fs.closeFile(f);
    assert.equal(fs.quota.usedBytes, 0);
    assert.equal(fs.quota.files, 1);
  });

  it("limits the number of files and directories", () => {
    const fs = fresh(1000, 2);
    fs.createFile(fs.resolve(fs.root, "tmp/a"));
    fs.mkdir(fs.resolve(fs.root, "tmp/b"));
    assert.equal(errno(() => fs.createFile(fs.resolve(fs.root, "tmp/c"))), Errno.NOSPC);
    fs.unlink(fs.resolve(fs.root, "tmp/a"));
    fs.createFile(fs.resolve(fs.root, "tmp/c"));
  });

  it("gives every run its own empty /tmp over the same image", () => {
    const a = fresh();
    a.createFile(a.resolve(a.root, "tmp/x"));
    const b = fresh();
    assert.equal((b.root.entries.get("tmp") as DirNode).entries.size, 0);
    assert.equal(b.root.entries.get("usr"), a.root.entries.get("usr"), "the image is shared, not copied");
  });
});
