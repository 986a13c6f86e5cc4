/**
 * Starts `wasi-py --serve` as a child process on the runtime running the tests (cli-command.ts) on
 * a free port, and waits until it says where it listens and /healthz answers 200.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import process from "node:process";
import { cliCommand } from "./cli-command.ts";

/** A running service. */
export interface ServedProcess {
  url: string;
  child: ChildProcess;
  /** What it wrote to stderr and stdout so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Starts the service with `args` (after `--serve --listen 127.0.0.1:0`) and `env` added.
 *
 * @example
 * const s = await startServe(["--workers", "1"]);
 * await fetch(`${s.url}/healthz`);
 * await s.stop();
 */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServedProcess> {
  const [cmd, argv] = cliCommand(["--serve", "--listen", "127.0.0.1:0", ...args]);
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "serving on" within 120 s: ${err}`)), 120_000);
    const check = () => {
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening: ${err}`));
    });
  });
  const health = await fetch(`${url}/healthz`);
  await health.body?.cancel();
  if (health.status !== 200) throw new Error(`/healthz said ${health.status}`);
  return {
    url,
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
