/**
 * A very long exception at the end of a traceback, shortened before formatting: the formatter
 * keeps the end of a cut traceback, so a 3 KB message would push its own `ValueError:` out of
 * the reply. Here the exception keeps its `Type:` prefix and the start and end of its message,
 * with the middle replaced by a note of how much was cut. Sizes are counted as the formatter
 * shows them (a control character is shown as a 3-byte picture or an 8-byte `<U+XXXX>`). Pure.
 */

import { groupDigits } from "../format/summary.ts";

const TRACEBACK_HEADER = "Traceback (most recent call last):";
/** A frame line of a traceback (`  File "<string>", line 1, in <module>`). */
const FRAME = /^ {2}File "/;
/** The exception's type: a dotted name followed by a colon. */
const TYPE_PREFIX = /^[A-Za-z_][\w.]{0,199}:/;

/** Bytes one code point takes once shown on IRC (see src/text/escape.ts). */
function shownBytes(cp: number): number {
  if (cp < 0x20 || cp === 0x7f) return 3;
  if (
    (cp >= 0x80 && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) || cp === 0xfeff
  ) return 8;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The longest start of `chars` (or end, `fromEnd`) that shows in at most `budget` bytes. */
function fit(chars: string[], budget: number, fromEnd: boolean): string[] {
  let used = 0;
  let n = 0;
  for (; n < chars.length; n++) {
    const ch = chars[fromEnd ? chars.length - 1 - n : n]!;
    used += shownBytes(ch.codePointAt(0)!);
    if (used > budget) break;
  }
  return fromEnd ? chars.slice(chars.length - n) : chars.slice(0, n);
}

/** Where the exception starts in the traceback lines: after the last frame and its code lines. */
function exceptionStart(lines: string[]): number {
  let last = -1;
  for (let i = 0; i < lines.length; i++) if (FRAME.test(lines[i]!)) last = i;
  let i = last + 1;
  while (last >= 0 && i < lines.length - 1 && /^\s/.test(lines[i]!)) i++;
  return Math.max(1, i);
}

/**
 * `stderr` with the exception that ends its last traceback shortened to about `maxBytes` as
 * shown: `Type:` prefix, the start and the end of the message, `[… N bytes cut …]` between.
 * Unchanged when there is no traceback or the exception is short enough.
 *
 * @example
 * ```ts
 * shortenException(`Traceback (most recent call last):\n  File "<string>", line 1\nValueError: ${"x".repeat(3000)}!`, 200);
 * // "...ValueError: xxxx…[… 2,850 bytes cut …] …xxxx!"
 * ```
 */
export function shortenException(stderr: string, maxBytes: number): string {
  const at = stderr.lastIndexOf(TRACEBACK_HEADER);
  if (at < 0) return stderr;
  const end = stderr.replace(/\n+$/, "");
  const lines = end.slice(at).split("\n");
  const start = exceptionStart(lines);
  const exc = [...lines.slice(start).join("\n")];
  const total = exc.reduce((n, ch) => n + shownBytes(ch.codePointAt(0)!), 0);
  if (total <= maxBytes) return stderr;
  const type = TYPE_PREFIX.exec(lines[start] ?? "")?.[0] ?? "";
  const typeLen = [...type].length;
  const note = (n: number) => ` [… ${groupDigits(n)} bytes cut …] `;
  const width = (t: string) => [...t].reduce((n, ch) => n + shownBytes(ch.codePointAt(0)!), 0);
  const room = Math.max(0, maxBytes - width(type) - width(note(total)));
  const head = fit(exc.slice(typeLen), Math.floor(room / 3), false);
  const tail = fit(exc.slice(typeLen + head.length), room - Math.floor(room / 3), true);
  const cutChars = exc.slice(typeLen + head.length, exc.length - tail.length);
  const cutBytes = new TextEncoder().encode(cutChars.join("")).length;
  const shortened = type + head.join("") + note(cutBytes) + tail.join("");
  return stderr.slice(0, at) + lines.slice(0, start).join("\n") + "\n" + shortened + "\n";
}
