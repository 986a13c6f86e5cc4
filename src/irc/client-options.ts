/**
 * The IRC client's options, effects and the errors it stops with: what `new IrcClient(...)` takes
 * and what its "fatal" event delivers (the client itself is client.ts).
 */
import type { SchedulerOptions } from "./flood.ts";
import type { ConnectionEffects, ConnectionOptions } from "./connection.ts";
import type { SaslOptions } from "./sasl.ts";

/**
 * Everything the client needs: where to connect (ConnectionOptions) and who to be.
 *
 * @example
 * ```ts
 * const opts: IrcClientOptions = {
 *   host: "irc.example.net", port: 6697, tls: true,
 *   nick: "pybot", altNicks: ["pybot_"], username: "wasipy", realname: "wasi-py bot",
 *   channels: ["#py"], connectTimeoutMs: 20_000, pingIntervalMs: 120_000, pingTimeoutMs: 60_000,
 *   regainNickIntervalMs: 60_000, nickRetryMinMs: 1000, nickRefusalLimit: 10, rejoinAfterKickMs: 5000, reconnect: { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.5 },
 *   flood: { perTarget: { burst: 4, ratePerSec: 1 }, global: { burst: 8, ratePerSec: 2 } },
 *   quitTimeoutMs: 3000,
 * };
 * ```
 */
export interface IrcClientOptions extends ConnectionOptions {
  nick: string;
  /** Nicks tried in order when the main one is taken. */
  altNicks: string[];
  username: string;
  realname: string;
  /** Server password (PASS). */
  password?: string;
  sasl?: SaslOptions;
  /** Channels to join, optionally with a key: "#chan key". */
  channels: string[];
  /** While on an alternate nick, try to take the main one back this often. */
  regainNickIntervalMs: number;
  /** First pause between nick attempts after two quick ones, when the server refuses them (doubles). */
  nickRetryMinMs: number;
  /** Nick refusals in a row before registration after which the client stops ("fatal"). */
  nickRefusalLimit: number;
  /** Wait before rejoining a configured channel after a kick (0: do not rejoin). */
  rejoinAfterKickMs: number;
  flood: SchedulerOptions;
  /** After a reconnect, replies queued longer ago than this are dropped and summarised. */
  staleReplyMs: number;
  /** Server lag above this slows the output down. */
  lagThresholdMs: number;
  /** While lines wait, measure the server's lag at most this often. */
  lagProbeIntervalMs: number;
  /** First delay before retrying a refused JOIN (doubles, up to reconnect.maxDelayMs). */
  joinRetryMinMs: number;
  /** After "cannot send to channel", requests from that channel are ignored this long (or until its modes change). */
  cannotSendPauseMs: number;
  /** Register without SASL on a server that has no CAP at all (default: refuse). */
  saslOptional?: boolean;
}

/**
 * The client's effects: the connection's (socket, clock, randomness, log, and the timers that
 * reconnects, keep-alive, pacing, nick retries and rejoins use; the runtime's when absent).
 *
 * @example
 * ```ts
 * import { connect } from "../platform/net.ts";
 * import { systemTimers } from "./clock.ts";
 * const fx: ClientEffects = { connect, now: Date.now, random: Math.random, log: console.log, timers: systemTimers };
 * ```
 */
export type ClientEffects = ConnectionEffects;

/**
 * The server refused every nick we tried, nickRefusalLimit times in a row: delivered through the
 * client's "fatal" event.
 *
 * @example
 * ```ts
 * client.on("fatal", (e) => { if (e instanceof IrcNickError) console.error(e.message); });
 * ```
 */
export class IrcNickError extends Error {
  override name = "IrcNickError";
}

/**
 * The server keeps refusing our credentials (TLS certificate, server password): retrying will not
 * help. Delivered through the client's "fatal" event after authFailureLimit attempts.
 *
 * @example
 * ```ts
 * client.on("fatal", (e) => { if (e instanceof IrcAuthError) console.error(e.message); });
 * ```
 */
export class IrcAuthError extends Error {
  override name = "IrcAuthError";
}
