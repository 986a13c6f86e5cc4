/**
 * The IRC bot's numeric settings, the number half of its one settings schema (settings.ts): one
 * spec per setting (flag, config key, unit, default, bounds, help). The per-evaluation limits are
 * the run-limit specs (options/limits.ts) with the bot's own defaults; admin and ceiling variants
 * share their parser and bounds. A config key is its flag's word, with the unit the flag takes
 * (`--ceiling-timeout` → `ceilingTimeoutSeconds`); a key renamed to follow that rule stays
 * readable under its old spelling (`oldConfigKey`, one warning line).
 */
import { COUNT, DECIMAL } from "../options/spec.ts";
import type { OptionSpec } from "../options/spec.ts";
import { BUNDLED_RUN_LIMITS } from "../options/limits.ts";
import { FORMAT_LIMITS } from "../options/format.ts";

/** A numeric bot setting: an option spec, and the config key it had before it took its flag's word. */
export interface BotNumberSpec extends OptionSpec {
  /** Former config-file key, still read with a warning (`maxFuel` for `ceilingFuel`). */
  oldConfigKey?: string;
}

/** A spec whose key is known to the type system (so the resolved config has typed fields). */
type Keyed<K extends string> = BotNumberSpec & { key: K };
type Override<K extends string> =
  & Pick<BotNumberSpec, "configKey" | "flag" | "default" | "help" | "oldConfigKey">
  & { key: K };

/** A run limit as a bot setting: same kind, unit and bounds, the bot's name, default and help. */
function botLimit<K extends string>(base: OptionSpec, over: Override<K>): Keyed<K> {
  const { short: _short, ...rest } = base;
  return { ...rest, ...over };
}

function count<K extends string>(
  key: K,
  flag: string,
  def: number,
  min: number,
  max: number,
  unit: string,
  help: string,
): Keyed<K> {
  return { key, configKey: key, flag, kind: COUNT, valueName: "N", unit, default: def, min, max, help };
}

function decimal<K extends string>(
  key: K,
  flag: string,
  def: number,
  min: number,
  max: number,
  help: string,
): Keyed<K> {
  return { key, configKey: key, flag, kind: DECIMAL, valueName: "X", unit: "a number", default: def, min, max, help };
}

const L = BUNDLED_RUN_LIMITS;

/**
 * Per-evaluation limits for users, admins, and the ceilings above both. The bot's defaults
 * differ from the command line's on purpose: 16 KiB of output (an IRC answer shows a few hundred
 * bytes), 3 lines per answer (the command's --max-lines default is 2).
 */
const EVAL_SETTINGS = [
  botLimit(L.fuel, {
    key: "fuel",
    configKey: "fuel",
    flag: "fuel",
    default: L.fuel.default,
    help: "fuel per evaluation",
  }),
  botLimit(L.timeoutMs, {
    key: "timeoutMs",
    configKey: "timeoutSeconds",
    flag: "timeout",
    default: L.timeoutMs.default,
    help: "wall-clock limit per evaluation, seconds",
  }),
  botLimit(L.memoryMiB, {
    key: "memoryMiB",
    configKey: "memoryMiB",
    flag: "memory",
    default: L.memoryMiB.default,
    help: "guest memory limit per evaluation, MiB",
  }),
  botLimit(L.maxOutputBytes, {
    key: "maxOutputBytes",
    configKey: "maxOutputBytes",
    flag: "max-output",
    default: 16_384,
    help: "output kept per stream per evaluation, bytes",
  }),
  botLimit(L.fuel, {
    key: "adminFuel",
    configKey: "adminFuel",
    flag: "admin-fuel",
    default: 10_000_000_000,
    help: "fuel per evaluation for admins",
  }),
  botLimit(L.timeoutMs, {
    key: "adminTimeoutMs",
    configKey: "adminTimeoutSeconds",
    flag: "admin-timeout",
    default: 30_000,
    help: "wall-clock limit for admins, seconds",
  }),
  botLimit(L.memoryMiB, {
    key: "adminMemoryMiB",
    configKey: "adminMemoryMiB",
    flag: "admin-memory",
    default: 512,
    help: "memory limit for admins, MiB",
  }),
  botLimit(L.maxOutputBytes, {
    key: "adminMaxOutputBytes",
    configKey: "adminMaxOutputBytes",
    flag: "admin-max-output",
    default: 65_536,
    help: "output kept per stream for admins, bytes",
  }),
  botLimit(L.fuel, {
    key: "maxFuel",
    configKey: "ceilingFuel",
    oldConfigKey: "maxFuel",
    flag: "ceiling-fuel",
    default: 100_000_000_000,
    help: "ceiling on fuel, admins included",
  }),
  botLimit(L.timeoutMs, {
    key: "maxTimeoutMs",
    configKey: "ceilingTimeoutSeconds",
    oldConfigKey: "maxTimeoutSeconds",
    flag: "ceiling-timeout",
    default: 60_000,
    help: "ceiling on the wall-clock limit, admins included, seconds",
  }),
  botLimit(L.memoryMiB, {
    key: "maxMemoryMiB",
    configKey: "ceilingMemoryMiB",
    oldConfigKey: "maxMemoryMiB",
    flag: "ceiling-memory",
    default: 1024,
    help: "ceiling on memory, admins included, MiB",
  }),
  botLimit(L.maxOutputBytes, {
    key: "maxMaxOutputBytes",
    configKey: "ceilingMaxOutputBytes",
    oldConfigKey: "maxMaxOutputBytes",
    flag: "ceiling-max-output",
    default: 1_048_576,
    help: "ceiling on output kept per stream, bytes",
  }),
] as const;

