#!/usr/bin/env node
/**
 * Builds what the npm package runs: cli.ts and src/ compiled by tsc (tsconfig.build.json) into
 * build/, with declaration files in build/types/. Used by `npm run build`, by `prepack` (so a
 * tarball always carries a fresh build) and by bin/wasi-py.js in a git checkout. Plain
 * JavaScript, because it has to run before anything is compiled.
 *
 * The package ships only what its entry points load: build/bundle/ (the bin's command and the
 * library's two exports, see bundle()) and the declaration files the exports' types reach
 * (pruneDeclarations()); build/src/ stays out of it (package.json `files`).
 *
 * One fix-up after tsc: the sources pull the WebAssembly types in with
 * `/// <reference path="…/platform/webassembly.d.ts" />` (our `lib` has no DOM), but tsc drops
 * that directive from the declarations it writes. A global reference would clash with the DOM
 * lib's WebAssembly (duplicate identifiers for consumers without skipLibCheck), so every
 * declaration file that names `WebAssembly.` gets those types as a namespace local to the module
 * instead: consumers with or without the DOM lib check cleanly.
 *
 * Then, where esbuild is installed (a dev dependency), bundle() writes build/bundle/cli.js and
 * build/bundle/_worker.js, which bin/wasi-py.js runs (see bundle()).
 *
 * build/src is emptied first, so that a source deleted since the last build is not packed.
 *
 * Usage: node scripts/build.mjs [--package]  (exits non-zero with tsc's messages on failure;
 *        --package, for prepack: esbuild is required, since a package without bundles cannot run)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "build");
const WASM_TYPES = join("src", "platform", "webassembly.d.ts");
/** Where tsc writes the declarations (tsconfig.build.json's declarationDir). */
const TYPES_DIR = join(OUT, "types");
/** The declarations of the package's exports (package.json `exports`), whose imports are kept. */
const TYPE_ENTRIES = [join(TYPES_DIR, "src", "sandbox", "mod.d.ts"), join(TYPES_DIR, "src", "cli", "main.d.ts")];
/** Where bundle() writes: the files bin/wasi-py.js runs. */
export const BUNDLE_DIR = join(OUT, "bundle");
/** What the bundles of CommonJS packages (cmd-ts and its dependencies) call `require` with, in an ES module. */
const REQUIRE_SHIM = "import { createRequire as wasiPyRequire } from 'node:module'; " +
  "const require = wasiPyRequire(import.meta.url);";

/** The TypeScript compiler's entry script, or undefined when the dev dependencies are absent. */
export function tscPath() {
  const path = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  return existsSync(path) ? path : undefined;
}

function* declarationFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarationFiles(path);
    else if (entry.name.endsWith(".d.ts")) yield path;
  }
}

function addLocalWasmTypes() {
  const source = readFileSync(join(ROOT, WASM_TYPES), "utf8");
  const namespace = source.slice(source.indexOf("declare namespace WebAssembly"));
  for (const file of declarationFiles(TYPES_DIR)) {
    const text = readFileSync(file, "utf8");
    if (!text.includes("WebAssembly.")) continue;
    writeFileSync(
      file,
      `${text}\n/** The WebAssembly types used above, local to this module (scripts/build.mjs). */\n${namespace}`,
    );
  }
}

/** The relative modules a declaration file imports, re-exports or references, as paths. */
function declarationImports(file) {
  const text = readFileSync(file, "utf8");
  const specifiers = [
    ...text.matchAll(/\bfrom\s+["'](\.{1,2}\/[^"']+)["']/g),
    ...text.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
    ...text.matchAll(/\bimport\s+["'](\.{1,2}\/[^"']+)["']/g),
    ...text.matchAll(/<reference\s+path=["']([^"']+)["']/g),
  ].map((m) => m[1]);
  return specifiers.map((s) => join(dirname(file), s.replace(/\.(js|ts)$/, ".d.ts")));
}

