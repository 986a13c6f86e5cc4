/**
 * One fresh process's mount of a package image (bench/package-mount.ts runs it, on Node or Deno):
 *   node build/bench/package-mount-child.js [IMAGE]
 * prints one JSON line: MountSample. A fresh process, so its RSS is that of the mount alone.
 * Without IMAGE it creates the sandbox with no packages and runs `pass`: the baseline.
 */
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { interpreter } from "./interpreter.ts";

/** What one process measured. */
export interface MountSample {
  /** Sandbox.create with the image mounted (one worker), ms. */
  createMs: number;
  /** Host RSS after create, bytes. */
  rssCreatedBytes: number;
  /** The first run's `import sympy` (none without IMAGE), timed inside the program, ms. */
  importMs: number;
  /** Host RSS after that run, bytes. */
  rssImportedBytes: number;
  /** Fuel of that run. */
  fuel: number;
}

const image = process.argv[2];
const t0 = performance.now();
const sb = await Sandbox.create({ ...interpreter(), workers: 1, packages: image === undefined ? [] : [image] });
const createMs = performance.now() - t0;
const rssCreatedBytes = process.memoryUsage().rss;
const module = image === undefined ? "" : "import sympy";
const code = `import time\nt = time.perf_counter()\n${module}\nprint((time.perf_counter() - t) * 1000)`;
const r = await sb.run(code, { fuel: Infinity, timeoutMs: 600_000, memoryMiB: 512 });
if (r.outcome !== "ok") throw new Error(`import sympy: ${r.outcome} ${r.stderr.slice(-300)}`);
const sample: MountSample = {
  createMs,
  rssCreatedBytes,
  importMs: Number(r.stdout),
  rssImportedBytes: process.memoryUsage().rss,
  fuel: r.fuelUsed,
};
await sb.close();
process.stdout.write(JSON.stringify(sample) + "\n");
process.exit(0);
