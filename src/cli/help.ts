/**
 * `wasi-py --help`: the page, with the option rows derived from the option table (flag, value
 * name, meaning, default, range) and the exit codes from the exit-code table, so the help cannot
 * drift from what the parser accepts.
 */
import { PACKAGES_OPTION } from "../options/packages.ts";
import { EXIT_CODE_TABLE } from "../options/exit-codes.ts";
import { flagColumn, helpLine } from "../options/spec.ts";
import { FORMATS } from "./args.ts";
import { CLI_NUMERIC_OPTIONS, FORMAT_OPTION } from "./known.ts";
import { CLI_SWITCHES } from "./known.ts";
import { CACHE_RULE, defaultCacheDir } from "../platform/cache-dirs.ts";

/** Rows before and after the numeric options: flags without a table entry. */
const LEADING_ROWS: ReadonlyArray<readonly [string, string]> = [
  [`-${FORMAT_OPTION.short}, --${FORMAT_OPTION.flag} ${FORMATS.join("|")}`, "output format (default irc)"],
];
const TRAILING_ROWS: ReadonlyArray<readonly [string, string]> = [
  ["-c CODE", "the program (as python3 -c); what follows goes to sys.argv"],
  ...CLI_SWITCHES.map((s) => [`${s.short ? `-${s.short}, ` : "    "}--${s.flag}`, s.help] as const),
  [`    --${PACKAGES_OPTION.flag} ${PACKAGES_OPTION.valueName}`, PACKAGES_OPTION.help],
  ["    --irc ...", "run as an IRC bot answering !py <code> (see wasi-py --irc --help)"],
  ["    --version", "print wasi-py's and CPython's versions"],
  ["-h, --help", "show this help"],
];

/**
 * The option rows of the help, `[flags, meaning]`, in order.
 *
 * @example
 * optionRows().find(([f]) => f.includes("--memory")); // ["-m, --memory MiB", "memory limit ... (default 256; 20-4096)"]
 */
export function optionRows(): Array<readonly [string, string]> {
  return [...LEADING_ROWS, ...CLI_NUMERIC_OPTIONS.map((s) => [flagColumn(s), helpLine(s)] as const), ...TRAILING_ROWS];
}

function table(rows: ReadonlyArray<readonly [string, string]>, indent: string): string {
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}${b}`).join("\n");
}

/**
 * A plain-text help page; `bold` decorates headings (identity when colour is off).
 *
 * @example
 * helpText().startsWith("wasi-py - run a small Python program"); // true
 */
export function helpText(bold: (s: string) => string = (s) => s): string {
  const exits = EXIT_CODE_TABLE.map(([c, what]) => `  ${c.padEnd(5)}${what}`).join("\n");
  return `${bold("wasi-py")} - run a small Python program in a sandboxed, fuel-metered CPython 3.13 (WebAssembly)

${bold("Usage")}
  wasi-py [options] [-c] CODE [ARG...]     ARGs are the program's sys.argv[1:]
  wasi-py [options] FILE.py [ARG...]       the program in a file
  wasi-py [options] [- ARG...]             the code from stdin
  wasi-py --batch [options] < programs.jsonl

  The code comes from the argument, or from stdin when there is none. As for python3, a first
  argument that names an existing file ending in .py (and not given with -c) is run as a file. Options go before the
  code; everything after it belongs to the program. When the code is an argument, stdin is the
  program's input, read only as the program reads it (--no-stdin gives it an empty one, e.g.
  in a \`while read\` loop). If the program never calls print and ends with an expression,
  that expression's repr() is printed. Short options take attached values (-fjson, -t0.5).

${bold("Options")}
${table(optionRows(), "  ")}

${bold("Formats")}
  irc   what the IRC bot would say: newlines as " ⏎ ", controls made visible, at most
        --max-lines messages of --max-bytes each, the cut marked with "…"
  raw   the program's stdout and stderr, untouched and as it writes them (limit notes go
        to stderr); Ctrl-C ends the run, keeps what was printed, exits 130
  json  {"stdout","stderr","exitCode","outcome","fuelUsed",
        "fuelUsedIsLowerBound","wallMs","truncated"}

${bold("Batch")}
  Each stdin line: a JSON string (the code) or {"id","code","stdin","args","fuel","timeout",
  "memory"} (timeout in seconds, memory in MiB; flags give the defaults). Each output line: the
  json format's object with "id" first, in input order; a bad line gives {"id","line","error"}
  and the batch goes on (exit status 2 then). Programs run in parallel, one worker per core.
  "id" is a string of at most 256 characters, a number or null; a line over --max-line is an
  error (its bytes are skipped, not kept).

${bold("Cache")}
  The interpreter is expanded once (about 40 MB) into the first that works of:
  ${CACHE_RULE}
  (now: ${defaultCacheDir()}). Set WASI_PY_CACHE or XDG_CACHE_HOME to move it. A folder that is
  not yours alone (another owner, or writable by others) is skipped, with a notice.

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
  wasi-py -c 'import sys; print(sys.argv)' a 'b c'   prints ['-c', 'a', 'b c']
  yes | wasi-py 'input()'                     stdin is read only as far as the program reads
  printf '%s\\n' '"1+1"' '{"id":2,"code":"print(2)"}' | wasi-py --batch | jq .stdout
  wasi-py --irc --server irc.example.net:6697 --tls --nick pybot --channel '#python'
`;
}
