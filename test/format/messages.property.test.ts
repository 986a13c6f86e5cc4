/**
 * Property tests for the IRC formatter: whatever bytes a program writes (decoded as the sandbox
 * decodes them, invalid sequences replaced), whatever the limits, every message the bot would
 * send is within the byte budget, carries no byte IRC gives meaning to (no C0 control at all, so
 * no CR/LF/NUL/CTCP \x01, no DEL, no C1), and never splits a UTF-8 character.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIrc } from "../../src/format/messages.ts";
import type { IrcFormatOptions } from "../../src/format/messages.ts";
import { utf8Length } from "../../src/text/utf8.ts";
import type { Outcome, RunResult } from "../../src/sandbox/result.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";
import { result } from "../helpers/run-result.ts";

/** As src/sandbox/_protocol.ts (readOutput) decodes guest output. */
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

const OUTCOMES: Outcome[] = [
  "ok",
  "error",
  "fuel_exhausted",
  "timeout",
  "memory_exhausted",
  "output_truncated",
  "crashed",
];

/** Pieces that stress the cut: multi-byte, combining marks, ZWJ emoji, RTL and bidi controls, controls. */
const TRICKY = [
  "a",
  " ",
  "\n",
  "\r\n",
  "\r",
  "\t",
  "\0",
  "\x01",
  "\x02",
  "\x03",
  "\x0f",
  "\x1b[31m",
  "\x7f",
  "\x85",
  "\x9b",
  "é",
  "e\u0301",
  "e\u0301\u0302\u0303",
  "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357",
  "€",
  "😀",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "🇫🇷",
  "\u05e9\u05dc\u05d5\u05dd",
  "\u202e",
  "\u2066",
  "\u200f",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\u0000",
  "ｘ",
  "𝕏",
  "\u0e01\u0e34\u0e4a",
  "\u1100\u1161\u11a8",
  "…",
  "⏎",
];

const trickyText = fc.array(fc.constantFrom(...TRICKY), { maxLength: 300 }).map((a) => a.join(""));
/** Raw bytes as a program might write them via sys.stdout.buffer, decoded as the sandbox does. */
const byteText = fc.uint8Array({ maxLength: 2000 }).map((b) => decoder.decode(b));
/** Valid UTF-8 of any code points, long enough to need cutting. */
const unicodeText = fc.string({ unit: "binary", maxLength: 1500 }).map((s) => decoder.decode(encoder.encode(s)));
const anyText = fc.oneof(byteText, trickyText, unicodeText);

const resultArb = fc.record({
  stdout: anyText,
  stderr: fc.oneof(fc.constant(""), anyText),
  exitCode: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: -1, max: 2 ** 32 - 1 })),
  outcome: fc.constantFrom(...OUTCOMES),
  fuelUsed: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  wallMs: fc.double({ min: 0, max: 1e7, noNaN: true }),
  truncated: fc.record({ stdout: fc.boolean(), stderr: fc.boolean() }),
  detail: fc.option(anyText, { nil: undefined }),
  limits: fc.record({
    fuel: fc.oneof(fc.nat(), fc.constant(Infinity)),
    timeoutMs: fc.integer({ min: 1, max: 86_400_000 }),
    memoryMiB: fc.integer({ min: 1, max: 4096 }),
  }).map((l) => ({ ...DEFAULT_LIMITS, ...l })),
}).map((r) => {
  const out: RunResult = { ...r };
  if (out.detail === undefined) delete out.detail;
  return out;
});

const optionsArb = fc.record({
  maxBytes: fc.integer({ min: 16, max: 512 }),
  maxLines: fc.integer({ min: 1, max: 6 }),
  verbose: fc.boolean(),
});

/** C0 controls, DEL, C1 controls, and the characters that break or reorder a line. */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function checkMessages(result: RunResult, options: IrcFormatOptions & { maxBytes: number; maxLines: number }): void {
  const lines = formatIrc(result, options);
  assert.ok(
    lines.length >= 1 && lines.length <= options.maxLines,
    `${lines.length} lines for maxLines ${options.maxLines}`,
  );
  const inputHasReplacement = (result.stdout + result.stderr + (result.detail ?? "")).includes("\ufffd");
  for (const line of lines) {
    assert.ok(line.length > 0, "no empty message");
    const bytes = encoder.encode(line);
    assert.ok(bytes.length <= options.maxBytes, `${bytes.length} bytes > ${options.maxBytes}: ${JSON.stringify(line)}`);
    assert.equal(utf8Length(line), bytes.length);
    assert.ok(!FORBIDDEN.test(line), `forbidden character in ${JSON.stringify(line)}`);
    // Whole characters only: the bytes decode strictly and give the same text back.
    assert.equal(strict.decode(bytes), line);
    if (!inputHasReplacement) assert.ok(!line.includes("\ufffd"), `U+FFFD introduced: ${JSON.stringify(line)}`);
  }
}

describe("formatIrc properties", () => {
  it("any output, any limits: lines fit, carry no controls, split no character", () => {
    fc.assert(fc.property(resultArb, optionsArb, (r, o) => checkMessages(r, o)), { numRuns: 1500 });
  });

  it("JS strings with lone surrogates become U+FFFD, never invalid UTF-8", () => {
    const surrogates = fc.array(fc.constantFrom("\ud800", "\udfff", "\ud83d", "a", "😀", "\n"), { maxLength: 200 }).map(
      (a) => a.join(""),
    );
    fc.assert(
      fc.property(surrogates, optionsArb, (s, o) => {
        const r = result({ stdout: s, fuelUsed: 0, wallMs: 0 });
        for (const line of formatIrc(r, o)) {
          const bytes = encoder.encode(line);
          assert.ok(bytes.length <= o.maxBytes);
          assert.equal(strict.decode(bytes), line, "no lone surrogate survives");
        }
      }),
      { numRuns: 500 },
    );
  });

  it("an emoji at the cut point is kept whole or left out, never halved", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 450 }),
        fc.constantFrom("😀", "👩‍👩‍👧‍👦", "e\u0301", "€", "🇫🇷"),
        fc.integer({ min: 16, max: 420 }),
        (pad, ch, maxBytes) => {
          const r = result({ stdout: "x".repeat(pad) + ch.repeat(40), fuelUsed: 0, wallMs: 0 });
          for (const line of formatIrc(r, { maxBytes, maxLines: 2 })) {
            const bytes = encoder.encode(line);
            assert.ok(bytes.length <= maxBytes);
            assert.equal(strict.decode(bytes), line);
            assert.ok(!line.includes("\ufffd"));
            // a combining accent never ends up without its base letter
            assert.ok(!/(^|[^e])\u0301/u.test(line), JSON.stringify(line));
          }
        },
      ),
      { numRuns: 800 },
    );
  });
});
