/**
 * Nick arithmetic: fitting a nick to the server's NICKLEN, guessing a shorter limit after a
 * refusal, and making fallback nicks that are shortened before their digits are added (so a
 * fallback never grows past what the server takes). Servers announce their limit in ISUPPORT
 * only after registration; before it, a refusal of a long nick is all there is to go on. Pure.
 */

/** RFC 1459's nick length: what a server that refused a longer nick surely takes. */
export const RFC_NICKLEN = 9;

/**
 * A nick cut to the server's length (NICKLEN), keeping it a nick.
 *
 * @example
 * ```ts
 * fitNick("averyverylongbotnick_", 9); // "averyvery"
 * ```
 */
export function fitNick(nick: string, max: number): string {
  return nick.length <= max ? nick : nick.slice(0, Math.max(1, max));
}

/**
 * A fallback nick: the main one's start and up to four digits, within `max` characters (the
 * start is shortened first, the digits never pushed past the limit).
 *
 * @example
 * ```ts
 * randomNick("pybotnick", 0.1234); // "pybot1234"
 * randomNick("wasipybot", 0.1234, 5); // "w1234"
 * ```
 */
export function randomNick(main: string, random: number, max = RFC_NICKLEN): string {
  const digits = Math.min(4, Math.max(0, max - 1));
  if (digits === 0) return main.slice(0, 1);
  const n = String(Math.floor(random * 10 ** digits)).padStart(digits, "0");
  return `${main.slice(0, Math.min(5, max - digits))}${n}`;
}

/**
 * The nick length to assume after the server refused `refused` as erroneous: RFC 1459's 9 for a
 * longer nick, else one less than the refused nick (a wildcard ban on a word is also escaped by
 * shortening), never below 1 and never above what was already assumed.
 *
 * @example
 * ```ts
 * shorterLimit("wasipybot_x", undefined); // 9
 * shorterLimit("wasipybot", 9); // 8
 * ```
 */
export function shorterLimit(refused: string, assumed: number | undefined): number {
  const guess = refused.length > RFC_NICKLEN ? RFC_NICKLEN : refused.length - 1;
  return Math.max(1, Math.min(assumed ?? Infinity, guess));
}
