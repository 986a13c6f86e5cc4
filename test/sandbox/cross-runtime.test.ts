/**
 * Same program, same ending, same fuel, on Node and Deno (issue 11, items 2 and 5). Runs the probe
 * programs (test/helpers/cross-runtime-probe.ts: deep C recursion, host-heavy work) here and, as a
 * child process, on the other runtime (Node runs build/, so under Deno `npx tsc` must have built
 * it), then compares row by row: outcome, fuel, last line of stderr, crash detail. Deno runs both
 * kinds of worker thread it can: node:worker_threads in its own test run, web Workers (the CLI's,
 * SandboxOptions.exitsWhenDone) as Node's child.
 *
 * Recursion CPython guards ends as RecursionError (its C recursion limit fits the stack budget);
 * recursion it does not guard (hash of nested tuples, nested filter iterators) ends when the
 * metered module's stack budget runs out (src/wasm/meter/stack.ts), at the same call on both
 * runtimes, whatever each one's native stack size: `crashed`, with the same fuel and detail.
 *
 * In an `npm test` that runs both halves (test/helpers/halves.ts), the Node half starts Deno twice,
 * once per kind of thread, and the Deno half skips: each probe then runs once per runtime and
 * thread kind (three runs instead of four).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { probe, PROBE_PROGRAMS } from "../helpers/cross-runtime-probe.ts";
import type { ProbeRow } from "../helpers/cross-runtime-probe.ts";
import { STACK_EXHAUSTED_DETAIL } from "../../src/sandbox/module-shape.ts";
import { otherHalfRuns } from "../helpers/halves.ts";
import { otherRuntimeProbe } from "../helpers/other-runtime.ts";

const IS_DENO = "Deno" in globalThis;
/** Rows of recursion CPython does not guard: they must end by the module's stack budget. */
const UNGUARDED = new Set([
  "hash of 300k nested tuples",
  "next() through 200k nested filters",
  "next() through 200k nested maps",
]);

/**
 * The probe's rows from the other runtime, run as a child process; `disposable`: the CLI's kind of
 * threads (on Deno, web Workers), else the library's (node:worker_threads).
 */
function otherRuntime(disposable: boolean): Promise<ProbeRow[]> {
  // Deno as a child runs the CLI's kind of threads (web Workers), Deno running this test the
  // library's (node:worker_threads): both must agree with Node.
  const env = { WASI_PY_PROBE: "1", WASI_PY_PROBE_DISPOSABLE: disposable ? "1" : "0" };
  return otherRuntimeProbe("cross-runtime-probe", env, 900_000);
}

/** The other runtime's runs to compare with, by label: both Deno thread kinds from Node when Deno's half does not run. */
function theirRuns(): Array<[string, boolean]> {
  if (IS_DENO) return [["node", false]];
  return otherHalfRuns() ? [["deno (web Workers)", true], ["deno (node:worker_threads)", false]] : [["deno", true]];
}

const skip = IS_DENO && otherHalfRuns()
  ? "npm test's Node half runs this against both kinds of Deno thread (test/helpers/halves.ts)"
  : false;
if (skip) process.stdout.write(`# skip: ${skip}\n`); // Deno's node:test shim does not show skip reasons

describe("the same program ends the same way on Node and Deno", { skip }, () => {
  const here = IS_DENO ? "deno" : "node";
  // One after the other: the machine is shared, and each side already runs one evaluation at a time.
  const rows = skip ? Promise.resolve({ mine: [], theirs: [] }) : probe().then(async (mine) => {
    const theirs: Array<[string, ProbeRow[]]> = [];
    for (const [label, disposable] of theirRuns()) theirs.push([label, await otherRuntime(disposable)]);
    return { mine, theirs };
  });
  rows.catch(() => {}); // reported by each test

  for (const [i, p] of PROBE_PROGRAMS.entries()) {
    it(p.name, async () => {
      const { mine, theirs } = await rows;
      const a = mine[i]!;
      for (const [there, their] of theirs) {
        const b = their[i]!;
        assert.equal(b.name, a.name);
        const show = (r: ProbeRow) => `${r.outcome}, ${r.fuelUsed} fuel${r.error ? `, ${r.error}` : ""}`;
        const info = `${here}: ${show(a)}; ${there}: ${show(b)}`;
        assert.equal(a.outcome, b.outcome, info);
        assert.equal(a.fuelUsed, b.fuelUsed, info);
        assert.equal(a.error, b.error, info);
        assert.equal(a.detail, b.detail, info);
      }
      if (UNGUARDED.has(p.name)) {
        assert.equal(a.outcome, "crashed");
        assert.equal(a.detail, STACK_EXHAUSTED_DETAIL);
      } else if (/recursion|nested/.test(p.name)) {
        assert.match(a.error, /^RecursionError|^MemoryError|^SyntaxError/);
      }
    });
  }
});
