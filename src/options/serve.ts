/**
 * The HTTP service's numeric settings (`wasi-py --serve`): one spec per setting, shared by its
 * flags, its JSON config file, its help and its messages, like the bot's (irc.ts). The run limits
 * are the table's (limits.ts): on the service each is both the default of a request and the most
 * a request may ask for.
 */
import { BYTES, COUNT, SECONDS } from "./spec.ts";
import type { OptionSpec } from "./spec.ts";
import { BUNDLED_RUN_LIMITS } from "./limits.ts";

type Keyed<K extends string> = OptionSpec & { key: K };

function count<K extends string>(key: K, flag: string, def: number, max: number, unit: string, help: string): Keyed<K> {
  return { key, configKey: key, flag, kind: COUNT, valueName: "N", unit, default: def, min: 0, max, help };
}

function seconds<K extends string>(key: K, flag: string, def: number, help: string): Keyed<K> {
  const configKey = key.replace(/Ms$/, "Seconds");
  return {
    key,
    configKey,
    flag,
    kind: SECONDS,
    valueName: "SECONDS",
    unit: "seconds",
    default: def,
    min: 1,
    max: 24 * 60 * 60 * 1000,
    help,
  };
}

/** The service's own settings. */
export const SERVE_SETTINGS = [
  count("workers", "workers", 0, 256, "workers", "runs at once; 0 = one per CPU core"),
  count("maxQueue", "max-queue", 64, 1_000_000, "runs", "runs that may wait for a worker; more get 429"),
  seconds("queueTimeoutMs", "queue-timeout", 10_000, "longest wait for a worker; then 503"),
  {
    key: "maxBodyBytes",
    configKey: "maxBodyBytes",
    flag: "max-body",
    kind: BYTES,
    valueName: "BYTES",
    unit: "bytes",
    default: 16 * 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
    help: "largest request body; more gets 413",
  },
  seconds("headersTimeoutMs", "headers-timeout", 10_000, "longest wait for a request's headers"),
  seconds("bodyTimeoutMs", "body-timeout", 30_000, "longest wait for a request's body; then 408"),
  count(
    "ratePerMinute",
    "rate",
    600,
    1_000_000,
    "requests",
    "requests per minute per client (token or address); 0 = no limit",
  ),
  count("rateBurst", "rate-burst", 60, 1_000_000, "requests", "requests a client may make at once above the rate"),
  seconds("graceMs", "grace", 10_000, "on SIGTERM: how long running runs may finish before they are aborted"),
  count("batchMaxLines", "batch-max-lines", 1000, 1_000_000, "lines", "most programs in one /v1/batch request"),
] as const satisfies readonly OptionSpec[];

/** Name of a service setting. */
export type ServeNumericKey = (typeof SERVE_SETTINGS)[number]["key"];

/** The run limits a request may set, as service settings (defaults and ceilings). */
export const SERVE_RUN_LIMITS: readonly OptionSpec[] = Object.values(BUNDLED_RUN_LIMITS);

/** Fuel per millisecond of Piston's `run_cpu_time` (a 2024 server core spends about this much in 1 ms). */
export const FUEL_PER_CPU_MS = 5_000_000;

/** The address the service listens on by default (snekbox's port). */
export const DEFAULT_LISTEN = "127.0.0.1:8060";
