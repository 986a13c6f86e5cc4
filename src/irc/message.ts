/**
 * IRC message lines (RFC 1459/2812 framing plus IRCv3 message tags), parsed and
 * serialised as pure functions. Serialisation is the last line of defence against
 * injection: it refuses anything that could end the line early (CR, LF, NUL) or
 * smuggle an extra parameter, instead of silently cleaning it.
 */

/**
 * Who sent a message: a user (`nick!user@host`) or a server (its name in `nick`).
 *
 * @example
 * ```ts
 * const src: IrcSource = { nick: "alice", user: "~alice", host: "home.example" };
 * ```
 */
export interface IrcSource {
  /** Nick for users, server name for servers. */
  nick: string;
  user?: string;
  host?: string;
}

/**
 * One parsed IRC line.
 *
 * @example
 * ```ts
 * const m: IrcMessage = { tags: {}, command: "PRIVMSG", params: ["#py", "!py 1+1"] };
 * ```
 */
export interface IrcMessage {
  tags: Record<string, string>;
  /** Raw prefix text without the leading ':' (absent on client-originated lines). */
  prefix?: string;
  source?: IrcSource;
  /** Upper-cased command or 3-digit numeric. */
  command: string;
  params: string[];
}

/**
 * Maximum bytes of an IRC line without tags, including the CR LF.
 *
 * @example
 * ```ts
 * const room = IRC_LINE_MAX - 2 - "PRIVMSG #py :".length; // bytes left for text (before the prefix)
 * ```
 */
export const IRC_LINE_MAX = 512;

/**
 * A line we refuse to send: it would end early (CR, LF, NUL), smuggle a parameter, or
 * exceed 512 bytes. Callers that can neutralise the text catch it with instanceof.
 *
 * @example
 * ```ts
 * try {
 *   serialise({ command: "PRIVMSG", params: ["#py", "a\r\nQUIT"] });
 * } catch (e) {
 *   if (e instanceof IrcSerialiseError) console.error(e.message);
 * }
 * ```
 */
export class IrcSerialiseError extends Error {
  override name = "IrcSerialiseError";
}

/**
 * Splits a message prefix into nick, user and host.
 *
 * @example
 * ```ts
 * parseSource("alice!~alice@home.example"); // { nick: "alice", user: "~alice", host: "home.example" }
 * parseSource("irc.example.net"); // { nick: "irc.example.net" }
 * ```
 */
export function parseSource(prefix: string): IrcSource {
  const bang = prefix.indexOf("!");
  const at = prefix.indexOf("@", bang < 0 ? 0 : bang);
  if (bang < 0 && at < 0) return { nick: prefix };
  if (bang < 0) return { nick: prefix.slice(0, at), host: prefix.slice(at + 1) };
  if (at < 0) return { nick: prefix.slice(0, bang), user: prefix.slice(bang + 1) };
  return { nick: prefix.slice(0, bang), user: prefix.slice(bang + 1, at), host: prefix.slice(at + 1) };
}

function unescapeTagValue(v: string): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = v[++i];
    if (n === undefined) break; // a trailing lone backslash is dropped
    out += n === ":" ? ";" : n === "s" ? " " : n === "r" ? "\r" : n === "n" ? "\n" : n === "\\" ? "\\" : n;
  }
  return out;
}

function escapeTagValue(v: string): string {
  return v.replace(
    /[\\; \r\n]/g,
    (c) => (c === "\\" ? "\\\\" : c === ";" ? "\\:" : c === " " ? "\\s" : c === "\r" ? "\\r" : "\\n"),
  );
}

/**
 * Parses one line (without its line terminator). Returns undefined for lines that
 * carry no command (empty or malformed); callers ignore those.
 *
 * @example
 * ```ts
 * parseLine("@account=al :alice!~a@h PRIVMSG #py :!py 1+1");
 * // { tags: { account: "al" }, prefix: "alice!~a@h", source: {...}, command: "PRIVMSG", params: ["#py", "!py 1+1"] }
 * ```
 */
