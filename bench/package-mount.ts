/**
 * What mounting a big package image costs the host (issue 25): Sandbox.create with the Debian test
 * image (sympy, networkx and seven more, 126 MB expanded) against Sandbox.create without packages,
 * each in a fresh process (bench/package-mount-child.ts) so that its RSS is its own, the two
 * interleaved; and the first `import sympy` after the mount, with the RSS after it. The image's
 * expansion is cached by an untimed first mount. Medians of REPS processes per runtime.
 *
 * It also prices a snapshot variant with sympy imported (issue 25 item 5): every run would start
 * from the guest memory `import sympy` leaves, so it shows that memory's size against today's and
 * the time to restore it as the worker restores its snapshot (guest-memory.ts).
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
  /** Fuel of the run importing sympy. */
  importFuel: number;
  /**
   * What a snapshot variant with sympy imported would restore per run, against today's snapshot:
   * the guest memory after the import (after `pass`), and the time to restore a reused memory of
   * that size, or to make a fresh one (MountSample).
   */
  memoryBytes: number;
  memoryBaseBytes: number;
  restoreMs: number;
  restoreBaseMs: number;
  freshMs: number;
  freshBaseMs: number;
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
      importFuel: median(mounted.map((s) => s.fuel)),
      memoryBytes: median(mounted.map((s) => s.memoryBytes)),
      memoryBaseBytes: median(base.map((s) => s.memoryBytes)),
      restoreMs: round(median(mounted.map((s) => s.restoreMs)), 2),
      restoreBaseMs: round(median(base.map((s) => s.restoreMs)), 2),
      freshMs: round(median(mounted.map((s) => s.freshMs)), 2),
      freshBaseMs: round(median(base.map((s) => s.freshMs)), 2),
    });
    log(`packages: mount on ${rt.name}: create ${round(createMs, 1)} ms against ${round(createBaseMs, 1)} ms`);
  }
  return rows;
}

/** The rows as text: the mount's cost, then what a snapshot variant with sympy imported would cost. */
export function packageMountTable(rows: readonly MountRow[]): string {
  const variant = table([
    ["runtime", "import sympy", "fuel", "guest memory", "now", "restore", "now", "fresh memory", "now"],
    ...rows.map((r) => [
      r.runtime,
      fmtMs(r.importMs),
      r.importFuel.toLocaleString("en"),
      fmtMiB(r.memoryBytes),
      fmtMiB(r.memoryBaseBytes),
      fmtMs(r.restoreMs),
      fmtMs(r.restoreBaseMs),
      fmtMs(r.freshMs),
      fmtMs(r.freshBaseMs),
    ]),
  ]);
  return `${mountTable(rows)}\n\nA snapshot with sympy imported, per run:\n${variant}`;
}

function mountTable(rows: readonly MountRow[]): string {
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
