/**
 * The warm section in a child process of another runtime (Deno runs this file from source):
 *   deno run -A bench/warm-child.ts REPS REPS_HEAVY
 * prints one JSON line: WarmRow[].
 */
import process from "node:process";
import { runWarm } from "./warm.ts";

const reps = Number(process.argv[2] ?? "10");
const repsHeavy = Number(process.argv[3] ?? "3");
const rows = await runWarm(reps, repsHeavy, () => {});
process.stdout.write(JSON.stringify(rows) + "\n");
process.exit(0);
