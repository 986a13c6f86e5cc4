/**
 * IRC bot configuration: a JSON config file and command-line flags (flags win) and secrets from
 * the environment, merged, filled with defaults and validated into an IrcConfig, with one-line
 * errors. Keys, shapes, defaults and bounds come from the settings schema (settings.ts); config-file keys
 * carry the unit the flag takes (`timeoutSeconds` for `--timeout`), and a number or the flag's
 * own text is accepted for them.
 */
import { fileMode, readText } from "../platform/fs.ts";
import { writeStderr } from "../platform/process.ts";
import {
  configKeyOf,
  IRC_BY_CONFIG_KEY,
  IRC_NUMERIC_BY_KEY,
  IRC_NUMERIC_SETTINGS,
  IRC_OLD_CONFIG_KEYS,
  IRC_RENAMED_CONFIG_KEYS,
  SECRET_ENV,
  withWordDefaults,
} from "./settings.ts";
import type { IrcNumericKey, IrcWordSettings, IrcWordValues, WordType } from "./settings.ts";
import { isValidValue, OptionError, quoteShort, readOptionNumber, readOptionText } from "../options/spec.ts";
import type { OptionSpec } from "../options/spec.ts";
import type { SaslOptions } from "./client.ts";
import type { EvalLimits } from "./bot.ts";

export { SECRET_ENV } from "./settings.ts";

/**
 * A setting, flag or config file the bot cannot use; `message` is one line for the user.
 *
 * @example
 * throw new IrcConfigError("--server is required (HOST or HOST:PORT)");
 */
export class IrcConfigError extends Error {
  override name = "IrcConfigError";
}

/**
 * Settings as given by the file or flags, numbers already in the program's units, before defaults
 * and validation: one optional field per setting of the schema (settings.ts).
 */
export interface IrcSettingsInput extends Partial<Record<IrcNumericKey, number>>, IrcWordSettings {}

/**
 * Everything the bot runs with (numbers in the program's units: ms, bytes, MiB): every setting of
 * the schema (settings.ts) by its name, defaults filled, except the few that become something else
 * here: `server` becomes `host` and `port`, the three SASL settings one `sasl`, and the run limits
 * the user's and the admin's `EvalLimits`.
 */
export type IrcConfig =
  & Record<IrcNumericKey, number>
  & Omit<IrcWordValues, "server" | "saslMechanism" | "saslAccount" | "saslPassword">
  & {
    host: string;
    /** Required, so always there once the config is resolved. */
    nick: string;
    sasl?: SaslOptions;
    userLimits: EvalLimits;
    adminLimits: EvalLimits;
  };

/** Settings whose values are secrets: never shown, and a file holding them must not be readable by others. */
const SECRET_KEYS = ["password", "saslPassword"] as const;

const NICK_RE = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/;

/** Reads a numeric setting from the file: a number in its key's unit, or the flag's text. */
function fileNumber(spec: OptionSpec, v: unknown, where: string): number {
  const as = `${where}: ${spec.configKey}`;
  try {
    if (typeof v === "number") return readOptionNumber(spec, v, as);
    if (typeof v === "string") return readOptionText(spec, v, as);
  } catch (e) {
    if (e instanceof OptionError) throw new IrcConfigError(e.message);
    throw e;
  }
  throw new IrcConfigError(`${as} must be a number, or text as --${spec.flag} takes it`);
}

/** What a config value of each type must be, and the message when it is not. */
const SHAPES: Record<WordType, [(v: unknown) => boolean, string]> = {
  text: [(v) => typeof v === "string", "must be a string"],
  boolean: [(v) => typeof v === "boolean", "must be true or false"],
  list: [(v) => Array.isArray(v) && v.every((x) => typeof x === "string"), "must be a list of strings"],
};

/** Writes a warning line about the config file (stderr unless a caller collects them). */
export type ConfigWarn = (line: string) => void;

