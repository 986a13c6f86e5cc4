/**
 * Wiring of the bot: a resolved config → the sandbox pool (started and proven to work), the IRC
 * client and the bot joined together, and the logger they write to. No argument parsing, no
 * signals, no exit codes (main.ts has those).
 */
import { IrcBot } from "./bot.ts";
import type { BotOptions, Evaluator, Formatter } from "./bot.ts";
import { IrcClient } from "./client.ts";
import type { ClientEffects } from "./client.ts";
import { IrcConfigError } from "./config.ts";
import type { IrcConfig } from "./config.ts";
import { connect } from "../platform/net.ts";
import { pasteClient } from "./paste.ts";
import { systemTimers } from "./clock.ts";
import type { Timers } from "./clock.ts";

/** The answer to CTCP VERSION. */
const BOT_VERSION = "wasi-py IRC bot: Python 3.13 in a WebAssembly sandbox";
import { readText } from "../platform/fs.ts";
import { writeStderr } from "../platform/process.ts";
import { Sandbox } from "../sandbox/mod.ts";

/** Where the bot's log lines go. */
export type Logger = (level: "info" | "warn" | "error", text: string) => void;

/**
 * One line per event on stderr, with an ISO timestamp.
 *
 * @example
 * stderrLogger("info", "connected"); // 2025-01-01T00:00:00.000Z info connected
 */
export const stderrLogger: Logger = (level, text) => {
  void writeStderr(`${new Date().toISOString()} ${level} ${text}\n`);
};

/** What the bot needs of a sandbox (the pool in production). */
export type BotSandbox = Pick<Sandbox, "run" | "close">;

/**
 * Starts the sandbox pool and runs `pass` on every worker (a first run pays for worker start-up
 * and instantiation), which also proves the interpreter works before the bot shows up on IRC.
 * Throws what Sandbox.create throws (AssetError when the assets are missing), or an Error saying
 * why the sandbox does not work.
 *
 * @example
 * const sandbox = await startSandbox(4, undefined, ["/srv/py/sympy.tar.br"]);
 */
export async function startSandbox(
  workers: number,
  create: ((workers: number) => Promise<BotSandbox>) | undefined = undefined,
  packages: readonly string[] = [],
): Promise<BotSandbox> {
  create ??= (n) => Sandbox.create({ workers: n, packages });
  const sandbox = await create(workers);
  const warm = await Promise.all(Array.from({ length: workers }, () => sandbox.run("pass", { timeoutMs: 120_000 })))
    .catch((e: Error) => e);
  const bad = warm instanceof Error ? warm.message : warm.find((r) => r.outcome !== "ok")?.outcome;
  if (bad !== undefined) {
    await sandbox.close();
    throw new Error(`the sandbox does not work: ${bad.split("\n")[0]}`);
  }
  return sandbox;
}

/** The PEM block label each file must hold (`-----BEGIN <label>-----`). */
const PEM_LABELS = { "CA file": /CERTIFICATE/, "client certificate": /CERTIFICATE/, "client key": /PRIVATE KEY/ };

function readPemFile(what: keyof typeof PEM_LABELS, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readText(path);
  } catch (e) {
    throw new IrcConfigError(`cannot read ${what} ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!begin || !PEM_LABELS[what].test(begin[1]!)) {
    throw new IrcConfigError(
      `${what} ${path} is not a PEM file (expected -----BEGIN ...${PEM_LABELS[what].source}-----)`,
    );
  }
  return text;
}

/** The client's options (named by the constructor, so a rename of the options type does not matter here). */
type ClientOptions = ConstructorParameters<typeof IrcClient>[0];

/**
 * The client's options from the config (reads the PEM files; IrcConfigError if one is unreadable).
 * The config's fields go over as they are, by name (the settings schema, settings.ts, names both);
 * only the PEM paths become their contents and the grouped options take their shape here.
 */
function clientOptions(cfg: IrcConfig): ClientOptions {
  return {
    ...cfg,
    tlsCa: readPemFile("CA file", cfg.tlsCa),
    tlsCert: readPemFile("client certificate", cfg.tlsCert),
    tlsKey: readPemFile("client key", cfg.tlsKey),
    reconnect: { minDelayMs: cfg.reconnectMinMs, maxDelayMs: cfg.reconnectMaxMs, jitter: cfg.reconnectJitter },
    flood: {
      perTarget: { burst: cfg.floodBurst, ratePerSec: cfg.floodRatePerSec },
      global: { burst: cfg.floodGlobalBurst, ratePerSec: cfg.floodGlobalRatePerSec },
      maxQueuedPerRequester: cfg.maxQueuedPerRequester,
    },
  };
}

/** The bot's options from the config: its fields by name, the paste client and the grouped options. */
function botOptions(cfg: IrcConfig, timers: Timers): BotOptions {
  return {
    ...cfg,
    paste: cfg.pasteUrl === undefined ? undefined : pasteClient(cfg.pasteUrl, cfg.pasteTimeoutMs, timers),
    version: BOT_VERSION,
    more: { expiryMs: cfg.moreExpiryMs, maxBytesPerRequester: cfg.moreMaxBytes, maxBytesTotal: cfg.moreTotalBytes },
    rateLimit: {
      evalsPerWindow: cfg.evalsPerWindow,
      windowMs: cfg.rateWindowMs,
      adminEvalsPerWindow: cfg.adminEvalsPerWindow,
      maxEvalsPerWindow: cfg.maxEvalsPerWindow,
      admins: cfg.admins,
      ignore: cfg.ignore,
    },
  };
}

/** A running bot. */
export interface BotParts {
  client: IrcClient;
  bot: IrcBot;
  /** QUITs, drops queued requests and waits for the connection to close. */
  stop(message?: string): Promise<void>;
}

/**
 * Builds and starts the client and the bot from a resolved config. The evaluator and
 * formatter are passed in (the sandbox pool and formatIrc in production).
 *
 * @example
 * const parts = startBot(cfg, (code, l) => sandbox.run(code, l), formatIrc, stderrLogger);
 * await parts.stop();
 */
export function startBot(
  cfg: IrcConfig,
  evaluate: Evaluator,
  format: Formatter,
  log: Logger,
  fx: Partial<ClientEffects> = {},
): BotParts {
  const client = new IrcClient(clientOptions(cfg), { connect, now: Date.now, random: Math.random, log, ...fx });
  const bot = new IrcBot(client, evaluate, format, botOptions(cfg, fx.timers ?? systemTimers), {
    now: fx.now ?? Date.now,
    log,
  });
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
