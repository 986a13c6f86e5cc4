/**
 * Tables for the pure pieces behind issue 21's bot items: nick arithmetic (shorten before
 * digits), `!more` byte arithmetic and its store (expiry, per-requester and total caps, the
 * formatter's cut mark read back), long exception lines, channel members, the fair request
 * queue, and the `!more` command words.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fitNick, randomNick, shorterLimit } from "../../src/irc/nicks.ts";
import { bytesLeftOut, firstBytes, lastBytes, MoreStore } from "../../src/irc/more.ts";
import { shortenException } from "../../src/irc/exception-line.ts";
import { Members } from "../../src/irc/members.ts";
import { FairQueue } from "../../src/irc/fair-queue.ts";
import { moreWord, parseCommand } from "../../src/irc/command.ts";
import { formatIrcReply } from "../../src/format/messages.ts";
import { utf8Length } from "../../src/text/utf8.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

describe("nick arithmetic", () => {
  it("fallbacks are shortened before their digits; the limit shrinks after each erroneous refusal", () => {
    const table: [string, number, number, string][] = [
      ["pybotnick", 0.1234, 9, "pybot1234"],
      ["wasipybot", 0.1234, 5, "w1234"],
      ["wasipybot", 0.5, 3, "w50"],
      ["wasipybot", 0.5, 1, "w"],
    ];
    for (const [main, r, max, want] of table) {
      const got = randomNick(main, r, max);
      assert.equal(got, want, `${main} ${max}`);
      assert.ok(got.length <= max);
    }
    assert.equal(shorterLimit("averylongbotnick", undefined), 9);
    assert.equal(shorterLimit("wasipybot", undefined), 8);
    assert.equal(shorterLimit("wasipybot", 6), 6);
    assert.equal(shorterLimit("w", 1), 1);
    assert.equal(fitNick("wasipybot", 5), "wasip");
  });
});

describe("!more arithmetic and store", () => {
  it("cuts UTF-8 at character boundaries", () => {
    assert.equal(lastBytes("héllo", 4), "llo");
    assert.equal(lastBytes("héllo", 5), "éllo");
    assert.equal(lastBytes("abc", 10), "abc");
    assert.equal(firstBytes("héllo", 2), "h");
    assert.equal(firstBytes("héllo", 3), "hé");
  });

  it("reads what the formatter left out from its cut mark, and the next page continues exactly there", () => {
    assert.equal(bytesLeftOut(["x… (output cut, 1,234 more bytes: !more)"]), 1234);
    assert.equal(bytesLeftOut(["x… (output cut, 12+ more bytes)"]), 12);
    assert.equal(bytesLeftOut(["… (1,234 bytes cut, all: !more) x"]), undefined);
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}`).join("\n");
    const r = {
      stdout: text,
      stderr: "",
      exitCode: 0,
      outcome: "ok" as const,
      fuelUsed: 1,
      wallMs: 1,
      truncated: { stdout: false, stderr: false },
      limits: { ...DEFAULT_LIMITS },
    };
    const reply = formatIrcReply(r, { maxBytes: 200, maxLines: 2, cutLink: "!more" });
    const left = bytesLeftOut(reply.lines)!;
    const rest = lastBytes(text, left);
    assert.equal(utf8Length(rest), left);
    assert.match(rest, /^\d* ?\n?line \d+|^ine|^\d/, rest.slice(0, 20));
    assert.ok(text.endsWith(rest));
  });

  it("expires, replaces, and bounds memory per requester and in total (oldest first)", () => {
    const s = new MoreStore({ expiryMs: 1000, maxBytesPerRequester: 10, maxBytesTotal: 25 });
    s.put("a", "x".repeat(50), 0, 0);
    assert.deepEqual(s.take("a", 10), { rest: "x".repeat(10), lostBytes: 40, at: 0 });
    assert.equal(s.take("a", 10), undefined, "taken");
    s.put("a", "aaaaaaaaaa", 0, 0);
    s.put("b", "bbbbbbbbbb", 1, 0);
    s.put("c", "cccccccccc", 2, 0);
    assert.equal(s.bytes, 20);
    assert.equal(s.size, 2, "a, the oldest, went to keep 25 bytes");
    assert.equal(s.take("a", 3), undefined);
    assert.equal(s.take("b", 2000), undefined, "expired");
    assert.equal(s.size, 0);
  });
});

describe("long exception lines", () => {
  const tb = (exc: string) =>
    `Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n    f()\n${exc}\n`;
  it("keeps Type: and both ends; short ones, and output without a traceback, are unchanged", () => {
    const long = shortenException(tb(`ValueError: ${"v".repeat(3000)}END`), 300);
    const last = long.trimEnd().split("\n").pop()!;
    assert.match(last, /^ValueError: v+ \[… [\d,]+ bytes cut …\] v+END$/);
    assert.ok(utf8Length(last) <= 300, `${utf8Length(last)}`);
    const note = / \[… ([\d,]+) bytes cut …\] /.exec(last)!;
    const cut = Number(note[1]!.replace(/,/g, ""));
    assert.equal(utf8Length(last) - utf8Length("ValueError: ") - utf8Length(note[0]) + cut, 3003, "kept + cut = all");
    assert.equal(shortenException(tb("ValueError: short"), 300), tb("ValueError: short"));
    assert.equal(shortenException("x".repeat(5000), 300), "x".repeat(5000));
    const dotted = shortenException(tb(`pkg.mod.CustomError: ${"é".repeat(2000)}`), 200);
    assert.match(dotted.trimEnd().split("\n").pop()!, /^pkg\.mod\.CustomError: é+ \[… [\d,]+ bytes cut …\] é+$/);
    const ctl = shortenException(tb(`KeyError: ${"\x01".repeat(1000)}`), 120);
    assert.match(ctl, /KeyError: \x01+ \[…/);
  });
});

describe("members and the fair queue", () => {
  it("knows who is where once NAMES ended; follows joins, parts, quits and nick changes", () => {
    const m = new Members();
    m.names("#a", ["@alice", "+bob"]);
    assert.equal(m.present("#a", "alice", true), undefined, "not complete yet");
    m.namesEnd("#a");
    assert.equal(m.present("#a", "alice", true), true);
    m.renamed("bob", "bobby");
    assert.equal(m.present("bobby", "bobby", false), true);
    m.left("#a", "alice", false);
    assert.equal(m.present("#a", "alice", true), false);
    assert.equal(m.present("alice", "alice", false), undefined);
    assert.equal(m.present("alice", "alice", false, true), false);
    m.joined("#a", "carol");
    m.quit("carol");
    assert.equal(m.present("#a", "carol", true), false);
  });

  it("serves the requester served least, then the oldest", () => {
    const q = new FairQueue<{ key: string; queuedAt: number; id: string }>();
    for (let i = 0; i < 3; i++) q.push({ key: "spam", queuedAt: i, id: `s${i}` });
    q.push({ key: "alice", queuedAt: 10, id: "a0" });
    const order = [];
    for (let j = q.next(() => true); j; j = q.next(() => true)) order.push(j.id);
    assert.deepEqual(order, ["s0", "a0", "s1", "s2"]);
  });
});

describe("!more words", () => {
  it("the prefix's punctuation and 'more'; nick-addressed and private 'more' too", () => {
    assert.equal(moreWord("!py"), "!more");
    assert.equal(moreWord("@@py"), "@@more");
    assert.equal(moreWord("py"), "!more");
    const base = { from: "alice", botNick: "pybot", prefix: "!py" };
    assert.equal(parseCommand({ ...base, text: "!more", target: "#py" })?.kind, "more");
    assert.equal(parseCommand({ ...base, text: "pybot: more", target: "#py" })?.kind, "more");
    assert.equal(parseCommand({ ...base, text: "more", target: "pybot" })?.kind, "more");
    assert.equal(parseCommand({ ...base, text: "more", target: "#py" }), undefined);
    assert.equal(parseCommand({ ...base, text: "!py more", target: "#py" })?.kind, "eval", "!py more is code");
  });
});
