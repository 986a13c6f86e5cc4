/**
 * Wheels laid out as pip downloads them, for the README's PyPI recipe (issue 25), made without
 * PyPI: from the pure-Python tree of a Debian package (its `dist-packages`), with a `.dist-info`
 * holding METADATA (the tree's `.egg-info/PKG-INFO`, the same format), WHEEL, top_level.txt and
 * RECORD (each file's urlsafe-base64 sha256 and size, RECORD itself without), deflated, the
 * dist-info last, named `{name}-{version}-{tags}.whl` with the name's `-` as `_`.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { makeZip } from "./zip-writer.ts";

/** The files under `dir`, as "/"-separated paths relative to it, sorted. */
function treeFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...treeFiles(path, base));
    else out.push(relative(base, path).split("\\").join("/"));
  }
  return out;
}

function recordHash(data: Uint8Array): string {
  return "sha256=" + createHash("sha256").update(data).digest("base64url");
}

/** What a wheel is made of: the project, its version and tags, and whether it is pure. */
export interface WheelSpec {
  /** The project's name as on PyPI, e.g. "more-itertools". */
  project: string;
  version: string;
  /** Tag triples, e.g. ["py3-none-any"] or ["cp313-cp313-manylinux_2_17_x86_64"]. */
  tags: string[];
  purelib: boolean;
}

/** The wheel's file name, as pip saves it. */
export function wheelName(spec: WheelSpec): string {
  const python = [...new Set(spec.tags.map((t) => t.split("-")[0]))].join(".");
  const abi = [...new Set(spec.tags.map((t) => t.split("-")[1]))].join(".");
  const platform = [...new Set(spec.tags.map((t) => t.split("-")[2]))].join(".");
  return `${spec.project.replace(/-/g, "_")}-${spec.version}-${python}-${abi}-${platform}.whl`;
}

/**
 * A wheel of the pure-Python `tree` (a dist-packages folder holding one project and its
 * `.egg-info`), as pip would download it.
 */
export function wheelFromTree(tree: string, spec: WheelSpec): Uint8Array {
  const entries: { name: string; data: Uint8Array }[] = [];
  let metadata: Uint8Array | undefined;
  let topLevel: Uint8Array | undefined;
  for (const path of treeFiles(tree)) {
    const data = new Uint8Array(readFileSync(join(tree, path)));
    if (/^[^/]+\.egg-info\/PKG-INFO$/.test(path)) metadata = data;
    else if (/^[^/]+\.egg-info\/top_level\.txt$/.test(path)) topLevel = data;
    else if (!/^[^/]+\.egg-info\//.test(path)) entries.push({ name: path, data });
  }
  if (metadata === undefined || topLevel === undefined) throw new Error(`${tree}: no .egg-info with PKG-INFO`);
  const info = `${spec.project.replace(/-/g, "_")}-${spec.version}.dist-info`;
  const enc = new TextEncoder();
  const wheel = [
    "Wheel-Version: 1.0",
    "Generator: wasi-py tests (pip-wheel.ts)",
    `Root-Is-Purelib: ${spec.purelib}`,
    ...spec.tags.map((t) => `Tag: ${t}`),
    "",
  ].join("\n");
  entries.push(
    { name: `${info}/METADATA`, data: metadata },
    { name: `${info}/WHEEL`, data: enc.encode(wheel) },
    { name: `${info}/top_level.txt`, data: topLevel },
  );
  const record = [...entries.map((e) => `${e.name},${recordHash(e.data)},${e.data.length}`), `${info}/RECORD,,`, ""];
  entries.push({ name: `${info}/RECORD`, data: enc.encode(record.join("\n")) });
  return makeZip(entries);
}

/**
 * The dist-packages tree of Debian's `python3-NAME`, downloaded (apt-get download, no root) and
 * unpacked (dpkg -x) into a new temporary folder; throws with apt's last line when that fails.
 */
export function debianTree(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-deb-"));
  const r = spawnSync("bash", [
    "-c",
    `chmod 755 . && apt-get download -q python3-${name} >/dev/null && dpkg -x *.deb x`,
  ], {
    cwd: dir,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`apt-get download / dpkg -x failed: ${r.stderr.trim().split("\n").pop()}`);
  return join(dir, "x/usr/lib/python3/dist-packages");
}
