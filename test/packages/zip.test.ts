/**
 * The pure parts of package mounting (issue 25): the zip reader against archives the test makes
 * and breaks, CRC-32, the wheel tag and compiled-extension rules, the path list, and how mounts
 * merge (first wins, file/folder clashes). No interpreter needed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "../../src/packages/crc32.ts";
import { listZip, readZipEntry, ZipError } from "../../src/packages/zip.ts";
import { tagRefusal, wheelFiles, wheelNameTags } from "../../src/packages/wheel.ts";
import { compiledReason, PackageError, SITE_PACKAGES } from "../../src/packages/site.ts";
import { packMount } from "../../src/packages/mount.ts";
import { packagesFrom, readPackagesConfig, splitPathList } from "../../src/options/packages.ts";
import { OptionError } from "../../src/options/spec.ts";
import { DRIVER_PY } from "../../src/sandbox/_driver.ts";
import { driverWithArgs } from "../../src/sandbox/_program-args.ts";
import { inflateRaw } from "../../src/platform/inflate.ts";
import { checkConfigFile, IrcConfigError, resolveIrcConfig } from "../../src/irc/config.ts";
import { makeZip, wheelInfo } from "../helpers/zip-writer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("crc32", () => {
  for (
    const [text, want] of [["", 0], ["a", 0xe8b7be43], ["123456789", 0xcbf43926]] as const
  ) {
    it(JSON.stringify(text), () => assert.equal(crc32(enc.encode(text)), want));
  }
});

describe("inflateRaw", () => {
  it("refuses output longer than declared", () => {
    const zip = makeZip([{ name: "a", data: "x".repeat(1000) }]);
    const e = listZip(zip)[0]!;
    assert.throws(() => readZipEntry(zip, { ...e, sizeBytes: 10 }), /inflates to more than 10 bytes/);
  });
  it("refuses corrupt data", () => assert.throws(() => inflateRaw(new Uint8Array([0xff, 0xff, 0xff]), 3), /corrupt/));
});

describe("listZip / readZipEntry", () => {
  const zip = makeZip([
    { name: "pkg/__init__.py", data: "X = 1\n" },
    { name: "pkg/stored.txt", data: "stored bytes", deflate: false },
    { name: "pkg/", data: "" },
  ]);
  it("lists names, methods and sizes", () => {
    assert.deepEqual(listZip(zip).map((e) => [e.name, e.method, e.sizeBytes]), [
      ["pkg/__init__.py", 8, 6],
      ["pkg/stored.txt", 0, 12],
      ["pkg/", 8, 0],
    ]);
  });
  it("reads stored and deflated entries", () => {
    const [a, b] = listZip(zip);
    assert.equal(dec.decode(readZipEntry(zip, a!)), "X = 1\n");
    assert.equal(dec.decode(readZipEntry(zip, b!)), "stored bytes");
  });
  it("finds the end record behind a comment", () => {
    const withComment = new Uint8Array(zip.length + 5);
    withComment.set(zip);
    new DataView(withComment.buffer).setUint16(zip.length - 2, 5, true);
    assert.equal(listZip(withComment).length, 3);
  });
  const broken: [string, (z: Uint8Array) => Uint8Array, RegExp][] = [
    ["not a zip", () => enc.encode("hello, this is not a zip archive at all"), /no end-of-central-directory record/],
    ["too short", () => new Uint8Array(4), /too short/],
    ["directory offset past the end", (z) => setU32(z, z.length - 6, 0x7fffffff), /central directory outside/],
    ["zip64 marker", (z) => setU32(z, z.length - 6, 0xffffffff), /zip64/],
    ["flipped data byte", (z) => flip(z, 31 + "pkg/__init__.py".length), /CRC-32|corrupt|inflates/],
    ["bad method", (z) => setU16(z, centralAt(z) + 10, 12), /record at offset \d+\): compression method 12/],
    ["encrypted", (z) => setU16(z, centralAt(z) + 8, 1), /encrypted/],
  ];
  for (const [name, breakIt, message] of broken) {
    it(`refuses: ${name}`, () => {
      const z = breakIt(zip.slice());
      assert.throws(() => listZip(z).forEach((e) => readZipEntry(z, e)), (e: Error) => {
        assert.ok(e instanceof ZipError, String(e));
        assert.match(e.message, message);
        return true;
      });
    });
  }
  it("names the byte offset of a broken local header", () => {
    const z = zip.slice();
    setU32(z, 0, 0);
    assert.throws(() => readZipEntry(z, listZip(z)[0]!), /"pkg\/__init__.py" \(local header at offset 0\)/);
  });
  it("refuses symbolic links", () => {
    const z = makeZip([{ name: "link", data: "target", mode: 0o120777 }]);
    assert.throws(() => listZip(z), /symbolic links are not supported/);
  });
});

describe("wheel tags", () => {
  const ok = ["py3-none-any", "py2.py3-none-any", "py38-none-any"];
  const refused = [
    "cp313-cp313-manylinux_2_17_x86_64",
    "py3-none-win_amd64",
    "py3-abi3-any",
    "py2-none-any",
    "cp313-none-any",
  ];
  for (const t of ok) it(`accepts ${t}`, () => assert.equal(tagRefusal([t]), undefined));
  for (const t of refused) it(`refuses ${t}`, () => assert.match(tagRefusal([t])!, /not pure Python|no py3 tag/));
  it("reads tags from a file name", () => {
    assert.deepEqual(wheelNameTags("six-1.16.0-py2.py3-none-any.whl"), ["py2.py3-none-any"]);
    assert.deepEqual(wheelNameTags("a-1.0-1build-py3-none-any.whl"), ["py3-none-any"]);
    assert.equal(wheelNameTags("weird.whl"), undefined);
  });
});

describe("compiledReason", () => {
  for (const p of ["m.so", "pkg/_x.cpython-313-x86_64-linux-gnu.so", "a.pyd", "lib.so.1", "x.dylib", "X.DLL"]) {
    it(`refuses ${p}`, () => assert.match(compiledReason(p)!, /compiled extension/));
  }
  for (const p of ["m.py", "so.py", "data.json", "pkg/so/x.py"]) {
    it(`accepts ${p}`, () => assert.equal(compiledReason(p), undefined));
  }
});

describe("wheelFiles", () => {
  const good = [
    { name: "demo/__init__.py", data: "V = 1\n" },
    { name: "demo-1.0.data/purelib/extra.py", data: "E = 2\n" },
    { name: "demo-1.0.data/scripts/tool", data: "#!python\n" },
    { name: "demo-1.0.dist-info/WHEEL", data: wheelInfo() },
  ];
  it("installs purelib at the top and leaves scripts out", () => {
    const files = wheelFiles(makeZip(good), "demo-1.0-py3-none-any.whl");
    assert.deepEqual(files.map((f) => f.path), ["demo/__init__.py", "extra.py", "demo-1.0.dist-info/WHEEL"]);
  });
  const refusals: [string, string, ReturnType<typeof makeZip>, RegExp][] = [
    [
      "a compiled extension",
      "demo-1.0-py3-none-any.whl",
      makeZip([...good, { name: "demo/_c.so", data: "\x7fELF" }]),
      /demo\/_c\.so is a compiled extension/,
    ],
    [
      "a platform tag in the name",
      "demo-1.0-cp313-cp313-linux_x86_64.whl",
      makeZip(good),
      /tag cp313-cp313-linux_x86_64/,
    ],
    [
      "a platform tag in WHEEL",
      "demo.whl",
      makeZip([good[0]!, { name: "d.dist-info/WHEEL", data: wheelInfo("cp313-cp313-win32") }]),
      /WHEEL: tag cp313/,
    ],
    [
      "Root-Is-Purelib false",
      "demo.whl",
      makeZip([{ name: "d.dist-info/WHEEL", data: wheelInfo("py3-none-any", false) }]),
      /Root-Is-Purelib/,
    ],
    [
      "entries declaring more than 1 GiB",
      "demo.whl",
      declareHuge(makeZip(good)),
      /unpacks to \d+ bytes, more than 1073741824/,
    ],
    ["no WHEEL file", "demo.whl", makeZip([good[0]!]), /not a wheel/],
    ["a path escaping site-packages", "demo.whl", makeZip([...good, { name: "../evil.py", data: "" }]), /escapes/],
  ];
  for (const [name, label, zip, message] of refusals) {
    it(`refuses ${name}, in one line naming the file`, () => {
      assert.throws(() => wheelFiles(zip, label), (e: Error) => {
        assert.ok(e instanceof PackageError);
        assert.ok(e.message.startsWith(`${label}: `), e.message);
        assert.match(e.message, message);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    });
  }
});

describe("packMount", () => {
  const file = (path: string, text: string) => ({ path, data: enc.encode(text) });
  const at = "usr/local/lib/python3.13/site-packages/";
  /** Every part's files, path -> text. */
  const contents = (mount: ReturnType<typeof packMount>) =>
    Object.fromEntries(mount.flatMap((part) => {
      const bytes = new Uint8Array(part.bytes);
      const index = JSON.parse(part.index) as { rows: [string, string, number, number][] };
      return index.rows.map(([p, , o, n]) => [p, dec.decode(bytes.slice(o, o + n))]);
    }));
  it("merges in order, first wins, clashing kinds dropped", () => {
    const mount = packMount([
      [file("a.py", "first"), file("pkg/x.py", "x")],
      [file("a.py", "second"), file("b.py", "b"), file("pkg", "a file where a folder is"), file("a.py/c.py", "c")],
    ]);
    assert.equal(mount.length, 1);
    assert.deepEqual(contents(mount), { [`${at}a.py`]: "first", [`${at}pkg/x.py`]: "x", [`${at}b.py`]: "b" });
  });
  it("indexes files already in shared memory where they are, copies the rest", () => {
    const image = new Uint8Array(new SharedArrayBuffer(16));
    image.set(enc.encode("IMAGEBYTES"), 3);
    const mount = packMount([[{ path: "img.py", data: image.subarray(3, 13) }], [file("loose.py", "L")]]);
    assert.equal(mount.length, 2);
    assert.equal(mount[0]!.bytes, image.buffer);
    assert.deepEqual(contents(mount), { [`${at}img.py`]: "IMAGEBYTES", [`${at}loose.py`]: "L" });
  });
});

