/**
 * wasi-py's own exit status, one table for the command and the IRC bot (a bot that cannot start
 * its sandbox exits 120 like the command). A program that ends by itself passes its exit code through (taken
 * modulo 256, as a shell sees `python3 -c 'import sys; sys.exit(263)'`); a run stopped by a limit
 * or a fault gets a code of its own, high enough to stay clear of ordinary program exits
 * (0, 1, small numbers, 2 for usage) and next to coreutils' `timeout` (124). Which code a run
 * gets is src/cli/exit-status.ts (the command's; options/ imports nothing from sandbox/).
 */
export const EXIT = Object.freeze({
  /** wasi-py was used wrongly: bad option, missing code, stdin too large, invalid UTF-8 code. */
  usage: 2,
  /** The IRC bot stopped on a fatal error (e.g. SASL refused): not a usage error, not the sandbox. */
  botFatal: 1,
  /** wasi-py itself failed (assets missing or corrupt, runtime problem, its output could not be written). */
  internal: 120,
  /** The interpreter crashed (a wasm trap that is not fuel or memory, e.g. native stack exhausted). */
  crashed: 121,
  /** Out of memory: the guest hit --memory (MemoryError or allocation failure). */
  memory: 122,
  /** Out of fuel: the program spent its --fuel budget. */
  fuel: 123,
  /** Timed out: --timeout passed (same code as coreutils `timeout`). */
  timeout: 124,
  /** Interrupted by Ctrl-C (SIGINT), as python3 exits then (128 + 2). */
  interrupted: 130,
  /** Our stdout/stderr reader went away (EPIPE): quietly, as a process killed by SIGPIPE (128 + 13). */
  brokenPipe: 141,
});

/** The table the README and --help show. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [string, string]> = [
  ["N", "the program's own exit code (0 on success, 1 for an uncaught exception, sys.exit(N))"],
  [String(EXIT.usage), "usage error (bad option, no code, code not UTF-8)"],
  [String(EXIT.internal), "wasi-py could not run or write its output (e.g. disk full), one line on stderr"],
  [String(EXIT.crashed), "the interpreter crashed"],
  [String(EXIT.memory), "out of memory (--memory)"],
  [String(EXIT.fuel), "out of fuel (--fuel)"],
  [String(EXIT.timeout), "timed out (--timeout)"],
  [String(EXIT.interrupted), "interrupted by Ctrl-C (SIGINT); what was printed is kept"],
  [String(EXIT.brokenPipe), "our output's reader went away (e.g. | head), silently"],
];

/** The bot's rows of the table (`wasi-py --irc --help`). */
export const IRC_EXIT_CODE_TABLE: ReadonlyArray<readonly [string, string]> = [
  ["0", "stopped by SIGINT or SIGTERM (after a QUIT)"],
  [String(EXIT.botFatal), "stopped on a fatal IRC error (e.g. SASL refused)"],
  [String(EXIT.usage), "usage error (bad option, setting or config file)"],
  [String(EXIT.internal), "the sandbox could not start (assets missing or corrupt)"],
];
