/**
 * The service's configuration: `--serve` flags and a JSON config file (flags win), the tokens
 * (one per line, one per client) from a file or the environment (never a flag value: command lines are visible to other users), checked
 * into a ServeConfig with one-line errors. Pure except for reading the two files, which the
 * caller passes in as `readText`.
 */
import { BUNDLED_RUN_LIMITS } from "../options/limits.ts";
import type { RunLimitKey } from "../limits/mod.ts";
import { cutShort, OptionError, quoteShort, readOptionNumber, readOptionText } from "../options/spec.ts";
import type { OptionSpec } from "../options/spec.ts";
import { DEFAULT_LISTEN, SERVE_SETTINGS } from "../options/serve.ts";
import { PACKAGES_OPTION, packagesFrom, readPackagesConfig } from "../options/packages.ts";
import type { ServeNumericKey } from "../options/serve.ts";

/** A flag, setting or file the service cannot use; `message` is one line. */
export class ServeConfigError extends Error {
  override name = "ServeConfigError";
}

/** The environment variable holding the bearer token. */
export const TOKEN_ENV = "WASI_PY_TOKEN";

/** The service's resolved settings. */
export interface ServeConfig extends Record<ServeNumericKey, number> {
  hostname: string;
  port: number;
  /** The bearer tokens a request may carry (one per client); empty: no auth (loopback only). */
  tokens: string[];
  /** The origin allowed by CORS; undefined: no CORS headers. */
  corsOrigin: string | undefined;
  /** Each run limit: the default of a request and the most it may ask for. */
  limits: Record<RunLimitKey, number>;
  /** Pure-Python packages mounted for every run (SandboxOptions.packages), in order. */
  packages: string[];
}

/** The string settings, by flag. */
const STRING_FLAGS = ["listen", "config", "token-file", "cors"] as const;
type StringFlag = (typeof STRING_FLAGS)[number];
const NUMERIC: readonly OptionSpec[] = [...SERVE_SETTINGS, ...Object.values(BUNDLED_RUN_LIMITS)];
const BY_FLAG = new Map(NUMERIC.map((s) => [s.flag, s]));
const BY_CONFIG_KEY = new Map(NUMERIC.map((s) => [s.configKey, s]));
const STRING_CONFIG_KEYS: Record<string, StringFlag> = { listen: "listen", tokenFile: "token-file", cors: "cors" };

/** Flags as given: numbers already in the program's units; `packages` only when given. */
interface Given {
  strings: Partial<Record<StringFlag, string>>;
  numbers: Record<string, number>;
  packages?: string[];
}

/**
 * Reads `--serve` flags (`--name VALUE` or `--name=VALUE`); throws ServeConfigError.
 *
 * @example
 * parseServeFlags(["--serve", "--listen", "0.0.0.0:9000", "--max-queue=8"]).numbers.maxQueue; // 8
 */
