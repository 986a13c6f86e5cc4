/**
 * Cold start: each evaluation is a whole new process (what `wasi-py 'print(1)'` costs a shell
 * user), on every runtime of bench/runtimes.ts. Runners are interleaved round-robin in every
 * repetition so a burst of load from other jobs on the machine hits all of them alike; one untimed
 * warm-up run each fills OS caches (and Deno's transpile cache, and our asset cache). Every runtime
 * is its real binary, called directly (`npx deno` would add a Node start to every run).
 */
import { join } from "node:path";
import { cliArgs, emptyArgs } from "./runtimes.ts";
import type { Runtime } from "./runtimes.ts";
import { timeProcess } from "./process-timer.ts";
import type { Command } from "./process-timer.ts";
import { ratio, roundSummary, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";
import { PROGRAMS } from "./programs.ts";
import type { Program } from "./programs.ts";

export interface ColdRow {
  program: string;
  runner: string;
  command: string;
  ms: Summary | null;
  /** Median over the native python3 median of the same program. */
  vsPython: number | null;
  error?: string;
}

export interface ColdOptions {
  root: string;
  /** Repetitions for print(1). */
  reps: number;
  /** Repetitions for the heavier programs. */
  repsHeavy: number;
  python: string;
  runtimes: Runtime[];
  log: (line: string) => void;
}

/** The commands for one program; print(1) is run exactly as the README shows it. */
export function coldCommands(p: Program, o: ColdOptions): Command[] {
  // Heavier programs need more than the default fuel, and raw output to compare exactly.
  const extra = p.name === "print(1)" ? [] : ["--fuel", "unlimited", "-f", "raw"];
  const cmds: Command[] = [
    { name: "python3", display: `${o.python} -c ${JSON.stringify(p.code)}`, file: o.python, args: ["-c", p.code] },
  ];
  for (const rt of o.runtimes) {
    const args = cliArgs(rt, o.root, [...extra, p.code]);
    cmds.push({
      name: `wasi-py ${rt.name}`,
      display: `${rt.name.split(" ")[0]} ${args.join(" ").replaceAll(o.root + "/", "")}`,
      file: rt.exe,
      args,
      cwd: o.root,
    });
  }
  if (p.name === "print(1)") {
    // The runtimes' own start (no Python at all): the part of our cold time we cannot remove.
    for (const rt of o.runtimes) {
      cmds.push({
        name: `${rt.name} (empty)`,
        display: `${rt.name.split(" ")[0]} ${emptyArgs(rt).join(" ")}`,
        file: rt.exe,
        args: emptyArgs(rt),
        expected: "",
      });
    }
  }
  cmds.push({
    name: "pyodide node",
    display: `node build/bench/pyodide-cold.js ${JSON.stringify(p.code)}`,
    file: process.execPath,
    args: [join(o.root, "build/bench/pyodide-cold.js"), p.code],
    cwd: o.root,
  });
  return cmds;
}

export function runCold(o: ColdOptions): ColdRow[] {
  const rows: ColdRow[] = [];
  for (const p of PROGRAMS) {
    const reps = p.name === "print(1)" ? o.reps : o.repsHeavy;
    const cmds = coldCommands(p, o);
    const times = new Map<string, number[]>(cmds.map((c) => [c.name, []]));
    const errors = new Map<string, string>();
    o.log(`cold ${p.name}: ${reps} reps x ${cmds.map((c) => c.name).join(", ")}`);
    for (let rep = -1; rep < reps; rep++) {
      for (const c of cmds) {
        if (errors.has(c.name)) continue;
        // Pyodide takes seconds per start: fewer repetitions (still interleaved with the others).
        if (c.name === "pyodide node" && rep >= Math.ceil(reps / 3)) continue;
        try {
          const r = timeProcess(c);
          const expected = c.expected ?? p.expected;
          if (r.stdout !== expected) {
            throw new Error(`printed ${JSON.stringify(r.stdout.slice(0, 80))}, expected ${JSON.stringify(expected)}`);
          }
          if (rep >= 0) times.get(c.name)!.push(r.ms);
        } catch (e) {
          errors.set(c.name, e instanceof Error ? e.message : String(e));
        }
      }
    }
    const floor = times.get("python3")!;
    const floorMedian = floor.length > 0 ? summarize(floor).median : undefined;
    for (const c of cmds) {
      const t = times.get(c.name)!;
      const s = t.length > 0 ? summarize(t) : null;
      const row: ColdRow = {
        program: p.name,
        runner: c.name,
        command: c.display,
        ms: s && roundSummary(s),
        vsPython: s && c.name !== "python3" ? ratio(s.median, floorMedian) : null,
      };
      const err = errors.get(c.name);
      if (err !== undefined) row.error = err;
      rows.push(row);
    }
  }
  return rows;
}
