/**
 * Program arguments (sys.argv[1:]), as `python3 -c CODE a b` gives them. The pre-initialised
 * interpreter's entry point (scripts/snapshot/wasi_py_main.c) accepts exactly
 * `[prog, "-c", DRIVER, CODE]`, and its os.environ is the one frozen at build time, so the
 * arguments travel in front of the code: `x<hex>,x<hex>...` (each argument's UTF-8 in hex), a
 * newline, then the code. A variant of the driver splits them off before it compiles the code,
 * so the program, its tracebacks and sys.orig_argv see the code alone. Runs without arguments use
 * the driver unchanged, so they keep the snapshot's pre-compiled driver and their exact fuel counts.
 */
import { LimitError } from "../limits/mod.ts";

/** Most program arguments one run takes. */
export const MAX_PROGRAM_ARGS = 4096;
/** Most bytes (UTF-8) all program arguments together may have. */
export const MAX_PROGRAM_ARG_BYTES = 1024 * 1024;

const PLAIN = "sys.argv[:] = ['-c']\nsys.orig_argv[1:] = ['-c', _s]\n";
const WITH_ARGS = "_a, _s = _s.split('\\n', 1)\n" +
  "_a = [bytes.fromhex(_a[1:]).decode('utf-8', 'surrogateescape') for _a in _a.split(',')]\n" +
  "sys.argv[:] = ['-c'] + _a\nsys.orig_argv[1:] = ['-c', _s] + _a\n";

/**
 * The driver that also takes the program's arguments from in front of the code. Throws
 * LimitError when the driver does not set sys.argv the standard way (a custom driver given to
 * Sandbox.create).
 *
 * @example
 * driverWithArgs(DRIVER_PY).includes("bytes.fromhex"); // true
 */
export function driverWithArgs(driver: string): string {
  if (!driver.includes(PLAIN)) throw new LimitError("args: this sandbox's driver does not take program arguments");
  return driver.replace(PLAIN, WITH_ARGS);
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Checks `args` (type, count, size) and returns their encoded header, to be put before the code.
 *
 * @example
 * encodeArgs(["a", "b c"]); // "x61,x622063"
 */
export function encodeArgs(args: readonly unknown[]): string {
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new TypeError("args must be an array of strings");
  }
  if (args.length > MAX_PROGRAM_ARGS) {
    throw new LimitError(`args: at most ${MAX_PROGRAM_ARGS} arguments, got ${args.length}`);
  }
  const encoder = new TextEncoder();
  const encoded = args.map((a) => encoder.encode(a));
  const total = encoded.reduce((n, b) => n + b.length, 0);
  if (total > MAX_PROGRAM_ARG_BYTES) {
    throw new LimitError(`args: at most ${MAX_PROGRAM_ARG_BYTES} bytes in all, got ${total}`);
  }
  return encoded.map((b) => `x${hex(b)}`).join(",");
}
