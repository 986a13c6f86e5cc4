import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { normalizeTarPath, readTar, TarError } from "../../src/wasi/tar.ts";

/** A tiny USTAR writer for building archives inside tests. */
function header(
  name: string,
  opts: { type?: string; size?: number; prefix?: string; link?: string; mtime?: number } = {},
): Uint8Array {
  const b = new Uint8Array(512);
  const put = (off: number, s: string) => b.set(new TextEncoder().encode(s), off);
  const oct = (off: number, len: number, v: number) => put(off, v.toString(8).padStart(len - 1, "0") + "\0");
  put(0, name);
  oct(100, 8, 0o644);
  oct(108, 8, 0);
  oct(116, 8, 0);
  oct(124, 12, opts.size ?? 0);
  oct(136, 12, opts.mtime ?? 0);
  put(156, opts.type ?? "0");
  if (opts.link) put(157, opts.link);
  put(257, "ustar\0");
  put(263, "00");
  if (opts.prefix) put(345, opts.prefix);
  put(148, "        ");
  let sum = 0;
  for (const x of b) sum += x;
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return b;
}

function entry(name: string, content: string | Uint8Array, opts: Parameters<typeof header>[1] = {}): Uint8Array[] {
  const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
  padded.set(data);
  return [header(name, { ...opts, size: data.length }), padded];
}

function archive(...parts: Uint8Array[][]): Uint8Array {
  const all = [...parts.flat(), new Uint8Array(1024)];
  const out = new Uint8Array(all.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function pax(records: Record<string, string>): Uint8Array[] {
  let body = "";
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len++;
    body += `${len}${rest}`;
  }
  return entry("PaxHeader", body, { type: "x" });
}

describe("readTar", () => {
  it("lists files and directories with contents as views into the archive", () => {
    const tar = archive(entry("usr/", "", { type: "5" }), entry("usr/a.py", "print(1)\n", { mtime: 7 }));
    const entries = readTar(tar);
    assert.deepEqual(entries.map((e) => [e.path, e.type, e.mtime]), [["usr", "dir", 0], ["usr/a.py", "file", 7]]);
    const file = entries[1]!;
    assert.equal(new TextDecoder().decode(file.data), "print(1)\n");
    assert.equal(file.data.buffer, tar.buffer, "zero-copy: same underlying buffer");
  });

  it("joins the ustar prefix, and reads pax and GNU long names", () => {
    const long = "usr/local/lib/python3.13/" + "x".repeat(120) + ".py";
    const tar = archive(
      entry("name.py", "a", { prefix: "usr/local/lib/python3.13/pkg" }),
      pax({ path: long }),
      entry("ignored", "b"),
      entry("././@LongLink", long.replace(".py", "2.py") + "\0", { type: "L" }),
      entry("ignored2", "c"),
    );
    assert.deepEqual(readTar(tar).map((e) => e.path), [
      "usr/local/lib/python3.13/pkg/name.py",
      long,
      long.replace(".py", "2.py"),
    ]);
  });

  it("works on an archive held in a SharedArrayBuffer", () => {
    const plain = archive(entry("a.txt", "hello"));
    const shared = new Uint8Array(new SharedArrayBuffer(plain.length));
    shared.set(plain);
    const [e] = readTar(shared);
    assert.equal(e!.path, "a.txt");
    assert.equal(e!.data.buffer, shared.buffer);
  });

  it("keeps symlinks and hard links with their targets", () => {
    const tar = archive(
      entry("zone/UTC", "TZif"),
      entry("zone/Zulu", "", { type: "2", link: "UTC" }),
      entry("zone/UCT", "", { type: "1", link: "zone/UTC" }),
    );
    assert.deepEqual(readTar(tar).map((e) => [e.path, e.type, e.linkTarget]), [["zone/UTC", "file", ""], [
      "zone/Zulu",
      "symlink",
      "UTC",
    ], ["zone/UCT", "hardlink", "zone/UTC"]]);
  });

  it("rejects a bad checksum, a truncated entry and paths with ..", () => {
    const bad = archive(entry("a", "x"));
    bad[0] = "b".charCodeAt(0);
    assert.throws(() => readTar(bad), TarError);
    const cut = archive(entry("a", "x".repeat(2000))).subarray(0, 1024);
    assert.throws(() => readTar(cut), TarError);
    assert.throws(() => readTar(archive(entry("usr/../../etc/passwd", "x"))), /escapes/);
  });

  it("stops at the end marker and accepts an empty archive", () => {
    assert.deepEqual(readTar(archive()), []);
    assert.deepEqual(readTar(new Uint8Array(0)), []);
  });
});

describe("normalizeTarPath", () => {
  const cases: [string, string][] = [["./usr/a", "usr/a"], ["/usr//a/", "usr/a"], ["usr/./a", "usr/a"], [".", ""]];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () =>
      assert.equal(normalizeTarPath(input), expected));
  }
  it("refuses ..", () => assert.throws(() => normalizeTarPath("a/../b"), TarError));
});
