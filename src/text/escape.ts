/**
 * Making program output safe to show on one IRC line (and in `--format irc`): newlines as
 * ` ⏎ `, tabs as spaces, C0 controls and DEL as their Unicode control pictures, line- or
 * order-breaking code points as `<U+XXXX>`, lone surrogates as U+FFFD. The rules are listed in
 * src/format/messages.ts, which builds whole messages from these pieces. Pure.
 */

/** How a newline of the program's output is shown inside one line. */
export const NEWLINE = " ⏎ ";

/** Shows one code point harmlessly (see the module comment); `\n` and `\t` are handled by the caller. */
export function escapeCodePoint(cp: number): string {
  if (cp < 0x20) return String.fromCodePoint(0x2400 + cp);
  if (cp === 0x7f) return "\u2421";
  if (
    (cp >= 0x80 && cp <= 0x9f) ||
    cp === 0x2028 || cp === 0x2029 ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0xfeff
  ) {
    return `<U+${cp.toString(16).toUpperCase().padStart(4, "0")}>`;
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return "\uFFFD";
  return String.fromCodePoint(cp);
}

/** The text with newlines as ` ⏎ `, tabs as spaces and controls escaped: what one IRC line may carry. */
export function escapeForIrc(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += cp === 10 ? NEWLINE : cp === 9 ? " " : escapeCodePoint(cp);
  }
  return out;
}