/** Connection, capacity, rate and flood settings (ms settings carry ms in flag and key alike). */
const BOT_SETTINGS = [
  count("port", "port", 6667, 1, 65535, "a port number", "server port, if not in --server (6697 with --tls)"),
  count(
    "workers",
    "workers",
    0,
    0,
    64,
    "workers",
    "evaluations run in parallel, i.e. sandbox workers (0 = CPU cores, at least 2)",
  ),
  count(
    "queueSize",
    "queue-size",
    32,
    1,
    10_000,
    "requests",
    "requests waiting or running at once; more get a 'busy' notice",
  ),
  count(
    "perUserConcurrency",
    "per-user-concurrency",
    1,
    1,
    64,
    "evaluations",
    "evaluations one user may have running at once",
  ),
  botLimit(FORMAT_LIMITS.maxLines, {
    key: "maxLines",
    configKey: "maxLines",
    flag: "max-lines",
    default: 3,
    help: "IRC lines per answer",
  }),
  ...EVAL_SETTINGS,
  count(
    "evalsPerWindow",
    "evals-per-window",
    5,
    1,
    100_000,
    "evaluations",
    "evaluations a user may start per rate window",
  ),
  count("rateWindowMs", "rate-window-ms", 60_000, 1_000, 86_400_000, "ms", "length of the rate window, ms"),
  count(
    "adminEvalsPerWindow",
    "admin-evals-per-window",
    60,
    1,
    100_000,
    "evaluations",
    "evaluations per window for admins",
  ),
  count(
    "maxEvalsPerWindow",
    "max-evals-per-window",
    120,
    1,
    100_000,
    "evaluations",
    "ceiling on evaluations per window, admins included",
  ),
  count("floodBurst", "flood-burst", 4, 1, 100, "lines", "lines sent back to back to one target"),
  decimal("floodRatePerSec", "flood-rate-per-sec", 1, 0.05, 100, "sustained lines per second to one target"),
  count("floodGlobalBurst", "flood-global-burst", 4, 1, 100, "lines", "lines sent back to back on the connection"),
  decimal(
    "floodGlobalRatePerSec",
    "flood-global-rate-per-sec",
    1,
    0.05,
    100,
    "sustained lines per second on the connection",
  ),
  {
    ...count(
      "maxQueuedPerRequester",
      "max-queued-lines",
      12,
      1,
      1000,
      "lines",
      "reply lines one requester may have waiting per target; a request whose reply would not fit is refused ('busy') before it is evaluated",
    ),
    configKey: "maxQueuedLines",
    oldConfigKey: "maxQueuedPerRequester",
  },
  count(
    "staleReplyMs",
    "stale-reply-ms",
    30_000,
    0,
    3_600_000,
    "ms",
    "after a reconnect, replies queued longer ago are dropped and summarised, ms",
  ),
  count(
    "lagThresholdMs",
    "lag-threshold-ms",
    2_000,
    100,
    600_000,
    "ms",
    "server lag (measured by PING while replies wait) above which output slows down, ms",
  ),
  count(
    "lagProbeIntervalMs",
    "lag-probe-interval-ms",
    10_000,
    1_000,
    3_600_000,
    "ms",
    "measure the server's lag at most this often while replies wait, ms",
  ),
  count(
    "joinRetryMinMs",
    "join-retry-min-ms",
    30_000,
    1_000,
    86_400_000,
    "ms",
    "first retry of a refused JOIN, ms (doubles)",
  ),
  count(
    "cannotSendPauseMs",
    "cannot-send-pause-ms",
    600_000,
    1_000,
    86_400_000,
    "ms",
    "after 'cannot send to channel', ignore requests there this long (or until its modes change), ms",
  ),
  count(
    "stableConnectionMs",
    "stable-connection-ms",
    60_000,
    0,
    86_400_000,
    "ms",
    "a connection must last this long before the reconnect delay is reset, ms",
  ),
  count(
    "authFailureLimit",
    "auth-failure-limit",
    5,
    1,
    1000,
    "attempts",
    "give up after this many refusals in a row of the TLS certificate or the server password",
  ),
  count("pasteTimeoutMs", "paste-timeout-ms", 5_000, 100, 120_000, "ms", "give up an upload to --paste-url after, ms"),
  count(
    "reconnectMinMs",
    "reconnect-min-ms",
    2_000,
    100,
    3_600_000,
    "ms",
    "first reconnect delay, ms (doubles each failure)",
  ),
  count("reconnectMaxMs", "reconnect-max-ms", 300_000, 100, 86_400_000, "ms", "largest reconnect delay, ms"),
  decimal("reconnectJitter", "reconnect-jitter", 0.5, 0, 1, "randomised fraction of each reconnect delay"),
  count("connectTimeoutMs", "connect-timeout-ms", 20_000, 100, 600_000, "ms", "give up a connection attempt after, ms"),
  count(
    "pingIntervalMs",
    "ping-interval-ms",
    120_000,
    1_000,
    3_600_000,
    "ms",
    "send a PING after this long without traffic, ms",
  ),
  count(
    "pingTimeoutMs",
    "ping-timeout-ms",
    60_000,
    1_000,
    3_600_000,
    "ms",
    "reconnect when the PING gets no answer within, ms",
  ),
  count(
    "regainNickIntervalMs",
    "regain-nick-interval-ms",
    60_000,
    1_000,
    86_400_000,
    "ms",
    "on an alternate nick, retry the main one every, ms",
  ),
  count(
    "nickRetryMinMs",
    "nick-retry-min-ms",
    1_000,
    100,
    3_600_000,
    "ms",
    "when the server refuses nicks before registration: pause before the third try, ms (doubles)",
  ),
  count(
    "nickRefusalLimit",
    "nick-refusal-limit",
    10,
    1,
    1000,
    "refusals",
    "stop (exit status 1) after this many nick refusals in a row before registration",
  ),
  count(
    "rejoinAfterKickMs",
    "rejoin-after-kick-ms",
    5_000,
    0,
    3_600_000,
    "ms",
    "rejoin a configured channel this long after a kick (0 = never); kicks soon after back off, ms",
  ),
  count(
    "moreExpiryMs",
    "more-expiry-ms",
    300_000,
    1_000,
    86_400_000,
    "ms",
    "the rest of a cut reply is kept for !more this long, ms",
  ),
  count(
    "moreMaxBytes",
    "more-max-bytes",
    65_536,
    1_024,
    16_777_216,
    "bytes",
    "output kept for !more per requester, bytes (the rest is counted, not kept)",
  ),
  count(
    "moreTotalBytes",
    "more-total-bytes",
    4_194_304,
    1_024,
    1_073_741_824,
    "bytes",
    "output kept for !more over all requesters, bytes (the oldest goes first)",
  ),
  count("quitTimeoutMs", "quit-timeout-ms", 3_000, 0, 60_000, "ms", "wait this long for the server after QUIT, ms"),
] as const;

/** Name of a numeric bot setting in the resolved config (`timeoutMs`). */
export type IrcNumericKey = (typeof BOT_SETTINGS)[number]["key"];

/** Every numeric bot setting, in help order. */
export const IRC_NUMERIC_SETTINGS: readonly BotNumberSpec[] = BOT_SETTINGS;
