import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { normalizeTarPath, readTar, TarError } from "../../src/wasi/tar.ts";
import { entriesFromIndex, indexTar, TAR_INDEX_VERSION } from "../../src/wasi/tar-index.ts";
import type { TarIndexRow } from "../../src/wasi/tar-index.ts";
import { readAssetShared } from "../../src/sandbox/assets.ts";

/** An index of a 1 KiB archive with the given rows. */
function indexOf(rows: unknown[]): unknown {
  return { version: TAR_INDEX_VERSION, archiveBytes: 1024, rows };
}

const GOOD: TarIndexRow = ["usr/lib/a.py", "file", 512, 10, "", 0o644, 1];

describe("tar index", () => {
  it("rebuilds exactly readTar's entries of the committed stdlib image, as views of it", () => {
    const image = readAssetShared("stdlib.tar");
    const direct = readTar(image);
    const index = JSON.parse(JSON.stringify(indexTar(image)));
    const rebuilt = entriesFromIndex(image, index);
    assert.equal(rebuilt.length, direct.length);
    assert.ok(direct.length > 1000);
    for (let i = 0; i < direct.length; i++) {
      const a = direct[i]!;
      const b = rebuilt[i]!;
      assert.deepEqual(
        [b.path, b.type, b.linkTarget, b.mode, b.mtime, b.data.byteOffset, b.data.length],
        [a.path, a.type, a.linkTarget, a.mode, a.mtime, a.data.byteOffset, a.data.length],
      );
      assert.equal(b.data.buffer, image.buffer);
    }
  });

  it("refuses an index of another version or archive size", () => {
    const archive = new Uint8Array(1024);
    assert.throws(() => entriesFromIndex(archive, { ...(indexOf([GOOD]) as object), version: 0 }), TarError);
    assert.throws(() => entriesFromIndex(archive, { ...(indexOf([GOOD]) as object), archiveBytes: 2048 }), TarError);
    assert.throws(() => entriesFromIndex(archive, null), TarError);
    assert.equal(entriesFromIndex(archive, indexOf([GOOD]))[0]!.data.length, 10);
  });

  const badRows: [string, unknown][] = [
    ["data past the end", ["a", "file", 1020, 10, "", 0, 0]],
    ["negative offset", ["a", "file", -1, 1, "", 0, 0]],
    ["fractional size", ["a", "file", 0, 1.5, "", 0, 0]],
    ["unknown type", ["a", "fifo", 0, 0, "", 0, 0]],
    ["escaping path", ["../etc/passwd", "file", 0, 0, "", 0, 0]],
    ["absolute path", ["/etc/passwd", "file", 0, 0, "", 0, 0]],
    ["dot part", ["a/./b", "file", 0, 0, "", 0, 0]],
    ["empty path", ["", "dir", 0, 0, "", 0, 0]],
    ["short row", ["a", "file", 0, 0]],
    ["link not a string", ["a", "symlink", 0, 0, 5, 0, 0]],
  ];
  for (const [what, row] of badRows) {
    it(`refuses a row with ${what}`, () => {
      assert.throws(() => entriesFromIndex(new Uint8Array(1024), indexOf([row])), TarError);
    });
  }

  it("accepts exactly the paths normalizeTarPath leaves unchanged", () => {
    const part = fc.constantFrom("a", "b.py", ".", "..", "", "...", ".a", "a..", " ");
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), fc.boolean(), (parts, lead) => {
        const path = (lead ? "/" : "") + parts.join("/");
        let normal: boolean;
        try {
          normal = path !== "" && normalizeTarPath(path) === path;
        } catch {
          normal = false;
        }
        const row: TarIndexRow = [path, "file", 0, 0, "", 0, 0];
        let accepted = true;
        try {
          entriesFromIndex(new Uint8Array(1024), indexOf([row]));
        } catch (e) {
          assert.ok(e instanceof TarError);
          accepted = false;
        }
        assert.equal(accepted, normal, JSON.stringify(path));
      }),
      { numRuns: 2000 },
    );
  });
});
