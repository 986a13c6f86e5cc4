/**
 * The IRC bot's one settings schema. Every setting is declared once, with its name (the field of
 * the resolved config), its flag, its config-file key, its type (a number with unit and bounds,
 * in settings-numbers.ts; text; boolean; list), its default and its help line. The flags
 * (args.ts), the config file's keys, shapes and validation (config.ts) and `--irc --help` are all
 * derived from these tables, so a setting cannot be read under one name and documented under
 * another. A config key is its flag's word in camelCase (a list's key is the plural of its
 * repeatable flag; a number's key carries the unit the flag takes); settings without a flag are
 * secrets (`ps` shows flags) or rarely changed, and live in the config file only.
 */
import { PACKAGES_OPTION } from "../options/packages.ts";
import { IRC_NUMERIC_SETTINGS } from "./settings-numbers.ts";
import type { BotNumberSpec, IrcNumericKey } from "./settings-numbers.ts";

export { IRC_NUMERIC_SETTINGS } from "./settings-numbers.ts";
export type { IrcNumericKey } from "./settings-numbers.ts";

/** Environment variables read for secrets (kept off the command line, where `ps` shows them). */
export const SECRET_ENV = {
  password: "WASI_PY_IRC_PASSWORD",
  saslPassword: "WASI_PY_IRC_SASL_PASSWORD",
  /** `#chan=key` pairs, separated by commas or spaces. */
  channelKeys: "WASI_PY_IRC_CHANNEL_KEYS",
} as const;

/** The kinds of settings that are not numbers. */
export type WordType = "text" | "boolean" | "list";

/** One text, boolean or list setting. */
export interface WordSetting {
  type: WordType;
  /** Long flag without dashes (a list's flag is repeatable); absent: config file only. */
  flag?: string;
  /** Key in the JSON config file. */
  configKey: string;
  /** Former config key, still read with a warning. */
  oldConfigKey?: string;
  /** Placeholder in the help (`FILE`); "" for booleans. */
  valueName: string;
  /** The default the config resolves to, if it is a constant. */
  default?: string | boolean;
  /** The default as the help says it, when it is not a constant (`NICK_, NICK__`). */
  defaultText?: string;
  /** What it means, for the help. */
  help: string;
}

type More = Partial<Omit<WordSetting, "type">>;

function text<M extends More>(flag: string | undefined, valueName: string, help: string, more = {} as M) {
  return { flag, configKey: camel(flag ?? ""), valueName, help, ...more, type: "text" as const };
}
function bool<M extends More>(flag: string | undefined, def: boolean, help: string, more = {} as M) {
  return { flag, configKey: camel(flag ?? ""), valueName: "", help, ...more, default: def, type: "boolean" as const };
}
function list<M extends More>(flag: string | undefined, valueName: string, help: string, more = {} as M) {
  return { flag, configKey: flag ? `${camel(flag)}s` : "", valueName, help, ...more, type: "list" as const };
}

/**
 * The kebab-case flag word in camelCase: `tls-ca` → `tlsCa`.
 *
 * @example
 * camel("paste-url"); // "pasteUrl"
 */
export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const ENV = SECRET_ENV;

/** The text, boolean and list settings by name, in help order. */
export const WORD_SETTINGS = {
  server: text("server", "HOST[:PORT]", "IRC server (required)"),
  tls: bool("tls", false, "connect with TLS; the certificate and host name are checked"),
  tlsCa: text("tls-ca", "FILE", "PEM file of CA certificates to trust instead of the system store"),
  tlsInsecure: bool("tls-insecure", false, "do not verify the server certificate (testing only)"),
  tlsCert: text("tls-cert", "FILE", "client certificate (CertFP, SASL EXTERNAL); goes with --tls-key"),
  tlsKey: text("tls-key", "FILE", "client key of --tls-cert"),
  nick: text("nick", "NICK", "the bot's nick (required)"),
  altNicks: list("alt-nick", "NICK", "alternate nick, repeatable", { defaultText: "NICK_, NICK__" }),
  username: text("username", "NAME", "user name / ident", { default: "wasipy" }),
  realname: text("realname", "TEXT", "real name", { default: "wasi-py eval bot (!py <code>)" }),
  password: text(undefined, "", `server password, from $${ENV.password} or the file; never a flag (ps shows flags)`, {
    configKey: "password",
  }),
  saslMechanism: text("sasl", "PLAIN|EXTERNAL", `SASL mechanism; PLAIN takes the password from saslPassword`, {
    oldConfigKey: "saslMechanism",
  }),
  saslAccount: text("sasl-account", "NAME", "account for SASL PLAIN"),
  saslPassword: text(undefined, "", `SASL PLAIN password, from $${ENV.saslPassword} or the file; never a flag`, {
    configKey: "saslPassword",
  }),
  saslOptional: bool("sasl-optional", false, "on a server with no CAP at all, register without SASL (else refuse)"),
  pasteUrl: text("paste-url", "URL", "POST cut output here; the reply ends with the link (see README)"),
  channels: list(
    "channel",
    "'#chan'",
    `channel to join, repeatable; keys from the file ('#chan key') or $${ENV.channelKeys} ('#chan=key')`,
  ),
  prefix: text("prefix", "TEXT", "command prefix", { default: "!py" }),
  nickAddressing: bool(undefined, true, "answer `NICK: <code>` as well as the prefix", { configKey: "nickAddressing" }),
  privateBareCode: bool(undefined, true, "in a private query, a message without the prefix is code too", {
    configKey: "privateBareCode",
  }),
  admins: list("admin", "MASK", "admin: nick!user@host glob or $a:account, repeatable"),
  ignore: list("ignore", "MASK", "ignored: nick!user@host glob or $a:account, repeatable", { configKey: "ignore" }),
  quitMessage: text(undefined, "", "the QUIT message", { configKey: "quitMessage", default: "wasi-py signing off" }),
  packages: list(undefined, "", "package paths mounted read-only in the sandbox (see Packages in the README)", {
    configKey: PACKAGES_OPTION.configKey,
  }),
} as const satisfies Record<string, WordSetting>;

