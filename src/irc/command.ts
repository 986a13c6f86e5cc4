/**
 * Decides whether a PRIVMSG is a request to the bot and what was asked. Pure: the
 * caller supplies the bot's current nick and the server's channel prefixes.
 */

import { ircLower } from "./message.ts";

/**
 * One PRIVMSG and what the bot knows when deciding whether it is a request.
 *
 * @example
 * ```ts
 * const ctx: CommandContext = { text: "!py 1+1", target: "#py", from: "alice", botNick: "pybot", prefix: "!py" };
 * ```
 */
export interface CommandContext {
  /** Text of the PRIVMSG (trailing parameter). */
  text: string;
  /** Target of the PRIVMSG: a channel, or the bot's nick for a private query. */
  target: string;
  /** Nick of the sender. */
  from: string;
  /** The bot's current nick. */
  botNick: string;
  /** Command prefix, e.g. "!py". */
  prefix: string;
  /** Channel type characters from ISUPPORT CHANTYPES (default "#&"). */
  chanTypes?: string;
  /** Accept `nick: code` / `nick, code` (default true). */
  allowNickAddressing?: boolean;
  /** In a private query, treat text without the prefix as code (default true). */
  privateBareCode?: boolean;
  casemapping?: string;
  /** The word that asks for the rest of a cut reply (`!more`; see moreWord). */
  moreWord?: string;
}

/**
 * Where and to whom the answer goes.
 *
 * @example
 * ```ts
 * const r: Reply = { replyTo: "#py", addressee: "alice", private: false };
 * ```
 */
export interface Reply {
  /** Where to answer: the channel, or the sender's nick for a private query. */
  replyTo: string;
  /** Nick to prefix the answer with (`nick: `) in a channel; absent in private. */
  addressee?: string;
  private: boolean;
}

/**
 * A request to the bot: code to evaluate, or an empty request (answered with the usage hint).
 *
 * @example
 * ```ts
 * const c: Command = { kind: "eval", code: "1+1", verbose: false, replyTo: "#py", addressee: "alice", private: false };
 * ```
 */
export type Command =
  | ({
    kind: "eval";
    code: string;
    verbose: boolean; /** Asked with the prefix: answered even with a SyntaxError (chatter is not). */
    explicit: boolean;
  } & Reply)
  | ({ kind: "usage"; verbose: boolean } & Reply)
  | ({ kind: "more"; verbose: boolean } & Reply)
  | ({ kind: "help"; verbose: boolean } & Reply);

/**
 * Whether a target is a channel, by its first character and the server's CHANTYPES.
 *
 * @example
 * ```ts
 * isChannel("#py"); // true
 * isChannel("alice"); // false
 * ```
 */
export function isChannel(target: string, chanTypes = "#&"): boolean {
  return target.length > 0 && chanTypes.includes(target[0]);
}

/**
 * The one-line hint sent for an empty request.
 *
 * @example
 * ```ts
 * usageHint("!py", "pybot"); // "usage: !py <python code> (e.g. !py sum(range(10))), ..."
 * ```
 */
export function usageHint(prefix: string, botNick: string): string {
  return `usage: ${prefix} <python code> (e.g. ${prefix} sum(range(10))), ${prefix}:v <code> adds fuel and time; or ${botNick}: <code>`;
}

/**
 * The `!more` command for a prefix: the prefix's leading punctuation (`!` when it has none) and "more".
 *
 * @example
 * ```ts
 * moreWord("!py"); // "!more"
 * moreWord("py"); // "!more"
 * ```
 */
export function moreWord(prefix: string): string {
  const sigil = /^[^\p{L}\p{N}]*/u.exec(prefix)![0];
  return `${sigil || "!"}more`;
}

function afterWord(text: string, word: string): string | undefined {
  if (text === word) return "";
  if (text.startsWith(word) && /^[ \t]/.test(text.slice(word.length))) return text.slice(word.length);
  return undefined;
}

/**
 * Returns the request in a PRIVMSG, or undefined when it is not addressed to the bot.
 *
 * @example
 * ```ts
 * parseCommand({ text: "pybot: 6*7", target: "#py", from: "alice", botNick: "pybot", prefix: "!py" });
 * // { kind: "eval", code: "6*7", verbose: false, replyTo: "#py", addressee: "alice", private: false }
 * ```
 */
export function parseCommand(ctx: CommandContext): Command | undefined {
  const { text, from, botNick, prefix } = ctx;
  // CTCP (ACTION, VERSION, ...) is never a request.
  if (text.startsWith("\x01")) return undefined;
  const cm = ctx.casemapping ?? "rfc1459";
  const inChannel = isChannel(ctx.target, ctx.chanTypes ?? "#&");
  const reply: Reply = inChannel
    ? { replyTo: ctx.target, addressee: from, private: false }
    : { replyTo: from, private: true };

  let body: string | undefined;
  let verbose = false;
  let explicit = false;
  if (prefix && afterWord(text, prefix + ":help") !== undefined) return { kind: "help", verbose, ...reply };
  const more = ctx.moreWord ?? moreWord(prefix);
  if (text.trim() === more || (!inChannel && text.trim().toLowerCase() === "more")) {
    return { kind: "more", verbose, ...reply };
  }
  // A bare mention of the bot ("pybot", "pybot?") asks who it is.
  const bare = /^([^\s:,?!]+)[?!]*$/.exec(text.trim());
  if (bare && (ctx.allowNickAddressing ?? true) && ircLower(bare[1]!, cm) === ircLower(botNick, cm)) {
    return { kind: "help", verbose, ...reply };
  }
  if (prefix) {
    body = afterWord(text, prefix + ":v");
    if (body !== undefined) verbose = true;
    else body = afterWord(text, prefix);
    explicit = body !== undefined;
  }
  if (body === undefined && (ctx.allowNickAddressing ?? true)) {
    const m = /^([^\s:,]+)[:,](.*)$/s.exec(text);
    if (m && ircLower(m[1], cm) === ircLower(botNick, cm)) body = m[2];
  }
  if (body === undefined && !inChannel && (ctx.privateBareCode ?? true)) body = text;
  if (body === undefined) return undefined;
  const code = body.trim();
  if (code === "") return { kind: "usage", verbose, ...reply };
  if (!explicit && code.toLowerCase() === "more") return { kind: "more", verbose, ...reply };
  return { kind: "eval", code, verbose, explicit, ...reply };
}
