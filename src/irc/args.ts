/**
 * `wasi-py --irc ...` arguments: the cmd-ts definitions (numeric flags from the option table),
 * argv → flags, flags → settings (values read by the table's parsers, so `--timeout 2.5` is
 * 2500 ms as on the command line), and the `--irc --help` page derived from the same table.
 */
import { array, boolean, command, flag, multioption, option, optional, parse, string } from "cmd-ts";
import { IRC_NUMERIC_BY_KEY, IRC_NUMERIC_SETTINGS } from "../options/irc.ts";
import type { IrcNumericKey } from "../options/irc.ts";
import { IRC_EXIT_CODE_TABLE } from "../options/exit-codes.ts";
import { helpLine, OptionError, readOptionText } from "../options/spec.ts";
import { IrcConfigError, SECRET_ENV } from "./config.ts";
import type { IrcSettingsInput } from "./config.ts";

function numericArgs() {
  const out = {} as Record<IrcNumericKey, ReturnType<typeof option<ReturnType<typeof optional<typeof string>>>>>;
  for (const spec of IRC_NUMERIC_SETTINGS) {
    out[spec.key as IrcNumericKey] = option({ type: optional(string), long: spec.flag });
  }
  return out;
}

/** cmd-ts definitions of every IRC option (`wasi-py --irc ...`). */
export const ircArgs = {
  irc: flag({ type: optional(boolean), long: "irc" }),
  help: flag({ type: optional(boolean), long: "help", short: "h" }),
  ircConfig: option({ type: optional(string), long: "config", short: "c" }),
  server: option({ type: optional(string), long: "server" }),
  tls: flag({ type: optional(boolean), long: "tls" }),
  tlsCa: option({ type: optional(string), long: "tls-ca" }),
  tlsInsecure: flag({ type: optional(boolean), long: "tls-insecure" }),
  tlsCert: option({ type: optional(string), long: "tls-cert" }),
  tlsKey: option({ type: optional(string), long: "tls-key" }),
  nick: option({ type: optional(string), long: "nick" }),
  altNicks: multioption({ type: array(string), long: "alt-nick" }),
  username: option({ type: optional(string), long: "username" }),
  realname: option({ type: optional(string), long: "realname" }),
  saslMechanism: option({ type: optional(string), long: "sasl" }),
  saslAccount: option({ type: optional(string), long: "sasl-account" }),
  saslOptional: flag({ type: optional(boolean), long: "sasl-optional" }),
  pasteUrl: option({ type: optional(string), long: "paste-url" }),
  channels: multioption({ type: array(string), long: "channel" }),
  prefix: option({ type: optional(string), long: "prefix" }),
  admins: multioption({ type: array(string), long: "admin" }),
  ignore: multioption({ type: array(string), long: "ignore" }),
  ...numericArgs(),
};

/** What cmd-ts hands over for `ircArgs` (all optional; defaults come from the config). */
export type IrcFlags = Partial<Record<keyof typeof ircArgs, unknown>>;

/** Flags that are not settings. */
const NOT_SETTINGS = new Set(["ircConfig", "irc", "help"]);

/**
 * Turns parsed flags into settings, numeric values read by their option's parser (the secrets
 * never come from flags). Throws IrcConfigError naming the flag.
 *
 * @example
 * settingsFromFlags({ timeoutMs: "2.5", nick: "pybot" }); // { timeoutMs: 2500, nick: "pybot" }
 */
export function settingsFromFlags(flags: IrcFlags): IrcSettingsInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (NOT_SETTINGS.has(k) || v === undefined || v === false) continue;
    const spec = IRC_NUMERIC_BY_KEY.get(k as IrcNumericKey);
    if (spec === undefined || typeof v !== "string") {
      out[k] = v;
      continue;
    }
    try {
      out[k] = readOptionText(spec, v);
    } catch (e) {
      if (e instanceof OptionError) throw new IrcConfigError(e.message);
      throw e;
    }
  }
  return out as IrcSettingsInput;
}

const ircCommand = command({ name: "wasi-py --irc", args: ircArgs, handler: (v) => v });

/** What parseIrcArgv found. */
export type ParsedIrcArgs = { kind: "run"; flags: IrcFlags } | { kind: "help" } | { kind: "error"; message: string };

