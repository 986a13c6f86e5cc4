/**
 * `!more`: the rest of a requester's last cut reply, kept in memory for a while. Keyed on the
 * requester's account or host (the rate-limit key, never the nick), one entry each (a new cut
 * reply replaces the old), at most `maxBytesPerRequester` of output kept per entry (what is
 * beyond is counted and said, not kept), at most `maxBytesTotal` over all (the oldest entry goes
 * first), and nothing older than `expiryMs`. Also the arithmetic that finds where a cut reply
 * stopped, from the formatter's cut mark. Pure: the caller passes `now`.
 */
import { utf8Length } from "../text/utf8.ts";

/**
 * How much `!more` keeps, and for how long.
 *
 * @example
 * ```ts
 * const o: MoreOptions = { expiryMs: 300_000, maxBytesPerRequester: 65_536, maxBytesTotal: 4_194_304 };
 * ```
 */
export interface MoreOptions {
  expiryMs: number;
  maxBytesPerRequester: number;
  maxBytesTotal: number;
}

/**
 * One requester's kept output.
 *
 * @example
 * ```ts
 * const e: MoreEntry = { rest: "line 40\nline 41", lostBytes: 0, at: 0 };
 * ```
 */
export interface MoreEntry {
  /** The output not shown yet (kept part). */
  rest: string;
  /** Output bytes beyond the per-requester cap: not kept, only counted. */
  lostBytes: number;
  /** When it was stored (ms). */
  at: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The last `n` bytes of `text` as UTF-8, starting at a character boundary.
 *
 * @example
 * ```ts
 * lastBytes("héllo", 4); // "llo" (é would be split)
 * ```
 */
export function lastBytes(text: string, n: number): string {
  const b = encoder.encode(text);
  if (n >= b.length) return text;
  let i = b.length - Math.max(0, n);
  while (i < b.length && (b[i]! & 0xc0) === 0x80) i++;
  return decoder.decode(b.subarray(i));
}

/**
 * The first `n` bytes of `text` as UTF-8, ending at a character boundary.
 *
 * @example
 * ```ts
 * firstBytes("héllo", 2); // "h"
 * ```
 */
export function firstBytes(text: string, n: number): string {
  const b = encoder.encode(text);
  if (n >= b.length) return text;
  let i = Math.max(0, n);
  while (i > 0 && (b[i]! & 0xc0) === 0x80) i--;
  return decoder.decode(b.subarray(0, i));
}

/** The formatter's head cut mark: `… (output cut, 1,234 more bytes…)`. */
const HEAD_CUT = /\(output cut, ([\d,]+)\+? more bytes/;

/**
 * Output bytes a cut reply left out at its end, read from its cut mark; undefined when the reply
 * kept the end instead (a traceback) or has no mark.
 *
 * @example
 * ```ts
 * bytesLeftOut(["a", "b… (output cut, 1,234 more bytes: !more)"]); // 1234
 * ```
 */
export function bytesLeftOut(lines: readonly string[]): number | undefined {
  const m = HEAD_CUT.exec(lines[lines.length - 1] ?? "");
  return m ? Number(m[1]!.replace(/,/g, "")) : undefined;
}

/**
 * Output kept per requester for `!more`.
 *
 * @example
 * ```ts
 * const store = new MoreStore({ expiryMs: 300_000, maxBytesPerRequester: 65_536, maxBytesTotal: 4_194_304 });
 * store.put("@home.example", "the rest", 0, 0);
 * store.take("@home.example", 1000)?.rest; // "the rest"
 * ```
 */
export class MoreStore {
  #o: MoreOptions;
  /** In the order they were stored: the first is the oldest. */
  #entries = new Map<string, MoreEntry & { bytes: number }>();
  #bytes = 0;

  constructor(o: MoreOptions) {
    this.#o = o;
  }

  /** Bytes kept over all requesters. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Requesters with something kept. */
  get size(): number {
    return this.#entries.size;
  }

  #drop(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#bytes -= e.bytes;
    this.#entries.delete(key);
  }

  #expire(now: number): void {
    for (const [key, e] of this.#entries) {
      if (now - e.at < this.#o.expiryMs) break; // the rest are newer
      this.#drop(key);
    }
  }

  /** Keeps `rest` (cut to the per-requester cap) for `key`, replacing what it had; `lostBytes` were already not kept. */
  put(key: string, rest: string, now: number, lostBytes: number): void {
    this.#drop(key);
    this.#expire(now);
    if (rest === "" && lostBytes === 0) return;
    const kept = firstBytes(rest, this.#o.maxBytesPerRequester);
    const bytes = utf8Length(kept);
    const lost = lostBytes + utf8Length(rest) - bytes;
    this.#entries.set(key, { rest: kept, lostBytes: lost, at: now, bytes });
    this.#bytes += bytes;
    for (const k of this.#entries.keys()) {
      if (this.#bytes <= this.#o.maxBytesTotal || k === key) break;
      this.#drop(k);
    }
  }

  /** Removes and returns what `key` has kept (nothing when expired). */
  take(key: string, now: number): MoreEntry | undefined {
    this.#expire(now);
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#drop(key);
    return { rest: e.rest, lostBytes: e.lostBytes, at: e.at };
  }
}
