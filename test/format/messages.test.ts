import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { escapeForIrc } from "../../src/text/escape.ts";
import { formatIrc, graphemes, type IrcFormatOptions } from "../../src/format/messages.ts";
import { formatSeconds, groupDigits, limitsJson, statusLine, usageLine } from "../../src/format/summary.ts";
import { utf8Length } from "../../src/text/utf8.ts";
import type { RunResult } from "../../src/sandbox/result.ts";
import { result as finished } from "../helpers/run-result.ts";
import type { RunLimits } from "../../src/sandbox/mod.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

/** A finished run of 12,345,678 fuel units in 34 ms (test/helpers/run-result.ts's) with `over` applied. */
function result(over: Partial<RunResult> = {}): RunResult {
  return finished({ fuelUsed: 12_345_678, wallMs: 34, ...over });
}

/** A result's `limits`: the defaults with `over` applied. */
function limits(over: Partial<RunLimits>): Pick<RunResult, "limits"> {
  return { limits: { ...DEFAULT_LIMITS, ...over } };
}

const bytes = (s: string) => new TextEncoder().encode(s).length;
const CUT = /… \(output cut, ([\d,]+)(\+?) more bytes\)$/;

describe("formatIrc: basic shapes", () => {
  const cases: Array<[string, Partial<RunResult>, IrcFormatOptions, string[]]> = [
    ["value", { stdout: "2\n" }, {}, ["2"]],
    ["empty output", {}, {}, ["(no output)"]],
    ["only newlines count as empty", { stdout: "\n\n" }, {}, ["(no output)"]],
    ["stdout then stderr", { stdout: "out\n", stderr: "err\n" }, {}, ["out ⏎ err"]],
    ["stderr only", { stderr: "warn\n" }, {}, ["warn"]],
    ["newlines inside", { stdout: "a\nb\n\nc\n" }, {}, ["a ⏎ b ⏎  ⏎ c"]],
    ["leading newline", { stdout: "\nx" }, {}, ["⏎ x"]],
    ["tab becomes a space", { stdout: "a\tb\n" }, {}, ["a b"]],
    ["exit code line first", { stderr: "boom\n", exitCode: 1, outcome: "error" }, {}, ["Exited with code 1 ⏎ boom"]],
    ["exit code without output", { exitCode: 3, outcome: "error" }, {}, ["Exited with code 3"]],
    ["exit 0 with output", { stdout: "hi\n" }, {}, ["hi"]],
    ["verbose", { stdout: "2\n", ...limits({ fuel: 1_000_000_000 }) }, { verbose: true }, [
      "Used 12,345,678 fuel units (1.2%) in 34 ms ⏎ 2",
    ]],
    ["verbose, the run's own budget", { stdout: "2\n", ...limits({ fuel: 24_691_356 }) }, { verbose: true }, [
      "Used 12,345,678 fuel units (50.0%) in 34 ms ⏎ 2",
    ]],
    ["verbose unlimited", limits({ fuel: Infinity }), { verbose: true }, [
      "Used 12,345,678 fuel units in 34 ms ⏎ (no output)",
    ]],
    ["verbose after exit line", { exitCode: 2, outcome: "error", ...limits({ fuel: Infinity }) }, { verbose: true }, [
      "Exited with code 2 ⏎ Used 12,345,678 fuel units in 34 ms",
    ]],
    ["timeout", { exitCode: -1, outcome: "timeout", stdout: "tick\n", ...limits({ timeoutMs: 10_000 }) }, {}, [
      "Timed out after 10 s ⏎ tick",
    ]],
    ["timeout fractional", { exitCode: -1, outcome: "timeout", ...limits({ timeoutMs: 1500 }) }, {}, [
      "Timed out after 1.5 s",
    ]],
    ["fuel", { exitCode: -1, outcome: "fuel_exhausted", fuelUsed: 1_000_000_000, ...limits({ fuel: 1e9 }) }, {}, [
      "Out of fuel after 1,000,000,000 units",
    ]],
    [
      "fuel budget, not the overshoot",
      { exitCode: -1, outcome: "fuel_exhausted", fuelUsed: 7777, ...limits({ fuel: 5000 }) },
      {},
      [
        "Out of fuel after 5,000 units",
      ],
    ],
    [
      "fuel unlimited uses fuelUsed",
      {
        exitCode: -1,
        outcome: "fuel_exhausted",
        fuelUsed: 5000,
        ...limits({ fuel: Infinity }),
      },
      {},
      ["Out of fuel after 5,000 units"],
    ],
    [
      "memory (MemoryError exit)",
      {
        exitCode: 1,
        outcome: "memory_exhausted",
        stderr: "MemoryError\n",
        ...limits({ memoryMiB: 256 }),
      },
      {},
      ["Out of memory (limit 256 MiB) ⏎ MemoryError"],
    ],
    ["memory (trap)", { exitCode: -1, outcome: "memory_exhausted", ...limits({ memoryMiB: 64 }) }, {}, [
      "Out of memory (limit 64 MiB)",
    ]],
    ["crash hides detail", { exitCode: -1, outcome: "crashed", detail: "RuntimeError: unreachable\n at x" }, {}, [
      "Crashed (interpreter error)",
    ]],
    [
      "crash detail when verbose",
      { exitCode: -1, outcome: "crashed", detail: "RuntimeError: unreachable\n at x", fuelUsed: 10, wallMs: 1 },
      { verbose: true },
      ["Crashed (interpreter error: RuntimeError: unreachable) ⏎ Used 10 fuel units (<0.1%) in 1 ms"],
    ],
    [
      "sandbox truncated stdout",
      { stdout: "aaaa", outcome: "output_truncated", truncated: { stdout: true, stderr: false } },
      {},
      ["aaaa…[stdout truncated]"],
    ],
    [
      "sandbox truncated both",
      { stdout: "a", stderr: "b", outcome: "output_truncated", truncated: { stdout: true, stderr: true } },
      {},
      ["a…[stdout truncated] ⏎ b…[stderr truncated]"],
    ],
    ["truncated with nothing kept", { outcome: "output_truncated", truncated: { stdout: true, stderr: false } }, {}, [
      "…[stdout truncated]",
    ]],
  ];
  for (const [name, over, opts, expected] of cases) {
    it(name, () => assert.deepEqual(formatIrc(result(over), opts), expected));
  }
});