export function parseLine(line: string): IrcMessage | undefined {
  let rest = line.replace(/[\r\n]+$/, "");
  const tags: Record<string, string> = {};
  if (rest.startsWith("@")) {
    const sp = rest.indexOf(" ");
    if (sp < 0) return undefined;
    for (const part of rest.slice(1, sp).split(";")) {
      if (!part) continue;
      const eq = part.indexOf("=");
      if (eq < 0) tags[part] = "";
      else tags[part.slice(0, eq)] = unescapeTagValue(part.slice(eq + 1));
    }
    rest = rest.slice(sp + 1);
  }
  rest = rest.replace(/^ +/, "");
  let prefix: string | undefined;
  if (rest.startsWith(":")) {
    const sp = rest.indexOf(" ");
    if (sp < 0) return undefined;
    prefix = rest.slice(1, sp);
    rest = rest.slice(sp + 1).replace(/^ +/, "");
  }
  const params: string[] = [];
  let command = "";
  while (rest.length > 0) {
    if (command && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const sp = rest.indexOf(" ");
    const word = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? "" : rest.slice(sp + 1).replace(/^ +/, "");
    if (!command) command = word.toUpperCase();
    else params.push(word);
  }
  if (!command || !/^([A-Z]+|\d{3})$/.test(command)) return undefined;
  const msg: IrcMessage = { tags, command, params };
  if (prefix !== undefined) {
    msg.prefix = prefix;
    msg.source = parseSource(prefix);
  }
  return msg;
}

const FORBIDDEN = /[\r\n\0]/;

/**
 * Serialises a client message to a line WITHOUT the CR LF. Throws IrcSerialiseError
 * when a part contains CR, LF or NUL, when a middle parameter is empty, contains a
 * space or starts with ':', or when the command is not a plain word.
 *
 * @example
 * ```ts
 * serialise({ command: "PRIVMSG", params: ["#py", "alice: 2"] }); // "PRIVMSG #py :alice: 2"
 * ```
 */
export function serialise(msg: { command: string; params?: string[]; tags?: Record<string, string> }): string {
  const params = msg.params ?? [];
  if (!/^([A-Za-z]+|\d{3})$/.test(msg.command)) {
    throw new IrcSerialiseError(`invalid IRC command ${JSON.stringify(msg.command)}`);
  }
  let out = "";
  const tagKeys = Object.keys(msg.tags ?? {});
  if (tagKeys.length > 0) {
    const parts = tagKeys.map((k) => {
      if (!/^\+?([A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/.test(k)) {
        throw new IrcSerialiseError(`invalid tag key ${JSON.stringify(k)}`);
      }
      const v = msg.tags![k];
      if (v.includes("\0")) throw new IrcSerialiseError("tag value contains NUL");
      return v === "" ? k : `${k}=${escapeTagValue(v)}`;
    });
    out += `@${parts.join(";")} `;
  }
  out += msg.command.toUpperCase();
  params.forEach((p, i) => {
    if (FORBIDDEN.test(p)) throw new IrcSerialiseError("IRC parameter contains CR, LF or NUL");
    const last = i === params.length - 1;
    if (last) {
      out += p === "" || p.includes(" ") || p.startsWith(":") ? ` :${p}` : ` ${p}`;
    } else {
      if (p === "" || p.includes(" ") || p.startsWith(":")) {
        throw new IrcSerialiseError(
          `IRC middle parameter ${JSON.stringify(p)} is empty, has a space or starts with ':'`,
        );
      }
      out += ` ${p}`;
    }
  });
  return out;
}

/**
 * Lower-cases a nick/channel under the rfc1459 case mapping ([]\~ are upper-case of {}|^).
 *
 * @example
 * ```ts
 * ircLower("Py[Bot]"); // "py{bot}"
 * ircLower("Py[Bot]", "ascii"); // "py[bot]"
 * ```
 */
export function ircLower(s: string, casemapping = "rfc1459"): string {
  const lower = s.toLowerCase();
  if (casemapping === "ascii") return lower;
  return lower.replace(/[[\]\\~]/g, (c) => ({ "[": "{", "]": "}", "\\": "|", "~": "^" })[c]!);
}

/**
 * Matches a `nick!user@host` against a glob mask (`*` and `?`), case-insensitively.
 *
 * @example
 * ```ts
 * maskMatches("*!*@spam.example", "Eve!~e@SPAM.example"); // true
 * ```
 */
export function maskMatches(mask: string, full: string): boolean {
  const re = new RegExp(
    "^" + mask.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
    "i",
  );
  return re.test(full);
}
