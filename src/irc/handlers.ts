/**
 * What the client does with each incoming command, as maps from command (or named
 * numeric) to a small handler, grouped by concern: connection, registration, SASL,
 * nick, channel. A new reply is one entry here, not another case in a long switch;
 * the client supplies its session state and the few actions handlers may trigger.
 */

import type { IrcMessage } from "./message.ts";
import { Numerics as N } from "./numerics.ts";

/**
 * The client's view of one session (reset on every connect).
 *
 * @example
 * ```ts
 * const s = newSession("pybot");
 * s.registered; // false
 * ```
 */
export interface SessionState {
  /** Our current nick (the configured one, an alternate, or what the server gave us). */
  nick: string;
  /** Our user and host as others see them, once the server told us. */
  user: string | undefined;
  host: string | undefined;
  registered: boolean;
  /** How many nicks we have tried beyond the main one. */
  nickIndex: number;
  /** Capabilities the server acknowledged. */
  caps: Set<string>;
  /** Capabilities the server offers (CAP LS). */
  lsCaps: Set<string>;
  /** CAP END sent. */
  capDone: boolean;
  /** Channels we are in (lower-cased). */
  channels: Set<string>;
  /** ISUPPORT tokens, keys upper-cased. */
  isupport: Map<string, string>;
  /** The server answered our CAP LS (false: a server without capability negotiation). */
  capSeen: boolean;
  /** SASL succeeded on this connection. */
  saslDone: boolean;
  /** Longest nick we believe the server takes (ISUPPORT NICKLEN, or a guess after a refusal). */
  nickMax: number | undefined;
}

/**
 * A fresh session for a new connection.
 *
 * @example
 * ```ts
 * newSession("pybot").nick; // "pybot"
 * ```
 */
export function newSession(nick: string): SessionState {
  return {
    nick,
    user: undefined,
    host: undefined,
    registered: false,
    nickIndex: 0,
    caps: new Set(),
    lsCaps: new Set(),
    capDone: false,
    channels: new Set(),
    isupport: new Map(),
    capSeen: false,
    saslDone: false,
    nickMax: undefined,
  };
}

/**
 * What a handler may read and do: the session, the configured nick and channels, and
 * the client's actions for registration, CAP/SASL and nicks.
 *
 * @example
 * ```ts
 * const h: Handler = (c, m) => c.send("PONG", m.params[0] ?? "x");
 * ```
 */
export interface HandlerContext {
  readonly state: SessionState;
  /** The main nick as the server takes it, and the configured channels ("#chan" or "#chan key"). */
  readonly mainNick: string;
  readonly autoJoin: readonly string[];
  /** The configured SASL mechanism, if any. */
  readonly saslMechanism: string | undefined;
  /** Sends a command now (no flood control). */
  send(command: string, ...params: string[]): void;
  log(level: "info" | "warn" | "error", text: string): void;
  /** Lower-cases under the server's case mapping. */
  lower(s: string): string;
  /** Whether `nick` is ours. */
  isMe(nick: string | undefined): boolean;
  /** True while we are leaving on purpose. */
  quitting(): boolean;
  /** Runs `fn` later unless the client quits first. */
  later(ms: number, fn: () => void): void;
  /** 001 arrived and the state says so: join, regain, announce. */
  registered(): void;
  cap(m: IrcMessage): void;
  authenticate(arg: string): void;
  capEnd(): void;
  saslFailed(why: string): void;
  /** The nick we asked for is refused before registration (`why`: taken, erroneous): try the next. */
  nextNick(why: string): void;
  /** A PONG arrived with this token. */
  pong(token: string): void;
  /** A JOIN was refused (numeric and reason): log it and retry later. */
  joinFailed(channel: string, why: string): void;
  /** We joined `channel`. */
  joined(channel: string): void;
  /** A message to `target` was refused (404, +m, banned). */
  cannotSend(target: string, why: string): void;
  /** Modes of `channel` changed: a refusal to send may be over. */
  modesChanged(channel: string): void;
  /** The server refused our password (464). */
  passwordRefused(why: string): void;
  /** Our nick changed: start or stop trying to regain the main one. */
  nickChanged(): void;
  /** Whether `nick` leaving or changing frees our main nick for us to take back. */
  wantMainNick(nick: string | undefined): boolean;
  /** Someone else joined `channel`. */
  userJoined(channel: string, nick: string): void;
  /** Someone else left `channel` (PART, KICK), or the network when `channel` is undefined (QUIT). */
  userLeft(nick: string, channel: string | undefined): void;
  /** Someone else changed nick. */
  userRenamed(from: string, to: string): void;
  /** A NAMES line's nicks for `channel`, and its end. */
  names(channel: string, nicks: string[]): void;
  namesEnd(channel: string): void;
  /** A message to `target` was refused: no such nick or channel (401). */
  noSuchNick(target: string, why: string): void;
  /** We were kicked from `channel` by `by`. */
  kicked(channel: string, by: string, reason: string): void;
  /** We left `channel` (PART). */
  parted(channel: string): void;
}

