/**
 * The bot's configuration: defaults, merging file, flags and environment, validation with
 * one-line errors, config-file keys in the unit of their flag (and old keys named), and loading
 * a JSON file.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkConfigFile, IrcConfigError, readConfigFile, resolveIrcConfig } from "../../src/irc/config.ts";
import { loadIrcConfig } from "../../src/irc/main.ts";
import { IRC_RENAMED_CONFIG_KEYS } from "../../src/irc/settings.ts";

describe("IRC config", () => {
  const base = { server: "irc.example.org", nick: "pybot" };
  it("fills every default", () => {
    const c = resolveIrcConfig({}, base, {}, 1);
    assert.equal(c.port, 6667);
    assert.equal(c.workers, 2);
    assert.equal(c.prefix, "!py");
    assert.deepEqual(c.altNicks, ["pybot_", "pybot__"]);
    assert.equal(c.evalsPerWindow, 5);
    assert.equal(c.tlsInsecure, false);
    assert.deepEqual(c.userLimits, { fuel: 1e9, timeoutMs: 10_000, memoryMiB: 256, maxOutputBytes: 16_384 });
  });
  it("uses 6697 with TLS, an explicit port otherwise, and IPv6 literals", () => {
    assert.equal(resolveIrcConfig({}, { ...base, tls: true }, {}, 4).port, 6697);
    assert.equal(resolveIrcConfig({}, { ...base, server: "h:7000", tls: true }, {}, 4).port, 7000);
    const v6 = resolveIrcConfig({}, { ...base, server: "[::1]:6668" }, {}, 4);
    assert.deepEqual([v6.host, v6.port], ["::1", 6668]);
  });
  it("flags override the file; secrets come from the environment", () => {
    const c = resolveIrcConfig(
      { nick: "filenick", fuel: 5000, saslMechanism: "PLAIN", saslAccount: "acc" },
      { ...base, fuel: 7000 },
      { WASI_PY_IRC_SASL_PASSWORD: "s3cret" },
      2,
    );
    assert.equal(c.nick, "pybot");
    assert.equal(c.fuel, 7000);
    assert.deepEqual(c.sasl, { mechanism: "PLAIN", account: "acc", password: "s3cret" });
  });
  it("clamps admins between user limits and ceilings", () => {
    const c = resolveIrcConfig({}, { ...base, fuel: 100, adminFuel: 50 }, {}, 2);
    assert.equal(c.adminLimits.fuel, 100);
  });
  const errors: [string, Record<string, unknown>, RegExp][] = [
    ["missing server", { nick: "x" }, /--server is required/],
    ["missing nick", { server: "h" }, /--nick is required/],
    ["bad nick", { ...base, nick: "1bad nick" }, /not a valid IRC nick/],
    ["bad server", { ...base, server: "h:p:q" }, /HOST or HOST:PORT/],
    ["bad port", { ...base, server: "h:70000" }, /^port wants a port number from 1 to 65535, got "70000"$/],
    ["bad number", { ...base, fuel: "lots" }, /^fuel must be an integer from 0 to \d+, got lots$/],
    ["negative", { ...base, evalsPerWindow: -1 }, /evalsPerWindow must be an integer from 1/],
    ["fraction", { ...base, memoryMiB: 1.5 }, /memoryMiB must be an integer from 20 to 4096, got 1.5/],
    // The bot always runs the bundled interpreter, which starts with 20 MiB: less could never run.
    [
      "memory below the interpreter",
      { ...base, memoryMiB: 19 },
      /memoryMiB must be an integer from 20 to 4096, got 19/,
    ],
    ["admin memory below", { ...base, adminMemoryMiB: 19 }, /adminMemoryMiB must be an integer from 20 to 4096/],
    ["ceiling memory below", { ...base, maxMemoryMiB: 19 }, /maxMemoryMiB must be an integer from 20 to 4096/],
    ["bad channel", { ...base, channels: ["nochan"] }, /is not a channel name/],
    [
      "admin above ceiling",
      { ...base, adminFuel: 10, maxFuel: 5, fuel: 1 },
      /adminFuel \(10\) exceeds its ceiling ceilingFuel \(5\)/,
    ],
    [
      "user above ceiling, said in the file's units",
      { ...base, timeoutMs: 70_000, maxTimeoutMs: 60_000 },
      /^timeoutSeconds \(70\) exceeds its ceiling ceilingTimeoutSeconds \(60\)$/,
    ],
    ["sasl without password", { ...base, saslMechanism: "PLAIN", saslAccount: "a" }, /needs a password/],
    ["external without cert", { ...base, saslMechanism: "EXTERNAL" }, /needs a client certificate/],
    ["unknown mechanism", { ...base, saslMechanism: "SCRAM" }, /PLAIN or EXTERNAL/],
    ["tls option without tls", { ...base, tlsCa: "/x" }, /without --tls/],
    ["bad mask", { ...base, admins: ["alice"] }, /neither a hostmask/],
    ["control chars", { ...base, realname: "a\r\nQUIT" }, /control characters/],
  ];
  for (const [name, flags, re] of errors) {
    it(`one-line error: ${name}`, () => {
      assert.throws(
        () => resolveIrcConfig({}, flags as never, {}, 2),
        (e: Error) => e instanceof IrcConfigError && re.test(e.message) && !e.message.includes("\n"),
      );
    });
  }
  it("the timeout bound is the command line's (24 h), the ceiling is the bot's policy", () => {
    const c = resolveIrcConfig({}, { ...base, timeoutMs: 3_600_000, maxTimeoutMs: 86_400_000 }, {}, 2);
    assert.equal(c.userLimits.timeoutMs, 3_600_000);
    assert.throws(() => resolveIrcConfig({}, { ...base, maxTimeoutMs: 86_400_001 }, {}, 2), /from 1 to 86400000/);
  });
});

describe("IRC config file keys", () => {
  it("checks the file's keys and types", () => {
    assert.throws(() => checkConfigFile({ nikc: "x" }, "bot.json"), /bot.json: unknown setting "nikc"/);
    assert.throws(
      () => checkConfigFile({ fuel: true }, "bot.json"),
      /bot.json: fuel must be a number, or text as --fuel/,
    );
    assert.throws(() => checkConfigFile({ channels: "#a" }, "bot.json"), /list of strings/);
    assert.throws(() => checkConfigFile([], "bot.json"), /JSON object/);
    assert.deepEqual(checkConfigFile({ nick: "a", tls: true, channels: ["#a"] }, "f"), {
      nick: "a",
      tls: true,
      channels: ["#a"],
    });
  });
  const good: [Record<string, unknown>, Record<string, number>][] = [
    [{ timeoutSeconds: 2.5 }, { timeoutMs: 2500 }],
    [{ timeoutSeconds: "0.5" }, { timeoutMs: 500 }],
    [{ adminTimeoutSeconds: 30, ceilingTimeoutSeconds: 60 }, { adminTimeoutMs: 30_000, maxTimeoutMs: 60_000 }],
    [{ fuel: "1e8" }, { fuel: 1e8 }],
    [{ ceilingFuel: "unlimited" }, { maxFuel: Infinity }],
    [{ maxOutputBytes: "16k" }, { maxOutputBytes: 16_384 }],
    [{ maxOutputBytes: 100 }, { maxOutputBytes: 100 }],
    [{ rateWindowMs: 30_000 }, { rateWindowMs: 30_000 }],
    [{ floodRatePerSec: 0.5 }, { floodRatePerSec: 0.5 }],
  ];
  for (const [json, want] of good) {
    it(`reads ${JSON.stringify(json)} in the unit its key names`, () => {
      assert.deepEqual(checkConfigFile(json, "bot.json"), want);
    });
  }
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ timeoutSeconds: 0 }, /^bot\.json: timeoutSeconds wants seconds from 0\.001 to 86400, got 0$/],
    [{ timeoutSeconds: "soon" }, /^bot\.json: timeoutSeconds wants seconds from 0\.001 to 86400, got "soon"$/],
    [{ memoryMiB: 5000 }, /^bot\.json: memoryMiB wants MiB from 20 to 4096, got 5000$/],
    [{ memoryMiB: 19 }, /^bot\.json: memoryMiB wants MiB from 20 to 4096, got 19$/],
    [{ ceilingMemoryMiB: 1 }, /^bot\.json: ceilingMemoryMiB wants MiB from 20 to 4096, got 1$/],
    [{ fuel: 1.5 }, /^bot\.json: fuel wants fuel units from 0 to \d+ or "unlimited", got 1\.5$/],
    [{ maxOutputBytes: "1G" }, /^bot\.json: maxOutputBytes wants bytes from 0 to 67108864 \(k and M/],
  ];
  for (const [json, re] of bad) {
    it(`refuses ${JSON.stringify(json)} in one line`, () => {
      assert.throws(
        () => checkConfigFile(json, "bot.json"),
        (e: Error) => e instanceof IrcConfigError && re.test(e.message),
      );
    });
  }
  it("an old key (the unit changed) names its new key instead of being read wrongly", () => {
    assert.deepEqual([...IRC_RENAMED_CONFIG_KEYS.keys()].sort(), ["adminTimeoutMs", "maxTimeoutMs", "timeoutMs"]);
    assert.throws(
      () => checkConfigFile({ timeoutMs: 10_000 }, "bot.json"),
      (e: Error) =>
        e instanceof IrcConfigError &&
        e.message === 'bot.json: "timeoutMs" is now "timeoutSeconds" (in seconds, as --timeout takes it)',
    );
    assert.throws(
      () => checkConfigFile({ maxTimeoutMs: 1 }, "bot.json"),
      /"maxTimeoutMs" is now "ceilingTimeoutSeconds"/,
    );
  });
  const oldKeys: [Record<string, unknown>, Record<string, unknown>, string][] = [
    [{ maxFuel: "unlimited" }, { maxFuel: Infinity }, "ceilingFuel"],
    [{ maxTimeoutSeconds: 60 }, { maxTimeoutMs: 60_000 }, "ceilingTimeoutSeconds"],
    [{ maxMemoryMiB: 512 }, { maxMemoryMiB: 512 }, "ceilingMemoryMiB"],
    [{ maxMaxOutputBytes: "1M" }, { maxMaxOutputBytes: 1_048_576 }, "ceilingMaxOutputBytes"],
    [{ maxQueuedPerRequester: 3 }, { maxQueuedPerRequester: 3 }, "maxQueuedLines"],
    [{ saslMechanism: "PLAIN" }, { saslMechanism: "PLAIN" }, "sasl"],
  ];
  for (const [json, want, now] of oldKeys) {
    it(`still reads the old key ${Object.keys(json)[0]}, with one warning line naming ${now}`, () => {
      const lines: string[] = [];
      assert.deepEqual(checkConfigFile(json, "bot.json", (l) => lines.push(l)), want);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, new RegExp(`^bot\\.json: "${Object.keys(json)[0]}" is deprecated; it is now "${now}"`));
      assert.doesNotMatch(lines[0]!, /\n/);
    });
  }
  it("loads a JSON config file; flags win; file errors are one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasi-py-irc-cfg-"));
    try {
      const file = join(dir, "bot.json");
      writeFileSync(
        file,
        JSON.stringify({
          server: "irc.example.org:6697",
          tls: true,
          nick: "filebot",
          channels: ["#a"],
          evalsPerWindow: 7,
          timeoutSeconds: 4,
          sasl: "PLAIN",
          saslAccount: "acc",
          saslPassword: "pw",
        }),
        { mode: 0o600 },
      );
      const c = loadIrcConfig({ ircConfig: file, nick: "flagbot" }, {}, 2);
      assert.deepEqual([c.host, c.port, c.tls, c.nick, c.channels, c.evalsPerWindow, c.timeoutMs, c.sasl], [
        "irc.example.org",
        6697,
        true,
        "flagbot",
        ["#a"],
        7,
        4000,
        { mechanism: "PLAIN", account: "acc", password: "pw" },
      ]);
      assert.equal(loadIrcConfig({ ircConfig: file, timeoutMs: "2" }, {}, 2).timeoutMs, 2000, "--timeout wins");
      // Readable by group or others while holding a password: refused, as ssh does.
      chmodSync(file, 0o644);
      assert.throws(() => readConfigFile(file), /holds secrets \(saslPassword\).*mode 644.*chmod 600/);
      chmodSync(file, 0o600);
      writeFileSync(file, "{ nick: 1 }");
      assert.throws(
        () => readConfigFile(file),
        (e: Error) =>
          e instanceof IrcConfigError && /bot\.json: not valid JSON/.test(e.message) && !e.message.includes("\n"),
      );
      // A syntax error next to a secret never shows the secret.
      writeFileSync(file, '{\n  "nick": "b",\n  "password": "hunter2-secret" "oops"\n}');
      assert.throws(
        () => readConfigFile(file),
        (e: Error) => /not valid JSON at line 3, column \d+$/.test(e.message) && !e.message.includes("hunter2"),
      );
      assert.throws(
        () => loadIrcConfig({ ircConfig: join(dir, "missing.json") }, {}, 2),
        /cannot read .*missing\.json: ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
