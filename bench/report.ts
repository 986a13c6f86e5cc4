/**
 * The benchmark's report (bench/run.ts measures): the terminal table and the README's short table
 * of a run, and the entry points run.ts uses (the results' shape in results.ts, the summary in
 * summary.ts, the terminal table's sections in report-tables.ts). Kept apart from the measuring so
 * either can be read, and a saved result re-rendered (--render), without the other.
 */
import process from "node:process";
import { fmtRatio } from "./stats.ts";
import { REPORT_SECTIONS } from "./report-tables.ts";
import type { Results } from "./results.ts";

export { isError } from "./results.ts";
export type { Results, SummaryLine } from "./results.ts";
export { summarise, TARGETS } from "./summary.ts";

/** Writes the terminal report of a run (every section it holds, then its summary) to stdout. */
export function print(r: Results): void {
  const out = REPORT_SECTIONS.flatMap(([, lines]) => lines(r));
  process.stdout.write(out.join("\n") + "\n");
}

/** The README's short table: the summary lines and the machine they came from. */
export function markdown(r: Results): string {
  const m = r.machine;
  const lines = [
    `Measured ${r.date.slice(0, 16).replace("T", " ")} UTC on ${m.cpus} x ${m.cpuModel} (load average ${
      m.loadAverageStart.join(" ")
    } at start); runtimes ${
      (r.runtimes ?? [m.node]).join(", ")
    } (each figure names its runtime; the first one runs the bench, so sections measured in-process are from it); native ${
      m.python3 ?? "python3"
    } (${m.python3Path}); commit ${m.gitCommit ?? "?"}. \`npm run bench\` (results in bench/results/).`,
    "",
    "| figure | value | ratio | target | met |",
    "|---|---|---|---|---|",
    ...r.summary.map((s) =>
      `| ${s.figure} | ${s.value} | ${fmtRatio(s.ratio)} | ${s.target} | ${
        s.met === null ? "-" : s.met ? "yes" : "no"
      } |`
    ),
  ];
  return lines.join("\n") + "\n";
}
