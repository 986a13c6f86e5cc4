/**
 * The bot's configuration for a test, one place for every IRC test: resolveIrcConfig over the
 * flags naming `server`, the nick "pybot" and the channel "#py", with the test's own settings
 * over them (workers, reconnect delays, limits, other nicks or channels), no environment, and
 * 2 cores assumed.
 */
import { resolveIrcConfig } from "../../src/irc/config.ts";
import type { IrcConfig } from "../../src/irc/config.ts";

/**
 * The resolved configuration of a test bot connecting to `server` ("host:port").
 *
 * @example
 * ```ts
 * const cfg = testIrcConfig(`127.0.0.1:${port}`, { workers: 1, reconnectMinMs: 100 });
 * ```
 */
export function testIrcConfig(server: string, over: Record<string, unknown> = {}): IrcConfig {
  return resolveIrcConfig({}, { server, nick: "pybot", channels: ["#py"], ...over } as never, {}, 2);
}
