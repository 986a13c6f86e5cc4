/**
 * RunResult → the messages an IRC bot sends (and what `wasi-py --format irc` prints). Pure.
 * Pieces: src/format/summary.ts (status lines), src/text/escape.ts (one code point at a time),
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
 * - A Python traceback (stderr holding `Traceback (most recent call last):`) that does not fit
 *   keeps its END: the status line, then `… (N bytes cut) ` and as much of the end of the output
 *   as fits, so the exception line is always shown. Other output keeps its start.
 * - Time is linear in what is kept: only the first (or, for a traceback, the last)
 *   maxLines × maxBytes code units of each stream are examined; the rest is only counted.
 * - With `cutLink`, the cut mark ends with `: <link>` (the bot's paste target).
 * - A stream the sandbox truncated (RunResult.truncated) is followed by `…[stdout truncated]` /
 *   `…[stderr truncated]`.
 */

import type { RunResult } from "../sandbox/mod.ts";
import { escapeCodePoint, NEWLINE } from "../text/escape.ts";
import { groupDigits, statusLine, usageLine } from "./summary.ts";
import type { SummaryOptions } from "./summary.ts";
import { utf8Length } from "../text/utf8.ts";
import { FORMAT_LIMITS, MIN_MAX_BYTES } from "../options/format.ts";

/** How to cut a result into messages (the status line names the limits of RunResult.limits). */
export interface IrcFormatOptions extends SummaryOptions {
  /** Largest message in bytes of UTF-8 (without the bot's own prefix). Default 400. */
  maxBytes?: number;
  /** Most messages sent for one result. Default 2. */
  maxLines?: number;
  /** Where the whole output can be read (a paste link): named at the end of the cut mark. */
  cutLink?: string;
}

/**
 * The messages for one result and whether output was left out.
 *
 * @example
 * ```ts
 * const r: IrcReply = { lines: ["2"], cut: false };
 * ```
 */
export interface IrcReply {
  lines: string[];
  cut: boolean;
}

/** The `irc` format's defaults: the --max-bytes and --max-lines options' (src/options/format.ts). */
export const IRC_DEFAULTS = Object.freeze({
  maxBytes: FORMAT_LIMITS.maxBytes.default,
  maxLines: FORMAT_LIMITS.maxLines.default,
});

const encoder = new TextEncoder();
const TRACEBACK_HEADER = "Traceback (most recent call last):";

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

const NEWLINE_BYTES = utf8Length(NEWLINE);

function newlineToken(src: number): Token {
  return { text: NEWLINE, bytes: NEWLINE_BYTES, src, newline: true };
}

/** The tokens of a (windowed, so bounded) text: one per grapheme cluster, newlines apart. */
function streamTokens(text: string, countsAsOutput: boolean): Token[] {
  const out: Token[] = [];
  for (const segment of graphemes(text)) {
    let display = "";
    let src = 0;
    for (const ch of segment) {
      const cp = ch.codePointAt(0)!;
      if (cp === 10) {
        // "\r\n" is one grapheme: flush the "␍" first so the newline stays a token of its own.
        if (display) out.push({ text: display, bytes: utf8Length(display), src: countsAsOutput ? src : 0 });
        display = "";
        src = 0;
        out.push(newlineToken(countsAsOutput ? 1 : 0));
      } else {
        display += cp === 9 ? " " : escapeCodePoint(cp);
        src += utf8Length(ch);
      }
    }
    if (display) out.push({ text: display, bytes: utf8Length(display), src: countsAsOutput ? src : 0 });
  }
  return out;
}

/** The text without trailing newlines, in time linear in how many there are. */
function trimTrailingNewlines(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 10) end--;
  return end === s.length ? s : s.slice(0, end);
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** At most `n` code units from the start (tail: from the end), never splitting a surrogate pair. */
function window(s: string, n: number, tail: boolean): string {
  if (s.length <= n) return s;
  if (n <= 0) return "";
  if (!tail) return s.slice(0, isHigh(s.charCodeAt(n - 1)) ? n - 1 : n);
  const b = s.length - n;
  return s.slice(isLow(s.charCodeAt(b)) ? b + 1 : b);
}

/** The program's output as tokens, windowed; what was left unexamined is only counted. */
interface Body {
  tokens: Token[];
  /** Output beyond the window exists (the reply is cut whatever fits). */
  windowed: boolean;
  totalSrc: number;
  totalNotes: number;
}

