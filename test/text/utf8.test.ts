/** UTF-8 byte arithmetic: lengths, cuts and trims never split a character. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cutToBytes, utf8Length } from "../../src/text/utf8.ts";
import { trimPartialUtf8 } from "../../src/sandbox/_protocol.ts";

describe("utf8Length", () => {
  const cases: [string, number][] = [["", 0], ["a", 1], ["é", 2], ["€", 3], ["🐍", 4], ["\ud800", 3], ["a\udc00b", 5]];
  for (const [s, n] of cases) {
    it(`${JSON.stringify(s)} is ${n} bytes, as TextEncoder writes it`, () => {
      assert.equal(utf8Length(s), n);
      assert.equal(new TextEncoder().encode(s).length, n);
    });
  }
});

describe("cutToBytes", () => {
  const cases: [string, number, string][] = [["héllo", 2, "h"], ["héllo", 3, "hé"], ["🐍🐍", 5, "🐍"], ["abc", 0, ""], [
    "abc",
    9,
    "abc",
  ]];
  for (const [s, max, want] of cases) {
    it(`${JSON.stringify(s)} cut to ${max} bytes is ${JSON.stringify(want)}`, () =>
      assert.equal(cutToBytes(s, max), want));
  }
});

describe("trimPartialUtf8", () => {
  const cases: [number[], number][] = [[[0x61, 0xe2, 0x82], 1], [[0x61, 0xe2, 0x82, 0xac], 4], [[0xc3], 0], [[
    0x61,
    0xf0,
    0x9f,
    0x98,
  ], 1], [[0x61], 1]];
  for (const [bytes, keep] of cases) {
    it(`${bytes.map((b) => b.toString(16)).join(" ")} keeps ${keep}`, () =>
      assert.equal(trimPartialUtf8(new Uint8Array(bytes)).length, keep));
  }
});
