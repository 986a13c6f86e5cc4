/**
 * The npm package as a user gets it: `npm pack` (prepack builds build/ with declarations), then
 * `npm install --omit=dev` of the tarball into a scratch project in a temporary folder, and:
 * (a) the bin run from another folder, (b) `import { Sandbox } from "wasi-py"` on Node,
 * (c) a TypeScript consumer type-checked with `strict` against the shipped declarations (no
 * skipLibCheck; with the default lib, and with ES2023 + @types/node), (d) the same import from Deno with narrow
 * permissions; the README's library example is type-checked in (c) and run in (d). Also: the
 * tarball holds only what runs (its file list, and every module and declaration in it reached
 * from the bin or the exports), and the install prints no warning.
 *
 * The tarball is packed from a copy of the checkout (stagedCheckout), so that its build never
 * touches the build/ the other test files run from. Runs on the Node running the tests, with
 * npm's own CLI under that Node (so `npx -y node@24 --test build/test/package/` checks Node 24;
 * .ci/run does). Figures (size, files, install time)
 * are printed as test diagnostics. On Deno this file is skipped: packing and installing are
 * npm's job, and part (d) runs Deno from here.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import type { SpawnSyncOptionsWithStringEncoding, SpawnSyncReturns } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import process from "node:process";
import { repoRoot } from "../../src/sandbox/assets.ts";

/** The library example in the README (the first ts block after "## Library"), tested as shipped. */
function readmeExample(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Library\n"));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block !== null, "README: no ts block under ## Library");
  return block[1];
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const root = repoRoot();
/** Node majors package.json's `engines` promises; on others npm rightly warns EBADENGINE. */
const SUPPORTED_NODE = (major: number) => major >= 24;
const nodeMajor = Number(process.versions.node.split(".")[0]);

/** npm's CLI script (run under this Node), from npm itself when it started us, else from PATH. */
function npmCli(): string | undefined {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm !== undefined && fromNpm.endsWith(".js")) return fromNpm;
  try {
    const bin = execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim();
    return realpathSync(bin);
  } catch {
    return undefined;
  }
}

const NPM = isDeno ? undefined : npmCli();
const skip = isDeno
  ? "packing and installing run on Node (npm run test:node); this test starts Deno itself for part (d)"
  : NPM === undefined
  ? "npm not found on PATH"
  : false;

const work = mkdtempSync(join(tmpdir(), "wasi-py-package-"));
const project = join(work, "project");
const elsewhere = join(work, "elsewhere");
const cache = join(work, "cache");
/** Children see this Node first on PATH (the bin's `#!/usr/bin/env node`), a fresh asset cache, no colour. */
const env = {
  ...process.env,
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
  WASI_PY_CACHE: cache,
  NO_COLOR: "1",
  npm_config_update_notifier: "false",
};

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const options: SpawnSyncOptionsWithStringEncoding = {
    cwd,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 300_000,
  };
  return spawnSync(cmd, args, options);
}

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  return run(process.execPath, [NPM!, ...args], cwd);
}

/** npm's warnings; EBADENGINE is expected (and only then) on a Node that engines does not cover. */
function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) =>
    /\bwarn\b|WARN/i.test(l) && (SUPPORTED_NODE(nodeMajor) || !l.includes("EBADENGINE"))
  );
}

/**
 * A copy of what `npm pack` reads (sources, build scripts, shipped assets, package.json) with the
 * checkout's node_modules linked in: prepack rebuilds build/ from scratch, and doing that in the
 * checkout would pull build/src/ from under the test files running beside this one.
 */
