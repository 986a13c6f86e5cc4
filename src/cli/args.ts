/**
 * The command line: cmd-ts option definitions built from the option table, and the parse into
 * CliOptions, after argv.ts applied the conventions cmd-ts lacks. Parsing never prints or exits; a usage error comes back as one line for the caller
 * to print (exit status 2). Value parsers live in options/parse.ts, the help in help.ts.
 */
import { array, command, flag, multioption, option, optional, parse, positional, string } from "cmd-ts";
import type { Type } from "cmd-ts";
import { OptionError, readOptionText } from "../options/spec.ts";
import { PACKAGES_OPTION } from "../options/packages.ts";
import type { OptionSpec } from "../options/spec.ts";
import { normaliseArgv, optionPart } from "./argv.ts";
import { CLI_NUMERIC_OPTIONS, CLI_SWITCHES, FORMAT_OPTION, KNOWN_OPTIONS } from "./known.ts";
import type { CliSwitch } from "./known.ts";

export type Format = "irc" | "raw" | "json";
export const FORMATS: readonly Format[] = ["irc", "raw", "json"];

export interface CliOptions {
  /** The program; undefined: read it from stdin. */
  code: string | undefined;
  format: Format;
  /** Fuel budget; Infinity = unlimited. */
  fuel: number;
  timeoutMs: number;
  memoryMiB: number;
  maxOutputBytes: number;
  /** Bytes the program may keep in its /tmp. */
  tmpQuotaBytes: number;
  /** IRC format: most messages. */
  maxLines: number;
  /** IRC format: longest message in bytes. */
  maxBytes: number;
  /** --batch: longest input line in bytes (a longer one is answered with an error). */
  maxLineBytes: number;
  verbose: boolean;
  /** Leave stdin alone (the program reads an empty stdin), e.g. inside `while read` loops. */
  noStdin: boolean;
  /** JSON Lines of programs on stdin, one JSON result per line out (batch.ts). */
  batch: boolean;
  /** The program's arguments: sys.argv[1:]. */
  args: string[];
  /** --packages, in the order given (WASI_PY_PACKAGES is added by main.ts). */
  packages: string[];
}

export type ParsedArgs =
  | { kind: "run"; options: CliOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "error"; message: string };

/**
 * --format: one of irc, raw, json.
 *
 * @example
 * parseFormat("JSON"); // "json"
 */
export function parseFormat(text: string): Format {
  const f = text.trim().toLowerCase();
  if ((FORMATS as readonly string[]).includes(f)) return f as Format;
  throw new OptionError(`--format wants one of ${FORMATS.join(", ")}, got "${text}"`, "--format");
}

// ---- cmd-ts definitions ----

function typeOf<T>(parseText: (text: string) => T, displayName: string): Type<string, T> {
  return { displayName, from: (text: string) => Promise.resolve(text).then(parseText) }; // a throw rejects
}

function numericOption(spec: OptionSpec) {
  return option({
    long: spec.flag,
    short: spec.short,
    type: typeOf((text) => readOptionText(spec, text), spec.valueName),
    defaultValue: () => spec.default,
  });
}

function numericArgs(): Record<string, ReturnType<typeof numericOption>> {
  return Object.fromEntries(CLI_NUMERIC_OPTIONS.map((s) => [s.key, numericOption(s)]));
}

function switchArgs(): Record<CliSwitch["key"], ReturnType<typeof flag>> {
  return Object.fromEntries(CLI_SWITCHES.map((s) => [s.key, flag({ long: s.flag, short: s.short })])) as Record<
    CliSwitch["key"],
    ReturnType<typeof flag>
  >;
}

const cli = command({
  name: "wasi-py",
  args: {
    code: positional({ type: optional(string), displayName: "code" }),
    format: option({
      long: FORMAT_OPTION.flag,
      short: FORMAT_OPTION.short,
      type: typeOf(parseFormat, "irc|raw|json"),
      defaultValue: (): Format => "irc",
    }),
    ...numericArgs(),
    ...switchArgs(),
    packages: multioption({ long: PACKAGES_OPTION.flag, type: array(string) }),
    help: flag({ long: "help", short: "h" }),
    version: flag({ long: "version" }),
  },
  handler: (values) => values,
});

interface ErrorNode {
  raw?: string;
  type?: string;
  key?: string;
}

function describeError(message: string, nodes: ErrorNode[]): string {
  if (message.startsWith("Too many times provided")) {
    const first = nodes[0];
    return `--${first?.key ?? "option"} given more than once`;
  }
  // cmd-ts's own wording (or an OptionError's message), made into one line.
  return message.replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
}

interface FailedParse {
  errors: Array<{ message: string; nodes: unknown[] }>;
}

type ParsedValues = Omit<CliOptions, "args"> & { help: boolean; version: boolean };

/**
 * Parses wasi-py's arguments (without the runtime and script).
 *
 * @example
 * await parseCliArgs(["--timeout", "0.5", "1+1"]); // { kind: "run", options: { timeoutMs: 500, ... } }
 */
export async function parseCliArgs(argv: string[]): Promise<ParsedArgs> {
  const plan = normaliseArgv(argv, KNOWN_OPTIONS);
  if (plan.kind === "error") {
    // --help and --version win over a mistake elsewhere among our options, as in most tools.
    const opts = optionPart(argv, KNOWN_OPTIONS);
    if (opts.includes("--help") || opts.includes("-h")) return { kind: "help" };
    if (opts.includes("--version")) return { kind: "version" };
    return { kind: "error", message: plan.message };
  }
  const result = await parse(cli, plan.cmdArgs);
  if (result._tag === "error") {
    const first = (result.error as FailedParse).errors[0];
    if (first === undefined) return { kind: "error", message: "invalid arguments" };
    return { kind: "error", message: describeError(first.message, first.nodes as ErrorNode[]) };
  }
  const { help, version, ...values } = result.value as unknown as ParsedValues;
  if (help) return { kind: "help" };
  if (version) return { kind: "version" };
  const options: CliOptions = { ...values, args: plan.programArgs };
  return { kind: "run", options };
}
