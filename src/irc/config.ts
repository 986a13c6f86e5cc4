/**
 * IRC bot configuration: a JSON file and command-line flags (flags win), every limit
 * named with a default, validated with one-line errors. Pure: the caller reads the
 * file and the environment.
 */

import { DEFAULT_LIMITS, MAX_FINITE_FUEL } from "../sandbox/limits.ts";
import type { SaslOptions } from "./client.ts";
import type { EvalLimits } from "./bot.ts";

export class IrcConfigError extends Error {
  override name = "IrcConfigError";
}

interface NumSpec {
  def: number;
  min: number;
  max: number;
  integer: boolean;
  doc: string;
}

/** Every numeric setting: default, bounds and what it means (also the README table). */
export const NUMERIC_OPTIONS = {
  port: { def: 6667, min: 1, max: 65535, integer: true, doc: "server port, if not in --server (6697 with --tls)" },
  workers: {
    def: 0,
    min: 0,
    max: 64,
    integer: true,
    doc: "evaluations run in parallel, i.e. sandbox workers (0 = CPU cores, at least 2)",
  },
  queueSize: {
    def: 32,
    min: 1,
    max: 10_000,
    integer: true,
    doc: "requests waiting or running at once; more get a 'busy' notice",
  },
  perUserConcurrency: { def: 1, min: 1, max: 64, integer: true, doc: "evaluations one user may have running at once" },
  maxLines: { def: 3, min: 1, max: 20, integer: true, doc: "IRC lines per answer" },
  fuel: { def: DEFAULT_LIMITS.fuel, min: 1, max: MAX_FINITE_FUEL, integer: true, doc: "fuel per evaluation" },
  timeoutMs: {
    def: DEFAULT_LIMITS.timeoutMs,
    min: 1,
    max: 600_000,
    integer: true,
    doc: "wall-clock limit per evaluation, ms",
  },
  memoryMiB: {
    def: DEFAULT_LIMITS.memoryMiB,
    min: 1,
    max: 4096,
    integer: true,
    doc: "guest memory limit per evaluation, MiB",
  },
  maxOutputBytes: {
    def: 16_384,
    min: 0,
    max: 16 * 1024 * 1024,
    integer: true,
    doc: "output kept per stream per evaluation, bytes",
  },
  adminFuel: {
    def: 10_000_000_000,
    min: 1,
    max: MAX_FINITE_FUEL,
    integer: true,
    doc: "fuel per evaluation for admins",
  },
  adminTimeoutMs: { def: 30_000, min: 1, max: 600_000, integer: true, doc: "wall-clock limit for admins, ms" },
  adminMemoryMiB: { def: 512, min: 1, max: 4096, integer: true, doc: "memory limit for admins, MiB" },
  adminMaxOutputBytes: {
    def: 65_536,
    min: 0,
    max: 16 * 1024 * 1024,
    integer: true,
    doc: "output kept per stream for admins, bytes",
  },
  maxFuel: {
    def: 100_000_000_000,
    min: 1,
    max: MAX_FINITE_FUEL,
    integer: true,
    doc: "ceiling on fuel, admins included",
  },
  maxTimeoutMs: {
    def: 60_000,
    min: 1,
    max: 600_000,
    integer: true,
    doc: "ceiling on the wall-clock limit, admins included, ms",
  },
  maxMemoryMiB: { def: 1024, min: 1, max: 4096, integer: true, doc: "ceiling on memory, admins included, MiB" },
  maxMaxOutputBytes: {
    def: 1_048_576,
    min: 0,
    max: 16 * 1024 * 1024,
    integer: true,
    doc: "ceiling on output kept per stream, bytes",
  },
  evalsPerWindow: { def: 5, min: 1, max: 100_000, integer: true, doc: "evaluations a user may start per rate window" },
  rateWindowMs: { def: 60_000, min: 1_000, max: 86_400_000, integer: true, doc: "length of the rate window, ms" },
  adminEvalsPerWindow: { def: 60, min: 1, max: 100_000, integer: true, doc: "evaluations per window for admins" },
  maxEvalsPerWindow: {
    def: 120,
    min: 1,
    max: 100_000,
    integer: true,
    doc: "ceiling on evaluations per window, admins included",
  },
  floodBurst: { def: 4, min: 1, max: 100, integer: true, doc: "lines sent back to back to one target" },
  floodRatePerSec: { def: 1, min: 0.05, max: 100, integer: false, doc: "sustained lines per second to one target" },
  floodGlobalBurst: { def: 5, min: 1, max: 100, integer: true, doc: "lines sent back to back on the connection" },
  floodGlobalRatePerSec: {
    def: 2,
    min: 0.05,
    max: 100,
    integer: false,
    doc: "sustained lines per second on the connection",
  },
  reconnectMinMs: {
    def: 2_000,
    min: 100,
    max: 3_600_000,
    integer: true,
    doc: "first reconnect delay, ms (doubles each failure)",
  },
  reconnectMaxMs: { def: 300_000, min: 100, max: 86_400_000, integer: true, doc: "largest reconnect delay, ms" },
  reconnectJitter: { def: 0.5, min: 0, max: 1, integer: false, doc: "randomised fraction of each reconnect delay" },
  connectTimeoutMs: {
    def: 20_000,
    min: 100,
    max: 600_000,
    integer: true,
    doc: "give up a connection attempt after, ms",
  },
  pingIntervalMs: {
    def: 120_000,
    min: 1_000,
    max: 3_600_000,
    integer: true,
    doc: "send a PING after this long without traffic, ms",
  },
  pingTimeoutMs: {
    def: 60_000,
    min: 1_000,
    max: 3_600_000,
    integer: true,
    doc: "reconnect when the PING gets no answer within, ms",
  },
  regainNickIntervalMs: {
    def: 60_000,
    min: 1_000,
    max: 86_400_000,
    integer: true,
    doc: "on an alternate nick, retry the main one every, ms",
  },
  quitTimeoutMs: {
    def: 3_000,
    min: 0,
    max: 60_000,
    integer: true,
    doc: "wait this long for the server after QUIT, ms",
  },
} satisfies Record<string, NumSpec>;

