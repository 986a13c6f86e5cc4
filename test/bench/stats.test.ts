/** The benchmark's arithmetic: medians, percentiles, ratios and the formats its tables print. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fmtMs, fmtRatio, percentileSorted, ratio, summarize } from "../../bench/stats.ts";

describe("bench statistics", () => {
  const percentiles: Array<[number[], number, number]> = [
    [[1], 0.5, 1],
    [[1, 3], 0.5, 2],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[10, 20, 30, 40, 50], 0.9, 46],
    [[10, 20, 30, 40, 50], 0, 10],
    [[10, 20, 30, 40, 50], 1, 50],
  ];
  for (const [values, q, want] of percentiles) {
    it(`percentile ${q} of [${values}] is ${want}`, () => {
      assert.ok(Math.abs(percentileSorted(values, q) - want) < 1e-9);
    });
  }
  it("percentile of nothing is NaN", () => assert.ok(Number.isNaN(percentileSorted([], 0.5))));

  it("summarize sorts first and ignores order", () => {
    const s = summarize([5, 1, 9, 3, 7]);
    assert.deepEqual({ n: s.n, median: s.median, min: s.min, max: s.max }, { n: 5, median: 5, min: 1, max: 9 });
    assert.deepEqual(summarize([9, 7, 5, 3, 1]), s);
  });

  const ratios: Array<[number | undefined, number | undefined, number | null]> = [
    [10, 5, 2],
    [1, 4, 0.25],
    [1, 0, null],
    [undefined, 3, null],
    [3, undefined, null],
    [NaN, 1, null],
  ];
  for (const [a, b, want] of ratios) {
    it(`ratio(${a}, ${b}) = ${want}`, () => assert.equal(ratio(a, b), want));
  }

  const ms: Array<[number | undefined, string]> = [
    [1.234, "1.23 ms"],
    [12.34, "12.3 ms"],
    [123.4, "123 ms"],
    [1234, "1.23 s"],
    [undefined, "-"],
    [NaN, "-"],
  ];
  for (const [v, want] of ms) it(`fmtMs(${v}) = ${want}`, () => assert.equal(fmtMs(v), want));

  const rs: Array<[number | null, string]> = [[11.23, "11.2x"], [1.134, "1.13x"], [0.0015, "0.0015x"], [null, "-"]];
  for (const [v, want] of rs) it(`fmtRatio(${v}) = ${want}`, () => assert.equal(fmtRatio(v), want));
});
