/**
 * RunResult → the messages an IRC bot sends (and what `wasi-py --format irc` prints). Pure.
 * Pieces: src/text/summary.ts (status lines), src/text/escape.ts (one code point at a time),
 * src/text/utf8.ts (byte counting).
 *
 * Rules (the README documents them for users):
 * - First a status line when the run did not simply finish: `Timed out after 10 s`,
 *   `Out of fuel after 1,000,000,000 units`, `Out of memory (limit 256 MiB)`, `Crashed (...)`,
 *   otherwise `Exited with code N` when the exit code is not 0. With `verbose`, then
 *   `Used 12,345,678 fuel units (1.2%) in 34 ms`.
 * - Then stdout, then stderr, each without its trailing newlines. Nothing at all: `(no output)`.
 * - Newlines become ` ⏎ `; a tab becomes one space.
 * - Made visible and harmless: every C0 control and DEL becomes its Unicode control picture
 *   (`\0` → `␀`, `\x01` → `␁`, `\r` → `␍`, ESC → `␛`, DEL → `␡`), since IRC gives C0 bytes
 *   meaning (CR/LF end a command, \x01 starts CTCP, \x02/\x03/\x0f/... format text). Characters
 *   that have no picture but can still break a line or reorder it (C1 controls U+0080–U+009F,
 *   U+2028/U+2029, the bidi embeddings/overrides/isolates U+202A–U+202E and U+2066–U+2069,
 *   U+FEFF) are written `<U+XXXX>`. Lone surrogates become U+FFFD.
 * - Messages hold at most `maxBytes` bytes of UTF-8 each and never split a character or a
 *   grapheme cluster (a base and its combining marks stay together; a cluster too long for a
 *   message on its own is split between code points). At most `maxLines` messages; when the
 *   text does not fit, the last one ends with `… (output cut, N more bytes)`, N counting the
 *   program's output (UTF-8) not shown (`N+` when the sandbox had dropped output too);
 *   `… (cut)` when maxBytes is too small for that.
 * - A stream the sandbox truncated (RunResult.truncated) is followed by `…[stdout truncated]` /
 *   `…[stderr truncated]`.
 */

import type { RunResult } from "../sandbox/result.ts";
import { escapeCodePoint, NEWLINE } from "./escape.ts";
import { groupDigits, statusLine, usageLine } from "./summary.ts";
import type { SummaryOptions } from "./summary.ts";
import { utf8Length } from "./utf8.ts";

/** How to cut a result into messages; the summary options say which limits the status line names. */
export interface IrcFormatOptions extends SummaryOptions {
  /** Largest message in bytes of UTF-8 (without the bot's own prefix). Default 400. */
  maxBytes?: number;
  /** Most messages sent for one result. Default 2. */
  maxLines?: number;
}

export const IRC_DEFAULTS = Object.freeze({ maxBytes: 400, maxLines: 2 });
/** Smallest usable maxBytes: room for a status line fragment and the cut mark. */
export const MIN_MAX_BYTES = 16;

const encoder = new TextEncoder();

/** One indivisible piece of the flattened text. */
interface Token {
  text: string;
  bytes: number;
  /** Bytes of the program's output this token stands for (0 for our own notes). */
  src: number;
  newline?: boolean;
  /** A sandbox-truncation note. */
  truncNote?: boolean;
}

/**
 * Made on first non-ASCII text: creating it and its first use load ICU's break rules (~10-14 ms
 * of a cold CLI start, whose default format is irc and whose output is usually ASCII).
 */
let segmenter: Intl.Segmenter | undefined;

const ASCII = /^[\x00-\x7f]*$/;

/**
 * The grapheme clusters of `text`. ASCII is split without ICU: there every character is a
 * cluster of its own except "\r\n" (UAX #29 GB3; controls break on both sides, GB4/GB5).
 *
 * @example
 * [...graphemes("a\r\nb")]; // ["a", "\r\n", "b"]
 */
export function* graphemes(text: string): Generator<string> {
  if (!ASCII.test(text)) {
    segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
    for (const { segment } of segmenter.segment(text)) yield segment;
    return;
  }
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10) {
      yield "\r\n";
      i++;
    } else {
      yield text[i]!;
    }
  }
}

function* streamTokens(text: string, countsAsOutput: boolean): Generator<Token> {
  for (const segment of graphemes(text)) {
    let display = "";
    let src = 0;
    for (const ch of segment) {
      const cp = ch.codePointAt(0)!;
      if (cp === 10) {
        // "\r\n" is one grapheme: flush the "␍" first so the newline stays a token of its own.
        if (display) yield { text: display, bytes: utf8Length(display), src: countsAsOutput ? src : 0 };
        display = "";
        src = 0;
        yield { text: NEWLINE, bytes: utf8Length(NEWLINE), src: countsAsOutput ? 1 : 0, newline: true };
      } else {
        display += cp === 9 ? " " : escapeCodePoint(cp);
        src += utf8Length(ch);
      }
    }
    if (display) yield { text: display, bytes: utf8Length(display), src: countsAsOutput ? src : 0 };
  }
}

function truncationNote(stream: "stdout" | "stderr"): Token {
  const text = `…[${stream} truncated]`;
  return { text, bytes: utf8Length(text), src: 0, truncNote: true };
}

