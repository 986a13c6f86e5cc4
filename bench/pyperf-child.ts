/**
 * The pyperformance section's library figures in a child process of one runtime (Deno runs this
 * file from source):
 *   deno run -A bench/pyperf-child.ts PYPERFORMANCE_DIR
 * prints one JSON line: ShimResult[], in PYPERFORMANCE_BENCHMARKS order.
 */
import process from "node:process";
import { readBenchSources, runLibrary } from "./pyperformance.ts";

const rows = await runLibrary(readBenchSources(process.argv[2] ?? "."));
process.stdout.write(JSON.stringify(rows) + "\n");
process.exit(0);
