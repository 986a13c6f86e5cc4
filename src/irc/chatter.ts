/**
 * Telling chatter from code. `pybot: thanks!` and a private "hello" are people talking, not
 * programs: for requests made without the prefix the bot stays silent when the text does not
 * compile as Python, or is one bare word that is not defined. The evaluation itself is the
 * compile check: the driver compiles before it runs anything, so text that does not compile
 * costs only its compile (about 1 M fuel, a few ms) and runs nothing. A compile error shows as
 * CPython prints it for `-c`: `  File "<string>", line N` then the error, with no
 * `Traceback` header (an error raised at run time has one). Pure.
 */
import type { RunResult } from "../sandbox/mod.ts";

const COMPILE_ERROR =
  /^ {2}File "<string>", line \d+\n(?:.*\n){0,4}(?:SyntaxError|IndentationError|TabError): [^\n]*\n?$/;

/**
 * Whether an unprefixed request's result says it was chatter, not code.
 *
 * @example
 * ```ts
 * isChatter("thanks!", { stderr: '  File "<string>", line 1\n    thanks!\n          ^\nSyntaxError: invalid syntax\n', ... }); // true
 * ```
 */
export function isChatter(code: string, r: Pick<RunResult, "stdout" | "stderr" | "exitCode" | "outcome">): boolean {
  if (r.outcome !== "error" || r.stdout !== "" || r.stderr.length > 4096) return false;
  if (COMPILE_ERROR.test(r.stderr)) return true;
  const word = /^[A-Za-z_][A-Za-z0-9_]*$/.test(code.trim()) ? code.trim() : undefined;
  return word !== undefined && r.stderr.includes(`\nNameError: name '${word}' is not defined`);
}
