/**
 * `wasi-py --irc` arguments: flags in the command line's names and units for the run limits,
 * the table's parsers and messages, and the help derived from the table.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ircHelpText, parseIrcArgv, settingsFromFlags } from "../../src/irc/args.ts";
import type { IrcFlags } from "../../src/irc/args.ts";
import { IrcConfigError, resolveIrcConfig } from "../../src/irc/config.ts";
import { IRC_NUMERIC_SETTINGS } from "../../src/irc/settings.ts";

describe("IRC flags", () => {
  it("the CLI's names and units for limits, kebab-case for the rest", async () => {
    const p = await parseIrcArgv([
      "--irc",
      "--server",
      "h:6697",
      "--tls",
      "--nick",
      "bot",
      "--channel",
      "#a",
      "--channel",
      "#b",
      "--timeout",
      "2.5",
      "--fuel",
      "1e8",
      "--max-output",
      "4k",
      "--evals-per-window",
      "3",
    ]);
    assert.equal(p.kind, "run");
    const flags = settingsFromFlags((p as { flags: IrcFlags }).flags);
    const c = resolveIrcConfig({}, flags, { WASI_PY_IRC_CHANNEL_KEYS: "#B=key" }, 2);
    assert.deepEqual([c.host, c.port, c.tls, c.channels, c.timeoutMs, c.fuel, c.maxOutputBytes, c.evalsPerWindow], [
      "h",
      6697,
      true,
      ["#a", "#b key"],
      2500,
      1e8,
      4096,
      3,
    ]);
    // A key on the command line (where ps shows it) is refused, naming where keys go.
    assert.throws(
      () => resolveIrcConfig({}, { ...flags, channels: ["#b key"] }, {}, 2),
      /channel keys are secrets.*WASI_PY_IRC_CHANNEL_KEYS/,
    );
    assert.throws(() => resolveIrcConfig({}, flags, { WASI_PY_IRC_CHANNEL_KEYS: "#zz=k" }, 2), /not a channel to join/);
    assert.deepEqual(await parseIrcArgv(["--irc", "--bogus"]), {
      kind: "error",
      message: "unknown IRC option --bogus",
    });
    assert.deepEqual(await parseIrcArgv(["--irc", "--help"]), { kind: "help" });
  });
  const bad: [IrcFlags, RegExp][] = [
    [{ adminTimeoutMs: "soon" }, /^--admin-timeout wants seconds from 0\.001 to 86400, got "soon"$/],
    [{ timeoutMs: "100000" }, /^--timeout wants seconds from 0\.001 to 86400/],
    [{ port: "0" }, /^--port wants a port number from 1 to 65535, got "0"$/],
    [{ maxLines: "101" }, /^--max-lines wants a number of messages from 1 to 100/],
    [{ reconnectJitter: "2" }, /^--reconnect-jitter wants a number from 0 to 1, got "2"$/],
    [{ memoryMiB: "lots" }, /^--memory wants MiB from 20 to 4096/],
    [{ adminMemoryMiB: "19" }, /^--admin-memory wants MiB from 20 to 4096, got "19"$/],
  ];
  for (const [flags, re] of bad) {
    it(`refuses ${JSON.stringify(flags)} naming the flag`, () => {
      assert.throws(() => settingsFromFlags(flags), (e: Error) => e instanceof IrcConfigError && re.test(e.message));
    });
  }
  it("reads every numeric flag's text with its option's parser", () => {
    assert.deepEqual(
      settingsFromFlags({ fuel: "unlimited", maxFuel: "unlimited", nick: undefined, floodRatePerSec: "0.5" }),
      { fuel: Infinity, maxFuel: Infinity, floodRatePerSec: 0.5 },
    );
  });
  it("help lists every option with its default, range and config key", () => {
    const h = ircHelpText();
    for (const s of IRC_NUMERIC_SETTINGS) {
      assert.ok(h.includes(`--${s.flag} ${s.valueName}`), s.flag);
      assert.ok(h.includes(`[${s.configKey}]`), s.configKey);
    }
    assert.match(
      h,
      /--timeout SECONDS +wall-clock limit per evaluation, seconds \(default 10; 0\.001-86400\) \[timeoutSeconds\]/,
    );
    assert.match(h, /--workers N +.*\(default CPU cores, at least 2; 0-64\)/);
    assert.match(h, /\n {2}120 {2}the sandbox could not start/);
  });
});
