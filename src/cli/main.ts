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
import type { CliOptions, ParsedArgs } from "./args.ts";
import { plainRun } from "./plain-args.ts";
import type { Sandbox } from "../sandbox/mod.ts";
import type { OneShotOptions } from "../sandbox/sandbox-options.ts";
import { createColors } from "picocolors";
import { EXIT } from "../options/exit-codes.ts";
import { NO_PAINT } from "./output.ts";
import type { Paint } from "./output.ts";
import { LimitError } from "../limits/mod.ts";
import { RUN_LIMITS } from "../options/limits.ts";
import { SECONDS } from "../options/spec.ts";
import { AssetError } from "../sandbox/assets.ts";
import { VERSION } from "../version.ts";
import { tuneForOneShot } from "../platform/engine.ts";
import {
  envVar,
  ignoreBrokenPipes,
  invalidUtf8Args,
  isTerminal,
  OutputError,
  writeStderr,
  writeStdout,
} from "../platform/process.ts";
import { runOnce, UsageError } from "./run.ts";
import { noteFirstRun } from "./first-run.ts";
import { optionPart } from "./argv.ts";
import { KNOWN_OPTIONS } from "./known.ts";
import { PACKAGES_OPTION, packagesFrom } from "../options/packages.ts";
import { PackageError } from "../packages/site.ts";
import { pathListDelimiter } from "../platform/fs.ts";

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function paintFor(fd: 1 | 2): Paint {
  if (!isTerminal(fd) || envVar("NO_COLOR") !== undefined) return NO_PAINT;
  const c = createColors(true);
  return { note: c.yellow, error: (s) => c.red(c.bold(s)), bold: c.bold };
}

async function fail(message: string, status: number): Promise<number> {
  const paint = paintFor(2);
  const hint = status === EXIT.usage ? " (see wasi-py --help)" : "";
  await writeStderr(`${paint.error("wasi-py:")} ${oneLine(message)}${hint}\n`).catch(() => {});
  return status;
}

/** Our own output failed: a reader that went away is not worth a word (as for `yes | head`); the rest is. */
function outputFailed(e: OutputError): Promise<number> {
  if (e.code === "EPIPE") return Promise.resolve(EXIT.brokenPipe);
  return fail(e.message, EXIT.internal);
}

/** Arguments the runtime got as bytes that are not UTF-8 (it replaced them with U+FFFD). */
function checkArgsUtf8(argv: readonly string[], code: string | undefined): void {
  if (!argv.some((a) => a.includes("\uFFFD"))) return;
  const bad = invalidUtf8Args();
  if (bad === undefined) {
    // The raw bytes are out of reach: a U+FFFD in the code is taken for a decoding casualty.
    if (code?.includes("\uFFFD")) {
      throw new UsageError("the code contains U+FFFD: not valid UTF-8? (write a real one as \\ufffd)");
    }
    return;
  }
  if (bad.length === 0) return;
  const what = argv[bad[0]!] === code ? "the code" : `argument ${bad[0]! + 1}`;
  throw new UsageError(`${what} is not valid UTF-8 (the code and the program's arguments must be)`);
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

/**
 * Starts creating the sandbox (one worker, or one per core for --batch), after the first-run notice
 * on a terminal (src/cli/first-run.ts); a failure is kept (not thrown) until a run needs it. A one-shot run tunes the engine for one short run first
 * (src/platform/engine.ts), before the module compiles; a batch keeps tier-up (many runs).
 */
function startSandbox(batch: boolean, packages: readonly string[] = []): Promise<Sandbox | Error> {
  return (batch ? Promise.resolve() : tuneForOneShot())
    .then(noteFirstRun)
    .then(() => import("../sandbox/mod.ts"))
    .then((m) => m.Sandbox.create(batch ? { packages } : oneShot(packages))) // batch: one worker per core
    .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

/** The one-shot command's sandbox: one worker, primed, its threads disposable (see OneShotOptions). */
function oneShot(packages: readonly string[]): OneShotOptions {
  return { workers: 1, prime: true, exitsWhenDone: true, packages };
}

/** Whether our options (`opts`, before the code) may ask for a run (not --help / --version), judged before parsing. */
function mayRun(opts: readonly string[]): boolean {
  return !opts.some((a) => a === "--help" || a === "--version" || /^-[a-zA-Z]*h[a-zA-Z]*$/.test(a));
}

/** `wasi-py prog.py [ARG...]`: the options with the file's text as the code (program-file.ts). */
async function withProgramFile(argv: readonly string[], options: CliOptions): Promise<CliOptions> {
  if (options.code === undefined || !options.code.endsWith(".py")) return options;
  const file = await import("./program-file.ts");
  if (!file.isProgramFile(argv, options.code, file.fileExists)) return options;
  return { ...options, code: file.readProgramFile(options.code) };
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
    // Modes are chosen by our options only: after the code, `--irc` or `--batch` is the program's.
    const opts = optionPart(argv, KNOWN_OPTIONS);
    if (opts.includes("--irc") && opts.includes("--version")) {
      await writeStdout(await versionText());
      return 0;
    }
    if (opts.includes("--serve")) {
      const { runServer } = await import("../serve/main.ts");
      return await runServer(argv);
    }
    if (opts.includes("--irc")) {
      const { runIrcBot } = await import("../irc/main.ts");
      return await runIrcBot({ argv });
    }
    // Packages are known only once the arguments are parsed: no early start with them.
    const packagesEnv = envVar(PACKAGES_OPTION.env);
    const withPackages = packagesEnv !== undefined || opts.some((a) => a.startsWith(`--${PACKAGES_OPTION.flag}`));
    const early = mayRun(opts) && !withPackages ? startSandbox(opts.includes("--batch")) : undefined;
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
      case "run": {
        checkArgsUtf8(argv, parsed.options.code);
        const packages = packagesFrom(parsed.options.packages, packagesEnv, pathListDelimiter);
        if (parsed.options.batch) {
          const { runBatch } = await import("./batch.ts");
          return await runBatch(parsed.options, early ?? startSandbox(true, packages), paintFor(2));
        }
        return await runOnce(
          await withProgramFile(argv, parsed.options),
          early ?? startSandbox(false, packages),
          paintFor(2),
        );
      }
    }
  } catch (e) {
    if (e instanceof OutputError) return outputFailed(e);
    if (e instanceof UsageError) return fail(e.message, EXIT.usage);
    // A limit the sandbox refused (e.g. --memory below the interpreter's minimum).
    if (e instanceof LimitError) return fail(asOptionNames(e), EXIT.usage);
    if (e instanceof AssetError) return fail(e.message, EXIT.internal);
    // A --packages path that cannot be mounted (missing, broken, compiled code): the user's to fix.
    if (e instanceof PackageError) return fail(e.message, EXIT.usage);
    return fail(`internal error: ${e instanceof Error ? e.message : String(e)}`, EXIT.internal);
  }
}
