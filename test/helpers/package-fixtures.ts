/**
 * Packages the tests make and mount (issue 25): a small pure wheel, a folder laid out like
 * site-packages, a small package image, and broken ones (a compiled extension in each kind, a platform-tagged wheel), in
 * a fresh temporary folder. The same bytes every time, so runs that import them spend the same
 * fuel wherever they are made (test/helpers/packages-probe.ts compares Node with Deno).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync } from "node:zlib";
import { writeUstar } from "../../scripts/ustar.ts";
import { makeZip, wheelInfo } from "./zip-writer.ts";

export interface PackageFixtures {
  root: string;
  /** tinywheel-1.0-py3-none-any.whl: `tinywheel` (a counter kept in module state) and its dist-info. */
  wheel: string;
  /** A folder with `tinyfolder` (a package with a submodule), `shadow.py` and `blob.bin` (256 KiB of 7s). */
  folder: string;
  /** A second folder that also has `shadow.py` (to show the first mount wins). */
  later: string;
  /** A wheel tagged cp313-cp313-linux_x86_64. */
  platformWheel: string;
  /** A py3-none-any wheel that nevertheless holds a `.so`. */
  soWheel: string;
  /** A folder with a `.so` below it. */
  soFolder: string;
  /** lazyimg.tar.br, a package image: `lazyimg`, whose DATA is its 64 KiB `data.bin`, read at import. */
  image: string;
}

/** The files of `FIXTURES.image`, as paths under site-packages. */
export const LAZY_IMAGE_FILES: ReadonlyMap<string, Uint8Array> = new Map([
  [
    "lazyimg/__init__.py",
    new TextEncoder().encode(
      "import os\nDATA = open(os.path.join(os.path.dirname(__file__), 'data.bin'), 'rb').read()\n",
    ),
  ],
  ["lazyimg/data.bin", new Uint8Array(64 * 1024).map((_, i) => i % 251)],
]);

const TINYWHEEL = "calls = []\n\ndef remember(x):\n    calls.append(x)\n    return len(calls)\n";

/** Writes the fixtures into a new temporary folder. */
export function makePackageFixtures(): PackageFixtures {
  const root = mkdtempSync(join(tmpdir(), "wasi-py-packages-"));
  const write = (path: string, data: string | Uint8Array) => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), data);
  };
  const wheelEntries = [
    { name: "tinywheel/__init__.py", data: TINYWHEEL },
    { name: "tinywheel-1.0.dist-info/METADATA", data: "Metadata-Version: 2.1\nName: tinywheel\nVersion: 1.0\n" },
    { name: "tinywheel-1.0.dist-info/WHEEL", data: wheelInfo() },
    { name: "tinywheel-1.0.dist-info/RECORD", data: "" },
  ];
  write("tinywheel-1.0-py3-none-any.whl", makeZip(wheelEntries));
  write("tinywheel-1.0-cp313-cp313-linux_x86_64.whl", makeZip(wheelEntries));
  write(
    "sowheel-1.0-py3-none-any.whl",
    makeZip([...wheelEntries, { name: "tinywheel/_speedups.so", data: "\x7fELF" }]),
  );
  write("folder/tinyfolder/__init__.py", "from .sub import twice\nNAME = 'tinyfolder'\n");
  write("folder/tinyfolder/sub.py", "def twice(x):\n    return 2 * x\n");
  write("folder/shadow.py", "WHO = 'first'\n");
  write("folder/blob.bin", new Uint8Array(256 * 1024).fill(7));
  write("later/shadow.py", "WHO = 'later'\n");
  write("sofolder/ok.py", "X = 1\n");
  write("sofolder/native/_impl.cpython-313-wasm32-wasi.so", "\0asm");
  write("lazyimg.tar.br", brotliCompressSync(writeUstar(new Map(LAZY_IMAGE_FILES))));
  return {
    root,
    wheel: join(root, "tinywheel-1.0-py3-none-any.whl"),
    folder: join(root, "folder"),
    later: join(root, "later"),
    platformWheel: join(root, "tinywheel-1.0-cp313-cp313-linux_x86_64.whl"),
    soWheel: join(root, "sowheel-1.0-py3-none-any.whl"),
    soFolder: join(root, "sofolder"),
    image: join(root, "lazyimg.tar.br"),
  };
}