function bodyTokens(result: RunResult, budget: number, tail: boolean): Body {
  const texts = { stdout: trimTrailingNewlines(result.stdout), stderr: trimTrailingNewlines(result.stderr) };
  const order = tail ? (["stderr", "stdout"] as const) : (["stdout", "stderr"] as const);
  const parts: Token[][] = [];
  let left = budget;
  let windowed = false;
  let totalSrc = 0;
  let totalNotes = 0;
  for (const name of order) {
    const text = texts[name];
    const truncated = result.truncated[name];
    totalSrc += utf8Length(text);
    if (truncated) totalNotes++;
    if (text === "" && !truncated) continue;
    if (windowed) continue;
    const shown = window(text, left, tail);
    left -= shown.length;
    if (shown.length < text.length) windowed = true;
    if (shown === "" && text !== "") continue;
    const toks = streamTokens(shown, true);
    if (truncated && shown.length === text.length) {
      const note = `…[${name} truncated]`;
      toks.push({ text: note, bytes: utf8Length(note), src: 0, truncNote: true });
    }
    parts.push(toks);
  }
  if (tail) parts.reverse();
  const tokens: Token[] = [];
  parts.forEach((p, i) => {
    if (i > 0) tokens.push(newlineToken(0));
    for (const t of p) tokens.push(t);
  });
  return { tokens, windowed, totalSrc, totalNotes };
}

/** The status and verbose lines, joined by newlines (our own text, no output bytes). */
function prefixTokens(result: RunResult, options: IrcFormatOptions): Token[] {
  const lines: string[] = [];
  const status = statusLine(result, options);
  if (status !== undefined) lines.push(status);
  if (options.verbose) lines.push(usageLine(result));
  const out: Token[] = [];
  lines.forEach((l, i) => {
    if (i > 0) out.push(newlineToken(0));
    for (const t of streamTokens(l, false)) out.push(t);
  });
  return out;
}

const SHORT_CUT_MARK = "… (cut)";

function cutMark(moreBytes: number, moreTruncated: boolean, link: string | undefined): string {
  return `… (output cut, ${groupDigits(moreBytes)}${moreTruncated ? "+" : ""} more bytes${link ? `: ${link}` : ""})`;
}