describe("formatIrc: controls are made visible and harmless", () => {
  const cases: Array<[string, string, string]> = [
    ["NUL", "a\0b", "a␀b"],
    ["CTCP \\x01", "\x01ACTION hi\x01", "␁ACTION hi␁"],
    ["CR", "x\rQUIT :bye", "x␍QUIT :bye"],
    ["CR LF", "x\r\nQUIT :bye", "x␍ ⏎ QUIT :bye"],
    ["bold/colour/reset/italic/underline/reverse/monospace", "\x02\x03\x0f\x1d\x1f\x16\x11\x1e", "␂␃␏␝␟␖␑␞"],
    ["ESC", "\x1b[31mred", "␛[31mred"],
    ["bell, backspace, VT, FF", "\x07\x08\x0b\x0c", "␇␈␋␌"],
    ["unit separator", "\x1f", "␟"],
    ["DEL", "a\x7fb", "a␡b"],
    ["C1 NEL", "a\u0085b", "a<U+0085>b"],
    ["C1 CSI", "\u009b31m", "<U+009B>31m"],
    ["line separator", "a\u2028b\u2029c", "a<U+2028>b<U+2029>c"],
    ["bidi override", "\u202egnp.exe", "<U+202E>gnp.exe"],
    ["bidi isolate", "\u2066x\u2069", "<U+2066>x<U+2069>"],
    ["BOM", "\ufeffx", "<U+FEFF>x"],
    ["lone surrogate", "a\ud800b", "a\ufffdb"],
    ["ordinary unicode kept", "café 😀 日本", "café 😀 日本"],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      assert.deepEqual(formatIrc(result({ stdout: input })), [expected]);
      assert.equal(escapeForIrc(input).replace(/ ⏎ /g, "\n"), expected.replace(/ ⏎ /g, "\n"));
    });
  }
  it("every C0 control except \\n and \\t becomes a control picture", () => {
    for (let c = 0; c < 0x20; c++) {
      if (c === 10 || c === 9) continue;
      assert.equal(escapeForIrc(String.fromCharCode(c)), String.fromCodePoint(0x2400 + c), `code ${c}`);
    }
  });
  it("every C1 control becomes <U+00XX>", () => {
    for (let c = 0x80; c <= 0x9f; c++) {
      assert.equal(escapeForIrc(String.fromCharCode(c)), `<U+00${c.toString(16).toUpperCase()}>`);
    }
  });
});