describe("the packages option", () => {
  it("splits a path list", () => assert.deepEqual(splitPathList("/a:/b.whl::", ":"), ["/a", "/b.whl"]));
  it("flags come before the variable", () => assert.deepEqual(packagesFrom(["x"], "/y;/z", ";"), ["x", "/y", "/z"]));
  it("no variable", () => assert.deepEqual(splitPathList(undefined, ":"), []));
  it("checks config values", () => {
    assert.deepEqual(readPackagesConfig(["/a.whl"], "bot.json"), ["/a.whl"]);
    assert.throws(() => readPackagesConfig("/a.whl", "bot.json"), OptionError);
    assert.throws(() => readPackagesConfig([""], "bot.json"), /bot.json: packages must be a list of paths/);
  });
  it("the bot's config file takes packages, in order", () => {
    const file = checkConfigFile({ packages: ["/srv/a.whl", "/srv/b.tar.br"] }, "bot.json");
    const cfg = resolveIrcConfig(file, { server: "irc.example.org", nick: "pybot" }, {}, 1);
    assert.deepEqual(cfg.packages, ["/srv/a.whl", "/srv/b.tar.br"]);
    assert.deepEqual(resolveIrcConfig({}, { server: "irc.example.org", nick: "pybot" }, {}, 1).packages, []);
    assert.throws(() => checkConfigFile({ packages: "/srv/a.whl" }, "bot.json"), IrcConfigError);
  });
  it("the driver adds site-packages when it exists, also with program arguments (one driver, no variant)", () => {
    const line = `site.addsitedir('/${SITE_PACKAGES}')`;
    assert.ok(DRIVER_PY.includes(line));
    const d = driverWithArgs(DRIVER_PY);
    assert.ok(d.includes(line));
    assert.match(d, /bytes\.fromhex/);
    assert.ok(DRIVER_PY.indexOf(line) < DRIVER_PY.indexOf("#:run"), "in the prologue the snapshot runs");
  });
});

/** The first entry's declared size set to 2 GiB (in its central-directory record). */
function declareHuge(z: Uint8Array): Uint8Array {
  return setU32(z, centralAt(z) + 24, 0x80000000);
}
function setU32(z: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(z.buffer, z.byteOffset).setUint32(at, v, true);
  return z;
}
function setU16(z: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(z.buffer, z.byteOffset).setUint16(at, v, true);
  return z;
}
function flip(z: Uint8Array, at: number): Uint8Array {
  z[at] = z[at]! ^ 0x55;
  return z;
}
/** Offset of the first central-directory record (from the end record). */
function centralAt(z: Uint8Array): number {
  return new DataView(z.buffer, z.byteOffset).getUint32(z.length - 6, true);
}
