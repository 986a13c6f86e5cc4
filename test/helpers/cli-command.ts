/**
 * How the CLI tests start `wasi-py` as a child process on the runtime running them: under Deno
 * the TypeScript entry (cli.ts, all permissions), under Node the compiled one (build/cli.js).
 * One place, so that every CLI test runs the same entry the same way.
 */
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../../src/sandbox/assets.ts";

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * The executable and arguments that run `wasi-py <args>`.
 *
 * @example
 * ```ts
 * const [cmd, argv] = cliCommand(["-fraw", "print(1)"]);
 * spawnSync(cmd, argv, { encoding: "utf8" }).stdout; // "1\n"
 * ```
 */
export function cliCommand(args: readonly string[]): [string, string[]] {
  const root = repoRoot();
  return IS_DENO
    ? [process.execPath, ["run", "-A", join(root, "cli.ts"), ...args]]
    : [process.execPath, [join(root, "build", "cli.js"), ...args]];
}
