/**
 * What mounting a big package image costs the host (issue 25): Sandbox.create with the Debian test
 * image (sympy, networkx and seven more, 126 MB expanded) against Sandbox.create without packages,
 * each in a fresh process (bench/package-mount-child.ts) so that its RSS is its own, the two
 * interleaved; and the first `import sympy` after the mount, with the RSS after it. The image's
 * expansion is cached by an untimed first mount. Medians of REPS processes per runtime.
 *
 *   node build/bench/package-mount.js [REPS]     alone; also part of the `packages` section
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { repoRoot } from "../src/sandbox/assets.ts";
import { ensureDebianImage } from "../test/helpers/debian-image.ts";
import type { MountSample } from "./package-mount-child.ts";
import { findRuntimes, scriptArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";
import { fmtMiB, fmtMs, fmtRatio, ratio, round, summarize, table } from "./stats.ts";

/** One runtime's medians. */
export interface MountRow {
  runtime: string;
  /** Sandbox.create without packages, ms (the baseline). */
  createBaseMs: number;
  /** Sandbox.create with the image mounted, ms. */
  createMs: number;
  /** createMs / createBaseMs. */
  createRatio: number | null;
  /** RSS after create, without packages and with the image, bytes. */
  rssBaseBytes: number;
  rssBytes: number;
  /** The first `import sympy`, ms, and the RSS after it, bytes. */
  importMs: number;
  rssImportedBytes: number;
}

function sample(rt: Runtime, root: string, image: string | undefined): MountSample {
  const args = scriptArgs(rt, root, "package-mount-child", image === undefined ? [] : [image]);
  const r = spawnSync(rt.exe, args, { cwd: root, encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`${rt.name} package-mount-child: ${r.stderr.trim().split("\n").pop()}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as MountSample;
}

const median = (xs: number[]) => summarize(xs).median;

/**
 * The rows, one per runtime (Node running this, and Deno when installed).
 *
 * @example
 * ```ts
 * const rows = await runPackageMountBench(3, console.log);
 * ```
 */
export async function runPackageMountBench(reps: number, log: (s: string) => void): Promise<MountRow[]> {
  const root = repoRoot();
  const image = await ensureDebianImage();
  const runtimes = findRuntimes(root).runtimes.filter((rt, i) => i === 0 || rt.kind === "deno");
  const rows: MountRow[] = [];
  for (const rt of runtimes) {
    sample(rt, root, image); // caches the expansion (and this runtime's stamp of it)
    const base: MountSample[] = [];
    const mounted: MountSample[] = [];
    for (let i = 0; i < reps; i++) {
      base.push(sample(rt, root, undefined));
      mounted.push(sample(rt, root, image));
    }
    const createBaseMs = median(base.map((s) => s.createMs));
    const createMs = median(mounted.map((s) => s.createMs));
    rows.push({
      runtime: rt.name,
      createBaseMs: round(createBaseMs, 1),
      createMs: round(createMs, 1),
      createRatio: ratio(createMs, createBaseMs),
      rssBaseBytes: median(base.map((s) => s.rssCreatedBytes)),
      rssBytes: median(mounted.map((s) => s.rssCreatedBytes)),
      importMs: round(median(mounted.map((s) => s.importMs)), 1),
      rssImportedBytes: median(mounted.map((s) => s.rssImportedBytes)),
    });
    log(`packages: mount on ${rt.name}: create ${round(createMs, 1)} ms against ${round(createBaseMs, 1)} ms`);
  }
  return rows;
}

/** The rows as a text table. */
export function packageMountTable(rows: readonly MountRow[]): string {
  return table([
    ["runtime", "create", "create, no packages", "ratio", "RSS", "RSS, no packages", "import sympy", "RSS after"],
    ...rows.map((r) => [
      r.runtime,
      fmtMs(r.createMs),
      fmtMs(r.createBaseMs),
      fmtRatio(r.createRatio),
      fmtMiB(r.rssBytes),
      fmtMiB(r.rssBaseBytes),
      fmtMs(r.importMs),
      fmtMiB(r.rssImportedBytes),
    ]),
  ]);
}

if (process.argv[1]?.endsWith("package-mount.js") || process.argv[1]?.endsWith("package-mount.ts")) {
  const rows = await runPackageMountBench(Number(process.argv[2] ?? 5), (s) => process.stderr.write(s + "\n"));
  process.stdout.write(packageMountTable(rows) + "\n");
}
