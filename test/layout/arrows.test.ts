/**
 * The arrows between src/'s layers, read from the import statements of every source file, so
 * they stay the way the layout promises (issue 26, item 5): the ground floor (text/'s UTF-8 and
 * escaping, platform/, limits/'s numbers) imports nothing above it; the sandbox knows nothing of
 * text/, of the command's vocabulary (options/), of formatting or of the front ends; options/
 * imports nothing from text/ or sandbox/; format/ (messages and summaries of results) sits above
 * the sandbox; the front ends (cli/, irc/, serve/) do not import each other, except that the
 * command dispatches to the bot and the service. No exceptions.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { repoRoot } from "../../src/sandbox/assets.ts";

const SRC = join(repoRoot(), "src");

/** A file's layer: its folder under src/ (or the file itself at the top). */
function layerOf(file: string): string {
  return file.includes("/") ? file.slice(0, file.indexOf("/")) : file;
}

/** What each layer may import, besides itself. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  text: [],
  platform: [],
  limits: [],
  wasm: ["platform"],
  wasi: ["wasm", "platform"],
  packages: ["wasi", "wasm", "platform"],
  sandbox: ["limits", "packages", "wasi", "wasm", "platform"],
  options: ["limits"],
  format: ["text", "options", "limits", "sandbox"],
  irc: ["format", "text", "options", "limits", "sandbox", "packages", "platform"],
  serve: ["format", "text", "options", "limits", "sandbox", "packages", "platform", "version.ts"],
  cli: ["irc", "serve", "format", "text", "options", "limits", "sandbox", "packages", "platform", "version.ts"],
  "version.ts": [],
};

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
      .map(([from, to]) => `${from} -> ${to}`);
    assert.deepEqual(wrong, [], "imports against the arrows");
  });

  /** Every layer `layer` may reach, directly or through the layers it may import. */
  const reach = (layer: string, seen: Set<string> = new Set()): Set<string> => {
    for (const l of ALLOWED[layer] ?? []) if (!seen.has(l)) reach(l, seen.add(l));
    return seen;
  };

  it("the rules have no cycle (no layer reaches itself)", () => {
    for (const layer of Object.keys(ALLOWED)) assert.ok(!reach(layer).has(layer), `${layer} reaches itself`);
  });

  it("the sandbox reaches no text/, options/ or format/, options/ no text/ or sandbox/, even indirectly", () => {
    assert.deepEqual([...reach("sandbox")].sort(), ["limits", "packages", "platform", "wasi", "wasm"]);
    assert.deepEqual([...reach("options")], ["limits"]);
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

  it("the sandbox's files: `_` exactly when private (not re-exported by mod.ts nor imported from another folder)", () => {
    const edges = sourceFiles(SRC).flatMap((path) => {
      const from = relative(SRC, path).replaceAll("\\", "/");
      return importSpecifiers(readFileSync(path, "utf8")).map((spec) => {
        const to = relative(SRC, normalize(join(dirname(path), spec))).replaceAll("\\", "/");
        return [from, to] as const;
      });
    });
    const files = sourceFiles(join(SRC, "sandbox")).map((p) => `sandbox/${relative(join(SRC, "sandbox"), p)}`);
    const wrong = files.filter((file) => {
      if (file === "sandbox/mod.ts") return false;
      const shown = edges.some(([from, to]) =>
        to === file && (from === "sandbox/mod.ts" || !from.startsWith("sandbox/"))
      );
      return /\/_[^/]*$/.test(file) === shown;
    });
    assert.deepEqual(wrong, [], "rename: `_` for a private file, none for a public one");
    assert.ok(files.includes("sandbox/_worker.ts") && files.includes("sandbox/pool.ts"));
  });

  it("sees the whole tree (a layer missing from the rules is an error)", () => {
    const layers = new Set(sourceFiles(SRC).map((p) => layerOf(relative(SRC, p).replaceAll("\\", "/"))));
    for (const layer of layers) assert.ok(layer in ALLOWED, `no rule for ${layer}`);
    assert.ok(cross.length > 50, `only ${cross.length} cross-layer imports found`);
  });
});
