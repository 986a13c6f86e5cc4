/**
 * Markers instead of sleeps for the IRC tests against a real server (issue 26 item 4). A PING
 * answered by its PONG proves the server has processed everything a user sent before it; a
 * NOTICE marker read by the bot proves it has read what came before it; a tap on the bot's
 * socket says how many lines must reach an observer. So a test waits for events, not for a
 * fixed delay; each wait has a generous bound that fails with a message saying what did not come.
 */
import type { IrcBot } from "../../src/irc/bot.ts";
import type { IrcClient } from "../../src/irc/client.ts";
import { systemTimers } from "../../src/irc/clock.ts";
import type { TimerHandle, Timers } from "../../src/irc/clock.ts";
import type { TestIrcUser } from "../helpers/ngircd.ts";
import { connect } from "../../src/platform/net.ts";
import type { LineSocket } from "../../src/platform/net.ts";

/** Upper bound of every wait here: generous, since a passing test returns as soon as the event comes. */
export const MARKER_BOUND_MS = 60_000;

/** How often a condition is polled (it has no event of its own). */
const POLL_MS = 10;

let seq = 0;

/** Resolves once `cond()` holds; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = MARKER_BOUND_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Resolves with `p`, or rejects naming `what` after `timeoutMs`. */
async function bounded<T>(p: Promise<T>, what: string, timeoutMs = MARKER_BOUND_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once the server has answered a PING sent by `u` now (it has processed all `u` sent
 * before), or has closed `u`'s connection (a hostile line may get a user disconnected).
 */
export async function userRoundTrip(u: TestIrcUser, timeoutMs = MARKER_BOUND_MS): Promise<void> {
  if (u.closed) return; // the server ended the connection: it processed all it will from it
  const token = `marker-${++seq}`;
  const mark = u.lines.length;
  u.raw(`PING :${token}`);
  const answered = () => u.lines.slice(mark).some((l) => / PONG /.test(l) && l.endsWith(token));
  await waitUntil(() => answered() || u.closed, `${u.nick}'s PONG ${token}`, timeoutMs);
}

/** NOTICE texts each bot client has received (one listener per client). */
const noticesByClient = new WeakMap<IrcClient, Set<string>>();

/**
 * Resolves once the bot has read (and handled) everything `u` sent before: `u` sends the bot a
 * NOTICE marker (the bot never answers a NOTICE, and reading one costs it nothing), relayed in
 * order after `u`'s earlier lines. Returns at once when `u`'s connection is closed.
 */
export async function botHasRead(client: IrcClient, u: TestIrcUser, timeoutMs = MARKER_BOUND_MS): Promise<void> {
  if (u.closed) return; // the server ended the connection: it relayed all it will from it
  let notices = noticesByClient.get(client);
  if (!notices) {
    const seen = new Set<string>();
    client.on("message", (m) => {
      if (m.command === "NOTICE") seen.add(m.params[m.params.length - 1] ?? "");
    });
    noticesByClient.set(client, seen);
    notices = seen;
  }
  const token = `marker-${++seq}`;
  u.raw(`NOTICE ${client.nick} :${token}`);
  const got = notices;
  await waitUntil(() => got.has(token) || u.closed, `the bot to read ${u.nick}'s marker ${token}`, timeoutMs);
}

/**
 * The bot's socket, tapped: every line it writes is kept, so a test knows what must arrive
 * where. Pass `connect` as the bot's connect effect.
 */
export class BotTap {
  /** Lines the bot wrote, in order, without their CRLF. */
  readonly written: string[] = [];
  #partial = "";

  /** The runtime's connect, with the writes recorded. */
  connect = async (opts: Parameters<typeof connect>[0]): Promise<LineSocket> => {
    const sock = await connect(opts);
    const decoder = new TextDecoder();
    return {
      write: (data) => {
        this.#partial += decoder.decode(data, { stream: true });
        const lines = this.#partial.split("\r\n");
        this.#partial = lines.pop()!;
        this.written.push(...lines);
        sock.write(data);
      },
      end: () => sock.end(),
      destroy: () => sock.destroy(),
      onData: (cb) => sock.onData(cb),
      onClose: (cb) => sock.onClose(cb),
    };
  };

  /** PRIVMSGs and NOTICEs written so far to one of `targets` (compared case-insensitively). */
  messagesTo(targets: string[]): number {
    const wanted = new Set(targets.map((t) => t.toLowerCase()));
    return this.written.filter((l) => {
      const m = /^(?:PRIVMSG|NOTICE) (\S+) /.exec(l);
      return m !== null && wanted.has(m[1]!.toLowerCase());
    }).length;
  }
}

/** PRIVMSGs and NOTICEs `u` received from `nick` addressed to one of `targets`. */
function receivedFrom(u: TestIrcUser, nick: string, targets: string[]): number {
  const wanted = new Set(targets.map((t) => t.toLowerCase()));
  return u.messagesFrom(nick).filter((m) => wanted.has(m.target.toLowerCase())).length;
}

/**
 * Resolves once everything `senders` sent so far has been handled by the bot, its evaluations
 * are done, and every line it sent to `observer` or to `channels` has reached `observer`: each
 * sender's NOTICE marker read by the bot, the bot idle and its paced output empty, then the
 * observer holding as many of the bot's lines as the tap saw written (the observer must have
 * been in `channels` since the bot connected). No command from the bot: a PING would cost it a
 * flood-control token and slow its next reply.
 */
export async function settled(
  b: { client: IrcClient; bot: IrcBot; tap: BotTap },
  observer: TestIrcUser,
  senders: TestIrcUser[] = [observer],
  channels: string[] = ["#py"],
): Promise<void> {
  for (const s of senders) await botHasRead(b.client, s);
  await bounded(b.bot.whenIdle(), "the bot's evaluations to finish");
  await waitUntil(() => b.client.queuedLines === 0, "the bot's paced output to drain");
  const targets = [observer.nick, ...channels];
  const want = b.tap.messagesTo(targets);
  await waitUntil(
    () => receivedFrom(observer, b.client.nick, targets) >= want,
    `${observer.nick} to receive the ${want} lines the bot wrote to ${targets.join(", ")}`,
  );
}

/**
 * For a sacrificial user whose hostile line the server may drop, cut or choke on (ngIRCd stops
 * reading a connection at a NUL): ends `gone`'s connection, waits until `observer` sees its QUIT
 * (received after line `from`; the server has then relayed all it ever will from `gone`), then
 * for everything the bot made of it to reach `observer` (`settled`).
 */
export async function settledAfterLeaving(
  b: Parameters<typeof settled>[0],
  observer: TestIrcUser,
  gone: TestIrcUser,
  from: number,
  channels: string[] = ["#py"],
): Promise<void> {
  gone.disconnect();
  const quit = new RegExp(`^:${gone.nick}!\\S+ QUIT`, "i");
  await observer.waitFor((l) => quit.test(l), MARKER_BOUND_MS, from);
  await settled(b, observer, [observer], channels);
}

/**
 * The runtime's timers, counting the callbacks still scheduled, so a test can wait until a
 * client has nothing left to do (no reconnect scheduled) instead of sleeping to see none come.
 */
export class CountingTimers implements Timers {
  #pending = new Set<TimerHandle>();

  /** Callbacks scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Schedules `fn` on the runtime's timers. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = systemTimers.setTimeout(() => {
      this.#pending.delete(handle);
      fn();
    }, ms);
    this.#pending.add(handle);
    return handle;
  }

  /** Cancels a callback not yet run. */
  clearTimeout(handle: TimerHandle): void {
    this.#pending.delete(handle);
    systemTimers.clearTimeout(handle);
  }
}