/**
 * Parses `wasi-py --irc ...` arguments; usage errors come back as one line.
 *
 * @example
 * await parseIrcArgv(["--irc", "--bogus"]); // { kind: "error", message: "unknown IRC option --bogus" }
 */
export async function parseIrcArgv(argv: string[]): Promise<ParsedIrcArgs> {
  const r = await parse(ircCommand, argv);
  if (r._tag === "error") {
    const first = (r.error as { errors: { message: string; nodes: { raw?: string }[] }[] }).errors[0];
    const raw = first?.nodes?.[0]?.raw;
    const msg = first?.message === "Unknown arguments" && raw
      ? `unknown IRC option ${raw}`
      : (first?.message ?? "invalid arguments");
    return { kind: "error", message: msg.replace(/\s*\n\s*/g, " ") };
  }
  const v = r.value as IrcFlags;
  if (v.help) return { kind: "help" };
  return { kind: "run", flags: v };
}

/** Help rows of the settings that are not numbers: [flags, meaning [config key]]. */
const TEXT_ROWS: ReadonlyArray<readonly [string, string]> = [
  ["-c, --config FILE", "JSON file with any of the settings below (keys as in brackets); flags override it"],
  ["--server HOST[:PORT]", "IRC server (required) [server]"],
  ["--tls", "connect with TLS; the certificate and host name are checked [tls]"],
  ["--tls-ca FILE", "PEM file of CA certificates to trust instead of the system store [tlsCa]"],
  ["--tls-insecure", "do not verify the server certificate (testing only) [tlsInsecure]"],
  ["--tls-cert FILE, --tls-key FILE", "client certificate and key (CertFP, SASL EXTERNAL) [tlsCert, tlsKey]"],
  ["--nick NICK", "the bot's nick (required) [nick]"],
  ["--alt-nick NICK", "alternate nick, repeatable (default NICK_, NICK__) [altNicks]"],
  ["--username NAME", "user name / ident (default wasipy) [username]"],
  ["--realname TEXT", "real name (default: wasi-py eval bot (!py <code>)) [realname]"],
  [
    "--sasl PLAIN|EXTERNAL",
    `SASL mechanism [saslMechanism]; PLAIN takes the password from $${SECRET_ENV.saslPassword} or the file [saslPassword]`,
  ],
  ["--sasl-account NAME", "account for SASL PLAIN [saslAccount]"],
  ["--sasl-optional", "on a server with no CAP at all, register without SASL (default: refuse) [saslOptional]"],
  ["--paste-url URL", "POST cut output here; the reply ends with the link (see README) [pasteUrl]"],
  ["(server password)", `from $${SECRET_ENV.password} or the file [password]; never a flag (ps would show it)`],
  [
    "--channel '#chan'",
    `channel to join, repeatable [channels]; keys from the file ('#chan key') or $${SECRET_ENV.channelKeys}`,
  ],
  ["--prefix TEXT", "command prefix (default !py) [prefix]; nick: <code> also works [nickAddressing]"],
  ["--admin MASK", "admin: nick!user@host glob or $a:account, repeatable [admins]"],
  ["--ignore MASK", "ignored: nick!user@host glob or $a:account, repeatable [ignore]"],
];

/** Defaults the table cannot say as a number. */
const DEFAULT_TEXT: Partial<Record<IrcNumericKey, string>> = {
  port: "6667, 6697 with --tls",
  workers: "CPU cores, at least 2",
};

/**
 * Help for `wasi-py --irc --help`: every option with its default, range and config key.
 *
 * @example
 * ircHelpText().includes("--timeout SECONDS"); // true
 */
export function ircHelpText(): string {
  const rows: (readonly [string, string])[] = [...TEXT_ROWS];
  for (const spec of IRC_NUMERIC_SETTINGS) {
    const line = helpLine(spec, DEFAULT_TEXT[spec.key as IrcNumericKey]);
    rows.push([`--${spec.flag} ${spec.valueName}`, `${line} [${spec.configKey}]`]);
  }
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  const exits = IRC_EXIT_CODE_TABLE.map(([c, what]) => `  ${c.padEnd(5)}${what}`).join("\n");
  return (
    "Usage: wasi-py --irc --server HOST[:PORT] --nick NICK [--channel '#chan' ...] [options]\n\n" +
    "Answers `!py <code>` (and `NICK: <code>`, and private queries) by running the code in the sandbox.\n\n" +
    rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join("\n") +
    "\n\nExit status\n" + exits + "\n"
  );
}
