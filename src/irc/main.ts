/**
 * `wasi-py --irc`: reads the config file and flags, starts the sandbox pool and the
 * IRC client, wires them through the bot, and shuts down cleanly (QUIT) on SIGINT or
 * SIGTERM. Exports the cmd-ts option definitions so the CLI can merge them.
 */

import { array, boolean, command, flag, multioption, option, optional, parse, string } from "cmd-ts";
import { parseByteSize, parseFuel, parseTimeout } from "../cli/args.ts";
import { IrcBot } from "./bot.ts";
import type { Evaluator, Formatter } from "./bot.ts";
import { IrcClient } from "./client.ts";
import type { ClientEffects } from "./client.ts";
import { checkConfigFile, IrcConfigError, NUMERIC_OPTIONS, resolveIrcConfig, SECRET_ENV } from "./config.ts";
import type { IrcConfig, IrcSettingsInput, NumericKey } from "./config.ts";
import { connect } from "../platform/net.ts";
import { readText } from "../platform/fs.ts";
import { envVar, onShutdownSignal, writeStderr, writeStdout } from "../platform/process.ts";
import { defaultWorkerCount } from "../platform/worker.ts";
import { Sandbox } from "../sandbox/pool.ts";
import { formatIrc } from "../text/messages.ts";

/**
 * Command-line spelling of the numeric settings. The per-evaluation limits use the same
 * names and units as the one-shot CLI (`--fuel`, `--timeout` in seconds, `--memory` in
 * MiB, `--max-output` in bytes with k/M); the rest are `--kebab-case` of the config key.
 */
const FLAG_SPELLING: Partial<Record<NumericKey, { long: string; parse?: (text: string) => number; unit?: string }>> = {
  fuel: { long: "fuel", parse: parseFuel },
  timeoutMs: { long: "timeout", parse: parseTimeout, unit: "s" },
  memoryMiB: { long: "memory" },
  maxOutputBytes: { long: "max-output", parse: parseByteSize },
  adminFuel: { long: "admin-fuel", parse: parseFuel },
  adminTimeoutMs: { long: "admin-timeout", parse: parseTimeout, unit: "s" },
  adminMemoryMiB: { long: "admin-memory" },
  adminMaxOutputBytes: { long: "admin-max-output", parse: parseByteSize },
  maxFuel: { long: "ceiling-fuel", parse: parseFuel },
  maxTimeoutMs: { long: "ceiling-timeout", parse: parseTimeout, unit: "s" },
  maxMemoryMiB: { long: "ceiling-memory" },
  maxMaxOutputBytes: { long: "ceiling-max-output", parse: parseByteSize },
};

/** `--flag` name of a numeric setting. */
export function flagName(key: NumericKey): string {
  return FLAG_SPELLING[key]?.long ?? key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/**
 * Converts a numeric flag's text to the config's unit (seconds → ms for timeouts); text
 * of other flags is left for the config's validation. One-line errors name the flag.
 */
export function parseNumericFlag(key: NumericKey, text: string): number | string {
  const spell = FLAG_SPELLING[key];
  if (!spell?.parse) return text;
  try {
    return spell.parse(text);
  } catch (e) {
    throw new IrcConfigError((e as Error).message.replace(/^--[a-z-]+/, `--${spell.long}`));
  }
}

function numericArgs() {
  const out = {} as Record<NumericKey, ReturnType<typeof option<ReturnType<typeof optional<typeof string>>>>>;
  for (const k of Object.keys(NUMERIC_OPTIONS) as NumericKey[]) {
    out[k] = option({ type: optional(string), long: flagName(k) });
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
  channels: multioption({ type: array(string), long: "channel" }),
  prefix: option({ type: optional(string), long: "prefix" }),
  admins: multioption({ type: array(string), long: "admin" }),
  ignore: multioption({ type: array(string), long: "ignore" }),
  ...numericArgs(),
};

/** What cmd-ts hands over for `ircArgs` (all optional; defaults come from the config). */
export type IrcFlags = Partial<Record<keyof typeof ircArgs, unknown>>;

/** Help for `wasi-py --irc --help`: every option with its default (the README table too). */
export function ircHelpText(): string {
  const rows: [string, string][] = [
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
    ["(server password)", `from $${SECRET_ENV.password} or the file [password]; never a flag (ps would show it)`],
    ["--channel '#chan[ key]'", "channel to join, repeatable [channels]"],
    ["--prefix TEXT", "command prefix (default !py) [prefix]; nick: <code> also works [nickAddressing]"],
    ["--admin MASK", "admin: nick!user@host glob or $a:account, repeatable [admins]"],
    ["--ignore MASK", "ignored: nick!user@host glob or $a:account, repeatable [ignore]"],
  ];
  for (const [k, spec] of Object.entries(NUMERIC_OPTIONS) as [NumericKey, (typeof NUMERIC_OPTIONS)[NumericKey]][]) {
    const spell = FLAG_SPELLING[k];
    const def = spell?.unit === "s"
      ? `${spec.def / 1000}`
      : k === "workers"
      ? "CPU cores, at least 2"
      : String(spec.def);
    const unit = spell?.unit === "s" ? " (seconds)" : "";
    rows.push([`--${flagName(k)} N`, `${spec.doc.replace(/, ms$/, "")}${unit} (default ${def}) [${k}]`]);
  }
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return (
    "Usage: wasi-py --irc --server HOST[:PORT] --nick NICK [--channel '#chan' ...] [options]\n\n" +
    "Answers `!py <code>` (and `NICK: <code>`, and private queries) by running the code in the sandbox.\n\n" +
    rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join("\n") +
    "\n"
  );
}

/** Turns parsed flags into settings (the secrets never come from flags). */
export function settingsFromFlags(flags: IrcFlags): IrcSettingsInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (k === "ircConfig" || k === "irc" || k === "help" || v === undefined || v === false) continue;
    if (k in NUMERIC_OPTIONS && typeof v === "string") out[k] = parseNumericFlag(k as NumericKey, v);
    else out[k] = v;
  }
  return out as IrcSettingsInput;
}

