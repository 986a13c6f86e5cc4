/**
 * The sandbox's public API: run Python code in the metered WASI CPython under limits (fuel,
 * wall-clock time, memory, output, /tmp). This is the one module other code imports (the CLI,
 * the IRC bot, benchmarks, embedders); the files beside it are its implementation.
 *
 * Every run gets a fresh interpreter instance, a fresh /tmp and the fixed GUEST_ENV; limits that
 * stop a program are reported as its `outcome`, never thrown. What callers can get wrong (an
 * option out of range, a closed sandbox, missing assets) is a rejection with a named error class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sandbox } from "wasi-py";
 *
 * const sb = await Sandbox.create({ workers: 1 });
 * const r = await sb.run("print(1)", { fuel: 100_000_000, timeoutMs: 2000 });
 * assert.deepEqual([r.outcome, r.stdout], ["ok", "1\n"]);
 * await sb.close();
 * ```
 *
 * Streaming and interaction (RunOptions): `onOutput(stream, bytes)` receives the program's output
 * as it is written (exact bytes, polled from the shared output buffer every 10 ms while the run
 * goes on; the result still carries all of it at the end); `stdin` may be an async iterable
 * (e.g. `process.stdin`) read lazily, only as far as the program reads; `args` become sys.argv[1:];
 * `signal` (an AbortSignal) ends a run like Ctrl-C (outcome "aborted", exit status 130, output kept).
 *
 * Files: programs start in `/home` (their HOME, writable, in the /tmp quota); `files` are written
 * there first and `returnFiles` brings back what the program left there. `maxQueue` and
 * `queueTimeoutMs` (SandboxOptions) bound the waiting runs: QueueFullError, QueueTimeoutError.
 *
 * @example Streaming a run to the terminal, with the terminal's stdin
 * ```ts
 * import process from "node:process";
 * import { Sandbox } from "wasi-py";
 *
 * const sb = await Sandbox.create({ workers: 1 });
 * const stop = new AbortController();
 * process.once("SIGINT", () => stop.abort());
 * const r = await sb.run("name = input('name? ')\nprint('hello', name)", {
 *   stdin: process.stdin,
 *   args: ["--greeting", "hello"],
 *   signal: stop.signal,
 *   onOutput: (stream, bytes) => (stream === "stdout" ? process.stdout : process.stderr).write(bytes),
 * });
 * await sb.close();
 * process.exitCode = r.exitCode;
 * ```
 *
 * @module
 */
export { GUEST_ENV, run, Sandbox, SandboxClosedError } from "./pool.ts";
export type { SandboxOptions } from "./sandbox-options.ts";
export type { Outcome, RunResult } from "./result.ts";
export { BOUNDS, DEFAULT_LIMITS, LimitError } from "../limits/mod.ts";
export { QueueFullError, QueueTimeoutError } from "./queue.ts";
export { HOME_DIR } from "./run-files.ts";
export type { ReturnedFile, ReturnFilesOptions, RunFile } from "./run-files.ts";
export type { RunLimitKey, RunLimits } from "../limits/mod.ts";
export type { RunOptions } from "./run-options.ts";
export type { OutputListener, StreamName } from "./output-tap.ts";
export { AssetError } from "./assets.ts";
export { ModuleShapeError, STACK_EXHAUSTED_DETAIL } from "./module-shape.ts";
export { PackageError } from "../packages/site.ts";
