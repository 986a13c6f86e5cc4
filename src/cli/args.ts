/**
 * The command line: option definitions (cmd-ts), value parsers, help text. Parsing never prints
 * or exits; a usage error comes back as one line for the caller to print (exit status 2).
 */
import { command, flag, option, optional, parse, positional, string } from "cmd-ts";
import type { Type } from "cmd-ts";
import { BOUNDS, DEFAULT_LIMITS, MAX_FINITE_FUEL } from "../sandbox/limits.ts";
import { IRC_DEFAULTS, MIN_MAX_BYTES } from "../text/messages.ts";
import { EXIT_CODE_TABLE } from "./exit-codes.ts";

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
  verbose: boolean;
  /** Leave stdin alone (the program reads an empty stdin), e.g. inside `while read` loops. */
  noStdin: boolean;
}

export type ParsedArgs =
  | { kind: "run"; options: CliOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "error"; message: string };

/** Most IRC messages one result may take, and the longest message accepted. */
export const MAX_MAX_LINES = 100;
export const MAX_MAX_BYTES = 65_536;

// ---- value parsers (pure; each throws an Error whose message is the user-facing reason) ----

const INTEGER = /^\d+(?:[_,]\d{3})*$/;

/** "1000000", "1_000_000", "1,000,000", "1e9" → integer; undefined if not a non-negative integer. */
function parseCount(text: string): number | undefined {
  const t = text.trim();
  let n: number;
  if (INTEGER.test(t)) n = Number(t.replace(/[_,]/g, ""));
  else if (/^\d+(?:\.\d+)?e\d+$/i.test(t)) n = Number(t);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** --fuel: a non-negative integer (1e9, 1_000_000 allowed) or `unlimited`. */
export function parseFuel(text: string): number {
  if (/^(unlimited|inf|infinity|none)$/i.test(text.trim())) return Infinity;
  const n = parseCount(text);
  if (n === undefined || n > MAX_FINITE_FUEL) {
    throw new Error(
      `--fuel wants a whole number of fuel units (0 to ${MAX_FINITE_FUEL}) or "unlimited", got "${text}"`,
    );
  }
  return n;
}

/** --timeout: seconds (fractions allowed) → whole milliseconds, at least 1. */
export function parseTimeout(text: string): number {
  const t = text.trim().replace(/s$/, "");
  const s = /^(\d+(\.\d*)?|\.\d+)$/.test(t) ? Number(t) : NaN;
  const ms = Math.round(s * 1000);
  const maxS = BOUNDS.timeoutMs / 1000;
  if (!Number.isFinite(s) || ms < 1 || ms > BOUNDS.timeoutMs) {
    throw new Error(`--timeout wants seconds from 0.001 to ${maxS}, got "${text}"`);
  }
  return ms;
}

/** An integer option within bounds. */
export function parseIntegerIn(name: string, unit: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = parseCount(text);
    if (n === undefined || n < min || n > max) {
      throw new Error(`${name} wants ${unit} from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
}

/** A byte count with an optional k/K (KiB) or m/M (MiB) suffix, for the option `flag`. */
export function byteSizeParser(flag: string, max: number): (text: string) => number {
  return (text) => {
    const m = /^\s*(\d+(?:[_,]\d{3})*)\s*([kKmM]i?[bB]?)?\s*$/.exec(text);
    const n = m ? Number(m[1]!.replace(/[_,]/g, "")) * (m[2] ? (/^[kK]/.test(m[2]) ? 1024 : 1024 * 1024) : 1) : NaN;
    if (!Number.isSafeInteger(n) || n > max) {
      throw new Error(`${flag} wants bytes from 0 to ${max} (k and M suffixes allowed), got "${text}"`);
    }
    return n;
  };
}

/** --max-output: bytes kept per stream. */
export const parseByteSize = byteSizeParser("--max-output", BOUNDS.maxOutputBytes);

export function parseFormat(text: string): Format {
  const f = text.trim().toLowerCase();
  if ((FORMATS as readonly string[]).includes(f)) return f as Format;
  throw new Error(`--format wants one of ${FORMATS.join(", ")}, got "${text}"`);
}

// ---- cmd-ts definitions ----

function typeOf<T>(parseText: (text: string) => T, displayName: string): Type<string, T> {
  return { displayName, from: async (text: string) => parseText(text) };
}

const cli = command({
  name: "wasi-py",
  args: {
    code: positional({ type: optional(string), displayName: "code" }),
    format: option({
      long: "format",
      short: "f",
      type: typeOf(parseFormat, "irc|raw|json"),
      defaultValue: (): Format => "irc",
    }),
    fuel: option({ long: "fuel", type: typeOf(parseFuel, "units"), defaultValue: () => DEFAULT_LIMITS.fuel }),
    timeoutMs: option({
      long: "timeout",
      short: "t",
      type: typeOf(parseTimeout, "seconds"),
      defaultValue: () => DEFAULT_LIMITS.timeoutMs,
    }),
    memoryMiB: option({
      long: "memory",
      short: "m",
      type: typeOf(parseIntegerIn("--memory", "MiB", 1, BOUNDS.memoryMiB), "MiB"),
      defaultValue: () => DEFAULT_LIMITS.memoryMiB,
    }),
    maxOutputBytes: option({
      long: "max-output",
      type: typeOf(parseByteSize, "bytes"),
      defaultValue: () => DEFAULT_LIMITS.maxOutputBytes,
    }),
    tmpQuotaBytes: option({
      long: "tmp-quota",
      type: typeOf(byteSizeParser("--tmp-quota", BOUNDS.tmpQuotaBytes), "bytes"),
      defaultValue: () => DEFAULT_LIMITS.tmpQuotaBytes,
    }),
    maxLines: option({
      long: "max-lines",
      type: typeOf(parseIntegerIn("--max-lines", "a number of messages", 1, MAX_MAX_LINES), "n"),
      defaultValue: () => IRC_DEFAULTS.maxLines,
    }),
    maxBytes: option({
      long: "max-bytes",
      type: typeOf(parseIntegerIn("--max-bytes", "bytes", MIN_MAX_BYTES, MAX_MAX_BYTES), "bytes"),
      defaultValue: () => IRC_DEFAULTS.maxBytes,
    }),
    verbose: flag({ long: "verbose", short: "V" }),
    noStdin: flag({ long: "no-stdin" }),
    help: flag({ long: "help", short: "h" }),
    version: flag({ long: "version" }),
  },
  handler: (values) => values,
});

interface ErrorNode {
  raw?: string;
  type?: string;
}

function describeError(message: string, nodes: ErrorNode[]): string {
  if (message === "Unknown arguments") {
    const first = nodes[0];
    const raw = first?.raw ?? "";
    if (first?.type === "positionalArgument" || first?.type === "value") {
      return `unexpected extra argument "${raw}": give the code as ONE argument (quote it)`;
    }
    const key = (first as { key?: string } | undefined)?.key;
    const name = first?.type === "shortOption"
      ? `-${key ?? raw}`
      : first?.type === "longOption" && key
      ? `--${key}`
      : raw;
    return `unknown option ${name} (code starting with "-" goes after "--")`;
  }
  if (message.startsWith("Too many times provided")) {
    const first = nodes[0] as { key?: string; type?: string } | undefined;
    const name = first?.type === "shortOption" ? `-${first.key}` : `--${first?.key ?? "option"}`;
    return `${name} given more than once`;
  }
  // cmd-ts's own wording, made into one line.
  return message.replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
}

const VALUE_OPTIONS: ReadonlyArray<readonly [long: string, short: string | undefined]> = [
  ["format", "f"],
  ["fuel", undefined],
  ["timeout", "t"],
  ["memory", "m"],
  ["max-output", undefined],
  ["tmp-quota", undefined],
  ["max-lines", undefined],
  ["max-bytes", undefined],
];

/**
 * An option that needs a value but got none (`--fuel` last, `--fuel=`). cmd-ts would quietly
 * use the default there, so this is checked before it parses.
 */
export function missingValue(argv: readonly string[]): string | undefined {
  const end = argv.indexOf("--");
  const args = end < 0 ? argv : argv.slice(0, end);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const [long, short] of VALUE_OPTIONS) {
      const last = i === args.length - 1 && end < 0;
      if (a === `--${long}=`) return `--${long} needs a value`;
      if (last && a === `--${long}`) return `--${long} needs a value`;
      if (last && short !== undefined && /^-[a-zA-Z]+$/.test(a) && a.endsWith(short)) return `-${short} needs a value`;
    }
  }
  return undefined;
}

/** Parses wasi-py's arguments (without the runtime and script). */
export async function parseCliArgs(argv: string[]): Promise<ParsedArgs> {
  const missing = missingValue(argv);
  if (missing !== undefined) return { kind: "error", message: missing };
  const result = await parse(cli, argv);
  if (result._tag === "error") {
    const first = (result.error as FailedParse).errors[0];
    if (first === undefined) return { kind: "error", message: "invalid arguments" };
    return { kind: "error", message: describeError(first.message, first.nodes as ErrorNode[]) };
  }
  const v = result.value as ParsedValues;
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };
  const {
    code,
    format,
    fuel,
    timeoutMs,
    memoryMiB,
    maxOutputBytes,
    tmpQuotaBytes,
    maxLines,
    maxBytes,
    verbose,
    noStdin,
  } = v;
  return {
    kind: "run",
    options: {
      code,
      format,
      fuel,
      timeoutMs,
      memoryMiB,
      maxOutputBytes,
      tmpQuotaBytes,
      maxLines,
      maxBytes,
      verbose,
      noStdin,
    },
  };
}

interface FailedParse {
  errors: Array<{ message: string; nodes: unknown[] }>;
}

type ParsedValues = CliOptions & { help: boolean; version: boolean };

/** A plain-text help page; `bold` decorates headings (identity when colour is off). */
export function helpText(bold: (s: string) => string = (s) => s): string {
  const d = DEFAULT_LIMITS;
  const rows: Array<[string, string]> = [
    ["-f, --format irc|raw|json", `output format (default irc)`],
    ["    --fuel N|unlimited", `fuel budget in units (default ${group(d.fuel)})`],
    ["-t, --timeout SECONDS", `wall-clock limit, fractions allowed (default ${d.timeoutMs / 1000})`],
    ["-m, --memory MiB", `memory limit of the interpreter (default ${d.memoryMiB})`],
    ["    --max-output BYTES", `output kept per stream, k/M suffixes ok (default ${d.maxOutputBytes / 1024}k)`],
    [
      "    --tmp-quota BYTES",
      `bytes the program may keep in /tmp, k/M suffixes ok (default ${d.tmpQuotaBytes / 1024 / 1024}M)`,
    ],
    ["    --max-lines N", `irc format: most messages (default ${IRC_DEFAULTS.maxLines})`],
    ["    --max-bytes BYTES", `irc format: longest message in UTF-8 bytes (default ${IRC_DEFAULTS.maxBytes})`],
    ["-V, --verbose", "also report fuel used and time"],
    ["    --no-stdin", "do not read stdin; the program's input is empty"],
    ["    --irc ...", "run as an IRC bot answering !py <code> (see wasi-py --irc --help)"],
    ["    --version", "print wasi-py's and CPython's versions"],
    ["-h, --help", "show this help"],
  ];
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  const options = rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join("\n");
  const exits = EXIT_CODE_TABLE.map(([c, what]) => `  ${c.padEnd(5)}${what}`).join("\n");
  return `${bold("wasi-py")} - run a small Python program in a sandboxed, fuel-metered CPython 3.13 (WebAssembly)

${bold("Usage")}
  wasi-py [options] [--] [code]

  The code comes from the argument, or from stdin when there is none. When it comes as an
  argument and stdin is not a terminal, stdin is read to its end and is the program's input
  (--no-stdin skips that, e.g. in a \`while read\` loop). If the program never calls
  print and ends with an expression, that expression's repr() is printed.

${bold("Options")}
${options}

${bold("Formats")}
  irc   what the IRC bot would say: newlines as " ⏎ ", controls made visible, at most
        --max-lines messages of --max-bytes each, the cut marked with "…"
  raw   the program's stdout and stderr, untouched (limit notes go to stderr)
  json  {"stdout","stderr","exitCode","outcome","fuelUsed","wallMs","truncated"}

${bold("Exit status")}
${exits}

${bold("Examples")}
  wasi-py '1+1'                               prints 2
  wasi-py 'print("hi"); import sys; sys.exit(3)'
  echo 'sum(range(10))' | wasi-py             program from stdin
  echo 5 | wasi-py 'int(input()) * 2'         stdin is the program's input
  wasi-py --format raw 'import this'
  wasi-py --format json --fuel 1e8 'while True: pass'
  wasi-py --timeout 0.5 --verbose 'import time; time.sleep(2)'
  wasi-py -- '-1'                             code starting with "-"
  wasi-py --irc --server irc.example.net:6697 --tls --nick pybot --channel '#python'
`;
}

function group(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
