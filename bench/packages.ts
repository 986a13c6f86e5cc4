/**
 * What importing a mounted package costs (issue 25, item 5): for each library of the Debian
 * image (test/helpers/debian-image.ts), `import NAME` in a warm sandbox (library, one worker,
 * each run a fresh instance, so every import is a first import with the image's .pyc) against
 * native python3 importing the same .deb files (a fresh process per rep, its own .pyc written by
 * a first untimed run, and the modules the guest starts with imported first, as the guest's
 * snapshot has them). Time is measured inside the program on both sides (perf_counter around the
 * import statement); fuel is that of a run of `import NAME` alone minus that of `pass` (its median,
 * and the spread between runs, which is 0 unless the import draws random numbers).
 *
 *   node build/bench/packages.js [REPS]     alone; also the `packages` section of `npm run bench`
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { ensureDebianImage, unpackDebsForNative } from "../test/helpers/debian-image.ts";
import { fmtMs, fmtRatio, ratio, round, summarize, table } from "./stats.ts";
import { interpreter } from "./interpreter.ts";

/** The module each library is imported as. */
export const PACKAGE_MODULES = [
  "sympy",
  "mpmath",
  "more_itertools",
  "attr",
  "dateutil.parser",
  "six",
  "sortedcontainers",
  "networkx",
  "pyparsing",
] as const;

export interface PackageBenchRow {
  module: string;
  /** Median ms of the import statement in the sandbox. */
  wasiMs: number;
  /** Median ms of the same import in native python3. */
  nativeMs: number;
  /** wasiMs / nativeMs. */
  ratio: number | null;
  /** Median fuel of the import. */
  fuel: number;
  /** Largest minus smallest fuel seen over the reps: 0 when the import spends the same every time. */
  fuelSpread: number;
}

const timed = (module: string) =>
  `import time\nt = time.perf_counter()\nimport ${module}\nprint((time.perf_counter() - t) * 1000)`;
/** Fuel is measured on runs without the timing (a float's repr varies in length, and so in fuel). */
const BASE = "pass";

/**
 * One timed native import in a fresh python3 (-I -S, the unpacked .deb files alone on sys.path),
 * after importing `preloaded` (the modules the guest starts with: its snapshot has them imported,
 * so both sides time the same work).
 */
function nativeMs(python: string, site: string, module: string, preloaded: readonly string[]): number {
  const pre = `for _m in ${
    JSON.stringify(preloaded)
  }:\n    try:\n        __import__(_m)\n    except Exception:\n        pass\n`;
  const code = `import sys; sys.path.append(${JSON.stringify(site)})\n${pre}${timed(module)}`;
  const r = spawnSync(python, ["-I", "-S", "-c", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`native import ${module}: ${r.stderr.trim().split("\n").pop()}`);
  return Number(r.stdout);
}

/**
 * Each module's reps, the two sides interleaved (a shared machine's load then weighs on both
 * alike): a timed import in the sandbox, `import NAME` alone for its fuel, a timed native import.
 */
async function measure(python: string, image: string, site: string, reps: number, log: (s: string) => void) {
  const sb = await Sandbox.create({ ...interpreter(), workers: 1, packages: [image] });
  const limits = { fuel: Infinity, timeoutMs: 600_000, memoryMiB: 512 };
  try {
    const base = await sb.run(BASE, limits);
    const start = await sb.run("import sys; print(' '.join(sorted(sys.modules)))", limits);
    const preloaded = start.stdout.trim().split(" ").filter((m) => m !== "__main__");
    const rows: PackageBenchRow[] = [];
    for (const module of PACKAGE_MODULES) {
      nativeMs(python, site, module, preloaded); // writes native's .pyc
      const wasi: number[] = [];
      const native: number[] = [];
      const fuels: number[] = [];
      for (let i = 0; i < reps; i++) {
        const r = await sb.run(timed(module), limits);
        if (r.outcome !== "ok") throw new Error(`import ${module}: ${r.outcome} ${r.stderr.slice(-300)}`);
        wasi.push(Number(r.stdout));
        fuels.push((await sb.run(`import ${module}`, limits)).fuelUsed - base.fuelUsed);
        native.push(nativeMs(python, site, module, preloaded));
      }
      const w = summarize(wasi).median;
      const n = summarize(native).median;
      fuels.sort((x, y) => x - y);
      rows.push({
        module,
        wasiMs: round(w, 2),
        nativeMs: round(n, 2),
        ratio: ratio(w, n),
        fuel: summarize(fuels).median,
        fuelSpread: fuels.at(-1)! - fuels[0]!,
      });
      log(`packages: import ${module}: wasi-py ${round(w, 1)} ms, native ${round(n, 1)} ms`);
    }
    return rows;
  } finally {
    await sb.close();
  }
}

/**
 * The rows of the packages bench (builds the Debian image first if it is missing).
 *
 * @example
 * ```ts
 * const rows = await runPackagesBench("python3", 5, console.log);
 * ```
 */
export async function runPackagesBench(
  python: string,
  reps: number,
  log: (s: string) => void,
): Promise<PackageBenchRow[]> {
  log("packages: the Debian image (built first if missing: several minutes)");
  const image = await ensureDebianImage();
  return await measure(python, image, unpackDebsForNative(), reps, log);
}

/** The rows as a text table. */
export function packagesTable(rows: readonly PackageBenchRow[]): string {
  return table([
    ["import", "wasi-py", "native python3", "ratio", "fuel", "fuel spread"],
    ...rows.map((r) => [
      r.module,
      fmtMs(r.wasiMs),
      fmtMs(r.nativeMs),
      fmtRatio(r.ratio),
      r.fuel.toLocaleString("en"),
      r.fuelSpread.toLocaleString("en"),
    ]),
  ]);
}

if (process.argv[1]?.endsWith("packages.js") || process.argv[1]?.endsWith("packages.ts")) {
  const reps = Number(process.argv[2] ?? 5);
  const rows = await runPackagesBench("python3", reps, (s) => process.stderr.write(s + "\n"));
  process.stdout.write(packagesTable(rows) + "\n");
}
