/**
 * `wasi-py prog.py [ARG...]` runs the file, as `python3 prog.py` does: the rule is that the first
 * argument (the code position) names an existing file ending in `.py`, and the code was not
 * given with `-c` (then it is text, as for python3). The file must be UTF-8; its text becomes the
 * program (still run as `-c` inside the sandbox, so sys.argv[0] is "-c" and tracebacks say
 * "<string>").
 */
import { fileSize, readBytes } from "../platform/fs.ts";
import { BOUNDS } from "../limits/mod.ts";
import { UsageError } from "./run.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Whether the command's code argument is a program file by the rule above (pure: `exists` says
 * whether a regular file is at a path).
 *
 * @example
 * isProgramFile(["prog.py", "a"], "prog.py", () => true); // true
 * isProgramFile(["-c", "prog.py"], "prog.py", () => true); // false
 */
export function isProgramFile(
  argv: readonly string[],
  code: string | undefined,
  exists: (path: string) => boolean,
): boolean {
  if (code === undefined || !code.endsWith(".py")) return false;
  const at = argv.lastIndexOf(code);
  const before = at < 0 ? argv : argv.slice(0, at);
  if (before.some((a) => a === "-c" || /^-[a-zA-Z]*c$/.test(a))) return false;
  return exists(code);
}

/**
 * The program text of `path`; UsageError when it is too large or not UTF-8.
 *
 * @example
 * readProgramFile("prog.py"); // "print(1)\n"
 */
export function readProgramFile(path: string): string {
  const size = fileSize(path) ?? 0;
  if (size > BOUNDS.stdinBytes) throw new UsageError(`${path}: larger than ${BOUNDS.stdinBytes} bytes`);
  try {
    return strictUtf8.decode(readBytes(path));
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(`${path}: not valid UTF-8`);
    throw new UsageError(`${path}: cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Whether a regular file is at `path`. */
export function fileExists(path: string): boolean {
  return fileSize(path) !== undefined;
}