export function parseServeFlags(argv: readonly string[]): Given {
  const given: Given = { strings: {}, numbers: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--serve") continue;
    if (!arg.startsWith("--")) {
      throw new ServeConfigError(`unexpected argument ${quoteShort(arg)} (--serve takes only options)`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = BY_FLAG.get(name);
    const isString = (STRING_FLAGS as readonly string[]).includes(name);
    if (name === PACKAGES_OPTION.flag) {
      const path = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (path === undefined || path === "") throw new ServeConfigError(`--${name} needs a path`);
      (given.packages ??= []).push(path); // repeatable, in order
      continue;
    }
    if (spec === undefined && !isString) {
      const hint = name === "token" ? ` (give it in a file with --token-file, or in ${TOKEN_ENV})` : "";
      throw new ServeConfigError(`unknown option --${cutShort(name)}${hint}`);
    }
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ServeConfigError(`--${name} needs a value`);
    try {
      if (spec !== undefined) given.numbers[spec.key] = readOptionText(spec, value);
      else given.strings[name as StringFlag] = value;
    } catch (e) {
      if (e instanceof OptionError) throw new ServeConfigError(e.message);
      throw e;
    }
  }
  return given;
}

/**
 * Reads the JSON config file's object (keys as in SERVE_SETTINGS' configKey, plus `listen`,
 * `tokenFile`, `cors`, `packages`); throws ServeConfigError naming the file.
 */
export function readServeConfigFile(text: string, where: string): Given {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ServeConfigError(`${where}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ServeConfigError(`${where}: must hold a JSON object`);
  }
  const given: Given = { strings: {}, numbers: {} };
  for (const [key, value] of Object.entries(json)) {
    const spec = BY_CONFIG_KEY.get(key);
    const flag = STRING_CONFIG_KEYS[key];
    const as = `${where}: ${key}`;
    if (key === PACKAGES_OPTION.configKey) {
      try {
        given.packages = readPackagesConfig(value, where);
      } catch (e) {
        if (e instanceof OptionError) throw new ServeConfigError(e.message);
        throw e;
      }
    } else if (flag !== undefined) {
      if (typeof value !== "string") throw new ServeConfigError(`${as} must be a string`);
      given.strings[flag] = value;
    } else if (spec !== undefined) {
      try {
        given.numbers[spec.key] = typeof value === "number"
          ? readOptionNumber(spec, value, as)
          : typeof value === "string"
          ? readOptionText(spec, value, as)
          : NaN;
      } catch (e) {
        if (e instanceof OptionError) throw new ServeConfigError(e.message);
        throw e;
      }
      if (Number.isNaN(given.numbers[spec.key])) throw new ServeConfigError(`${as} must be a number`);
    } else {
      throw new ServeConfigError(`${where}: unknown setting ${quoteShort(key)}`);
    }
  }
  return given;
}

/**
 * `HOST:PORT` (IPv6 in brackets) → its parts; throws ServeConfigError.
 *
 * @example
 * parseListen("[::1]:8060"); // { hostname: "::1", port: 8060 }
 */
export function parseListen(text: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new ServeConfigError(`--listen wants HOST:PORT (e.g. ${DEFAULT_LISTEN}), got "${text}"`);
  }
  return { hostname: m[1] ?? m[2]!, port };
}

/**
 * Whether a listening address is reachable only from this machine.
 *
 * @example
 * isLoopback("127.0.0.1"); // true
 * isLoopback("0.0.0.0"); // false
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** What resolveServeConfig needs from outside. */
export interface ServeInputs {
  argv: readonly string[];
  env: (name: string) => string | undefined;
  readText: (path: string) => string;
  /** What separates the paths of WASI_PY_PACKAGES (the platform's, like PATH's); default ":". */
  pathListDelimiter?: string;
}

/**
 * Flags over the config file over defaults; the token from `--token-file` (or the file's
 * `tokenFile`) or WASI_PY_TOKEN; a token is required beyond loopback; packages from the flags (or else
 * the file), then WASI_PY_PACKAGES, as the command does. Throws ServeConfigError.
 */
export function resolveServeConfig(inputs: ServeInputs): ServeConfig {
  const flags = parseServeFlags(inputs.argv);
  const path = flags.strings.config;
  const file = path === undefined ? { strings: {}, numbers: {} } : readServeConfigFile(readOrFail(inputs, path), path);
  const strings = { ...file.strings, ...flags.strings };
  const numbers: Record<string, number> = { ...file.numbers, ...flags.numbers };
  const { hostname, port } = parseListen(strings.listen ?? DEFAULT_LISTEN);
  const tokenPath = strings["token-file"];
  const text = tokenPath !== undefined ? readOrFail(inputs, tokenPath) : inputs.env(TOKEN_ENV) ?? "";
  const tokens = text.split("\n").map((t) => t.trim()).filter((t) => t !== "");
  if (tokens.some((t) => t.length < 16 || /\s/.test(t))) {
    throw new ServeConfigError("each token must be at least 16 characters long, without spaces");
  }
  if (tokens.length === 0 && !isLoopback(hostname)) {
    throw new ServeConfigError(
      `listening on ${hostname} (beyond this machine) needs a token: --token-file FILE or ${TOKEN_ENV}`,
    );
  }
  const settings = Object.fromEntries(SERVE_SETTINGS.map((s) => [s.key, numbers[s.key] ?? s.default]));
  const limits = Object.fromEntries(
    Object.values(BUNDLED_RUN_LIMITS).map((s) => [s.key, numbers[s.key] ?? s.default]),
  ) as Record<RunLimitKey, number>;
  return {
    ...(settings as Record<ServeNumericKey, number>),
    hostname,
    port,
    tokens,
    corsOrigin: strings.cors,
    limits,
    packages: packagesFrom(
      flags.packages ?? file.packages ?? [],
      inputs.env(PACKAGES_OPTION.env),
      inputs.pathListDelimiter ?? ":",
    ),
  };
}

function readOrFail(inputs: ServeInputs, path: string): string {
  try {
    return inputs.readText(path);
  } catch (e) {
    throw new ServeConfigError(`${path}: cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
}