function tailCutMark(cutBytes: number, link: string | undefined): string {
  return `… (${groupDigits(cutBytes)} bytes cut${link ? `, all: ${link}` : ""}) `;
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

/** Messages filled greedily from `tokens`; `capacity(i)` is message i's byte budget. */
interface Packed {
  messages: Token[][];
  /** Every token was placed (or dropped as a newline at a break). */
  complete: boolean;
  usedSrc: number;
  usedNotes: number;
}

function pack(tokens: Token[], maxLines: number, capacity: (i: number) => number, reverse: boolean): Packed {
  const messages: Token[][] = [];
  let current: Token[] = [];
  let currentBytes = 0;
  let usedSrc = 0;
  let usedNotes = 0;
  // `split` holds the pieces of an over-long cluster (a stack, next piece last).
  let split: Token[] = [];
  let i = 0;
  const peek = (): Token | undefined => split.length ? split[split.length - 1] : tokens[i];
  const advance = () => split.length ? split.pop() : i++;
  const take = (t: Token) => {
    usedSrc += t.src;
    if (t.truncNote) usedNotes++;
  };
  for (let t = peek(); t !== undefined; t = peek()) {
    // A newline that would open (or, filling backwards, close) a message is dropped: the break shows it.
    if (t.newline && current.length === 0 && messages.length > 0) {
      take(t);
      advance();
      continue;
    }
    const cap = capacity(messages.length);
    if (currentBytes + t.bytes <= cap) {
      current.push(t);
      currentBytes += t.bytes;
      take(t);
      advance();
      continue;
    }
    // Too long for any message: a huge cluster is split between code points rather than dropped.
    if (t.bytes > cap && t.text.length > 1 && [...t.text].length > 1) {
      advance();
      const pieces = splitCodePoints(t);
      if (reverse) pieces.reverse();
      split = split.concat(pieces.reverse());
      continue;
    }
    messages.push(current);
    current = [];
    currentBytes = 0;
    if (messages.length === maxLines) return { messages, complete: false, usedSrc, usedNotes };
  }
  if (current.length > 0) messages.push(current);
  return { messages, complete: true, usedSrc, usedNotes };
}

function checkLimits(maxBytes: number, maxLines: number): void {
  if (!Number.isInteger(maxBytes) || maxBytes < MIN_MAX_BYTES) {
    throw new RangeError(`maxBytes must be an integer of at least ${MIN_MAX_BYTES}, got ${maxBytes}`);
  }
  if (!Number.isInteger(maxLines) || maxLines < 1) {
    throw new RangeError(`maxLines must be a positive integer, got ${maxLines}`);
  }
}

/** Keeps the start: prefix, then the output, cut at the end with the count of the rest. */
function formatHead(result: RunResult, o: IrcFormatOptions, maxBytes: number, maxLines: number): IrcReply {
  const prefix = prefixTokens(result, o);
  const body = bodyTokens(result, maxBytes * maxLines + 8, false);
  const shown = body.tokens.length || statusLine(result, o) !== undefined
    ? body.tokens
    : streamTokens("(no output)", false);
  const tokens = [...prefix];
  if (prefix.length && shown.length) tokens.push(newlineToken(0));
  for (const t of shown) tokens.push(t);
  const p = pack(tokens, maxLines, () => maxBytes, false);
  if (p.complete && !body.windowed) return { lines: p.messages.map(render), cut: false };

  // Cut: drop tokens from the end of the last message until the mark fits. The short mark is
  // for tiny maxBytes only.
  const full = utf8Length(cutMark(body.totalSrc, true, o.cutLink)) <= maxBytes;
  const messages = p.messages;
  const last = messages[messages.length - 1]!;
  let usedSrc = p.usedSrc;
  let usedNotes = p.usedNotes;
  for (;;) {
    const mark = full
      ? cutMark(Math.max(0, body.totalSrc - usedSrc), usedNotes < body.totalNotes, o.cutLink)
      : SHORT_CUT_MARK;
    const text = render(last).trimEnd();
    if (utf8Length(text) + utf8Length(mark) <= maxBytes) {
      messages[messages.length - 1] = [{ text: text + mark, bytes: 0, src: 0 }];
      break;
    }
    const removed = last.pop()!;
    usedSrc -= removed.src;
    if (removed.truncNote) usedNotes--;
  }
  return { lines: messages.map(render), cut: true };
}

/** Keeps the end (for tracebacks): prefix and cut mark first, then the last part of the output. */
function formatTail(result: RunResult, o: IrcFormatOptions, maxBytes: number, maxLines: number): IrcReply | undefined {
  const prefix = prefixTokens(result, o);
  const body = bodyTokens(result, maxBytes * maxLines + 8, true);
  const prefixBytes = prefix.reduce((n, t) => n + t.bytes, 0) + (prefix.length ? NEWLINE_BYTES : 0);
  const reserve = prefixBytes + utf8Length(tailCutMark(body.totalSrc, o.cutLink));
  if (reserve + 8 > maxBytes) return undefined;
  const reversed = body.tokens.slice().reverse();
  const p = pack(reversed, maxLines, (i) => i === maxLines - 1 ? maxBytes - reserve : maxBytes, true);
  if (p.complete && !body.windowed) return undefined; // it all fits after all: the head form says it whole
  const packed = p.messages.reverse().map((m) => m.reverse());
  // Packing may end early (windowed input): the first message must still leave room for the head.
  let usedSrc = p.usedSrc;
  const first = packed[0]!;
  while (first.length && first.reduce((n, t) => n + t.bytes, 0) + reserve > maxBytes) usedSrc -= first.shift()!.src;
  const messages = packed.map((m) => render(m).trim());
  const mark = tailCutMark(Math.max(0, body.totalSrc - usedSrc), o.cutLink);
  const head = prefix.length ? render(prefix) + NEWLINE : "";
  messages[0] = head + mark + messages[0];
  return { lines: messages, cut: true };
}

/** Whether the output ends in a Python traceback, whose last line (the exception) matters most. */
function hasTraceback(result: RunResult): boolean {
  return result.stderr.includes(TRACEBACK_HEADER);
}

/**
 * The messages for one result and whether output was cut (see the file comment for the rules).
 *
 * @example
 * ```ts
 * formatIrcReply(result, { maxBytes: 400, maxLines: 3 }); // { lines: ["2"], cut: false }
 * ```
 */
export function formatIrcReply(result: RunResult, options: IrcFormatOptions = {}): IrcReply {
  const maxBytes = options.maxBytes ?? IRC_DEFAULTS.maxBytes;
  const maxLines = options.maxLines ?? IRC_DEFAULTS.maxLines;
  checkLimits(maxBytes, maxLines);
  const head = formatHead(result, options, maxBytes, maxLines);
  if (!head.cut || !hasTraceback(result)) return head;
  return formatTail(result, options, maxBytes, maxLines) ?? head;
}

/**
 * The messages for one result; never empty, each at most maxBytes of UTF-8.
 *
 * @example
 * ```ts
 * formatIrc(result, { maxBytes: 400, maxLines: 2 }); // ["2"]
 * ```
 */
export function formatIrc(result: RunResult, options: IrcFormatOptions = {}): string[] {
  return formatIrcReply(result, options).lines;
}

/** Exposed for tests: the UTF-8 bytes of a message. */
export function messageBytes(message: string): Uint8Array {
  return encoder.encode(message);
}
