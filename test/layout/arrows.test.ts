/**
 * The arrows between src/'s layers, read from the import statements of every source file, so
 * they stay the way the layout promises (issue 26, item 5): the ground floor (text/'s UTF-8 and
 * escaping, platform/) imports nothing above it; the sandbox knows nothing of the command's
 * vocabulary (options/), of formatting or of the front ends; options/ imports nothing from
 * text/ or sandbox/; the front ends (cli/, irc/, serve/) do not import each other, except that
 * the command dispatches to the bot and the service.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { repoRoot } from "../../src/sandbox/assets.ts";

const SRC = join(repoRoot(), "src");

/** The formatting layer that still lives in text/ (to move to src/format/). */
const FORMAT_FILES = new Set(["text/messages.ts", "text/summary.ts"]);

/** A file's layer: its folder under src/, or "format" for the formatting files. */
function layerOf(file: string): string {
  if (FORMAT_FILES.has(file)) return "format";
  return file.includes("/") ? file.slice(0, file.indexOf("/")) : file;
}

/** What each layer may import, besides itself. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  text: [],
  platform: [],
  wasm: ["platform", "text"],
  wasi: ["wasm", "platform", "text"],
  packages: ["wasi", "wasm", "platform", "text"],
  sandbox: ["packages", "wasi", "wasm", "platform", "text"],
  options: [],
  format: ["text", "options", "sandbox"],
  irc: ["format", "text", "options", "sandbox", "packages", "platform"],
  serve: ["format", "text", "options", "sandbox", "packages", "platform", "version.ts"],
  cli: ["irc", "serve", "format", "text", "options", "sandbox", "packages", "platform", "version.ts"],
  "version.ts": [],
};

/**
 * Arrows still the wrong way, each with why it is left; the test fails when one is gone (remove it
 * here) or a new one appears.
 */
const KNOWN_WRONG: ReadonlyArray<readonly [string, string, string]> = [
  ["sandbox/limits.ts", "options/limits.ts", "the limits table (numbers and flags) is split with the settings schema"],
  ["sandbox/limits.ts", "options/spec.ts", "the same: isValidValue goes with the table"],
  ["packages/image.ts", "sandbox/assets.ts", "the cache folder rule (cacheDirs) is to move below both"],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  );
}

/** Relative specifiers of a file's static imports and re-exports and its dynamic imports (comments skipped). */
export function importSpecifiers(text: string): string[] {
  const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join("\n");
  const found: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

/** Every cross-layer import of src/ as [from file, to file], paths relative to src/. */
function crossImports(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const path of sourceFiles(SRC)) {
    const from = relative(SRC, path).replaceAll("\\", "/");
    for (const spec of importSpecifiers(readFileSync(path, "utf8"))) {
      const to = relative(SRC, normalize(join(dirname(path), spec))).replaceAll("\\", "/");
      if (to.startsWith("..")) continue;
      if (layerOf(from) !== layerOf(to)) out.push([from, to]);
    }
  }
  return out;
}

describe("import arrows in src/", () => {
  it("finds imports the way the files write them", () => {
    const table: Array<[string, string[]]> = [
      ['import { a } from "../x/y.ts";', ["../x/y.ts"]],
      ['import type { T } from "./t.ts";\nexport { b } from "../b.ts";', ["./t.ts", "../b.ts"]],
      ['const m = await import("../irc/main.ts");', ["../irc/main.ts"]],
      ['import "./side-effect.ts";', ["./side-effect.ts"]],
      [' * import { Sandbox } from "../sandbox/mod.ts";\n// import { x } from "../y.ts";', []],
      ['import process from "node:process";\nimport { S } from "wasi-py";', []],
    ];
    for (const [text, specs] of table) assert.deepEqual(importSpecifiers(text), specs, text);
  });

  const cross = crossImports();
  it("every layer imports only the layers below it", () => {
    const wrong = cross
      .filter(([from, to]) => !(ALLOWED[layerOf(from)] ?? []).includes(layerOf(to)))
      .filter(([from, to]) => !KNOWN_WRONG.some(([f, t]) => f === from && t === to))
      .map(([from, to]) => `${from} -> ${to}`);
    assert.deepEqual(wrong, [], "imports against the arrows");
  });

  it("the arrows still wrong are listed with why, and each is still there", () => {
    for (const [from, to, why] of KNOWN_WRONG) {
      assert.ok(why.length > 0);
      assert.ok(
        cross.some(([f, t]) => f === from && t === to),
        `${from} -> ${to} is fixed: remove it from KNOWN_WRONG`,
      );
    }
  });

  it("a `_` file is imported only from its own folder", () => {
    const all = sourceFiles(SRC).flatMap((path) => {
      const from = relative(SRC, path).replaceAll("\\", "/");
      return importSpecifiers(readFileSync(path, "utf8")).map((spec) => {
        const to = relative(SRC, normalize(join(dirname(path), spec))).replaceAll("\\", "/");
        return [from, to] as const;
      });
    });
    const wrong = all.filter(([from, to]) => /(^|\/)_[^/]*$/.test(to) && dirname(from) !== dirname(to));
    assert.deepEqual(wrong.map(([f, t]) => `${f} -> ${t}`), []);
    assert.ok(all.some(([, to]) => to === "sandbox/_run-io.ts"), "the sandbox's internal files are seen");
  });

  it("sees the whole tree (a layer missing from the rules is an error)", () => {
    const layers = new Set(sourceFiles(SRC).map((p) => layerOf(relative(SRC, p).replaceAll("\\", "/"))));
    for (const layer of layers) assert.ok(layer in ALLOWED, `no rule for ${layer}`);
    assert.ok(cross.length > 50, `only ${cross.length} cross-layer imports found`);
  });
});