const stderrWarn: ConfigWarn = (line) => void writeStderr(`wasi-py: ${line}\n`);

/** The setting a config key names: its key, or its old spelling (with a warning), or an error. */
function settingFor(k: string, where: string, warn: ConfigWarn) {
  const s = IRC_BY_CONFIG_KEY.get(k);
  if (s !== undefined) return s;
  const old = IRC_OLD_CONFIG_KEYS.get(k);
  if (old !== undefined) {
    warn(`${where}: "${k}" is deprecated; it is now "${configKeyOf(old)}", the word of its flag`);
    return old;
  }
  const renamed = IRC_RENAMED_CONFIG_KEYS.get(k);
  if (renamed !== undefined) {
    throw new IrcConfigError(
      `${where}: "${k}" is now "${renamed.configKey}" (in ${renamed.unit}, as --${renamed.flag} takes it)`,
    );
  }
  throw new IrcConfigError(`${where}: unknown setting ${quoteShort(k)}`);
}

/**
 * Checks a parsed JSON config file and converts its numbers to the program's units; throws
 * IrcConfigError naming the bad key (an old key in ms names its new one); an old spelling of a
 * key is read, with one warning line through `warn`.
 *
 * @example
 * checkConfigFile({ nick: "pybot", timeoutSeconds: 2.5 }, "bot.json"); // { nick: "pybot", timeoutMs: 2500 }
 */
export function checkConfigFile(json: unknown, where: string, warn: ConfigWarn = stderrWarn): IrcSettingsInput {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new IrcConfigError(`${where}: the config must be a JSON object`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    const s = settingFor(k, where, warn);
    if ("number" in s) {
      out[s.name] = fileNumber(s.number, v, where);
      continue;
    }
    const [ok, must] = SHAPES[s.word.type];
    if (!ok(v)) throw new IrcConfigError(`${where}: "${k}" ${must}`);
    out[s.name] = v;
  }
  return out as IrcSettingsInput;
}

/**
 * Reads and checks the JSON config file at `path`; throws IrcConfigError with a one-line message.
 *
 * @example
 * readConfigFile("bot.json").nick; // "pybot"
 */
export function readConfigFile(path: string, warn: ConfigWarn = stderrWarn): IrcSettingsInput {
  let text: string;
  try {
    text = readText(path);
  } catch (e) {
    throw new IrcConfigError(`cannot read ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // The parser's message may quote the text around the error, a password included: say where only.
    throw new IrcConfigError(`${path}: not valid JSON${jsonErrorPlace(text, (e as Error).message)}`);
  }
  const settings = checkConfigFile(json, path, warn);
  checkSecretFileMode(path, settings, fileMode(path));
  return settings;
}

/**
 * " at line L, column C" for a JSON.parse error message that names a position, else "".
 *
 * @example
 * jsonErrorPlace('{\n "a": }', "Unexpected token '}' ... at position 8"); // " at line 2, column 7"
 */
export function jsonErrorPlace(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return "";
  const pos = Math.min(Number(m[1]), text.length);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return ` at line ${line}, column ${column}`;
}

/**
 * Refuses a config file holding secrets (passwords, channel keys) that its group or others may
 * read, as ssh does for private keys. `mode` undefined (unknown) passes.
 *
 * @example
 * checkSecretFileMode("bot.json", { password: "x" }, 0o644); // throws IrcConfigError
 */
export function checkSecretFileMode(path: string, s: IrcSettingsInput, mode: number | undefined): void {
  const secrets = SECRET_KEYS.filter((k) => s[k] !== undefined) as string[];
  if ((s.channels ?? []).some((c) => c.includes(" "))) secrets.push("channel keys");
  if (mode === undefined || secrets.length === 0 || (mode & 0o077) === 0) return;
  throw new IrcConfigError(
    `${path} holds secrets (${secrets.join(", ")}) but its group or others may read it (mode ${
      (mode & 0o777).toString(8).padStart(3, "0")
    }); run chmod 600 ${path}`,
  );
}

/** `#a=key,#b=key` → channel (lower-cased) → key. */
function parseChannelKeys(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (text ?? "").split(/[\s,]+/)) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1) {
      throw new IrcConfigError(`$${SECRET_ENV.channelKeys} must be '#chan=key' pairs separated by commas`);
    }
    out.set(pair.slice(0, eq).toLowerCase(), pair.slice(eq + 1));
  }
  return out;
}