function stagedCheckout(): string {
  const stage = join(work, "checkout");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { files: string[] };
  const inputs = ["package.json", "README.md", "LICENSE", "cli.ts", "src", "bin", "scripts", "tsconfig.json"];
  for (const path of [...inputs, "tsconfig.build.json", ...pkg.files.filter((f) => f.startsWith("assets/"))]) {
    cpSync(join(root, path), join(stage, path), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(stage, "node_modules"));
  return stage;
}

let tarball = "";
let files: string[] = [];
/** What `npm pack` made, for the report. */
let packSummary = "";
let sizes = { packedMB: 0, unpackedMB: 0 };

describe(`the npm package, on Node ${process.versions.node}`, { skip }, () => {
  before(() => {
    mkdirSync(elsewhere);
    mkdirSync(project);
    const packed = npm(["pack", "--json", "--pack-destination", work], stagedCheckout());
    assert.equal(packed.status, 0, packed.stderr);
    const info = JSON.parse(packed.stdout) as Array<
      { filename: string; size: number; unpackedSize: number; files: { path: string }[] }
    >;
    tarball = join(work, info[0].filename);
    files = info[0].files.map((f) => f.path).sort();
    packSummary = `tarball ${info[0].filename}: ${info[0].size} bytes (${
      info[0].unpackedSize
    } unpacked), ${files.length} files`;
    sizes = { packedMB: info[0].size / 1e6, unpackedMB: info[0].unpackedSize / 1e6 };
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "scratch", version: "1.0.0", private: true, type: "module" }),
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("ships what runs and nothing else: the file list", (t) => {
    t.diagnostic(packSummary);
    const exact = [
      "LICENSE",
      "README.md",
      "package.json",
      "bin/wasi-py.js",
      "assets/manifest.json",
      "assets/python.wasm.br",
      "assets/stdlib.tar.br",
      "assets/licenses/cpython-LICENSE.txt",
      "build/bundle/cli.js",
      "build/bundle/mod.js",
      "build/bundle/main.js",
      "build/bundle/_worker.js",
      "build/types/src/sandbox/mod.d.ts",
      "build/types/src/cli/main.d.ts",
    ];
    for (const want of exact) assert.ok(files.includes(want), `${want} missing`);
    // Everything else is a licence, a chunk of the bundle or a declaration (whose reach is checked below).
    const patterns = [
      /^assets\/licenses\/[\w.-]+\.(txt|rst)$/,
      /^build\/bundle\/[\w-]+\.js$/,
      /^build\/types\/src\/[\w/.-]+\.d\.ts$/,
    ];
    const stray = files.filter((f) => !exact.includes(f) && !patterns.some((p) => p.test(f)));
    assert.deepEqual(stray, [], "files outside the list (build/src/, build/cli.js, tests, sources...)");
  });

  it("the README's figures for the package: size packed and unpacked, file count", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8").replace(/\s+/g, " ");
    const said = /\(about ([\d.]+) MB packed, ([\d.]+) MB unpacked, (\d+) files;/.exec(readme);
    assert.ok(said !== null, "README: no '(about N MB packed, N MB unpacked, N files;' under Install");
    // "About": a new module or declaration need not change the README, a tenth more files or 0.3 MB does.
    const want = `(about ${sizes.packedMB.toFixed(1)} MB packed, ${
      sizes.unpackedMB.toFixed(1)
    } MB unpacked, ${files.length} files`;
    assert.ok(Math.abs(Number(said[3]) - files.length) <= files.length / 10, `file count; write ${want}`);
    assert.ok(Math.abs(Number(said[1]) - sizes.packedMB) < 0.3, `packed size; write ${want}`);
    assert.ok(Math.abs(Number(said[2]) - sizes.unpackedMB) < 0.3, `unpacked size; write ${want}`);
  });

  it("installs with --omit=dev, without a warning", (t) => {
    const start = performance.now();
    const r = npm(["install", "--omit=dev", "--no-audit", "--no-fund", tarball], project);
    const ms = performance.now() - start;
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(warnings(r.stderr), []);
    t.diagnostic(`npm install --omit=dev of the tarball: ${Math.round(ms)} ms`);
    assert.ok(existsSync(join(project, "node_modules", "wasi-py", "build", "bundle", "cli.js")));
    assert.ok(!existsSync(join(project, "node_modules", "typescript")), "a dev dependency was installed");
    // The runtime dependencies are the ones the README names (the bundles inline them; npm installs them for
    // programs that import them themselves).
    for (const dep of ["cmd-ts", "picocolors", "hono"]) {
      assert.ok(existsSync(join(project, "node_modules", dep)), `${dep} was not installed`);
    }
  });

  it("every installed module and declaration is reached from the bin or the exports", () => {
    const pkg = join(project, "node_modules", "wasi-py");
    // What the entries import, statically or on demand, transitively (relative specifiers only).
    const reach = (entries: string[], toPath: (spec: string) => string) => {
      const seen = new Set<string>();
      const todo = [...entries];
      while (todo.length > 0) {
        const file = todo.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const text = readFileSync(join(pkg, file), "utf8");
        const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.\.?\/[^"']+)["']/g)].map((m) => m[1]);
        for (const spec of specs) todo.push(join(dirname(file), toPath(spec)));
      }
      return seen;
    };
    const js = reach(
      ["build/bundle/cli.js", "build/bundle/mod.js", "build/bundle/main.js", "build/bundle/_worker.js"],
      (s) => s,
    );
    const dts = reach(
      ["build/types/src/sandbox/mod.d.ts", "build/types/src/cli/main.d.ts"],
      (s) => s.replace(/\.(js|ts)$/, ".d.ts"),
    );
    assert.deepEqual(files.filter((f) => f.startsWith("build/bundle/") && !js.has(f)), [], "modules nothing loads");
    assert.deepEqual(
      files.filter((f) => f.startsWith("build/types/") && !dts.has(f)),
      [],
      "declarations no export reaches",
    );
    for (const f of [...js, ...dts]) assert.ok(files.includes(f), `${f} is imported but not shipped`);
  });

  it("(a) the bin runs from another folder", () => {
    const r = run(join(project, "node_modules", ".bin", "wasi-py"), ["print(6*7)"], elsewhere);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "42\n");
    assert.equal(r.status, 0);
    const v = run(join(project, "node_modules", ".bin", "wasi-py"), ["--version"], elsewhere);
    assert.match(v.stdout, /^wasi-py \d+\.\d+\.\d+\nCPython 3\.13\.\d+ \(wasm32-wasi\)\n$/);
  });

  it('(b) import { Sandbox } from "wasi-py" on Node', () => {
    writeFileSync(
      join(project, "node.mjs"),
      `import { Sandbox, LimitError } from "wasi-py";
const sb = await Sandbox.create({ workers: 1 });
const r = await sb.run("print(6*7)", { fuel: 100_000_000, timeoutMs: 10_000 });
const loop = await sb.run("while True: pass", { fuel: 10_000_000, timeoutMs: 60_000 });
await sb.close();
console.log(JSON.stringify([r.outcome, r.stdout, r.exitCode, loop.outcome, typeof LimitError]));
`,
    );
    const r = run(process.execPath, ["node.mjs"], project);
    assert.equal(r.stderr, "");
    assert.deepEqual(JSON.parse(r.stdout), ["ok", "42\n", 0, "fuel_exhausted", "function"]);
  });

  it("importing the library or ./cli runs no command", () => {
    const r = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `await import("wasi-py"); const c = await import("wasi-py/cli"); console.log(typeof c.main);`,
      ],
      project,
    );
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "function\n");
  });

  it("(c) a strict TypeScript consumer type-checks against the shipped declarations", () => {
    writeFileSync(
      join(project, "consumer.ts"),
      `import { AssetError, LimitError, Sandbox, SandboxClosedError } from "wasi-py";
import type { Outcome, RunOptions, RunResult, SandboxOptions } from "wasi-py";
import { main } from "wasi-py/cli";

const options: SandboxOptions = { workers: 1 };
const limits: RunOptions = { fuel: 1e8, timeoutMs: 2000, memoryMiB: 64, maxOutputBytes: 4096, stdin: "x" };
const sb: Sandbox = await Sandbox.create(options);
const r: RunResult = await sb.run("print(6*7)", limits);
const outcome: Outcome = r.outcome;
const text: string = r.stdout + r.stderr;
const code: number = r.exitCode;
const status: Promise<number> = main(["--version"]);
export const seen = [outcome, text, code, status, AssetError, LimitError, SandboxClosedError];
// @ts-expect-error fuel is a number
await sb.run("1", { fuel: "lots" });
// @ts-expect-error no such outcome
export const wrong: Outcome = "exploded";
await sb.close();
`,
    );
    writeFileSync(join(project, "readme.ts"), readmeExample());
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    // The two usual set-ups: the default lib (with the DOM), and a Node project's ES lib + @types/node.
    const setups: Record<string, Record<string, unknown>> = {
      "default lib": { types: [] },
      "ES2023 + @types/node": { lib: ["ES2023"], typeRoots: [join(root, "node_modules", "@types")], types: ["node"] },
    };
    for (const [name, extra] of Object.entries(setups)) {
      const compilerOptions = {
        strict: true,
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        skipLibCheck: false,
        noEmit: true,
        ...extra,
      };
      const config = { compilerOptions, files: ["consumer.ts", "readme.ts"] };
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify(config));
      const r = run(process.execPath, [tsc, "-p", "tsconfig.json"], project);
      assert.equal(r.stdout + r.stderr, "", name);
      assert.equal(r.status, 0, name);
    }
  });

  it('(d) import { Sandbox } from "wasi-py" on Deno, with narrow permissions', { skip: denoSkip() }, () => {
    writeFileSync(
      join(project, "deno.ts"),
      `import { Sandbox } from "wasi-py";
import type { RunResult } from "wasi-py";
const sb = await Sandbox.create({ workers: 1 });
const r: RunResult = await sb.run("print(6*7)");
await sb.close();
console.log(r.outcome, r.stdout.trim());
`,
    );
    const pkg = realpathSync(join(project, "node_modules", "wasi-py"));
    const permissions = [
      `--allow-read=${pkg},${cache}`,
      `--allow-write=${cache}`,
      "--allow-env=WASI_PY_CACHE,XDG_CACHE_HOME,HOME,TMPDIR,TMP,TEMP",
    ];
    const r = run(process.execPath, [denoScript()!, "run", "--check", ...permissions, "deno.ts"], project);
    assert.equal(r.stdout, "ok 42\n", r.stderr);
    assert.equal(r.status, 0);
    writeFileSync(join(project, "readme-deno.ts"), readmeExample());
    const ex = run(process.execPath, [denoScript()!, "run", ...permissions, "readme-deno.ts"], project);
    assert.equal(ex.stdout, "45\n\n", ex.stderr);
  });
});

/** The deno dev dependency's launcher (run with this Node). */
function denoScript(): string | undefined {
  const bin = join(root, "node_modules", "deno", "bin.cjs");
  return existsSync(bin) ? bin : undefined;
}

function denoSkip(): string | false {
  return denoScript() === undefined ? "the deno dev dependency is not installed (npm install)" : false;
}
