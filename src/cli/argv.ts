/**
 * The conventions of `python3` and of getopt that cmd-ts lacks, applied to argv before cmd-ts
 * parses it: short options with attached values (`-fjson`, `-t0.5`) and clusters (`-Vfraw`),
 * `-c CODE`, `-` for "the code is on stdin", program arguments after the code (they go to the
 * program's sys.argv, never to us, exactly as python3 treats them), and "did you mean" for a
 * misspelt long option. Pure: argv in, a plan out; cmd-ts then sees only `--long=value` options
 * followed by `-- CODE`, so it never guesses.
 */
import { cutShort } from "../options/spec.ts";

/** An option as the normaliser needs to know it: its long name, short letter, whether it takes a value. */
export interface KnownOption {
  long: string;
  short?: string;
  takesValue: boolean;
}

/** What the normaliser made of argv. */
export type Normalised =
  | {
    kind: "ok";
    /** For cmd-ts: `--long=value` and `--flag` items, then `--` and the code when it was given. */
    cmdArgs: string[];
    /** The program's own arguments (sys.argv[1:]). */
    programArgs: string[];
  }
  | { kind: "error"; message: string };

/**
 * Levenshtein distance, for "did you mean".
 *
 * @example
 * editDistance("fule", "fuel"); // 2
 */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? prev[j - 2]! : Infinity;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1), swap);
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known long option closest to a misspelt one (a unique prefix, or at most 2 edits away).
 *
 * @example
 * suggestOption("timout", ["timeout", "fuel"]); // "timeout"
 */
export function suggestOption(name: string, longs: readonly string[]): string | undefined {
  const prefixed = longs.filter((l) => l.startsWith(name));
  if (name.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(name.length / 2));
  for (const l of longs) {
    const d = editDistance(name, l);
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = l;
      bestDistance = d;
    }
  }
  return best;
}

const HINT = '(code starting with "-" goes after "--")';

function unknownLong(name: string, known: readonly KnownOption[]): string {
  const guess = suggestOption(name, known.map((o) => o.long));
  return guess === undefined
    ? `unknown option --${cutShort(name)} ${HINT}`
    : `unknown option --${cutShort(name)} (did you mean --${guess}?)`;
}

/** Reads one short-option cluster (`-Vfjson`) at argv[i]; returns how many items it used. */
function shortCluster(
  argv: readonly string[],
  i: number,
  known: readonly KnownOption[],
  out: string[],
): number | string {
  const a = argv[i]!;
  for (let k = 1; k < a.length; k++) {
    const letter = a[k]!;
    const opt = known.find((o) => o.short === letter);
    if (opt === undefined) return `unknown option -${letter} ${HINT}`;
    if (!opt.takesValue) {
      out.push(`--${opt.long}`);
      continue;
    }
    const attached = a.slice(k + 1);
    if (attached !== "") {
      out.push(`--${opt.long}=${attached}`);
      return 1;
    }
    if (i + 1 >= argv.length) return `-${letter} needs a value`;
    out.push(`--${opt.long}=${argv[i + 1]}`);
    return 2;
  }
  return 1;
}

/** Reads one long option at argv[i]; returns how many items it used, or an error message. */
function longOption(argv: readonly string[], i: number, known: readonly KnownOption[], out: string[]): number | string {
  const a = argv[i]!;
  const eq = a.indexOf("=");
  const name = a.slice(2, eq < 0 ? undefined : eq);
  const opt = known.find((o) => o.long === name);
  if (opt === undefined) return unknownLong(name, known);
  if (!opt.takesValue) {
    if (eq >= 0) return `--${name} takes no value`;
    out.push(`--${name}`);
    return 1;
  }
  if (eq >= 0) {
    if (eq === a.length - 1) return `--${name} needs a value`;
    out.push(a);
    return 1;
  }
  if (i + 1 >= argv.length) return `--${name} needs a value`;
  out.push(`--${name}=${argv[i + 1]}`);
  return 2;
}

/**
 * Splits argv into our options (for cmd-ts), the code and the program's arguments, python3's way:
 * the first non-option (or `-c CODE`, or what follows `--`) is the code and everything after it
 * belongs to the program; `-` means the code comes from stdin.
 *
 * @example
 * normaliseArgv(["-fjson", "-c", "import sys; print(sys.argv)", "a", "b c"], KNOWN);
 * // { kind: "ok", cmdArgs: ["--format=json", "--", "import sys; print(sys.argv)"], programArgs: ["a", "b c"] }
 */
export function normaliseArgv(argv: readonly string[], known: readonly KnownOption[]): Normalised {
  const out: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    let code: string | undefined;
    let rest: number;
    if (a === "--") {
      code = argv[i + 1];
      rest = i + 2;
    } else if (a === "-") {
      rest = i + 1;
    } else if (a === "-c" || (a.startsWith("-c") && !a.startsWith("--"))) {
      code = a.length > 2 ? a.slice(2) : argv[i + 1];
      if (code === undefined) return { kind: "error", message: "-c needs a value (the code)" };
      rest = a.length > 2 ? i + 1 : i + 2;
    } else if (a.startsWith("--")) {
      const used = longOption(argv, i, known, out);
      if (typeof used === "string") return { kind: "error", message: used };
      i += used;
      continue;
    } else if (a.startsWith("-")) {
      const used = shortCluster(argv, i, known, out);
      if (typeof used === "string") return { kind: "error", message: used };
      i += used;
      continue;
    } else {
      code = a;
      rest = i + 1;
    }
    if (code !== undefined) out.push("--", code);
    return { kind: "ok", cmdArgs: out, programArgs: argv.slice(rest) };
  }
  return { kind: "ok", cmdArgs: out, programArgs: [] };
}

/** How many items the option at argv[i] uses, tolerantly: an unknown `--name` takes a next item that is no option. */
function optionWidth(argv: readonly string[], i: number, known: readonly KnownOption[]): number {
  const a = argv[i]!;
  const next = argv[i + 1];
  if (a.startsWith("--")) {
    if (a.includes("=")) return 1;
    const opt = known.find((o) => o.long === a.slice(2));
    if (opt !== undefined) return opt.takesValue && next !== undefined ? 2 : 1;
    return next !== undefined && !next.startsWith("-") ? 2 : 1;
  }
  for (let k = 1; k < a.length; k++) {
    const opt = known.find((o) => o.short === a[k]);
    if (opt === undefined) return 1;
    if (opt.takesValue) return k === a.length - 1 && next !== undefined ? 2 : 1;
  }
  return 1;
}

/**
 * Our options: the items before the code (the first non-option, `-`, `--` or `-c`). Only there
 * does a mode flag count (`--irc`, `--batch`, `--help`, `--version`): after the code everything is
 * the program's, so `wasi-py CODE --irc` passes `--irc` to the program. Unlike normaliseArgv this
 * never fails: an unknown `--name` (e.g. the bot's `--nick pybot`) is taken to use the next item
 * as its value when that does not start with "-".
 *
 * @example
 * optionPart(["-t", "1", "print(1)", "--irc"], KNOWN); // ["-t", "1"]
 * optionPart(["--nick", "pybot", "--irc"], KNOWN); // ["--nick", "pybot", "--irc"]
 */
export function optionPart(argv: readonly string[], known: readonly KnownOption[]): readonly string[] {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === "--" || a === "-" || !a.startsWith("-") || (a.startsWith("-c") && !a.startsWith("--"))) break;
    i += optionWidth(argv, i, known);
  }
  return argv.slice(0, i);
}
