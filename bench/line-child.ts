/**
 * A benchmark child process spoken to a line at a time: the parent writes one request line, the
 * child answers with one JSON line. Used where figures must be interleaved with other
 * measurements (pyperformance's library runs alternate with native runs, round by round), so a
 * child keeps its warm state between requests instead of running its whole list in one go while
 * the machine's load drifts.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** A running child: `ask` sends one line and resolves with the child's next JSON line. */
export interface LineChild<T> {
  ask(line: string): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts `exe args` with piped stdio. A child that exits or prints a line that is not JSON makes
 * the pending `ask` (and every later one) reject with the tail of its stderr.
 */
export function lineChild<T>(exe: string, args: readonly string[], cwd: string): LineChild<T> {
  const proc: ChildProcess = spawn(exe, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
  const waiting: { resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  const fail = (e: Error) => {
    ended ??= e;
    for (const w of waiting.splice(0)) w.reject(ended);
  };
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    const w = waiting.shift();
    if (w === undefined) return;
    try {
      w.resolve(JSON.parse(line) as T);
    } catch {
      w.reject(new Error(`not a JSON line: ${line.slice(0, 200)}`));
    }
  });
  proc.on(
    "exit",
    (code, signal) => fail(new Error(`exit ${code ?? signal}: ${stderr.trim().split("\n").slice(-2).join(" | ")}`)),
  );
  proc.on("error", (e) => fail(e));
  return {
    ask(line) {
      if (ended) return Promise.reject(ended);
      return new Promise<T>((resolve, reject) => {
        waiting.push({ resolve, reject });
        proc.stdin!.write(line + "\n");
      });
    },
    close() {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.stdin!.end();
      });
    },
  };
}
