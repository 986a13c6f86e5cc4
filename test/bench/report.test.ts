/**
 * The bench report's output is pinned byte for byte: `summarise`, `print` (the terminal table) and
 * `markdown` (the README's table) are fed the committed results files, and variants of them with
 * every failure branch filled in, and compared with golden outputs in test/fixtures/bench/. The
 * goldens were generated from the code before bench/report.ts was split into one function per
 * section, so the split provably changed nothing. A deliberate change of the report regenerates
 * them (BENCH_GOLDEN_WRITE=1 writes the files instead of comparing, and the test then fails so
 * that the run cannot pass unnoticed).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { fixturePath, readFixtureText } from "../helpers/fixtures.ts";
import { markdown, print, summarise } from "../../bench/report.ts";
import type { Results } from "../../bench/report.ts";

/** Committed results files: the newest full run and the runs holding the sections latest.json lacks. */
const RESULT_FILES = [
  "latest.json",
  "2026-12-06T13-09-21Z.json",
  "2026-12-06T10-39-51Z.json",
  "2026-11-30T14-18-36Z.json",
  "2026-11-30T14-03-45Z.json",
];

function loadResults(file: string): Results {
  return JSON.parse(readFileSync(join(repoRoot(), "bench", "results", file), "utf8")) as Results;
}

/** latest.json with every section's failure shape: the report's error branches. */
function withFailures(): Results {
  const r = loadResults("latest.json");
  const [first, second] = r.runtimes ?? [];
  r.machine.interpreterOverrides = { WASI_PY_WASM: "/tmp/python.wasm" };
  r.machine.gitDirty = true;
  r.cold![0] = { ...r.cold![0]!, error: "spawn python3 ENOENT ".repeat(5) };
  r.coldBreakdown![first!] = { error: "breakdown failed" };
  r.warmOther![second!] = { error: "warm child crashed" };
  r.fuelOverhead![first!] = { error: "fuel child crashed" };
  r.memory!.push({ concurrent: 16, error: "out of memory" });
  r.pyodide = { error: "pyodide not installed" };
  r.pyperformance = { skipped: "no --pyperformance DIR" };
  r.batch = { error: "batch failed" };
  r.errors = ["cold: spawn python3 ENOENT", "pyodide: not installed"];
  return r;
}

/** A results file without runtimes (the oldest schema) and with Pyodide's network fetches. */
function withoutRuntimes(): Results {
  const r = loadResults("latest.json");
  delete r.runtimes;
  delete r.machine.loadAverageEnd;
  r.machine.python3 = null as unknown as string;
  r.machine.gitCommit = null as unknown as string;
  if (r.pyodide && !("error" in r.pyodide)) r.pyodide.fetches = ["https://cdn.example/pyodide.asm.wasm"];
  return r;
}

/**
 * latest.json with the IRC section (no committed run holds it): test/fixtures/bench/irc-hardening.json
 * is the output of `node build/bench/irc-hardening.js`, its goldens checked equal to the unsplit code's.
 */
function withIrc(): Results {
  const r = loadResults("latest.json");
  r.irc = JSON.parse(readFixtureText("bench", "irc-hardening.json")) as Results["irc"];
  return r;
}

const CASES: Array<[string, () => Results]> = [
  ...RESULT_FILES.map((f): [string, () => Results] => [f.replace(/\.json$/, ""), () => loadResults(f)]),
  ["latest-failures", withFailures],
  ["latest-no-runtimes", withoutRuntimes],
  ["latest-irc", withIrc],
];

/** What print() writes to stdout. */
function captured(r: Results): string {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => {
    chunks.push(s);
    return true;
  }) as typeof process.stdout.write;
  try {
    print(r);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join("");
}

/** Renders one case the way `npm run bench -- --render FILE` does. */
function render(make: () => Results): Record<string, string> {
  const r = make();
  r.summary = summarise(r);
  return {
    "summary.json": JSON.stringify(r.summary, null, 2) + "\n",
    "print.txt": captured(r),
    "md": markdown(r),
  };
}

describe("bench report output (golden files)", () => {
  const write = process.env["BENCH_GOLDEN_WRITE"] === "1";
  for (const [name, make] of CASES) {
    it(`${name}: summary, terminal table and markdown are unchanged`, () => {
      const got = render(make);
      for (const [ext, text] of Object.entries(got)) {
        const file = `${name}.${ext}`;
        if (write) writeFileSync(fixturePath("bench", file), text);
        else assert.equal(text, readFixtureText("bench", file), `test/fixtures/bench/${file}`);
      }
      assert.ok(!write, "BENCH_GOLDEN_WRITE=1: goldens written, run again without it to compare");
    });
  }
  it("the summary has figures with targets (the goldens are not empty)", () => {
    const lines = summarise(loadResults("latest.json"));
    assert.ok(lines.length >= 10);
    assert.ok(lines.some((l) => l.met === true) && lines.some((l) => l.target.startsWith("<=")));
  });
});
