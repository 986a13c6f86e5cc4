/**
 * Times whole processes (start to exit), the cold-start view a shell user gets. spawnSync keeps
 * the event loop of the benchmark itself out of the measurement.
 */
import { spawnSync } from "node:child_process";

export interface Command {
  /** Short key for tables and JSON. */
  name: string;
  /** What a reader would type (for the JSON record). */
  display: string;
  file: string;
  args: string[];
  cwd?: string;
  /** Output the command must print; default: the program's expected output. */
  expected?: string;
}

export interface TimedRun {
  ms: number;
  stdout: string;
}

/** Runs the command once with empty stdin; throws with its stderr when it fails. */
export function timeProcess(cmd: Command, timeoutMs = 120_000): TimedRun {
  const t0 = performance.now();
  const r = spawnSync(cmd.file, cmd.args, {
    cwd: cmd.cwd,
    input: "",
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.error) throw new Error(`${cmd.display}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(
      `${cmd.display}: exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-3).join(" | ")}`,
    );
  }
  return { ms, stdout: r.stdout };
}