/** Name of a text, boolean or list setting (`nick`). */
export type IrcWordKey = keyof typeof WORD_SETTINGS;

type WordValue<T extends WordType> = T extends "text" ? string : T extends "boolean" ? boolean : string[];

/** Values of the text, boolean and list settings, as the file or flags give them. */
export type IrcWordSettings = {
  [K in IrcWordKey]?: WordValue<(typeof WORD_SETTINGS)[K]["type"]>;
};

/** The settings that always have a value once defaults are filled: those with a constant default, and lists. */
type Defaulted = {
  [K in IrcWordKey]: (typeof WORD_SETTINGS)[K] extends { default: string | boolean } | { type: "list" } ? K : never;
}[IrcWordKey];

/**
 * Values of the text, boolean and list settings with their defaults filled (withWordDefaults):
 * a setting with a constant default, or a list, always has a value; the others may be absent.
 */
export type IrcWordValues =
  & { [K in Defaulted]: WordValue<(typeof WORD_SETTINGS)[K]["type"]> }
  & { [K in Exclude<IrcWordKey, Defaulted>]?: WordValue<(typeof WORD_SETTINGS)[K]["type"]> };

/**
 * The text, boolean and list settings given, each absent one replaced by its schema default (a
 * list by []), so that no caller writes `?? default` for a setting.
 *
 * @example
 * withWordDefaults({ nick: "pybot" }).prefix; // "!py"
 */
export function withWordDefaults(given: IrcWordSettings): IrcWordValues {
  const out: Record<string, unknown> = {};
  for (const [name, w] of Object.entries(WORD_SETTINGS) as [IrcWordKey, WordSetting][]) {
    out[name] = given[name] ?? w.default ?? (w.type === "list" ? [] : undefined);
  }
  return out as IrcWordValues;
}

/** One setting of either half of the schema, by name. */
export type IrcSetting =
  | { name: IrcNumericKey; number: BotNumberSpec }
  | { name: IrcWordKey; word: WordSetting };

/** Every setting, numbers after words (help order). */
export const IRC_SETTINGS: readonly IrcSetting[] = [
  ...Object.entries(WORD_SETTINGS).map(([name, word]) => ({ name: name as IrcWordKey, word })),
  ...IRC_NUMERIC_SETTINGS.map((number) => ({ name: number.key as IrcNumericKey, number })),
];

/** Setting name → its flag (without dashes), for those that have one. */
export function flagOf(s: IrcSetting): string | undefined {
  return "number" in s ? s.number.flag : s.word.flag;
}

/** Setting name → its config-file key. */
export function configKeyOf(s: IrcSetting): string {
  return "number" in s ? s.number.configKey : s.word.configKey;
}

/** Config-file key (and old spelling) → the setting. */
export const IRC_BY_CONFIG_KEY: ReadonlyMap<string, IrcSetting> = new Map(
  IRC_SETTINGS.map((s) => [configKeyOf(s), s]),
);

/** Former config-file key, still read with one warning line → the setting. */
export const IRC_OLD_CONFIG_KEYS: ReadonlyMap<string, IrcSetting> = new Map(
  IRC_SETTINGS.flatMap((s) => {
    const old = "number" in s ? s.number.oldConfigKey : s.word.oldConfigKey;
    return old === undefined ? [] : [[old, s] as const];
  }),
);

/**
 * Former config-file keys in milliseconds whose key now takes seconds (`timeoutMs` →
 * `timeoutSeconds`): refused with a message naming the new key, never read in the wrong unit.
 */
export const IRC_RENAMED_CONFIG_KEYS: ReadonlyMap<string, BotNumberSpec> = new Map(
  IRC_NUMERIC_SETTINGS.filter((s) => s.unit === "seconds" && /Ms$/.test(s.key)).map((s) => [s.key, s]),
);

/** Numeric setting by name. */
export const IRC_NUMERIC_BY_KEY: ReadonlyMap<IrcNumericKey, BotNumberSpec> = new Map(
  IRC_NUMERIC_SETTINGS.map((s) => [s.key as IrcNumericKey, s]),
);
