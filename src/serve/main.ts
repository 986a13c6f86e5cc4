/**
 * `wasi-py --serve`: reads the configuration, starts a warm sandbox (so /healthz says ready only
 * once the interpreter is compiled and every worker has run once), listens, and on SIGTERM or
 * SIGINT shuts down gracefully: stop accepting, refuse new runs (503), let running ones finish
 * within the grace period, then abort what is left, close the sandbox and return 0.
 */
import { Sandbox } from "../sandbox/mod.ts";
import { PackageError } from "../packages/site.ts";
import { readManifest } from "../sandbox/assets.ts";
import { listen } from "../platform/http.ts";
import { allowAbortListeners, envVar, onShutdownSignal, writeStderr, writeStdout } from "../platform/process.ts";
import { pathListDelimiter, readText } from "../platform/fs.ts";
import { EXIT } from "../options/exit-codes.ts";
import { resolveServeConfig, ServeConfigError } from "./config.ts";
import type { ServeConfig } from "./config.ts";
import { createApp } from "./app.ts";
import { Metrics } from "./metrics.ts";
import { Runner } from "./runner.ts";
import { serveHelpText } from "./help.ts";

/** How runServer reports (tests pass their own). */
export interface ServeHooks {
  /** Called once the port is bound, with the URL. */
  onListening?: (url: string) => void;
  /** Where log lines go (default: stdout). */
  log?: (line: string) => void;
}

/**
 * Runs the service until SIGTERM/SIGINT; returns the exit status.
 *
 * @example
 * process.exitCode = await runServer(["--serve", "--listen", "127.0.0.1:8060"]);
 */
export async function runServer(argv: readonly string[], hooks: ServeHooks = {}): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    await writeStdout(serveHelpText());
    return 0;
  }
  let config: ServeConfig;
  try {
    config = resolveServeConfig({ argv, env: envVar, readText, pathListDelimiter });
  } catch (e) {
    if (!(e instanceof ServeConfigError)) throw e;
    await writeStderr(`wasi-py: ${e.message} (see wasi-py --serve --help)\n`);
    return EXIT.usage;
  }
  let sandbox: Sandbox;
  try {
    sandbox = await Sandbox.create({
      workers: config.workers === 0 ? undefined : config.workers,
      warm: true,
      maxQueue: config.maxQueue,
      queueTimeoutMs: config.queueTimeoutMs,
      ...(config.packages.length === 0 ? {} : { packages: config.packages }),
    });
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    await writeStderr(`wasi-py: ${e.message}\n`);
    return EXIT.usage;
  }
  const metrics = new Metrics();
  const runner = new Runner(sandbox, config, metrics);
  allowAbortListeners(runner.shutdown.signal, 0);
  const log = hooks.log ?? ((line: string) => void writeStdout(line + "\n").catch(() => {}));
  const app = createApp(config, {
    runner,
    metrics,
    cpython: readManifest().python,
    log,
    nowMs: () => performance.now(),
  });
  const server = await listen(app.fetch, {
    hostname: config.hostname,
    port: config.port,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.headersTimeoutMs + config.bodyTimeoutMs,
  });
  const host = config.hostname.includes(":") ? `[${config.hostname}]` : config.hostname;
  const url = `http://${host}:${server.port}`;
  await writeStderr(`wasi-py: serving on ${url} (${sandbox.load.workers} workers)\n`);
  hooks.onListening?.(url);

  // The first signal starts the shutdown; a second one aborts the runs at once. The listener stays
  // until the end (removing it from inside its own call made Deno die of the signal).
  let restore = () => {};
  const signal = await new Promise<string>((resolve) => {
    let seen = false;
    restore = onShutdownSignal((s) => {
      if (seen) runner.shutdown.abort();
      seen = true;
      resolve(s);
    });
  });
  await writeStderr(`wasi-py: ${signal}: stopping (grace ${config.graceMs / 1000} s)\n`);
  app.startShutdown();
  const closed = server.stopAccepting();
  const grace = new Promise<void>((resolve) => setTimeout(resolve, config.graceMs));
  await Promise.race([runner.drained(), grace]);
  if (runner.inFlight > 0) runner.shutdown.abort();
  await runner.drained();
  await sandbox.close();
  // Answers are written; connections still open (keep-alive, slow clients) are closed now.
  await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
  server.closeAll();
  restore();
  await writeStderr("wasi-py: stopped\n");
  return 0;
}
