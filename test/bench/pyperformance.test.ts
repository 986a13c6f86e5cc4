/**
 * The pyperformance section's pure parts (bench/pyperformance.ts) and its pyperf stand-in
 * (bench/pyperf_shim.py), run by the machine's python3 on a small benchmark written like
 * pyperformance's: options with defaults, bench_func and bench_time_func, inner loops.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { benchProgram, geometricMean, medianRatio, oneShotLoops, parseShim } from "../../bench/pyperformance.ts";
import type { ShimResult } from "../../bench/pyperformance.ts";

const FAKE = `
import pyperf

def work(n):
    return sum(i * i for i in range(n))

def timed(loops, n):
    t0 = pyperf.perf_counter()
    for _ in range(loops):
        work(n)
    return pyperf.perf_counter() - t0

if __name__ == "__main__":
    runner = pyperf.Runner(add_cmdline_args=lambda cmd, args: None)
    runner.metadata["description"] = "fake"
    runner.argparser.add_argument("--size", type=int, default=2000, help="items")
    runner.argparser.add_argument("--fast", action="store_true")
    args = runner.parse_args()
    assert args.size == 2000 and args.fast is False, args
    if args.size:
        runner.bench_time_func("fake_time", timed, args.size, inner_loops=4)
    runner.bench_func("fake_func", work, args.size)
`;

function runPython(program: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync("python3", ["-"], { input: program, encoding: "utf8", timeout: 60_000 });
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: r.status };
}

describe("pyperformance harness", () => {
  it("the shim runs a pyperformance-style file with its defaults and reports each benchmark", (t) => {
    const probe = spawnSync("python3", ["-c", "pass"]);
    if (probe.status !== 0) {
      t.skip("no python3 on PATH to run the shim");
      return;
    }
    const source = { name: "fake", source: FAKE, sha256: "" };
    const r = runPython(benchProgram(source, "samples"));
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("@@bench "));
    assert.deepEqual(lines.map((l) => (JSON.parse(l.slice(8)) as ShimResult).name), ["fake_time", "fake_func"]);
    const first = parseShim(r.stdout, r.stderr);
    assert.equal(first.inner, 4);
    assert.equal(first.samplesS.length, 3);
    assert.ok(first.samplesS.every((s) => s >= 0.2 * 0.5), "each sample ran about 0.2 s or more");
    const fixed = parseShim(runPython(benchProgram(source, { loops: 2 })).stdout, "");
    assert.deepEqual([fixed.loops, fixed.samplesS.length], [2, 1]);
  });

  it("parseShim fails with the program's error output when there is no result", () => {
    assert.throws(() => parseShim("hello\n", "Traceback ...\nNameError: x"), /no benchmark result: Traceback/);
  });

  const loops: [number, number, number][] = [
    [2.5, 1, 1], // one iteration takes longer than a second: one loop
    [0.3, 1, 4],
    [0.001, 20, 50],
  ];
  for (const [perIterationS, inner, want] of loops) {
    it(`oneShotLoops: ${perIterationS} s per iteration x ${inner} inner -> ${want} loops`, () => {
      const r: ShimResult = { name: "x", loops: 1, inner, perIterationS, samplesS: [] };
      assert.equal(oneShotLoops(r), want);
    });
  }

  it("geometricMean ignores what is not a positive number", () => {
    assert.equal(geometricMean([2, 8]), 4);
    assert.equal(geometricMean([2, 8, NaN, 0, -1]), 4);
    assert.equal(geometricMean([]), null);
  });

  const medians: [string, (number | undefined)[], (number | undefined)[], number | null][] = [
    ["one round", [3], [2], 1.5],
    ["the median of the rounds' ratios, not the ratio of medians", [10, 2, 9], [5, 1, 1], 2],
    ["a round missing on either side is left out", [4, undefined, 8], [2, 2, undefined], 2],
    ["no complete round", [undefined], [1], null],
    ["zero is not a time", [0, 6], [1, 2], 3],
  ];
  for (const [what, a, b, want] of medians) {
    it(`medianRatio: ${what}`, () => assert.equal(medianRatio(a, b), want));
  }
});
