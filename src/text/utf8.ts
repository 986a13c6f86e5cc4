/**
 * UTF-8 byte arithmetic on JS strings: the one home for byte lengths and cutting to a byte
 * budget, for IRC (which counts lines in bytes) and the formatters. Pure. (The sandbox trims a
 * sequence its output cap cut in half itself: _protocol.ts's trimPartialUtf8.)
 */

/** UTF-8 length of a string (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function cutToBytes(s: string, max: number): string {
  let bytes = 0;
  let out = "";
  for (const ch of s) {
    const n = utf8Length(ch);
    if (bytes + n > max) break;
    bytes += n;
    out += ch;
  }
  return out;
}