/**
 * Reacts to one incoming message.
 *
 * @example
 * ```ts
 * const ping: Handler = (c, m) => c.send("PONG", m.params[0] ?? "x");
 * ```
 */
export type Handler = (c: HandlerContext, m: IrcMessage) => void;

/**
 * Our `nick!user@host` from the last word of the welcome text, when it is there.
 *
 * @example
 * ```ts
 * welcomeMask("Welcome to the network pybot!~py@host.example");
 * // { nick: "pybot", user: "~py", host: "host.example" }
 * ```
 */
export function welcomeMask(text: string): { nick: string; user: string; host: string } | undefined {
  const words = text.split(" ");
  const full = words[words.length - 1];
  const bang = full.indexOf("!");
  const at = full.indexOf("@");
  if (bang > 0 && at > bang) {
    return { nick: full.slice(0, bang), user: full.slice(bang + 1, at), host: full.slice(at + 1) };
  }
  return undefined;
}

/**
 * Applies one RPL_ISUPPORT line's tokens (`KEY`, `KEY=value`, `-KEY`) to the table.
 *
 * @example
 * ```ts
 * const t = new Map<string, string>();
 * applyIsupport(t, ["pybot", "CHANTYPES=#", "-EXCEPTS", "are supported by this server"]);
 * t.get("CHANTYPES"); // "#"
 * ```
 */
export function applyIsupport(table: Map<string, string>, params: readonly string[]): void {
  for (const tok of params.slice(1, -1)) {
    const eq = tok.indexOf("=");
    if (tok.startsWith("-")) table.delete(tok.slice(1).toUpperCase());
    else table.set((eq < 0 ? tok : tok.slice(0, eq)).toUpperCase(), eq < 0 ? "" : tok.slice(eq + 1));
  }
}

/**
 * The JOIN parameters for a configured channel entry ("#chan" or "#chan key").
 *
 * @example
 * ```ts
 * joinParams("#py secret"); // ["#py", "secret"]
 * ```
 */
export function joinParams(entry: string): string[] {
  const [chan, key] = entry.split(" ");
  return key ? [chan, key] : [chan];
}

const connectionHandlers: Record<string, Handler> = {
  PING: (c, m) => {
    const p = m.params;
    c.send("PONG", ...(p.length ? [p[p.length - 1]] : ["x"]));
  },
  PONG: (c, m) => c.pong(m.params[m.params.length - 1] ?? ""),
  ERROR: (c, m) => {
    const text = m.params[0] ?? "";
    c.log(c.quitting() ? "info" : "warn", `server closed the link: ${text}`);
    // Some servers (ngIRCd) refuse a wrong PASS with an ERROR only, no 464.
    if (!c.state.registered && /password/i.test(text)) c.passwordRefused(text);
  },
  [N.ERR_PASSWDMISMATCH]: (c, m) => c.passwordRefused(m.params[m.params.length - 1] ?? "password incorrect"),
};

const registrationHandlers: Record<string, Handler> = {
  [N.RPL_WELCOME]: (c, m) => {
    const s = c.state;
    const p = m.params;
    s.registered = true;
    if (p[0]) s.nick = p[0];
    const mask = welcomeMask(p[p.length - 1] ?? "");
    if (mask && c.isMe(mask.nick)) {
      s.user = mask.user;
      s.host = mask.host;
    }
    c.registered();
  },
  [N.RPL_ISUPPORT]: (c, m) => {
    applyIsupport(c.state.isupport, m.params);
    const len = Number(c.state.isupport.get("NICKLEN") ?? c.state.isupport.get("MAXNICKLEN"));
    if (Number.isInteger(len) && len > 0) c.state.nickMax = len;
  },
  // nick user host * :realname
  [N.RPL_WHOISUSER]: (c, m) => {
    const p = m.params;
    if (c.isMe(p[1]) && p[2] && p[3]) {
      c.state.user = p[2];
      c.state.host = p[3];
    }
  },
  [N.RPL_HOSTHIDDEN]: (c, m) => {
    const shown = m.params[1];
    if (shown) c.state.host = shown.includes("@") ? shown.split("@")[1] : shown;
  },
  CHGHOST: (c, m) => {
    if (c.isMe(m.source?.nick)) {
      c.state.user = m.params[0];
      c.state.host = m.params[1];
    }
  },
};

const saslFailure: Handler = (c, m) => {
  const p = m.params;
  c.saslFailed(`SASL ${c.saslMechanism ?? ""} failed: ${p[p.length - 1] ?? m.command}`);
};

