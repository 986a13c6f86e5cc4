import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCommand, usageHint } from "../../src/irc/command.ts";
import type { CommandContext } from "../../src/irc/command.ts";

const base = { from: "alice", botNick: "PyBot", prefix: "!py", target: "#chan" };
const ch = { replyTo: "#chan", addressee: "alice", private: false };
const pm = { replyTo: "alice", private: true };

describe("parseCommand", () => {
  const cases: [string, Partial<CommandContext>, unknown][] = [
    ["!py 1+1", {}, { kind: "eval", code: "1+1", verbose: false, explicit: true, ...ch }],
    ["!py   print('a b')  ", {}, { kind: "eval", code: "print('a b')", verbose: false, explicit: true, ...ch }],
    ["!py\t1", {}, { kind: "eval", code: "1", verbose: false, explicit: true, ...ch }],
    ["!py:v 2**10", {}, { kind: "eval", code: "2**10", verbose: true, explicit: true, ...ch }],
    ["!py", {}, { kind: "usage", verbose: false, ...ch }],
    ["!py    ", {}, { kind: "usage", verbose: false, ...ch }],
    ["!py:v", {}, { kind: "usage", verbose: true, ...ch }],
    ["!pyx 1", {}, undefined],
    ["!python 1", {}, undefined],
    [" !py 1", {}, undefined],
    ["hello there", {}, undefined],
    ["PyBot: 1+2", {}, { kind: "eval", code: "1+2", verbose: false, explicit: false, ...ch }],
    ["pybot, 1+2", {}, { kind: "eval", code: "1+2", verbose: false, explicit: false, ...ch }],
    ["PYBOT:", {}, { kind: "usage", verbose: false, ...ch }],
    ["PyBot2: 1", {}, undefined],
    ["PyBot: 1", { allowNickAddressing: false }, undefined],
    ["> 1", { prefix: ">" }, { kind: "eval", code: "1", verbose: false, explicit: true, ...ch }],
    ["!py 1", { prefix: ">" }, undefined],
    ["\x01ACTION !py 1\x01", {}, undefined],
    ["\x01VERSION\x01", { target: "PyBot" }, undefined],
    ["!py 1", { target: "PyBot" }, { kind: "eval", code: "1", verbose: false, explicit: true, ...pm }],
    ["1+1", { target: "PyBot" }, { kind: "eval", code: "1+1", verbose: false, explicit: false, ...pm }],
    ["1+1", { target: "PyBot", privateBareCode: false }, undefined],
    ["PyBot: 1", { target: "PyBot" }, { kind: "eval", code: "1", verbose: false, explicit: false, ...pm }],
    ["!py 1", { target: "+chan", chanTypes: "#+" }, {
      kind: "eval",
      code: "1",
      verbose: false,
      explicit: true,
      replyTo: "+chan",
      addressee: "alice",
      private: false,
    }],
    ["Py[Bot]: 1", { botNick: "py{bot}" }, { kind: "eval", code: "1", verbose: false, explicit: false, ...ch }],
    ["!py:help", {}, { kind: "help", verbose: false, ...ch }],
    ["PyBot", {}, { kind: "help", verbose: false, ...ch }],
    ["pybot?", {}, { kind: "help", verbose: false, ...ch }],
    ["PyBot", { target: "PyBot" }, { kind: "help", verbose: false, ...pm }],
    ["PyBot", { allowNickAddressing: false }, undefined],
    ["!py a\nb", {}, { kind: "eval", code: "a\nb", verbose: false, explicit: true, ...ch }],
  ];
  for (const [text, ctx, want] of cases) {
    it(`${JSON.stringify(text)} ${JSON.stringify(ctx)}`, () =>
      assert.deepEqual(parseCommand({ ...base, ...ctx, text }), want));
  }
  it("usage hint is one line naming the prefix", () => {
    const h = usageHint("!py", "PyBot");
    assert.ok(!/[\r\n]/.test(h));
    assert.match(h, /!py <python code>/);
  });
});