describe("formatIrc: byte limits and cutting", () => {
  it("a long ASCII line fills maxLines messages and says how much was cut", () => {
    const msgs = formatIrc(result({ stdout: "x".repeat(1000) }));
    assert.equal(msgs.length, 2);
    assert.equal(msgs[0], "x".repeat(400));
    const m = CUT.exec(msgs[1]!);
    assert.ok(m, msgs[1]);
    assert.ok(bytes(msgs[1]!) <= 400);
    const shown = (msgs[0]! + msgs[1]!).split("x").length - 1;
    assert.equal(shown + Number(m[1]!.replace(/,/g, "")), 1000);
    assert.equal(m[2], "");
  });
  it("output that fits exactly is not cut", () => {
    assert.deepEqual(formatIrc(result({ stdout: "y".repeat(800) })), ["y".repeat(400), "y".repeat(400)]);
  });
  it("maxLines 1", () => {
    const msgs = formatIrc(result({ stdout: "z".repeat(500) }), { maxLines: 1, maxBytes: 100 });
    assert.equal(msgs.length, 1);
    assert.match(msgs[0]!, /^z+… \(output cut, [\d,]+ more bytes\)$/);
    assert.ok(bytes(msgs[0]!) <= 100);
  });
  it("maxLines 3 with newline-separated lines: a newline at a message break is not repeated", () => {
    const line = "l".repeat(95);
    const msgs = formatIrc(result({ stdout: [line, line, line].join("\n") }), { maxBytes: 100, maxLines: 3 });
    assert.deepEqual(msgs, [line + " ⏎", line + " ⏎", line]);
  });
  it("two-byte characters are never split", () => {
    const msgs = formatIrc(result({ stdout: "é".repeat(1000) }), { maxBytes: 401 });
    for (const m of msgs) assert.ok(bytes(m) <= 401);
    assert.equal(msgs[0], "é".repeat(200));
  });
  it("emoji at the cut are never split", () => {
    const msgs = formatIrc(result({ stdout: "a" + "😀".repeat(300) }), { maxBytes: 400 });
    assert.equal(msgs[0], "a" + "😀".repeat(99));
    for (const m of msgs) {
      assert.ok(bytes(m) <= 400);
      assert.ok(!/[\ud800-\udfff]/.test(m.replace(/[\ud800-\udbff][\udc00-\udfff]/g, "")), "no lone surrogates");
    }
    assert.match(msgs[1]!, CUT);
  });
  it("a base letter and its combining marks stay in one message", () => {
    const cluster = "e\u0301\u0323"; // 5 bytes
    const msgs = formatIrc(result({ stdout: cluster.repeat(100) }), { maxBytes: 52, maxLines: 20 });
    for (const m of msgs) {
      assert.ok(bytes(m) <= 52);
      assert.ok(!/^[\u0300-\u036f]/.test(m), `message starts with a combining mark: ${JSON.stringify(m)}`);
    }
    assert.equal(msgs.join(""), cluster.repeat(100));
  });
  it("ZWJ emoji sequences stay whole", () => {
    const family = "👨‍👩‍👧‍👦"; // 25 bytes
    const msgs = formatIrc(result({ stdout: family.repeat(10) }), { maxBytes: 60, maxLines: 10 });
    assert.deepEqual(msgs, Array(5).fill(family + family));
  });
  it("an absurdly long cluster is split between code points rather than dropped", () => {
    const zalgo = "a" + "\u0301".repeat(300); // 601 bytes in one grapheme
    const msgs = formatIrc(result({ stdout: zalgo }), { maxBytes: 100, maxLines: 10 });
    for (const m of msgs) assert.ok(bytes(m) <= 100);
    assert.equal(msgs.join(""), zalgo);
  });
  it("escapes count with their escaped size", () => {
    const msgs = formatIrc(result({ stdout: "\x01".repeat(200) }), { maxBytes: 40, maxLines: 1 });
    assert.equal(msgs.length, 1);
    assert.ok(bytes(msgs[0]!) <= 40, msgs[0]);
    assert.match(msgs[0]!, /^␁*… \(output cut, [\d,]+ more bytes\)$/);
  });
  it("the cut count covers the whole remaining output (stdout and stderr)", () => {
    const msgs = formatIrc(result({ stdout: "o".repeat(50), stderr: "e".repeat(50), exitCode: 1, outcome: "error" }), {
      maxBytes: 60,
      maxLines: 1,
    });
    const m = CUT.exec(msgs[0]!);
    assert.ok(m, msgs[0]);
    assert.ok(msgs[0]!.startsWith("Exited with code 1 ⏎ o"));
    const shown = msgs[0]!.slice("Exited with code 1 ⏎ ".length).split("…")[0]!.length;
    assert.equal(shown + Number(m[1]!.replace(/,/g, "")), 100);
  });
  it("a sandbox-truncated stream beyond the cut is flagged with +", () => {
    const msgs = formatIrc(
      result({ stdout: "t".repeat(900), outcome: "output_truncated", truncated: { stdout: true, stderr: false } }),
    );
    assert.match(msgs[1]!, /more bytes\)$/);
    assert.equal(CUT.exec(msgs[1]!)![2], "+");
  });
  it("the status line survives any cut", () => {
    const timedOut = {
      stdout: "x".repeat(5000),
      exitCode: -1,
      outcome: "timeout" as const,
      ...limits({ timeoutMs: 2000 }),
    };
    const msgs = formatIrc(result(timedOut));
    assert.ok(msgs[0]!.startsWith("Timed out after 2 s ⏎ xxx"));
  });
  it("tiny maxBytes still yields messages within the limit", () => {
    const msgs = formatIrc(result({ stdout: "hello world, this is long", exitCode: -1, outcome: "fuel_exhausted" }), {
      maxBytes: 16,
      maxLines: 2,
    });
    for (const m of msgs) assert.ok(bytes(m) <= 16, m);
    assert.equal(msgs.length, 2);
    assert.match(msgs[1]!, /… \(cut\)$/);
  });
  it("rejects unusable limits", () => {
    assert.throws(() => formatIrc(result(), { maxBytes: 3 }), RangeError);
    assert.throws(() => formatIrc(result(), { maxLines: 0 }), RangeError);
    assert.throws(() => formatIrc(result(), { maxBytes: 10.5 }), RangeError);
  });
});

