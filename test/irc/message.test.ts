import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ircLower, IrcSerialiseError, maskMatches, parseLine, serialise } from "../../src/irc/message.ts";

describe("parseLine", () => {
  const cases: [string, unknown][] = [
    ["PING :abc", { tags: {}, command: "PING", params: ["abc"] }],
    ["ping abc", { tags: {}, command: "PING", params: ["abc"] }],
    [
      ":nick!~user@host.example PRIVMSG #chan :hello world",
      {
        tags: {},
        prefix: "nick!~user@host.example",
        source: { nick: "nick", user: "~user", host: "host.example" },
        command: "PRIVMSG",
        params: ["#chan", "hello world"],
      },
    ],
    [":irc.test 001 bot :Welcome", {
      tags: {},
      prefix: "irc.test",
      source: { nick: "irc.test" },
      command: "001",
      params: ["bot", "Welcome"],
    }],
    [
      "@account=alice;time=2024-01-01T00:00:00Z;+x=a\\sb\\:c\\\\d :a!b@c PRIVMSG bot :hi",
      {
        tags: { account: "alice", time: "2024-01-01T00:00:00Z", "+x": "a b;c\\d" },
        prefix: "a!b@c",
        source: { nick: "a", user: "b", host: "c" },
        command: "PRIVMSG",
        params: ["bot", "hi"],
      },
    ],
    ["@flag :a PRIVMSG b :", {
      tags: { flag: "" },
      prefix: "a",
      source: { nick: "a" },
      command: "PRIVMSG",
      params: ["b", ""],
    }],
    [":a   PRIVMSG   b   :x  y ", {
      tags: {},
      prefix: "a",
      source: { nick: "a" },
      command: "PRIVMSG",
      params: ["b", "x  y "],
    }],
    [":srv CAP * LS * :sasl multi-prefix", {
      tags: {},
      prefix: "srv",
      source: { nick: "srv" },
      command: "CAP",
      params: ["*", "LS", "*", "sasl multi-prefix"],
    }],
    ["NICK new\r\n", { tags: {}, command: "NICK", params: ["new"] }],
    [":trailing-colon-inside PRIVMSG #c :a :b", {
      tags: {},
      prefix: "trailing-colon-inside",
      source: { nick: "trailing-colon-inside" },
      command: "PRIVMSG",
      params: ["#c", "a :b"],
    }],
  ];
  for (const [line, want] of cases) it(JSON.stringify(line), () => assert.deepEqual(parseLine(line), want));

  for (const bad of ["", "   ", ":only-prefix", "@tags-only", ":p 12x", ":p PRIV-MSG x"]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseLine(bad), undefined));
  }
});

describe("serialise", () => {
  const cases: [Parameters<typeof serialise>[0], string][] = [
    [{ command: "PRIVMSG", params: ["#c", "hello world"] }, "PRIVMSG #c :hello world"],
    [{ command: "privmsg", params: ["#c", "x"] }, "PRIVMSG #c x"],
    [{ command: "PRIVMSG", params: ["#c", ""] }, "PRIVMSG #c :"],
    [{ command: "PRIVMSG", params: ["#c", ":smile"] }, "PRIVMSG #c ::smile"],
    [{ command: "CAP", params: ["LS", "302"] }, "CAP LS 302"],
    [{ command: "QUIT" }, "QUIT"],
    [
      { command: "TAGMSG", params: ["#c"], tags: { "+typing": "active", a: "x y;z" } },
      "@+typing=active;a=x\\sy\\:z TAGMSG #c",
    ],
  ];
  for (const [msg, want] of cases) it(want, () => assert.equal(serialise(msg), want));

  const refused: [string, Parameters<typeof serialise>[0]][] = [
    ["CR", { command: "PRIVMSG", params: ["#c", "x\rQUIT"] }],
    ["LF", { command: "PRIVMSG", params: ["#c", "x\nQUIT :bye"] }],
    ["CRLF", { command: "PRIVMSG", params: ["#c", "x\r\nQUIT :bye"] }],
    ["NUL", { command: "PRIVMSG", params: ["#c", "x\0y"] }],
    ["CR in a middle param", { command: "PRIVMSG", params: ["#c\r", "x"] }],
    ["space in a middle param", { command: "PRIVMSG", params: ["#c QUIT", "x"] }],
    ["empty middle param", { command: "PRIVMSG", params: ["", "x"] }],
    ["colon-led middle param", { command: "PRIVMSG", params: [":x", "y"] }],
    ["command with a space", { command: "PRIVMSG #c", params: ["x"] }],
    ["command with CRLF", { command: "PING\r\nQUIT", params: [] }],
    ["NUL in a tag", { command: "TAGMSG", params: ["#c"], tags: { a: "\0" } }],
    ["bad tag key", { command: "TAGMSG", params: ["#c"], tags: { "a b": "x" } }],
  ];
  for (const [name, msg] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => serialise(msg), IrcSerialiseError));
  }

  it("round-trips through parseLine", () => {
    const msg = { command: "PRIVMSG", params: ["#chan", " :spaced: text "] };
    assert.deepEqual(parseLine(serialise(msg))?.params, msg.params);
  });
});

describe("helpers", () => {
  it("ircLower uses rfc1459 by default", () => {
    assert.equal(ircLower("Nick[]\\~"), "nick{}|^");
    assert.equal(ircLower("Nick[]", "ascii"), "nick[]");
  });
  const masks: [string, string, boolean][] = [
    ["*!*@example.org", "a!b@example.org", true],
    ["*!*@*.example.org", "a!b@x.example.org", true],
    ["*!*@*.example.org", "a!b@example.org", false],
    ["Ali?e!*@*", "alice!u@h", true],
    ["bob!*@*", "bobby!u@h", false],
    ["a.b!*@*", "aXb!u@h", false],
  ];
  for (const [mask, full, want] of masks) it(`${mask} vs ${full}`, () => assert.equal(maskMatches(mask, full), want));
});
