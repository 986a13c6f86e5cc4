#!/usr/bin/env node
/**
 * The `wasi-py` command on Node (package.json `bin`). In the npm package build/ ships compiled
 * (made by `prepack`), so this only imports the command: build/bundle/cli.js, one file (a faster
 * cold start, scripts/build.mjs), or build/cli.js where no bundle was made. In a git checkout
 * (recognised by cli.ts beside package.json) it first runs scripts/build.mjs when that file is
 * missing or older than the sources, so `npm install && npx wasi-py …` works without a separate
 * build step and never runs stale code. Plain JavaScript, because it runs before anything is
 * compiled.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const UNBUNDLED = join(ROOT, "build", "cli.js");
const BUNDLED = join(ROOT, "build", "bundle", "cli.js");
/** The command to run: the bundle when the last build made one. */
const entry = () => (existsSync(BUNDLED) ? BUNDLED : UNBUNDLED);

/** Newest modification time (ms) of the TypeScript sources and the build configuration. */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path);
    if (st.isDirectory()) { for (const name of readdirSync(path)) visit(join(path, name)); }
    else if (path.endsWith(".ts") || path.endsWith(".json")) newest = Math.max(newest, st.mtimeMs);
  };
  for (const path of ["cli.ts", "src", "tsconfig.json", "tsconfig.build.json"]) {
    if (existsSync(join(ROOT, path))) visit(join(ROOT, path));
  }
  return newest;
}

if (existsSync(join(ROOT, "cli.ts"))) {
  const built = existsSync(entry()) ? statSync(entry()).mtimeMs : -1;
  if (built < newestSource()) {
    const { build, tscPath } = await import("../scripts/build.mjs");
    if (tscPath() === undefined) {
      process.stderr.write(
        "wasi-py: this checkout is not built and TypeScript is missing (installed with --omit=dev?): " +
          "run `npm install`, or run the sources with Deno (see README)\n",
      );
      process.exit(120);
    }
    if (build() !== 0) process.exit(120);
  }
}

await import(pathToFileURL(entry()).href);
