/**
 * Nick arithmetic: fitting a nick to the server's NICKLEN and making fallback nicks. Servers
 * announce their limit in ISUPPORT only after registration; before it, a refused long nick
 * means RFC 1459's 9 is the safe guess. Pure.
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
 * A fallback nick: the main one's start and four digits, within 9 characters.
 *
 * @example
 * ```ts
 * randomNick("pybotnick", 0.1234); // "pybot1234"
 * ```
 */
export function randomNick(main: string, random: number): string {
  return `${main.slice(0, 5)}${String(Math.floor(random * 10000)).padStart(4, "0")}`;
}
