/**
 * One fresh process's mount of a package image (bench/package-mount.ts runs it, on Node or Deno):
 *   node build/bench/package-mount-child.js [IMAGE]
 * prints one JSON line: MountSample. A fresh process, so its RSS is that of the mount alone.
 * Without IMAGE it creates the sandbox with no packages and runs `pass`: the baseline.
 */
import process from "node:process";
import { Sandbox } from "../src/sandbox/mod.ts";
import { interpreter } from "./interpreter.ts";
import { freshMemory, restoreMemory } from "../src/sandbox/_guest-memory.ts";
import { WASM_PAGE_BYTES } from "../src/wasm/data-image.ts";
import type { MemoryImage } from "../src/wasm/data-image.ts";

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
  /**
   * The guest's memory at the end of that run, bytes: what a snapshot taken after the import
   * would have to restore for every run (issue 25 item 5).
   */
  memoryBytes: number;
  /** Restoring a reused memory of memoryBytes to an image that fills it (restoreMemory), median ms. */
  restoreMs: number;
  /** A fresh memory of memoryBytes holding that image (freshMemory: every page first touched), median ms. */
  freshMs: number;
}

/** What restoring a snapshot whose image fills `bytes` of memory costs, as the worker does it. */
function restoreCost(bytes: number): { restoreMs: number; freshMs: number } {
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
  const size = pages * WASM_PAGE_BYTES;
  const image: MemoryImage = { bytes: new Uint8Array(size).fill(7), runs: Int32Array.of(0, size, 0), top: size };
  const median = (f: () => void) => {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      f();
      ms.push(performance.now() - t);
    }
    return ms.sort((a, b) => a - b)[2]!;
  };
  const reused = freshMemory(image, pages, pages);
  return {
    restoreMs: median(() => restoreMemory(reused, image)),
    freshMs: median(() => freshMemory(image, pages, pages)),
  };
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
  memoryBytes: r.memoryBytes ?? 0,
  ...restoreCost(r.memoryBytes ?? 0),
};
await sb.close();
process.stdout.write(JSON.stringify(sample) + "\n");
process.exit(0);
