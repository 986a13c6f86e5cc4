/**
 * Reads a wheel (PEP 427) as the files it installs into site-packages, with no unpacking to disk:
 * the zip is listed (zip.ts), its tags are checked, and every entry is read and checked. Only pure
 * Python can run in the sandbox, so a wheel whose tags are not `py3-none-any` (or `py2.py3-none-any`)
 * or that holds a compiled extension is refused, in one line naming the file. Entries under
 * `<name>.data/purelib/` and `platlib/` install at the top, as pip does; the rest of `.data/`
 * (scripts, headers, data files) has no place on sys.path and is left out.
 */
import { listZip, readZipEntry, ZipError } from "./zip.ts";
import { compiledReason, MAX_PACKAGE_BYTES, PackageError } from "./site.ts";
import { normalizeTarPath, TarError } from "../wasi/tar.ts";

/** One file a mount contributes: its path under site-packages and its bytes. */
export interface PackageFile {
  path: string;
  /** The bytes, or (with `lazy`) the zeroed shared memory they are read into when first opened. */
  data: Uint8Array;
  /** Set for a package image's file read lazily: the file `data.byteOffset` is an offset of, and the bytes' sha256. */
  lazy?: { file: string; sha256: string };
}

/** `{python}-{abi}-{platform}` triples a wheel may carry here (after expanding dotted tags). */
const PURE_ABI = "none";
const PURE_PLATFORM = "any";
/** Python tags of pure wheels: py3, py3N; py2 only beside a py3 one. */
const PY3 = /^py3\d*$/;

/**
 * Why a wheel's tags (e.g. from its file name, `py2.py3-none-any`) cannot run here, or undefined.
 *
 * @example
 * tagRefusal(["py3-none-any"]); // undefined
 * tagRefusal(["cp313-cp313-manylinux_2_17_x86_64"]); // "tag cp313-cp313-manylinux_2_17_x86_64 is not pure Python (...)"
 */
export function tagRefusal(tags: readonly string[]): string | undefined {
  let py3 = false;
  for (const tag of tags) {
    const [pythons, abis, platforms, extra] = tag.split("-");
    const bad = () => `tag ${tag} is not pure Python (py3-none-any or py2.py3-none-any)`;
    if (pythons === undefined || abis === undefined || platforms === undefined || extra !== undefined) return bad();
    if (abis.split(".").some((a) => a !== PURE_ABI)) return bad();
    if (platforms.split(".").some((p) => p !== PURE_PLATFORM)) return bad();
    for (const p of pythons.split(".")) {
      if (PY3.test(p)) py3 = true;
      else if (p !== "py2") return bad();
    }
  }
  return py3 ? undefined : `no py3 tag among ${tags.join(", ") || "(none)"}`;
}

/**
 * The tags of a wheel file name (`{dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl`), or
 * undefined when the name is not of that form.
 *
 * @example
 * wheelNameTags("six-1.16.0-py2.py3-none-any.whl"); // ["py2.py3-none-any"]
 */
export function wheelNameTags(fileName: string): string[] | undefined {
  const parts = fileName.replace(/\.whl$/i, "").split("-");
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  return [parts.slice(-3).join("-")];
}

/** The `Tag:` lines and Root-Is-Purelib of a `.dist-info/WHEEL` file. */
function wheelMetadata(text: string): { tags: string[]; purelib: boolean | undefined } {
  const tags: string[] = [];
  let purelib: boolean | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z-]+):\s*(.*?)\s*$/.exec(line);
    if (m === null) continue;
    if (m[1]!.toLowerCase() === "tag") tags.push(m[2]!);
    if (m[1]!.toLowerCase() === "root-is-purelib") purelib = m[2]!.toLowerCase() === "true";
  }
  return { tags, purelib };
}

/** Where an entry installs, relative to site-packages; undefined: not on sys.path (see above). */
function installPath(name: string): string | undefined {
  const data = /^[^/]+\.data\/([^/]+)\/(.*)$/.exec(name);
  if (data === null) return name;
  return data[1] === "purelib" || data[1] === "platlib" ? data[2] : undefined;
}

/**
 * The files wheel `zip` (called `label` in messages) installs; throws PackageError naming the
 * file that is not pure Python or the byte offset where the archive is broken.
 *
 * @example
 * ```ts
 * const files = wheelFiles(readBytes("six-1.16.0-py2.py3-none-any.whl"), "six-1.16.0-py2.py3-none-any.whl");
 * ```
 */
export function wheelFiles(zip: Uint8Array, label: string): PackageFile[] {
  const fail = (why: string) => new PackageError(`${label}: ${why}`);
  try {
    const entries = listZip(zip);
    const nameTags = wheelNameTags(label.split(/[\\/]/).pop()!);
    const refusedName = nameTags && tagRefusal(nameTags);
    if (refusedName) throw fail(refusedName);
    const wheelInfo = entries.find((e) => /^[^/]+\.dist-info\/WHEEL$/.test(e.name));
    if (wheelInfo === undefined) throw fail("no .dist-info/WHEEL file: not a wheel");
    const meta = wheelMetadata(new TextDecoder().decode(readZipEntry(zip, wheelInfo)));
    const refused = tagRefusal(meta.tags);
    if (refused) throw fail(`${wheelInfo.name}: ${refused}`);
    if (meta.purelib === false) throw fail(`${wheelInfo.name}: Root-Is-Purelib is false (not a pure-Python wheel)`);
    const declared = entries.reduce((n, e) => n + e.sizeBytes, 0);
    if (declared > MAX_PACKAGE_BYTES) throw fail(`unpacks to ${declared} bytes, more than ${MAX_PACKAGE_BYTES}`);
    const files: PackageFile[] = [];
    for (const e of entries) {
      const compiled = compiledReason(e.name);
      if (compiled) throw fail(compiled);
      const target = installPath(e.name);
      if (target === undefined || e.name.endsWith("/")) continue;
      const path = normalizeTarPath(target);
      if (path === "") continue;
      files.push({ path, data: readZipEntry(zip, e) });
    }
    return files;
  } catch (e) {
    if (e instanceof ZipError || e instanceof TarError) throw fail(e.message);
    throw e;
  }
}