export type NumericKey = keyof typeof NUMERIC_OPTIONS;

/** Settings as given by the file or flags, before defaults and validation. */
export interface IrcSettingsInput extends Partial<Record<NumericKey, number | string>> {
  server?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsInsecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  nick?: string;
  altNicks?: string[];
  username?: string;
  realname?: string;
  password?: string;
  saslMechanism?: string;
  saslAccount?: string;
  saslPassword?: string;
  channels?: string[];
  prefix?: string;
  nickAddressing?: boolean;
  privateBareCode?: boolean;
  admins?: string[];
  ignore?: string[];
  quitMessage?: string;
}

export interface IrcConfig extends Record<NumericKey, number> {
  host: string;
  tls: boolean;
  /** Path of a PEM file of trusted CAs. */
  tlsCa?: string;
  tlsInsecure: boolean;
  tlsCert?: string;
  tlsKey?: string;
  nick: string;
  altNicks: string[];
  username: string;
  realname: string;
  password?: string;
  sasl?: SaslOptions;
  channels: string[];
  prefix: string;
  nickAddressing: boolean;
  privateBareCode: boolean;
  admins: string[];
  ignore: string[];
  quitMessage: string;
  userLimits: EvalLimits;
  adminLimits: EvalLimits;
}

const STRING_KEYS = [
  "server",
  "tlsCa",
  "tlsCert",
  "tlsKey",
  "nick",
  "username",
  "realname",
  "password",
  "saslMechanism",
  "saslAccount",
  "saslPassword",
  "prefix",
  "quitMessage",
] as const;
const BOOL_KEYS = ["tls", "tlsInsecure", "nickAddressing", "privateBareCode"] as const;
const LIST_KEYS = ["altNicks", "channels", "admins", "ignore"] as const;
const ALL_KEYS = new Set<string>([...STRING_KEYS, ...BOOL_KEYS, ...LIST_KEYS, ...Object.keys(NUMERIC_OPTIONS)]);

/** Environment variables read for secrets (kept off the command line, where `ps` shows them). */
export const SECRET_ENV = { password: "WASI_PY_IRC_PASSWORD", saslPassword: "WASI_PY_IRC_SASL_PASSWORD" } as const;

const NICK_RE = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/;

/** Checks the shape of a parsed JSON config file; throws IrcConfigError naming the bad key. */
export function checkConfigFile(json: unknown, where: string): IrcSettingsInput {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new IrcConfigError(`${where}: the config must be a JSON object`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    if (!ALL_KEYS.has(k)) throw new IrcConfigError(`${where}: unknown setting "${k}"`);
    if ((STRING_KEYS as readonly string[]).includes(k) && typeof v !== "string") {
      throw new IrcConfigError(`${where}: "${k}" must be a string`);
    }
    if ((BOOL_KEYS as readonly string[]).includes(k) && typeof v !== "boolean") {
      throw new IrcConfigError(`${where}: "${k}" must be true or false`);
    }
    if ((LIST_KEYS as readonly string[]).includes(k) && !(Array.isArray(v) && v.every((x) => typeof x === "string"))) {
      throw new IrcConfigError(`${where}: "${k}" must be a list of strings`);
    }
    if (k in NUMERIC_OPTIONS && typeof v !== "number") throw new IrcConfigError(`${where}: "${k}" must be a number`);
    out[k] = v;
  }
  return out as IrcSettingsInput;
}