const ircCommand = command({ name: "wasi-py --irc", args: ircArgs, handler: (v) => v });

/** Parses `wasi-py --irc ...` arguments; usage errors come back as one line. */
export async function parseIrcArgv(
  argv: string[],
): Promise<{ kind: "run"; flags: IrcFlags } | { kind: "help" } | { kind: "error"; message: string }> {
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

/** Loads and validates everything; throws IrcConfigError with a one-line message. */
export function loadIrcConfig(flags: IrcFlags, env: Record<string, string | undefined>, cores: number): IrcConfig {
  let file: IrcSettingsInput = {};
  if (typeof flags.ircConfig === "string") {
    let text: string;
    try {
      text = readText(flags.ircConfig);
    } catch (e) {
      throw new IrcConfigError(
        `cannot read ${flags.ircConfig}: ${(e as { code?: string }).code ?? (e as Error).message}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new IrcConfigError(`${flags.ircConfig}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
    }
    file = checkConfigFile(json, flags.ircConfig);
  }
  return resolveIrcConfig(file, settingsFromFlags(flags), env, cores);
}

function readPemFile(what: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readText(path);
  } catch (e) {
    throw new IrcConfigError(`cannot read ${what} ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
}

export type Logger = (level: "info" | "warn" | "error", text: string) => void;

/** One line per event on stderr, with an ISO timestamp. */
export const stderrLogger: Logger = (level, text) => {
  void writeStderr(`${new Date().toISOString()} ${level} ${text}\n`);
};

export interface BotParts {
  client: IrcClient;
  bot: IrcBot;
  /** QUITs, drops queued requests and waits for the connection to close. */
  stop(message?: string): Promise<void>;
}

/**
 * Builds and starts the client and the bot from a resolved config. The evaluator and
 * formatter are passed in (the sandbox pool and formatIrc in production).
 */
export function startBot(
  cfg: IrcConfig,
  evaluate: Evaluator,
  format: Formatter,
  log: Logger,
  fx: Partial<ClientEffects> = {},
): BotParts {
  const client = new IrcClient(
    {
      host: cfg.host,
      port: cfg.port,
      tls: cfg.tls,
      tlsCa: readPemFile("CA file", cfg.tlsCa),
      tlsInsecure: cfg.tlsInsecure,
      tlsCert: readPemFile("client certificate", cfg.tlsCert),
      tlsKey: readPemFile("client key", cfg.tlsKey),
      nick: cfg.nick,
      altNicks: cfg.altNicks,
      username: cfg.username,
      realname: cfg.realname,
      password: cfg.password,
      sasl: cfg.sasl,
      channels: cfg.channels,
      connectTimeoutMs: cfg.connectTimeoutMs,
      pingIntervalMs: cfg.pingIntervalMs,
      pingTimeoutMs: cfg.pingTimeoutMs,
      regainNickIntervalMs: cfg.regainNickIntervalMs,
      reconnect: { minDelayMs: cfg.reconnectMinMs, maxDelayMs: cfg.reconnectMaxMs, jitter: cfg.reconnectJitter },
      flood: {
        perTarget: { burst: cfg.floodBurst, ratePerSec: cfg.floodRatePerSec },
        global: { burst: cfg.floodGlobalBurst, ratePerSec: cfg.floodGlobalRatePerSec },
      },
      quitTimeoutMs: cfg.quitTimeoutMs,
    },
    { connect, now: Date.now, random: Math.random, log, ...fx },
  );
  const bot = new IrcBot(
    client,
    evaluate,
    format,
    {
      prefix: cfg.prefix,
      nickAddressing: cfg.nickAddressing,
      privateBareCode: cfg.privateBareCode,
      maxLines: cfg.maxLines,
      queueSize: cfg.queueSize,
      workers: cfg.workers,
      perUserConcurrency: cfg.perUserConcurrency,
      userLimits: cfg.userLimits,
      adminLimits: cfg.adminLimits,
      rateLimit: {
        evalsPerWindow: cfg.evalsPerWindow,
        windowMs: cfg.rateWindowMs,
        adminEvalsPerWindow: cfg.adminEvalsPerWindow,
        maxEvalsPerWindow: cfg.maxEvalsPerWindow,
        admins: cfg.admins,
        ignore: cfg.ignore,
      },
    },
    { now: Date.now, log },
  );
  client.on("message", (m) => bot.handle(m));
  client.start();
  return {
    client,
    bot,
    stop: async (message = cfg.quitMessage) => {
      bot.clearQueue();
      await client.quit(message);
    },
  };
}

export interface RunIrcBotOptions {
  /** The command-line arguments (after the script), including `--irc`. */
  argv: string[];
  /** Subscribes the shutdown to SIGINT/SIGTERM and returns the unsubscribe (default: the process's signals; tests inject). */
  onShutdownSignal?: (handler: (signal: string) => void) => () => void;
  log?: Logger;
}

/**
 * Runs the bot until SIGINT/SIGTERM (then QUITs and closes the sandbox) or a fatal
 * error (e.g. SASL failed). Returns the exit code: 0 after a clean shutdown, 1 for a
 * fatal error, 2 for a bad configuration (message on stderr, one line).
 */
export async function runIrcBot(options: RunIrcBotOptions): Promise<number> {
  const log = options.log ?? stderrLogger;
  const env = {
    [SECRET_ENV.password]: envVar(SECRET_ENV.password),
    [SECRET_ENV.saslPassword]: envVar(SECRET_ENV.saslPassword),
  };
  const parsed = await parseIrcArgv(options.argv);
  if (parsed.kind === "help") {
    await writeStdout(ircHelpText());
    return 0;
  }
  if (parsed.kind === "error") {
    await writeStderr(`wasi-py: ${parsed.message} (see wasi-py --irc --help)\n`);
    return 2;
  }
  let cfg: IrcConfig;
  try {
    cfg = loadIrcConfig(parsed.flags, env, defaultWorkerCount());
  } catch (e) {
    if (e instanceof IrcConfigError) {
      await writeStderr(`wasi-py: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let sandbox: Sandbox;
  try {
    sandbox = await Sandbox.create({ workers: cfg.workers });
  } catch (e) {
    await writeStderr(`wasi-py: cannot start the sandbox: ${(e as Error).message.split("\n")[0]}\n`);
    return 1;
  }
  // Start every worker now (a first run pays for worker start-up and instantiation), which
  // also proves the interpreter works before the bot shows up on IRC.
  const warm = await Promise.all(Array.from({ length: cfg.workers }, () => sandbox.run("pass", { timeoutMs: 120_000 })))
    .catch((e: Error) => e);
  const bad = warm instanceof Error ? warm.message : warm.find((r) => r.outcome !== "ok")?.outcome;
  if (bad !== undefined) {
    await sandbox.close();
    await writeStderr(`wasi-py: the sandbox does not work: ${bad.split("\n")[0]}\n`);
    return 1;
  }
  const evaluate: Evaluator = (code, limits) => sandbox.run(code, limits);
  let parts: BotParts;
  try {
    parts = startBot(cfg, evaluate, formatIrc, log);
  } catch (e) {
    await sandbox.close();
    if (e instanceof IrcConfigError) {
      await writeStderr(`wasi-py: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  log(
    "info",
    `wasi-py IRC bot: ${cfg.workers} workers, prefix ${cfg.prefix}, channels ${cfg.channels.join(" ") || "(none)"}`,
  );
  const code = await new Promise<number>((resolve) => {
    let done = false;
    const finish = async (why: string, exitCode: number) => {
      if (done) return;
      done = true;
      log("info", `shutting down (${why})`);
      await parts.stop(cfg.quitMessage);
      resolve(exitCode);
    };
    const unsubscribe = (options.onShutdownSignal ?? onShutdownSignal)((sig) => {
      unsubscribe();
      void finish(sig, 0);
    });
    parts.client.on("fatal", (e) => {
      unsubscribe();
      void finish(e.message, 1);
    });
  });
  await sandbox.close();
  const s = parts.bot.stats;
  log(
    "info",
    `stopped: ${s.evaluated} evaluated, ${s.refusedRate} rate-limited, ${s.refusedBusy} busy, ${s.ignored} ignored, ${s.failed} failed`,
  );
  return code;
}
