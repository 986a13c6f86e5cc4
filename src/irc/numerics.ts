/**
 * IRC numeric replies, named once. Servers answer with three-digit codes; code that
 * compares against a bare "433" hides what it means and invites typos, so every numeric
 * the client handles (or the next change will handle) is spelled here and only here,
 * under its name from RFC 2812 and the IRCv3 SASL specification.
 */

/**
 * The numerics the client uses, by name.
 *
 * @example
 * ```ts
 * import { Numerics } from "./numerics.ts";
 * if (message.command === Numerics.ERR_NICKNAMEINUSE) tryAnotherNick();
 * ```
 */
export const Numerics = {
  // ---- registration ----
  /** First reply after registration; its last word is often our `nick!user@host`. */
  RPL_WELCOME: "001",
  /** ISUPPORT tokens (CHANTYPES, CASEMAPPING, ...). */
  RPL_ISUPPORT: "005",
  /** WHOIS answer: `nick user host * :realname`. */
  RPL_WHOISUSER: "311",
  /** Our displayed host changed (cloak, vhost). */
  RPL_HOSTHIDDEN: "396",

  // ---- nick ----
  ERR_ERRONEUSNICKNAME: "432",
  ERR_NICKNAMEINUSE: "433",
  ERR_NICKCOLLISION: "436",
  /** Nick temporarily unavailable (held after a split or a recent change). */
  ERR_UNAVAILRESOURCE: "437",

  /** The server password was wrong (or missing). */
  ERR_PASSWDMISMATCH: "464",

  // ---- channels and messages ----
  /** One line of a channel's member list: `me = #chan :@op +voice nick`. */
  RPL_NAMREPLY: "353",
  RPL_ENDOFNAMES: "366",
  /** No such nick or channel (a private reply to someone who left). */
  ERR_NOSUCHNICK: "401",
  ERR_CANNOTSENDTOCHAN: "404",
  ERR_CHANNELISFULL: "471",
  ERR_INVITEONLYCHAN: "473",
  ERR_BANNEDFROMCHAN: "474",
  ERR_BADCHANNELKEY: "475",

  // ---- SASL (IRCv3) ----
  RPL_LOGGEDIN: "900",
  /** The account is locked or held; SASL cannot log in to it. */
  ERR_NICKLOCKED: "902",
  RPL_SASLSUCCESS: "903",
  ERR_SASLFAIL: "904",
  ERR_SASLTOOLONG: "905",
  ERR_SASLABORTED: "906",
  /** The mechanisms the server offers, sent after a failed attempt. */
  RPL_SASLMECHS: "908",
} as const;

/**
 * A numeric's three-digit code.
 *
 * @example
 * ```ts
 * import type { Numeric } from "./numerics.ts";
 * const welcome: Numeric = "001";
 * ```
 */
export type Numeric = (typeof Numerics)[keyof typeof Numerics];

/**
 * The CAP negotiation version we announce (`CAP LS 302`: multi-line lists, capability
 * values). Not a reply numeric, but three digits all the same: it lives here so that
 * no bare three-digit string remains elsewhere in src/irc.
 *
 * @example
 * ```ts
 * conn.send({ command: "CAP", params: ["LS", CAP_LS_VERSION] });
 * ```
 */
export const CAP_LS_VERSION = "302";
