/**
 * The wasi-py command: parse arguments, gather the code and stdin, run in the sandbox, print,
 * and return the exit status. Never throws: every failure becomes one line on stderr and a
 * documented exit status.
 *
 * Cold start: unless --help/--version is asked for, the sandbox (reading the interpreter and
 * compiling it, which V8 does on background threads) is started FIRST, and the argument parser
 * (cmd-ts, tens of ms to load) is loaded while that compile runs. A usage error then simply
 * exits; the speculative work is dropped.
 */
import { createColors } from "picocolors";
import type { CliOptions, ParsedArgs } from "./args.ts";
import { plainRun } from "./plain-args.ts";
import type { Sandbox } from "../sandbox/mod.ts";
import { EXIT, exitCodeFor } from "../options/exit-codes.ts";
import { NO_PAINT, renderResult } from "./output.ts";
import type { Paint } from "./output.ts";
import { BOUNDS, LimitError } from "../sandbox/limits.ts";
import { RUN_LIMITS } from "../options/limits.ts";
import { SECONDS } from "../options/spec.ts";
import { AssetError } from "../sandbox/assets.ts";
import { VERSION } from "../version.ts";
import { tuneForOneShot } from "../platform/engine.ts";
import {
  envVar,
  ignoreBrokenPipes,
  isTerminal,
  readStdin,
  StdinTooLarge,
  writeStderr,
  writeStdout,
} from "../platform/process.ts";

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function paintFor(fd: 1 | 2): Paint {
  if (!isTerminal(fd) || envVar("NO_COLOR") !== undefined) return NO_PAINT;
  const c = createColors(true);
  return { note: c.yellow, error: (s) => c.red(c.bold(s)), bold: c.bold };
}

/** Wrong use of the command found after parsing (no code, stdin too large, not UTF-8). */
class UsageError extends Error {
  override name = "UsageError";
}

async function fail(message: string, status: number): Promise<number> {
  const paint = paintFor(2);
  const hint = status === EXIT.usage ? " (see wasi-py --help)" : "";
  await writeStderr(`${paint.error("wasi-py:")} ${oneLine(message)}${hint}\n`);
  return status;
}

/** The sandbox names limits as its API does; say them as the options the user typed. */
function asOptionNames(e: LimitError): string {
  if (e.limit === undefined) return e.message;
  const spec = RUN_LIMITS[e.limit];
  return `--${spec.flag}${spec.kind === SECONDS ? " (in ms)" : ""} ${e.detail}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

async function versionText(): Promise<string> {
  let cpython = "CPython version unknown (assets missing)";
  try {
    const { readManifest } = await import("../sandbox/assets.ts");
    const m = readManifest();
    cpython = `CPython ${m.python} (wasm32-wasi)`;
  } catch {
    // keep the fallback text: --version must work even without assets
  }
  return `wasi-py ${VERSION}\n${cpython}\n`;
}

/** The program text and the program's stdin, from the argument and/or stdin. */
async function gatherInput(options: CliOptions): Promise<{ code: string; stdin: Uint8Array }> {
  const stdinIsTerminal = options.noStdin || isTerminal(0);
  const read = async () => {
    try {
      return await readStdin(BOUNDS.stdinBytes);
    } catch (e) {
      if (e instanceof StdinTooLarge) throw new UsageError(`stdin is larger than ${BOUNDS.stdinBytes} bytes`);
      throw e;
    }
  };
  if (options.code !== undefined) {
    return { code: options.code, stdin: stdinIsTerminal ? new Uint8Array(0) : await read() };
  }
  if (stdinIsTerminal) {
    throw new UsageError(
      options.noStdin
        ? "no code given and --no-stdin: pass the code as an argument"
        : "no code given: pass it as an argument or pipe it on stdin",
    );
  }
  const bytes = await read();
  let code: string;
  try {
    code = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UsageError("the code on stdin is not valid UTF-8");
  }
  return { code, stdin: new Uint8Array(0) };
}

/**
 * Starts creating the one-worker sandbox; a failure is kept (not thrown) until a run needs it.
 * The engine is tuned for one short run first (src/platform/engine.ts), before the module compiles.
 */
function startSandbox(): Promise<Sandbox | Error> {
  return tuneForOneShot()
    .then(() => import("../sandbox/mod.ts"))
    .then((m) => m.Sandbox.create({ workers: 1 }))
    .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

/** Whether the arguments may ask for a run (not --help / --version), judged before parsing. */
function mayRun(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  const opts = end < 0 ? argv : argv.slice(0, end);
  return !opts.some((a) => a === "--help" || a === "--version" || /^-[a-zA-Z]*h[a-zA-Z]*$/.test(a));
}

async function runOnce(options: CliOptions, sandbox: Promise<Sandbox | Error>): Promise<number> {
  const { code, stdin } = await gatherInput(options);
  const sb = await sandbox;
  if (sb instanceof Error) throw sb;
  try {
    const result = await sb.run(code, {
      fuel: options.fuel,
      timeoutMs: options.timeoutMs,
      memoryMiB: options.memoryMiB,
      maxOutputBytes: options.maxOutputBytes,
      tmpQuotaBytes: options.tmpQuotaBytes,
      stdin,
    });
    // Output first: the user should not wait for the worker to be torn down.
    const out = renderResult(result, options, paintFor(2));
    await writeStdout(out.stdout);
    await writeStderr(out.stderr);
    return exitCodeFor(result);
  } finally {
    await sb.close();
  }
}

/** `--irc` anywhere before a `--` switches to the bot, which parses its own options. */
function wantsIrc(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--irc");
}

/**
 * Runs the CLI with `argv` (arguments after the script) and returns the exit status.
 *
 * @example
 * exitProcess(await main(["1+1"])); // prints 2, exits 0
 */
export async function main(argv: string[]): Promise<number> {
  try {
    ignoreBrokenPipes();
    if (wantsIrc(argv)) {
      const { runIrcBot } = await import("../irc/main.ts");
      return await runIrcBot({ argv });
    }
    const early = mayRun(argv) ? startSandbox() : undefined;
    const plain = plainRun(argv);
    const parsed: ParsedArgs = plain !== undefined
      ? { kind: "run", options: plain }
      : await (await import("./args.ts")).parseCliArgs(argv);
    switch (parsed.kind) {
      case "help":
        await writeStdout((await import("./help.ts")).helpText(paintFor(1).bold));
        return 0;
      case "version":
        await writeStdout(await versionText());
        return 0;
      case "error":
        return await fail(parsed.message, EXIT.usage);
      case "run":
        return await runOnce(parsed.options, early ?? startSandbox());
    }
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message, EXIT.usage);
    // A limit the sandbox refused (e.g. --memory below the interpreter's minimum).
    if (e instanceof LimitError) return fail(asOptionNames(e), EXIT.usage);
    if (e instanceof AssetError) return fail(e.message, EXIT.internal);
    return fail(`internal error: ${e instanceof Error ? e.message : String(e)}`, EXIT.internal);
  }
}
