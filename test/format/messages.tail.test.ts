/**
 * The formatter keeps the end of a traceback (the exception line) and works in time linear in
 * what it keeps: 1 MiB worst-case outputs (issue 11 item 3: 64 KiB of newlines took 12–16 s).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatIrc, formatIrcReply } from "../../src/format/messages.ts";
import { result } from "../helpers/run-result.ts";
import { utf8Length } from "../../src/text/utf8.ts";

function traceback(frames: number, exc: string): string {
  let s = "Traceback (most recent call last):\n";
  for (let i = 0; i < frames; i++) {
    s += `  File "/usr/lib/python3.13/urllib/request.py", line ${
      100 + i
    }, in open_${i}\n    response = meth(req, response)\n`;
  }
  return s + exc + "\n";
}

describe("formatIrc: tracebacks keep their end", () => {
  it("a long traceback shows the status, a cut mark, and the exception line last", () => {
    const exc = "AttributeError: 'NoneType' object has no attribute 'read'";
    const r = result({ stderr: traceback(40, exc), exitCode: 1, outcome: "error" });
    const { lines, cut } = formatIrcReply(r, { maxBytes: 300, maxLines: 3 });
    assert.equal(cut, true);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^Exited with code 1 ⏎ … \([\d,]+ bytes cut\) /);
    assert.ok(lines[2]!.endsWith(exc), lines[2]);
    for (const l of lines) assert.ok(utf8Length(l) <= 300, `${utf8Length(l)}: ${l}`);
  });

  it("the cut count plus what is shown covers the whole output", () => {
    const r = result({ stderr: traceback(30, "ValueError: x"), exitCode: 1, outcome: "error" });
    const lines = formatIrc(r, { maxBytes: 200, maxLines: 2 });
    const n = Number(/… \(([\d,]+) bytes cut\)/.exec(lines[0]!)![1]!.replace(/,/g, ""));
    assert.ok(n > 0 && n < utf8Length(r.stderr));
  });

  it("a traceback that fits is shown whole, from the start", () => {
    const r = result({ stderr: traceback(1, "KeyError: 1"), exitCode: 1, outcome: "error" });
    const lines = formatIrc(r, { maxBytes: 400, maxLines: 3 });
    assert.match(lines[0]!, /^Exited with code 1 ⏎ Traceback \(most recent call last\):/);
    assert.ok(!lines.join("").includes("bytes cut"));
  });

  it("ordinary long output keeps its start", () => {
    const r = result({ stdout: "line\n".repeat(1000) });
    const lines = formatIrc(r, { maxBytes: 100, maxLines: 2 });
    assert.ok(lines[0]!.startsWith("line ⏎ line"));
    assert.match(lines[1]!, /\(output cut, [\d,]+ more bytes\)$/);
  });

  it("a paste link is named in the cut mark", () => {
    const r = result({ stdout: "x".repeat(5000) });
    const { lines, cut } = formatIrcReply(r, { maxBytes: 200, maxLines: 2, cutLink: "http://127.0.0.1/p/1" });
    assert.equal(cut, true);
    assert.match(lines[1]!, /more bytes: http:\/\/127\.0\.0\.1\/p\/1\)$/);
  });
});

describe("formatIrc: linear time on 1 MiB worst cases", () => {
  const MiB = 1 << 20;
  const cases: Array<[string, string]> = [
    ["newlines", "\n".repeat(MiB)],
    ["runs of newlines", ("\n".repeat(4096) + "x").repeat(MiB / 4097)],
    ["combining marks", "e" + "\u0301".repeat(MiB)],
    ["many clusters of combining marks", ("a" + "\u0301".repeat(200)).repeat(MiB / 201)],
    ["emoji", "😀".repeat(MiB / 2)],
    ["ZWJ emoji", "👩‍👩‍👧‍👦".repeat(MiB / 11)],
    ["invalid UTF-8 (decoded as U+FFFD)", "\uFFFD".repeat(MiB)],
    ["lone surrogates", "\ud800".repeat(MiB)],
    ["controls", "\x01\r\x1b".repeat(MiB / 3)],
  ];
  for (const [name, text] of cases) {
    it(`${name}: stdout and stderr of 1 MiB each, in bounded time`, () => {
      for (const tb of [false, true]) {
        const r = result({ stdout: text, stderr: (tb ? "Traceback (most recent call last):\n" : "") + text });
        const t0 = performance.now();
        const lines = formatIrc(r, { maxBytes: 400, maxLines: 10 });
        const ms = performance.now() - t0;
        // Generous: about superlinear blow-ups (seconds to minutes), not speed (well under 100 ms here).
        assert.ok(ms < 3000, `${name}${tb ? " (traceback)" : ""} took ${ms.toFixed(0)} ms`);
        assert.ok(lines.length >= 1 && lines.length <= 10);
        for (const l of lines) assert.ok(utf8Length(l) <= 400);
      }
    });
  }
});
