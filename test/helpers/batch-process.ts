/**
 * A `wasi-py --batch` child that a test talks to a line at a time, as a producer that waits for
 * each answer before sending the next program would (the CLI must answer before stdin ends).
 */
import { spawn } from "node:child_process";
import { cliCommand } from "./cli-command.ts";

/** One answer line of the batch, parsed (the json format's object with "id" first). */
export type BatchAnswer = {
  id: unknown;
  stdout: string;
  stderr: string;
  outcome: string;
  exitCode: number;
  fuelUsed: number;
};

/** The running batch: `run` sends one program and resolves with its answer; `end` closes stdin and waits for exit. */
export interface BatchProcess {
  run(code: string): Promise<BatchAnswer>;
  end(): Promise<number | null>;
}

/**
 * Starts `wasi-py --batch <args>` with `env` over ours (through env(1): Deno's child_process
 * keeps the parent's variables that a given env leaves out; an undefined value removes one).
 *
 * @example
 * ```ts
 * const b = startBatch([], { WASI_PY_CACHE: dir });
 * (await b.run("print(1)")).stdout; // "1\n"
 * await b.end();
 * ```
 */
export function startBatch(args: readonly string[] = [], env: Record<string, string | undefined> = {}): BatchProcess {
  const [cmd, argv] = cliCommand(["--batch", ...args]);
  const unset = Object.keys(env).filter((k) => env[k] === undefined).flatMap((k) => ["-u", k]);
  const set = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const child = spawn("env", [...unset, ...set, cmd, ...argv], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting: Array<(line: string) => void> = [];
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buffered += d;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    run(code) {
      const answer = new Promise<string>((resolve) => waiting.push(resolve));
      child.stdin.write(`${JSON.stringify({ code })}\n`);
      return answer.then((line) => JSON.parse(line) as BatchAnswer);
    },
    end() {
      child.stdin.end();
      return closed;
    },
  };
}
