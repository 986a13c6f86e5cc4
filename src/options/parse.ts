/**
 * Value parsers for option text, shared by the command line, the IRC flags and the IRC config
 * file (which accepts the same strings as the flags). Pure: each returns the value in the unit
 * the program works in, or `undefined` when the text is not of its kind; bounds and error
 * messages belong to the option table (limits.ts), so one message format serves every option.
 */

const GROUPED_INTEGER = /^\d+(?:[_,]\d{3})*$/;
const EXPONENT = /^\d+(?:\.\d+)?e\d+$/i;
const UNLIMITED = new Set(["unlimited", "inf", "infinity", "none"]);
const SECONDS = /^(\d+(\.\d*)?|\.\d+)$/;
const BYTE_SIZE = /^(\d+(?:[_,]\d{3})*)\s*([kKmM]i?[bB]?)?$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A non-negative whole number: digits with optional `_`/`,` thousands separators, or
 * exponent notation; `undefined` if not a safe integer.
 *
 * @example
 * parseCount("1_000_000"); // 1000000
 * parseCount("2e8"); // 200000000
 * parseCount("1.5"); // undefined
 */
export function parseCount(text: string): number | undefined {
  const t = text.trim();
  let n: number;
  if (GROUPED_INTEGER.test(t)) n = Number(t.replace(/[_,]/g, ""));
  else if (EXPONENT.test(t)) n = Number(t);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A fuel budget: a count, or `unlimited` (also `inf`, `infinity`, `none`) for `Infinity`.
 *
 * @example
 * parseFuel("1e9"); // 1000000000
 * parseFuel("unlimited"); // Infinity
 */
export function parseFuel(text: string): number | undefined {
  return UNLIMITED.has(text.trim().toLowerCase()) ? Infinity : parseCount(text);
}

/**
 * Seconds, fractions allowed, an optional trailing `s`, to whole milliseconds.
 *
 * @example
 * parseSecondsToMs("0.5"); // 500
 * parseSecondsToMs("10s"); // 10000
 */
export function parseSecondsToMs(text: string): number | undefined {
  const t = text.trim().replace(/s$/, "");
  return SECONDS.test(t) ? Math.round(Number(t) * 1000) : undefined;
}

/**
 * A byte count with an optional `k`/`K` (KiB) or `m`/`M` (MiB) suffix (`kB`, `KiB`, `MB` too).
 *
 * @example
 * parseByteSize("64k"); // 65536
 * parseByteSize("8M"); // 8388608
 */
export function parseByteSize(text: string): number | undefined {
  const m = BYTE_SIZE.exec(text.trim());
  if (!m) return undefined;
  const scale = m[2] === undefined ? 1 : /^[kK]/.test(m[2]) ? 1024 : 1024 * 1024;
  const n = Number(m[1]!.replace(/[_,]/g, "")) * scale;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A non-negative decimal number (rates, fractions).
 *
 * @example
 * parseDecimal("0.5"); // 0.5
 * parseDecimal("-1"); // undefined
 */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : undefined;
}

/**
 * Digits grouped by thousands, for help text and messages.
 *
 * @example
 * groupThousands(1000000000); // "1,000,000,000"
 */
export function groupThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Bytes as the shortest exact flag text: `8M`, `64k` or plain bytes.
 *
 * @example
 * showByteSize(65536); // "64k"
 * showByteSize(400); // "400"
 */
export function showByteSize(n: number): string {
  if (n > 0 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024}M`;
  if (n > 0 && n % 1024 === 0) return `${n / 1024}k`;
  return String(n);
}