describe("formatIrc: properties", () => {
  // Limits, controls and UTF-8 of any output: messages.property.test.ts (stronger inputs, 1500 runs).
  it("output that fits is shown whole (modulo escaping)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (out) => {
        const text = out.replace(/\n+$/, "");
        const msgs = formatIrc(result({ stdout: out }), { maxBytes: 400, maxLines: 2 });
        if (text === "") assert.deepEqual(msgs, ["(no output)"]);
        else if (utf8Length(escapeForIrc(text)) <= 400) assert.deepEqual(msgs, [escapeForIrc(text)]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("helpers", () => {
  it("groupDigits", () => {
    const cases: Array<[number, string]> = [[0, "0"], [999, "999"], [1000, "1,000"], [1_000_000_000, "1,000,000,000"], [
      -12345,
      "-12,345",
    ]];
    for (const [n, s] of cases) assert.equal(groupDigits(n), s);
  });
  it("formatSeconds", () => {
    const cases: Array<[number, string]> = [[10_000, "10 s"], [1500, "1.5 s"], [250, "0.25 s"], [1, "0.001 s"]];
    for (const [n, s] of cases) assert.equal(formatSeconds(n), s);
  });
  it("utf8Length agrees with TextEncoder", () => {
    for (const s of ["", "a", "é", "日", "😀", "a\ud800", "\udc00x"]) assert.equal(utf8Length(s), bytes(s));
  });
  it("usageLine percentages", () => {
    assert.equal(
      usageLine(result({ fuelUsed: 500_000_000, wallMs: 1234.4 })),
      "Used 500,000,000 fuel units (50.0%) in 1,234 ms",
    );
    assert.equal(usageLine(result({ fuelUsed: 10 })), "Used 10 fuel units (<0.1%) in 34 ms");
    assert.equal(usageLine(result({ fuelUsed: 0 })), "Used 0 fuel units (0.0%) in 34 ms");
    assert.equal(
      usageLine(result({ fuelUsed: 93_678, fuelUsedIsLowerBound: true })),
      "Used at least 93,678 fuel units (<0.1%) in 34 ms",
    );
  });
  it("limitsJson: every limit in RunLimits order, unlimited fuel as null", () => {
    const given = { ...limits({ fuel: Infinity, timeoutMs: 500 }).limits };
    const reversed = Object.fromEntries(Object.entries(given).reverse()) as unknown as RunLimits;
    const j = limitsJson(reversed);
    assert.deepEqual(Object.keys(j), [
      "fuel",
      "timeoutMs",
      "memoryMiB",
      "maxOutputBytes",
      "tmpQuotaBytes",
      "tmpMaxFiles",
    ]);
    assert.deepEqual(j, { ...given, fuel: null });
    assert.deepEqual(limitsJson(DEFAULT_LIMITS), { ...DEFAULT_LIMITS });
  });
  it("statusLine is undefined for a clean exit", () => {
    assert.equal(statusLine(result()), undefined);
    assert.equal(statusLine(result({ outcome: "output_truncated" })), undefined);
  });
});

describe("graphemes", () => {
  const icu = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const byIcu = (s: string) => [...icu.segment(s)].map((x) => x.segment);

  it("splits every ASCII pair and triple around CR/LF as ICU does (the path without ICU)", () => {
    const chars = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));
    for (const a of chars) {
      for (const b of chars) assert.deepEqual([...graphemes(a + b)], byIcu(a + b), JSON.stringify(a + b));
    }
    for (const s of ["\r\r\n", "\r\n\n", "\n\r\n\r", "a\r\nb", "\r", ""]) {
      assert.deepEqual([...graphemes(s)], byIcu(s), JSON.stringify(s));
    }
  });

  it("leaves non-ASCII text to ICU (combining marks stay with their base)", () => {
    assert.deepEqual([...graphemes("e\u0301\r\nx")], ["e\u0301", "\r\n", "x"]);
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => {
      assert.deepEqual([...graphemes(s)], byIcu(s));
    }));
  });
});
