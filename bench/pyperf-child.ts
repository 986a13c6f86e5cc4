/**
 * The pyperformance section's library figures in a child process of one runtime (Deno runs this
 * file from source), kept alive so that its runs interleave with native ones:
 *   deno run -A bench/pyperf-child.ts PYPERFORMANCE_DIR
 * reads benchmark names from stdin, a line each, runs each in one warm Sandbox, and answers each
 * with one JSON line: the ShimResult, or {"error": "..."}; the line "ready" is answered with
 * {"ready": true} once the sandbox is up. Exits when stdin ends.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { openLibrary, readBenchSources } from "./pyperformance.ts";

const sources = new Map(readBenchSources(process.argv[2] ?? ".").map((b) => [b.name, b]));
const library = await openLibrary();
for await (const name of createInterface({ input: process.stdin })) {
  if (name.trim() === "ready") {
    process.stdout.write(JSON.stringify({ ready: true }) + "\n");
    continue;
  }
  const b = sources.get(name.trim());
  try {
    if (b === undefined) throw new Error(`unknown benchmark ${JSON.stringify(name)}`);
    process.stdout.write(JSON.stringify(await library.run(b)) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + "\n");
  }
}
await library.close();
process.exit(0);