const saslHandlers: Record<string, Handler> = {
  CAP: (c, m) => c.cap(m),
  AUTHENTICATE: (c, m) => c.authenticate(m.params[0] ?? ""),
  [N.RPL_SASLSUCCESS]: (c) => {
    c.state.saslDone = true;
    c.log("info", "SASL authentication succeeded");
    c.capEnd();
  },
  [N.ERR_NICKLOCKED]: saslFailure,
  [N.ERR_SASLFAIL]: saslFailure,
  [N.ERR_SASLTOOLONG]: saslFailure,
  [N.ERR_SASLABORTED]: saslFailure,
  [N.RPL_SASLMECHS]: saslFailure,
};

const nickRefused = (why: string): Handler => (c) => {
  if (!c.state.registered) c.nextNick(why);
};

const takeMainNick: Handler = (c, m) => {
  if (c.wantMainNick(m.source?.nick)) c.send("NICK", c.mainNick);
};

const nickHandlers: Record<string, Handler> = {
  [N.ERR_ERRONEUSNICKNAME]: nickRefused("erroneous (too long for this server, or banned)"),
  [N.ERR_NICKNAMEINUSE]: nickRefused("taken"),
  [N.ERR_NICKCOLLISION]: nickRefused("taken (collision)"),
  [N.ERR_UNAVAILRESOURCE]: nickRefused("temporarily unavailable"),
  NICK: (c, m) => {
    if (c.isMe(m.source?.nick)) {
      c.state.nick = m.params[0];
      c.log("info", `now known as ${c.state.nick}`);
      c.nickChanged();
    } else {
      if (m.source?.nick && m.params[0]) c.userRenamed(m.source.nick, m.params[0]);
      takeMainNick(c, m);
    }
  },
  QUIT: (c, m) => {
    if (m.source?.nick && !c.isMe(m.source.nick)) c.userLeft(m.source.nick, undefined);
    takeMainNick(c, m);
  },
};

function joinRefused(why: string): Handler {
  return (c, m) => c.joinFailed(m.params[1] ?? "", `${why}, ${m.command}`);
}

const channelHandlers: Record<string, Handler> = {
  JOIN: (c, m) => {
    if (!c.isMe(m.source?.nick)) {
      if (m.source?.nick && m.params[0]) c.userJoined(m.params[0], m.source.nick);
      return;
    }
    if (m.source?.user) c.state.user = m.source.user;
    if (m.source?.host) c.state.host = m.source.host;
    if (m.params[0]) {
      c.state.channels.add(c.lower(m.params[0]));
      c.joined(m.params[0]);
    }
  },
  MODE: (c, m) => {
    if (m.params[0]) c.modesChanged(m.params[0]);
  },
  [N.RPL_NAMREPLY]: (c, m) => {
    const p = m.params;
    if (p.length >= 4) c.names(p[p.length - 2]!, p[p.length - 1]!.split(" "));
  },
  [N.RPL_ENDOFNAMES]: (c, m) => {
    if (m.params[1]) c.namesEnd(m.params[1]);
  },
  [N.ERR_NOSUCHNICK]: (c, m) => c.noSuchNick(m.params[1] ?? "", m.params[2] ?? "no such nick/channel"),
  [N.ERR_CHANNELISFULL]: joinRefused("the channel is full (+l)"),
  [N.ERR_INVITEONLYCHAN]: joinRefused("the channel is invite-only (+i)"),
  [N.ERR_BANNEDFROMCHAN]: joinRefused("banned (+b)"),
  [N.ERR_BADCHANNELKEY]: joinRefused("wrong or missing channel key (+k)"),
  [N.ERR_CANNOTSENDTOCHAN]: (c, m) => c.cannotSend(m.params[1] ?? "", m.params[2] ?? "cannot send"),
  PART: (c, m) => {
    const chan = m.params[0];
    if (!chan || !m.source?.nick) return;
    if (!c.isMe(m.source.nick)) return c.userLeft(m.source.nick, chan);
    c.state.channels.delete(c.lower(chan));
    c.parted(chan);
  },
  KICK: (c, m) => {
    const [chan, victim, reason] = m.params;
    if (!chan || !victim) return;
    if (!c.isMe(victim)) {
      c.userLeft(victim, chan);
      return;
    }
    c.state.channels.delete(c.lower(chan));
    c.kicked(chan, m.source?.nick ?? "the server", reason ?? "");
  },
};

/**
 * Every handler, keyed by command or numeric.
 *
 * @example
 * ```ts
 * HANDLERS.has(Numerics.RPL_WELCOME); // true
 * ```
 */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map(Object.entries({
  ...connectionHandlers,
  ...registrationHandlers,
  ...saslHandlers,
  ...nickHandlers,
  ...channelHandlers,
}));

/**
 * Runs the handler for `m.command`, if there is one (unknown commands are ignored).
 *
 * @example
 * ```ts
 * dispatch(context, parseLine("PING :irc.example.net")!); // sends PONG :irc.example.net
 * ```
 */
export function dispatch(c: HandlerContext, m: IrcMessage): void {
  HANDLERS.get(m.command)?.(c, m);
}