function num(key: NumericKey, v: number | string | undefined): number {
  const spec: NumSpec = NUMERIC_OPTIONS[key];
  if (v === undefined) return spec.def;
  const n = typeof v === "number" ? v : v.trim() === "" ? NaN : Number(v.replace(/_/g, ""));
  const kind = spec.integer ? "an integer" : "a number";
  if (!Number.isFinite(n) || (spec.integer && !Number.isInteger(n)) || n < spec.min || n > spec.max) {
    throw new IrcConfigError(`${key} must be ${kind} from ${spec.min} to ${spec.max}, got ${String(v)}`);
  }
  return n;
}

function noControls(name: string, v: string): string {
  if (/[\0-\x1f\x7f]/.test(v)) throw new IrcConfigError(`${name} must not contain control characters`);
  return v;
}

/**
 * Merges file settings, flags (which win) and secrets from the environment, fills
 * defaults and validates. `cores` sizes the default worker pool.
 */
export function resolveIrcConfig(
  file: IrcSettingsInput,
  flags: IrcSettingsInput,
  env: Record<string, string | undefined>,
  cores: number,
): IrcConfig {
  const s: IrcSettingsInput = { ...file };
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    // lists from flags add to the file's (channels on the command line join too)
    if ((LIST_KEYS as readonly string[]).includes(k) && Array.isArray(v) && v.length === 0) continue;
    (s as Record<string, unknown>)[k] = v;
  }
  if (env[SECRET_ENV.password] !== undefined && s.password === undefined) s.password = env[SECRET_ENV.password];
  if (env[SECRET_ENV.saslPassword] !== undefined && s.saslPassword === undefined) {
    s.saslPassword = env[SECRET_ENV.saslPassword];
  }

  if (!s.server) throw new IrcConfigError("--server is required (HOST or HOST:PORT)");
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+)(?::(\d+))?$/.exec(s.server);
  if (!m) throw new IrcConfigError(`--server must be HOST or HOST:PORT, got ${JSON.stringify(s.server)}`);
  const host = m[1].replace(/^\[|\]$/g, "");
  const tls = s.tls ?? false;
  const nums = {} as Record<NumericKey, number>;
  for (const k of Object.keys(NUMERIC_OPTIONS) as NumericKey[]) nums[k] = num(k, s[k]);
  if (m[2] !== undefined) nums.port = num("port", m[2]);
  else if (s.port === undefined) nums.port = tls ? 6697 : 6667;
  if (nums.workers === 0) nums.workers = Math.max(2, cores);

  if (!s.nick) throw new IrcConfigError("--nick is required");
  if (!NICK_RE.test(s.nick)) throw new IrcConfigError(`--nick ${JSON.stringify(s.nick)} is not a valid IRC nick`);
  const altNicks = s.altNicks && s.altNicks.length ? s.altNicks : [`${s.nick}_`, `${s.nick}__`];
  for (const a of altNicks) {
    if (!NICK_RE.test(a)) throw new IrcConfigError(`alternate nick ${JSON.stringify(a)} is not a valid IRC nick`);
  }
  const channels = s.channels ?? [];
  for (const c of channels) {
    if (!/^[#&+!][^\s,\x07\0-\x1f]{1,49}( \S+)?$/.test(c)) {
      throw new IrcConfigError(`--channel ${JSON.stringify(c)} is not a channel name (e.g. '#python', or '#chan key')`);
    }
  }
  const username = noControls("username", s.username ?? "wasipy");
  if (!/^[^\s@!]{1,20}$/.test(username)) {
    throw new IrcConfigError(`username ${JSON.stringify(username)} must be 1-20 characters without spaces, '@' or '!'`);
  }
  const prefix = noControls("prefix", s.prefix ?? "!py");
  if (/\s/.test(prefix)) throw new IrcConfigError("prefix must not contain spaces");

  let sasl: SaslOptions | undefined;
  if (s.saslMechanism !== undefined) {
    const mech = s.saslMechanism.toUpperCase();
    if (mech === "PLAIN") {
      if (!s.saslAccount) throw new IrcConfigError("SASL PLAIN needs saslAccount");
      if (s.saslPassword === undefined) {
        throw new IrcConfigError(
          `SASL PLAIN needs a password (saslPassword in the config file, or $${SECRET_ENV.saslPassword})`,
        );
      }
      sasl = {
        mechanism: "PLAIN",
        account: noControls("saslAccount", s.saslAccount),
        password: noControls("saslPassword", s.saslPassword),
      };
    } else if (mech === "EXTERNAL") {
      if (!s.tlsCert || !s.tlsKey) {
        throw new IrcConfigError("SASL EXTERNAL needs a client certificate (--tls-cert and --tls-key)");
      }
      sasl = { mechanism: "EXTERNAL" };
    } else throw new IrcConfigError(`--sasl must be PLAIN or EXTERNAL, got ${JSON.stringify(s.saslMechanism)}`);
  }
  if ((s.tlsCert || s.tlsKey || s.tlsCa || s.tlsInsecure) && !tls) {
    throw new IrcConfigError("TLS settings were given without --tls");
  }
  if (!!s.tlsCert !== !!s.tlsKey) throw new IrcConfigError("--tls-cert and --tls-key go together");

  const ceil = (what: string, v: number, max: number, maxName: string) => {
    if (v > max) throw new IrcConfigError(`${what} (${v}) exceeds its ceiling ${maxName} (${max})`);
    return v;
  };
  const userLimits: EvalLimits = {
    fuel: ceil("fuel", nums.fuel, nums.maxFuel, "maxFuel"),
    timeoutMs: ceil("timeoutMs", nums.timeoutMs, nums.maxTimeoutMs, "maxTimeoutMs"),
    memoryMiB: ceil("memoryMiB", nums.memoryMiB, nums.maxMemoryMiB, "maxMemoryMiB"),
    maxOutputBytes: ceil("maxOutputBytes", nums.maxOutputBytes, nums.maxMaxOutputBytes, "maxMaxOutputBytes"),
  };
  // Admin limits are raised, never lowered below the users', and never above the ceilings.
  const adminLimits: EvalLimits = {
    fuel: ceil("adminFuel", Math.max(nums.adminFuel, userLimits.fuel), nums.maxFuel, "maxFuel"),
    timeoutMs: ceil(
      "adminTimeoutMs",
      Math.max(nums.adminTimeoutMs, userLimits.timeoutMs),
      nums.maxTimeoutMs,
      "maxTimeoutMs",
    ),
    memoryMiB: ceil(
      "adminMemoryMiB",
      Math.max(nums.adminMemoryMiB, userLimits.memoryMiB),
      nums.maxMemoryMiB,
      "maxMemoryMiB",
    ),
    maxOutputBytes: ceil(
      "adminMaxOutputBytes",
      Math.max(nums.adminMaxOutputBytes, userLimits.maxOutputBytes),
      nums.maxMaxOutputBytes,
      "maxMaxOutputBytes",
    ),
  };
  ceil("evalsPerWindow", nums.evalsPerWindow, nums.maxEvalsPerWindow, "maxEvalsPerWindow");
  ceil("adminEvalsPerWindow", nums.adminEvalsPerWindow, nums.maxEvalsPerWindow, "maxEvalsPerWindow");
  if (nums.reconnectMinMs > nums.reconnectMaxMs) {
    throw new IrcConfigError("reconnectMinMs must not exceed reconnectMaxMs");
  }
  for (const e of [...(s.admins ?? []), ...(s.ignore ?? [])]) {
    if (!e.startsWith("$a:") && !/^[^\s!@]+![^\s!@]+@[^\s]+$/.test(e)) {
      throw new IrcConfigError(
        `${JSON.stringify(e)} is neither a hostmask (nick!user@host, * and ? allowed) nor an account ($a:name)`,
      );
    }
  }
  return {
    ...nums,
    host,
    tls,
    tlsCa: s.tlsCa,
    tlsInsecure: s.tlsInsecure ?? false,
    tlsCert: s.tlsCert,
    tlsKey: s.tlsKey,
    nick: s.nick,
    altNicks,
    username,
    realname: noControls("realname", s.realname ?? "wasi-py eval bot (!py <code>)"),
    password: s.password === undefined ? undefined : noControls("password", s.password),
    sasl,
    channels,
    prefix,
    nickAddressing: s.nickAddressing ?? true,
    privateBareCode: s.privateBareCode ?? true,
    admins: s.admins ?? [],
    ignore: s.ignore ?? [],
    quitMessage: noControls("quitMessage", s.quitMessage ?? "wasi-py signing off"),
    userLimits,
    adminLimits,
  };
}
