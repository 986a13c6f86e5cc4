/**
 * Error programs run in the sandbox must print exactly what a real CPython 3.13 prints for
 * `python3.13 -c '<program>'`. The expected files in test/fixtures/tracebacks/ are GOLDEN output
 * of a native CPython 3.13.5 (scripts/gen-traceback-fixtures.sh). One normalisation only: the
 * native stdlib folder (STDLIB_PREFIX) is replaced by the guest's /usr/local/lib/python3.13/ in
 * the expected text, since tracebacks through stdlib modules name their files.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Sandbox } from "../src/sandbox.ts";
import { repoRoot } from "../src/assets.ts";

const dir = join(repoRoot(), "test", "fixtures", "tracebacks");
const GUEST_STDLIB = "/usr/local/lib/python3.13/";
const nativePrefix = readFileSync(join(dir, "STDLIB_PREFIX"), "utf8").trim();
const programs = readdirSync(dir).filter((f) => f.endsWith(".py")).sort();

function expected(name: string, ext: string): string {
  return readFileSync(join(dir, `${name}.${ext}`), "utf8").split(nativePrefix).join(GUEST_STDLIB);
}

describe("tracebacks match native CPython 3.13 (-c)", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ workers: 1 });
  });
  after(async () => {
    await sb.close();
  });

  it("has a dozen or more golden programs", () => {
    assert.ok(programs.length >= 12, `only ${programs.length} programs in ${dir}`);
  });

  for (const file of programs) {
    const name = file.slice(0, -3);
    it(name, async () => {
      // As the generator passes it: $(cat file) drops trailing newlines.
      const code = readFileSync(join(dir, file), "utf8").replace(/\n+$/, "");
      const r = await sb.run(code, { fuel: Infinity, timeoutMs: 60_000 });
      assert.equal(r.stderr, expected(name, "stderr"), "stderr");
      assert.equal(r.stdout, expected(name, "stdout"), "stdout");
      assert.equal(r.exitCode, Number(expected(name, "exit").trim()), "exit status");
    });
  }
});
