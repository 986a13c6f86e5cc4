/**
 * What `run` takes besides code: RunOptions (any subset of the limits, plus the program's stdin,
 * arguments, files and listeners) and the check of its stdin. The limits themselves, their
 * defaults and bounds are src/limits/mod.ts.
 */
import { BOUNDS, LimitError, typeWords } from "../limits/mod.ts";
import type { RunLimits } from "../limits/mod.ts";
import type { ReturnFilesOptions, RunFile } from "./run-files.ts";

/**
 * What `run` accepts: any subset of the limits, plus the program's stdin, arguments and listeners.
 *
 * @example
 * ```ts
 * import { Sandbox } from "wasi-py";
 * import type { RunOptions } from "wasi-py";
 *
 * const options: RunOptions = { timeoutMs: 2_000, stdin: "Ada\n", args: ["--greet"] };
 * const sb = await Sandbox.create({ workers: 1 });
 * const r = await sb.run("import sys\nprint(sys.argv[1:], input())", options);
 * await sb.close();
 * ```
 */
export interface RunOptions extends Partial<RunLimits> {
  /**
   * The program's stdin; empty by default. Bytes (or text, encoded as UTF-8) up to 64 MiB, or an
   * async iterable of chunks (e.g. Node's `process.stdin`) read lazily: only when the program
   * reads stdin, only as much as it consumes, at most 64 MiB (past that the program's read fails
   * with EFBIG). A program that never reads stdin never waits for it.
   */
  stdin?: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** The program's arguments, sys.argv[1:] (sys.argv[0] is "-c", as for `python3 -c CODE ARGS`). */
  args?: readonly string[];
  /**
   * Called with the program's output as it is written, while the run goes on: exact bytes (no
   * decoding), in order within each stream, at most maxOutputBytes per stream. The result still
   * holds the whole (decoded) output at the end.
   */
  onOutput?: (stream: "stdout" | "stderr", bytes: Uint8Array) => void;
  /**
   * Ends the run when aborted (e.g. on Ctrl-C): a running program resolves with outcome "aborted"
   * (exitCode 130, as for SIGINT, output so far kept; a program's own `sys.exit(130)` is "error");
   * a queued one rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /**
   * Files written into the program's working folder, `/home`, before it starts: paths relative to
   * it (folders are made as needed; no `..`), contents as text (UTF-8) or bytes. They count in the
   * run's tmpQuotaBytes and tmpMaxFiles, so more than those allow is a LimitError.
   */
  files?: readonly RunFile[];
  /**
   * Return the files the program left in /home (`RunResult.files`), given files it did not change
   * left out. `true` for the default caps (100 files, tmpQuotaBytes in all) or the caps to apply;
   * files beyond them are left out and `RunResult.filesTruncated` says so. Default false.
   */
  returnFiles?: boolean | ReturnFilesOptions;
}

/**
 * stdin as bytes, checked against its bound.
 *
 * @example
 * resolveStdin("5\n").length; // 2
 */
export function resolveStdin(stdin: Uint8Array | string | AsyncIterable<Uint8Array> | undefined): Uint8Array {
  const bytes = stdin === undefined
    ? new Uint8Array(0)
    : typeof stdin === "string"
    ? new TextEncoder().encode(stdin)
    : stdin;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`stdin must be a string, a Uint8Array or an async iterable, got ${typeWords(bytes)}`);
  }
  if (bytes.length > BOUNDS.stdinBytes) {
    throw new LimitError(`stdin must be at most ${BOUNDS.stdinBytes} bytes, got ${bytes.length}`);
  }
  return bytes;
}
