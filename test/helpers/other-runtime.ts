/**
 * Runs a probe (a test helper that prints its results as JSON) on the other runtime, as a child
 * process: Deno when the test runs on Node, Node (on build/) when it runs on Deno. The cross-runtime
 * fuel tests (sandbox, packages) compare what it prints with what the same probe gives here.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../../src/sandbox/assets.ts";

const IS_DENO = "Deno" in globalThis;

/**
 * The JSON `test/helpers/<name>.ts` prints when run on the other runtime with `env` added.
 *
 * @param name the probe's file name under test/helpers/, without extension
 * @param env variables that make the probe print (each probe checks its own)
 * @param timeoutMs how long the child may take
 */
export function otherRuntimeProbe<T>(name: string, env: Record<string, string>, timeoutMs: number): Promise<T> {
  const root = repoRoot();
  const [cmd, args] = IS_DENO
    ? ["node", [join(root, `build/test/helpers/${name}.js`)]]
    : [join(root, "node_modules/.bin/deno"), ["run", "-A", join(root, `test/helpers/${name}.ts`)]];
  if (IS_DENO && !existsSync(args[0]!)) {
    return Promise.reject(new Error(`${args[0]} is missing: run \`npx tsc -p tsconfig.json\` first`));
  }
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: root, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} probe failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as T);
      },
    );
  });
}
