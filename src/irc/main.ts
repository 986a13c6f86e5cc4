/**
 * `wasi-py --irc`: the entry. Parses the arguments, loads the config, starts the sandbox and the
 * bot (start.ts), runs until SIGINT/SIGTERM or a fatal IRC error, and returns an exit status from
 * the table the command uses (options/exit-codes.ts): 0 after a clean shutdown, 1 for a fatal IRC
 * error, 2 for a bad option or setting, 120 when the sandbox cannot start (assets missing).
 */
import { formatIrcReply } from "../format/messages.ts";
import { EXIT } from "../options/exit-codes.ts";
import { envVar, onShutdownSignal, writeStderr, writeStdout } from "../platform/process.ts";
import { defaultWorkerCount } from "../platform/worker.ts";
import { ircHelpText, parseIrcArgv, settingsFromFlags } from "./args.ts";
import type { IrcFlags } from "./args.ts";
import { IrcConfigError, readConfigFile, redactChannel, resolveIrcConfig, SECRET_ENV } from "./config.ts";
import type { IrcConfig, IrcSettingsInput } from "./config.ts";
import { startBot, startSandbox, stderrLogger } from "./start.ts";
import type { BotParts, BotSandbox, Logger } from "./start.ts";

/**
 * Loads and validates everything: the config file named by `--config`, the flags, the secrets
 * in `env`. Throws IrcConfigError with a one-line message.
 *
 * @example
 * loadIrcConfig({ server: "irc.example.org", nick: "pybot" }, {}, 4).workers; // 4
 */
export function loadIrcConfig(flags: IrcFlags, env: Record<string, string | undefined>, cores: number): IrcConfig {
  const file: IrcSettingsInput = typeof flags.ircConfig === "string" ? readConfigFile(flags.ircConfig) : {};
  return resolveIrcConfig(file, settingsFromFlags(flags), env, cores);
}

/** Options of runIrcBot; all but argv have production defaults and exist for tests. */
export interface RunIrcBotOptions {
  /** The command-line arguments (after the script), including `--irc`. */
  argv: string[];
  /** Subscribes the shutdown to SIGINT/SIGTERM and returns the unsubscribe (default: the process's signals; tests inject). */
  onShutdownSignal?: (handler: (signal: string) => void) => () => void;
  log?: Logger;
  /** Creates the sandbox pool (default: Sandbox.create). */
  createSandbox?: (workers: number) => Promise<BotSandbox>;
}

async function failWith(status: number, message: string): Promise<number> {
  await writeStderr(`wasi-py: ${message.split("\n")[0]}\n`);
  return status;
}

/** argv → a resolved config, or the exit status to end with (help printed, or a usage error). */
async function configFrom(argv: string[]): Promise<IrcConfig | number> {
  const parsed = await parseIrcArgv(argv);
  if (parsed.kind === "help") {
    await writeStdout(ircHelpText());
    return 0;
  }
  if (parsed.kind === "error") return failWith(EXIT.usage, `${parsed.message} (see wasi-py --irc --help)`);
  const env = {
    [SECRET_ENV.password]: envVar(SECRET_ENV.password),
    [SECRET_ENV.saslPassword]: envVar(SECRET_ENV.saslPassword),
    [SECRET_ENV.channelKeys]: envVar(SECRET_ENV.channelKeys),
  };
  try {
    return loadIrcConfig(parsed.flags, env, defaultWorkerCount());
  } catch (e) {
    if (e instanceof IrcConfigError) return failWith(EXIT.usage, e.message);
    throw e;
  }
}

/** Resolves with the exit status once a shutdown signal (0) or a fatal client error (1) has stopped the bot. */
function untilStopped(parts: BotParts, cfg: IrcConfig, log: Logger, options: RunIrcBotOptions): Promise<number> {
  return new Promise<number>((resolve) => {
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
      void finish(e.message, EXIT.botFatal);
    });
  });
}

/**
 * Runs the bot until SIGINT/SIGTERM (then QUITs and closes the sandbox) or a fatal error (e.g.
 * SASL failed), and returns the exit status (see the file comment); errors are one line on stderr.
 *
 * @example
 * exitProcess(await runIrcBot({ argv: ["--irc", "--server", "irc.example.org", "--nick", "pybot"] }));
 */
export async function runIrcBot(options: RunIrcBotOptions): Promise<number> {
  const log = options.log ?? stderrLogger;
  const cfg = await configFrom(options.argv);
  if (typeof cfg === "number") return cfg;
  let sandbox: BotSandbox;
  try {
    sandbox = await startSandbox(cfg.workers, options.createSandbox, cfg.packages);
  } catch (e) {
    return failWith(EXIT.internal, `cannot start the sandbox: ${e instanceof Error ? e.message : String(e)}`);
  }
  let parts: BotParts;
  try {
    parts = startBot(cfg, (code, limits) => sandbox.run(code, limits), formatIrcReply, log);
  } catch (e) {
    await sandbox.close();
    if (e instanceof IrcConfigError) return failWith(EXIT.usage, e.message);
    throw e;
  }
  const channels = cfg.channels.map(redactChannel).join(" ") || "(none)";
  log("info", `wasi-py IRC bot: ${cfg.workers} workers, prefix ${cfg.prefix}, channels ${channels}`);
  const code = await untilStopped(parts, cfg, log, options);
  await sandbox.close();
  const s = parts.bot.stats;
  log(
    "info",
    `stopped: ${s.evaluated} evaluated, ${s.refusedRate} rate-limited, ${s.refusedBusy} busy, ${s.ignored} ignored, ${s.failed} failed`,
  );
  return code;
}
