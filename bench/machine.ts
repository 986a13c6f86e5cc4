/** What the figures were measured on, recorded with every result. */
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { readManifest } from "../src/sandbox/assets.ts";
import { interpreterOverrides } from "./interpreter.ts";

export interface Machine {
  cpuModel: string;
  cpus: number;
  availableParallelism: number;
  memTotalMiB: number;
  kernel: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  node: string;
  deno: string | null;
  python3: string | null;
  python3Path: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  /** sha256 of the expanded interpreter assets, to tell builds (e.g. with/without snapshot) apart. */
  assets: Record<string, string>;
  /** WASI_PY_BENCH_* overrides used by the Sandbox-API sections (empty: committed assets). */
  interpreterOverrides: Record<string, string>;
}

function firstLine(file: string, args: string[], cwd?: string): string | null {
  const r = spawnSync(file, args, { encoding: "utf8", cwd, timeout: 30_000 });
  if (r.status !== 0) return null;
  return (r.stdout || r.stderr).trim().split("\n")[0] ?? null;
}

export function describeMachine(root: string, python: string, deno: string | undefined): Machine {
  const c = cpus();

  const assets: Record<string, string> = {};
  try {
    for (const f of Object.values(readManifest().files)) if (f.expanded) assets[f.expanded.name] = f.expanded.sha256;
  } catch { /* recorded as empty */ }
  return {
    cpuModel: c[0]?.model ?? "unknown",
    cpus: c.length,
    availableParallelism: availableParallelism(),
    memTotalMiB: Math.round(totalmem() / 1048576),
    kernel: release(),
    loadAverageStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    deno: deno === undefined ? null : firstLine(deno, ["--version"]),
    python3: firstLine(python, ["--version"]),
    python3Path: python,
    gitCommit: firstLine("git", ["rev-parse", "--short", "HEAD"], root),
    gitDirty:
      spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout
        .trim() !== "",
    assets,
    interpreterOverrides: interpreterOverrides(),
  };
}