/** Channels with their keys: keys never come from flags (ps shows them); the environment adds them. */
function channelsWithKeys(s: IrcSettingsInput, flags: IrcSettingsInput, env: Record<string, string | undefined>) {
  if ((flags.channels ?? []).some((c) => c.trim().includes(" "))) {
    throw new IrcConfigError(
      `channel keys are secrets and ps shows flags: give '#chan' on the command line and the key in the config file's channels ('#chan key') or in $${SECRET_ENV.channelKeys} ('#chan=key')`,
    );
  }
  const keys = parseChannelKeys(env[SECRET_ENV.channelKeys]);
  const channels = (s.channels ?? []).map((c) => {
    const key = keys.get(c.toLowerCase());
    keys.delete(c.toLowerCase());
    return key !== undefined && !c.includes(" ") ? `${c} ${key}` : c;
  });
  if (keys.size) {
    throw new IrcConfigError(
      `$${SECRET_ENV.channelKeys} names ${[...keys.keys()].join(", ")}, which is not a channel to join`,
    );
  }
  return channels;
}

/**
 * A channel entry as it may be logged: the name, and `(key)` instead of the key.
 *
 * @example
 * redactChannel("#py secret"); // "#py (key)"
 */
export function redactChannel(entry: string): string {
  const [name, key] = entry.split(" ");
  return key ? `${name} (key)` : name!;
}

/** File settings, then flags (lists from flags add to the file's), then secrets from the environment. */
function mergeSettings(
  file: IrcSettingsInput,
  flags: IrcSettingsInput,
  env: Record<string, string | undefined>,
): IrcSettingsInput {
  const s: IrcSettingsInput = { ...file };
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    (s as Record<string, unknown>)[k] = v;
  }
  if (env[SECRET_ENV.password] !== undefined && s.password === undefined) s.password = env[SECRET_ENV.password];
  if (env[SECRET_ENV.saslPassword] !== undefined && s.saslPassword === undefined) {
    s.saslPassword = env[SECRET_ENV.saslPassword];
  }
  return s;
}

/** `--server HOST[:PORT]` (IPv6 literals in brackets) → host and the port it names, if any. */
function parseServer(server: string | undefined): { host: string; port: number | undefined } {
  if (!server) throw new IrcConfigError("--server is required (HOST or HOST:PORT)");
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+)(?::(\d+))?$/.exec(server);
  if (!m) throw new IrcConfigError(`--server must be HOST or HOST:PORT, got ${JSON.stringify(server)}`);
  const host = m[1]!.replace(/^\[|\]$/g, "");
  if (m[2] === undefined) return { host, port: undefined };
  try {
    return { host, port: readOptionText(IRC_NUMERIC_BY_KEY.get("port")!, m[2], "port") };
  } catch (e) {
    if (e instanceof OptionError) throw new IrcConfigError(e.message);
    throw e;
  }
}

/** Every numeric setting, defaulted and checked against the table (values given in code may be anything). */
function resolveNumbers(s: IrcSettingsInput, port: number | undefined, tls: boolean, cores: number) {
  const nums = {} as Record<IrcNumericKey, number>;
  for (const spec of IRC_NUMERIC_SETTINGS) {
    const key = spec.key as IrcNumericKey;
    const v = s[key] ?? spec.default;
    if (!isValidValue(spec, v)) {
      const what = spec.kind.integer ? "an integer" : "a number";
      throw new IrcConfigError(`${key} must be ${what} from ${spec.min} to ${spec.max}, got ${String(v)}`);
    }
    nums[key] = v;
  }
  if (port !== undefined) nums.port = port;
  else if (s.port === undefined) nums.port = tls ? 6697 : 6667;
  if (nums.workers === 0) nums.workers = Math.max(2, cores);
  return nums;
}