/**
 * Deletes every declaration file in build/types/ that the exports' declarations do not reach,
 * so that the package ships the types its users can see and no others. Returns an error message
 * when a declaration imports one that tsc did not write.
 */
function pruneDeclarations() {
  const keep = new Set();
  const todo = [...TYPE_ENTRIES];
  while (todo.length > 0) {
    const file = todo.pop();
    if (keep.has(file)) continue;
    if (!existsSync(file)) return `declaration ${file} is imported but was not emitted`;
    keep.add(file);
    todo.push(...declarationImports(file));
  }
  for (const file of [...declarationFiles(TYPES_DIR)]) if (!keep.has(file)) rmSync(file);
  return undefined;
}

/** esbuild's API, or undefined when the dev dependencies are absent. */
function esbuildApi() {
  try {
    return createRequire(import.meta.url)("esbuild");
  } catch {
    return undefined;
  }
}

/**
 * Bundles the command (build/cli.js and all it imports, npm packages included), the library's
 * exports (`.`: build/src/sandbox/mod.js; `./cli`: build/src/cli/main.js) and the sandbox's worker
 * thread (build/src/sandbox/_worker.js) into build/bundle/, which bin/wasi-py.js and package.json
 * `exports` point at: a cold start then loads a few files instead of ~70 modules (issue 14). What
 * the command imports on demand (the argument parser, --help, the bot) goes into chunks of its own,
 * loaded only when imported; the three entries share their common chunks. The pool finds the
 * worker beside itself (src/sandbox/pool.ts), so in the bundle it starts build/bundle/_worker.js.
 * Without esbuild (dev dependencies omitted) there is no bundle and bin/wasi-py.js runs
 * build/cli.js (`required`: that is an error). Returns 0, or 1 with esbuild's messages printed.
 */
function bundle(required) {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const esbuild = esbuildApi();
  if (esbuild === undefined) {
    if (!required) return 0;
    process.stderr.write("wasi-py build: esbuild is not installed (a dev dependency): run `npm install`\n");
    return 1;
  }
  // cmd-ts's chalk becomes our picocolors-made stand-in (src/cli/_chalk.ts): one colour library ships.
  const alias = { chalk: join(OUT, "src", "cli", "_chalk.js") };
  const common = {
    outdir: BUNDLE_DIR,
    bundle: true,
    format: "esm",
    platform: "node",
    banner: { js: REQUIRE_SHIM },
    alias,
  };
  try {
    // The command is split at its dynamic imports (argument parser, --help, the bot, the sandbox)
    // so that `--version` does not parse them; the worker is one file.
    const entryPoints = {
      cli: join(OUT, "cli.js"),
      mod: join(OUT, "src", "sandbox", "mod.js"),
      main: join(OUT, "src", "cli", "main.js"),
    };
    esbuild.buildSync({ ...common, entryPoints, splitting: true, logLevel: "error" });
    esbuild.buildSync({
      ...common,
      entryPoints: { _worker: join(OUT, "src", "sandbox", "_worker.js") },
      logLevel: "error",
    });
    return 0;
  } catch {
    return 1; // esbuild has printed why
  }
}

/** Compiles the package into build/; returns tsc's exit status (0 on success). */
export function build(options = {}) {
  const tsc = tscPath();
  if (tsc === undefined) {
    process.stderr.write("wasi-py build: TypeScript is not installed (a dev dependency): run `npm install`\n");
    return 1;
  }
  // A fresh output: a source deleted since the last build must not linger in the package.
  rmSync(join(OUT, "src"), { recursive: true, force: true });
  rmSync(TYPES_DIR, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) return r.status ?? 1;
  addLocalWasmTypes();
  const pruneError = pruneDeclarations();
  if (pruneError !== undefined) {
    process.stderr.write(`wasi-py build: ${pruneError}\n`);
    return 1;
  }
  return bundle(options.package === true);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = build({ package: process.argv.includes("--package") });
}