function* allTokens(result: RunResult, options: IrcFormatOptions): Generator<Token> {
  const parts: Array<() => Iterable<Token>> = [];
  const status = statusLine(result, options);
  if (status !== undefined) parts.push(() => streamTokens(status, false));
  if (options.verbose) parts.push(() => streamTokens(usageLine(result, options.fuelLimit), false));
  let anyOutput = false;
  for (const name of ["stdout", "stderr"] as const) {
    const text = result[name].replace(/\n+$/, "");
    const truncated = result.truncated[name];
    if (text === "" && !truncated) continue;
    anyOutput = true;
    parts.push(function* () {
      yield* streamTokens(text, true);
      if (truncated) yield truncationNote(name);
    });
  }
  if (!anyOutput && status === undefined) parts.push(() => streamTokens("(no output)", false));
  let first = true;
  for (const part of parts) {
    if (!first) yield { text: NEWLINE, bytes: utf8Length(NEWLINE), src: 0, newline: true };
    first = false;
    yield* part();
  }
}

/** Total program-output bytes the formatter can stand for (what the cut count is measured in). */
function outputBytes(result: RunResult): number {
  // Trailing newlines are dropped before display; count what is displayable.
  return utf8Length(result.stdout.replace(/\n+$/, "")) + utf8Length(result.stderr.replace(/\n+$/, ""));
}

const SHORT_CUT_MARK = "… (cut)";

function cutMark(moreBytes: number, moreTruncated: boolean): string {
  return `… (output cut, ${groupDigits(moreBytes)}${moreTruncated ? "+" : ""} more bytes)`;
}

function render(tokens: Token[]): string {
  let s = "";
  tokens.forEach((t, i) => {
    if (t.newline && i === 0) s += NEWLINE.trimStart();
    else if (t.newline && i === tokens.length - 1) s += NEWLINE.trimEnd();
    else s += t.text;
  });
  return s;
}

/** Pieces of a token too long for one message; the first carries the token's output count and note mark. */
function splitCodePoints(t: Token): Token[] {
  const out: Token[] = [...t.text].map((ch) => ({ text: ch, bytes: utf8Length(ch), src: 0 }));
  out[0]!.src = t.src;
  if (t.truncNote) out[0]!.truncNote = true;
  return out;
}

/** The messages for one result; never empty, each at most maxBytes of UTF-8. */
export function formatIrc(result: RunResult, options: IrcFormatOptions = {}): string[] {
  const maxBytes = options.maxBytes ?? IRC_DEFAULTS.maxBytes;
  const maxLines = options.maxLines ?? IRC_DEFAULTS.maxLines;
  if (!Number.isInteger(maxBytes) || maxBytes < MIN_MAX_BYTES) {
    throw new RangeError(`maxBytes must be an integer of at least ${MIN_MAX_BYTES}, got ${maxBytes}`);
  }
  if (!Number.isInteger(maxLines) || maxLines < 1) {
    throw new RangeError(`maxLines must be a positive integer, got ${maxLines}`);
  }

  const totalSrc = outputBytes(result);
  const totalNotes = (result.truncated.stdout ? 1 : 0) + (result.truncated.stderr ? 1 : 0);
  const iter = allTokens(result, options);
  const pending: Token[] = [];
  const next = (): Token | undefined => pending.shift() ?? iter.next().value ?? undefined;

  const messages: Token[][] = [];
  let current: Token[] = [];
  let currentBytes = 0;
  let usedSrc = 0;
  let usedNotes = 0;
  const take = (t: Token) => {
    usedSrc += t.src;
    if (t.truncNote) usedNotes++;
  };
  let token = next();
  while (token !== undefined) {
    // A newline that would open a message is dropped: the message break shows it.
    if (token.newline && current.length === 0 && messages.length > 0) {
      take(token);
      token = next();
      continue;
    }
    if (currentBytes + token.bytes <= maxBytes) {
      current.push(token);
      currentBytes += token.bytes;
      take(token);
      token = next();
      continue;
    }
    // Does not fit, and never would: a huge cluster (e.g. a letter with hundreds of combining
    // marks) is split between code points rather than dropped.
    if (token.bytes > maxBytes && [...token.text].length > 1) {
      pending.unshift(...splitCodePoints(token));
      token = next();
      continue;
    }
    messages.push(current);
    current = [];
    currentBytes = 0;
    if (messages.length === maxLines) break;
  }
  if (token === undefined) {
    if (current.length > 0) messages.push(current);
    return messages.map(render);
  }

  // Cut: drop tokens from the end of the last message until the mark fits. The short mark is
  // for tiny maxBytes only.
  const full = utf8Length(cutMark(totalSrc, true)) <= maxBytes;
  const last = messages[messages.length - 1]!;
  for (;;) {
    const mark = full ? cutMark(Math.max(0, totalSrc - usedSrc), usedNotes < totalNotes) : SHORT_CUT_MARK;
    const text = render(last).trimEnd();
    if (utf8Length(text) + utf8Length(mark) <= maxBytes) {
      messages[messages.length - 1] = [{ text: text + mark, bytes: 0, src: 0 }];
      break;
    }
    const removed = last.pop()!;
    usedSrc -= removed.src;
    if (removed.truncNote) usedNotes--;
  }
  return messages.map(render);
}

/** Exposed for tests: the UTF-8 bytes of a message. */
export function messageBytes(message: string): Uint8Array {
  return encoder.encode(message);
}
