/**
 * The throughput section in a child process of one runtime (Deno runs this file from source):
 *   deno run -A bench/throughput-child.ts SECONDS
 * prints one JSON line: ThroughputRow[] for print(1) and a HumanEval-sized program back to back on
 * one worker, and print(1) on two workers with four in flight.
 */
import process from "node:process";
import { runThroughput } from "./warm.ts";
import type { ThroughputRow } from "./warm.ts";
import { HUMANEVAL_SIZED, PRINT1 } from "./programs.ts";

const seconds = Number(process.argv[2] ?? "5");
const rows: ThroughputRow[] = [];
for (const [workers, inFlight, program] of [[1, 1, PRINT1], [1, 1, HUMANEVAL_SIZED], [2, 4, PRINT1]] as const) {
  rows.push(await runThroughput(workers, inFlight, seconds, program));
}
process.stdout.write(JSON.stringify(rows) + "\n");
process.exit(0);