function checkPasteUrl(url: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(url)) {
    throw new IrcConfigError(`--paste-url must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  return url;
}

function noControls(name: string, v: string): string {
  if (/[\0-\x1f\x7f]/.test(v)) throw new IrcConfigError(`${name} must not contain control characters`);
  return v;
}

/** Nick, alternates, user name, real name, server password. */
function resolveIdentity(s: IrcWordValues) {
  if (!s.nick) throw new IrcConfigError("--nick is required");
  if (!NICK_RE.test(s.nick)) throw new IrcConfigError(`--nick ${JSON.stringify(s.nick)} is not a valid IRC nick`);
  const altNicks = s.altNicks && s.altNicks.length ? s.altNicks : [`${s.nick}_`, `${s.nick}__`];
  for (const a of altNicks) {
    if (!NICK_RE.test(a)) throw new IrcConfigError(`alternate nick ${JSON.stringify(a)} is not a valid IRC nick`);
  }
  const username = noControls("username", s.username);
  if (!/^[^\s@!]{1,20}$/.test(username)) {
    throw new IrcConfigError(`username ${JSON.stringify(username)} must be 1-20 characters without spaces, '@' or '!'`);
  }
  return {
    nick: s.nick,
    altNicks,
    username,
    realname: noControls("realname", s.realname),
    password: s.password === undefined ? undefined : noControls("password", s.password),
  };
}

/** Channels, prefix and the admin/ignore masks. */
function resolveAudience(s: IrcWordValues) {
  const channels = s.channels;
  for (const c of channels) {
    if (!/^[#&+!][^\s,\x07\0-\x1f]{1,49}( \S+)?$/.test(c)) {
      throw new IrcConfigError(`--channel ${JSON.stringify(c)} is not a channel name (e.g. '#python', or '#chan key')`);
    }
  }
  const prefix = noControls("prefix", s.prefix);
  if (/\s/.test(prefix)) throw new IrcConfigError("prefix must not contain spaces");
  for (const e of [...s.admins, ...s.ignore]) {
    if (!e.startsWith("$a:") && !/^[^\s!@]+![^\s!@]+@[^\s]+$/.test(e)) {
      throw new IrcConfigError(
        `${JSON.stringify(e)} is neither a hostmask (nick!user@host, * and ? allowed) nor an account ($a:name)`,
      );
    }
  }
  return { channels, prefix, admins: s.admins, ignore: s.ignore };
}

/** SASL settings, and the TLS settings that must come with --tls. */
function resolveSasl(s: IrcSettingsInput, tls: boolean): SaslOptions | undefined {
  if ((s.tlsCert || s.tlsKey || s.tlsCa || s.tlsInsecure) && !tls) {
    throw new IrcConfigError("TLS settings were given without --tls");
  }
  if (!!s.tlsCert !== !!s.tlsKey) throw new IrcConfigError("--tls-cert and --tls-key go together");
  if (s.saslMechanism === undefined) return undefined;
  const mech = s.saslMechanism.toUpperCase();
  if (mech === "PLAIN") {
    if (!s.saslAccount) throw new IrcConfigError("SASL PLAIN needs saslAccount");
    if (s.saslPassword === undefined) {
      throw new IrcConfigError(
        `SASL PLAIN needs a password (saslPassword in the config file, or $${SECRET_ENV.saslPassword})`,
      );
    }
    return {
      mechanism: "PLAIN",
      account: noControls("saslAccount", s.saslAccount),
      password: noControls("saslPassword", s.saslPassword),
    };
  }
  if (mech === "EXTERNAL") {
    if (!s.tlsCert || !s.tlsKey) {
      throw new IrcConfigError("SASL EXTERNAL needs a client certificate (--tls-cert and --tls-key)");
    }
    return { mechanism: "EXTERNAL" };
  }
  throw new IrcConfigError(`--sasl must be PLAIN or EXTERNAL, got ${JSON.stringify(s.saslMechanism)}`);
}

/** The per-evaluation limit keys, with their admin and ceiling settings. */
const EVAL_LIMIT_KEYS = [
  ["fuel", "adminFuel", "maxFuel"],
  ["timeoutMs", "adminTimeoutMs", "maxTimeoutMs"],
  ["memoryMiB", "adminMemoryMiB", "maxMemoryMiB"],
  ["maxOutputBytes", "adminMaxOutputBytes", "maxMaxOutputBytes"],
] as const satisfies ReadonlyArray<readonly [keyof EvalLimits, IrcNumericKey, IrcNumericKey]>;

/** `value` of setting `key`, unless it exceeds the setting `ceiling`; said in the config file's units. */
function underCeiling(nums: Record<IrcNumericKey, number>, key: IrcNumericKey, value: number, ceiling: IrcNumericKey) {
  if (value <= nums[ceiling]) return value;
  const spec = IRC_NUMERIC_BY_KEY.get(key)!;
  const max = IRC_NUMERIC_BY_KEY.get(ceiling)!;
  throw new IrcConfigError(
    `${spec.configKey} (${spec.kind.show(value)}) exceeds its ceiling ${max.configKey} (${
      max.kind.show(nums[ceiling])
    })`,
  );
}

/** User and admin limits: admins are raised, never lowered below the users', and never above the ceilings. */
function resolveEvalLimits(nums: Record<IrcNumericKey, number>): { userLimits: EvalLimits; adminLimits: EvalLimits } {
  const userLimits = {} as EvalLimits;
  const adminLimits = {} as EvalLimits;
  for (const [key, admin, ceiling] of EVAL_LIMIT_KEYS) {
    userLimits[key] = underCeiling(nums, key, nums[key], ceiling);
    adminLimits[key] = underCeiling(nums, admin, Math.max(nums[admin], userLimits[key]), ceiling);
  }
  underCeiling(nums, "evalsPerWindow", nums.evalsPerWindow, "maxEvalsPerWindow");
  underCeiling(nums, "adminEvalsPerWindow", nums.adminEvalsPerWindow, "maxEvalsPerWindow");
  if (nums.reconnectMinMs > nums.reconnectMaxMs) {
    throw new IrcConfigError("reconnectMinMs must not exceed reconnectMaxMs");
  }
  return { userLimits, adminLimits };
}

/**
 * Merges file settings, flags (which win) and secrets from the environment, fills defaults and
 * validates. `cores` sizes the default worker pool. Throws IrcConfigError with a one-line message.
 *
 * @example
 * resolveIrcConfig({}, { server: "irc.example.org", nick: "pybot" }, {}, 4).port; // 6667
 */
export function resolveIrcConfig(
  file: IrcSettingsInput,
  flags: IrcSettingsInput,
  env: Record<string, string | undefined>,
  cores: number,
): IrcConfig {
  const given = mergeSettings(file, flags, env);
  given.channels = channelsWithKeys(given, flags, env);
  const s = withWordDefaults(given);
  const { host, port } = parseServer(s.server);
  const nums = resolveNumbers(given, port, s.tls, cores);
  const { server: _server, saslMechanism: _mechanism, saslAccount: _account, saslPassword: _secret, ...words } = s;
  return {
    ...nums,
    ...words,
    host,
    ...resolveIdentity(s),
    sasl: resolveSasl(s, s.tls),
    ...resolveAudience(s),
    pasteUrl: s.pasteUrl === undefined ? undefined : checkPasteUrl(s.pasteUrl),
    quitMessage: noControls("quitMessage", s.quitMessage),
    ...resolveEvalLimits(nums),
  };
}
