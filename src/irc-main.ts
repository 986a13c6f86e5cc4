/**
 * `wasi-py --irc`: reads the config file and flags, starts the sandbox pool and the
 * IRC client, wires them through the bot, and shuts down cleanly (QUIT) on SIGINT or
 * SIGTERM. Exports the cmd-ts option definitions so the CLI can merge them.
 */

import { flag, multioption, option, optional, array, string, boolean } from "cmd-ts";
import { IrcBot } from "./irc-bot.ts";
import type { Evaluator, Formatter } from "./irc-bot.ts";
import { IrcClient } from "./irc-client.ts";
import type { ClientEffects } from "./irc-client.ts";
import { IrcConfigError, NUMERIC_OPTIONS, SECRET_ENV, checkConfigFile, resolveIrcConfig } from "./irc-config.ts";
import type { IrcConfig, IrcSettingsInput, NumericKey } from "./irc-config.ts";
import { connect } from "./platform/net.ts";
import { readText } from "./platform/fs.ts";
import { envVar, writeStderr } from "./platform/process.ts";
import { defaultWorkerCount } from "./platform/worker.ts";
import { Sandbox } from "./sandbox.ts";
import { formatIrc } from "./irc-format.ts";

/** `--kebab-case` flag name of a numeric setting. */
export function flagName(key: string): string {
  return key.replace("MiB", "Mib").replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

function numericArgs() {
  const out = {} as Record<NumericKey, ReturnType<typeof option<ReturnType<typeof optional<typeof string>>>>>;
  for (const [k, spec] of Object.entries(NUMERIC_OPTIONS) as [NumericKey, (typeof NUMERIC_OPTIONS)[NumericKey]][]) {
    out[k] = option({ type: optional(string), long: flagName(k), description: `${spec.doc} (default ${spec.def})` });
  }
  return out;
}

/** cmd-ts definitions of every IRC option (merge into the CLI's command with `--irc`). */
export const ircArgs = {
  ircConfig: option({ type: optional(string), long: "irc-config", description: "JSON file with IRC settings (flags override it)" }),
  server: option({ type: optional(string), long: "server", description: "IRC server, HOST or HOST:PORT" }),
  tls: flag({ type: optional(boolean), long: "tls", description: "connect with TLS (certificate checked)" }),
  tlsCa: option({ type: optional(string), long: "tls-ca", description: "PEM file of CA certificates to trust instead of the system's" }),
  tlsInsecure: flag({ type: optional(boolean), long: "tls-insecure", description: "do NOT verify the server certificate (testing only)" }),
  tlsCert: option({ type: optional(string), long: "tls-cert", description: "client certificate PEM file (CertFP / SASL EXTERNAL)" }),
  tlsKey: option({ type: optional(string), long: "tls-key", description: "client key PEM file" }),
  nick: option({ type: optional(string), long: "nick", description: "the bot's nick" }),
  altNicks: multioption({ type: array(string), long: "alt-nick", description: "alternate nick if the main one is taken (repeatable; default NICK_, NICK__)" }),
  username: option({ type: optional(string), long: "username", description: "user name (ident) (default wasipy)" }),
  realname: option({ type: optional(string), long: "realname", description: "real name / gecos" }),
  saslMechanism: option({ type: optional(string), long: "sasl", description: `SASL mechanism: PLAIN (password from $${SECRET_ENV.saslPassword} or the config file) or EXTERNAL` }),
  saslAccount: option({ type: optional(string), long: "sasl-account", description: "account name for SASL PLAIN" }),
  channels: multioption({ type: array(string), long: "channel", description: "channel to join, '#chan' or '#chan key' (repeatable)" }),
  prefix: option({ type: optional(string), long: "prefix", description: "command prefix (default !py)" }),
  admins: multioption({ type: array(string), long: "admin", description: "admin hostmask nick!user@host or $a:account (repeatable)" }),
  ignore: multioption({ type: array(string), long: "ignore", description: "ignored hostmask or $a:account (repeatable)" }),
  ...numericArgs(),
};

/** What cmd-ts hands over for `ircArgs` (all optional; defaults come from the config). */
export type IrcFlags = Partial<Record<keyof typeof ircArgs, unknown>>;

/** Turns parsed flags into settings (the secrets never come from flags). */
export function settingsFromFlags(flags: IrcFlags): IrcSettingsInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (k === "ircConfig" || v === undefined || v === false) continue;
    out[k] = v;
  }
  return out as IrcSettingsInput;
}

/** Loads and validates everything; throws IrcConfigError with a one-line message. */
export function loadIrcConfig(flags: IrcFlags, env: Record<string, string | undefined>, cores: number): IrcConfig {
  let file: IrcSettingsInput = {};
  if (typeof flags.ircConfig === "string") {
    let text: string;
    try {
      text = readText(flags.ircConfig);
    } catch (e) {
      throw new IrcConfigError(`cannot read ${flags.ircConfig}: ${(e as { code?: string }).code ?? (e as Error).message}`);
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
export function startBot(cfg: IrcConfig, evaluate: Evaluator, format: Formatter, log: Logger, fx: Partial<ClientEffects> = {}): BotParts {
  const client = new IrcClient(
    {
      host: cfg.host,
      port: cfg.port,
      tls: cfg.tls,
      tlsCa: readPemFile("CA file", cfg.tlsCa),
      tlsVerify: !cfg.tlsInsecure,
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
      concurrency: cfg.workers,
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
  /** Parsed `ircArgs` flags. */
  flags: IrcFlags;
  /**
   * Subscribes the shutdown to SIGINT/SIGTERM; returns an unsubscribe function. The CLI
   * passes the platform's signal hook; without one the bot runs until the process dies.
   */
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
  const env = { [SECRET_ENV.password]: envVar(SECRET_ENV.password), [SECRET_ENV.saslPassword]: envVar(SECRET_ENV.saslPassword) };
  let cfg: IrcConfig;
  try {
    cfg = loadIrcConfig(options.flags, env, defaultWorkerCount());
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
  log("info", `wasi-py IRC bot: ${cfg.workers} workers, prefix ${cfg.prefix}, channels ${cfg.channels.join(" ") || "(none)"}`);
  const code = await new Promise<number>((resolve) => {
    let done = false;
    const finish = async (why: string, exitCode: number) => {
      if (done) return;
      done = true;
      log("info", `shutting down (${why})`);
      await parts.stop(cfg.quitMessage);
      resolve(exitCode);
    };
    const unsubscribe = options.onShutdownSignal?.((sig) => void finish(sig, 0));
    parts.client.on("fatal", (e) => {
      unsubscribe?.();
      void finish(e.message, 1);
    });
  });
  await sandbox.close();
  const s = parts.bot.stats;
  log("info", `stopped: ${s.evaluated} evaluated, ${s.refusedRate} rate-limited, ${s.refusedBusy} busy, ${s.ignored} ignored, ${s.failed} failed`);
  return code;
}
