/**
 * Error programs run in the sandbox must print exactly what a real CPython 3.13 prints for
 * `python3.13 -c '<program>'`. The expected files in test/fixtures/tracebacks/ are GOLDEN output
 * of a native CPython 3.13.15 (scripts/gen-traceback-fixtures.sh). One normalisation only: the
 * native stdlib folder (STDLIB_PREFIX) is replaced by the guest's /usr/local/lib/python3.13/ in
 * the expected text, since tracebacks through stdlib modules name their files.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";

const dir = join(repoRoot(), "test", "fixtures", "tracebacks");
const GUEST_STDLIB = "/usr/local/lib/python3.13/";
const nativePrefix = readFileSync(join(dir, "STDLIB_PREFIX"), "utf8").trim();
const programs = readdirSync(dir).filter((f) => f.endsWith(".py")).sort();

function expected(name: string, ext: string): string {
  return readFileSync(join(dir, `${name}.${ext}`), "utf8").split(nativePrefix).join(GUEST_STDLIB);
}

describe("guest driver: -c semantics, last-expression rule, tracebacks as native CPython 3.13 prints them", () => {
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

  // The driver's own behaviour (src/sandbox/_driver.ts): `-c` semantics plus the last-expression rule.
  const semantics: Array<[string, string, string]> = [
    ["a value is printed with repr", "'a' + 'b'", "'ab'\n"],
    ["None too", "None", "None\n"],
    ["an assignment prints nothing", "x = 5", ""],
    ["an empty program prints nothing", "", ""],
    ["print anywhere disables the rule (comprehension)", "[print(x) for x in range(2)]", "0\n1\n"],
    ["print anywhere disables the rule (nested function)", "def f():\n    print(1)\nf()", "1\n"],
    ["a method named print does not count", "class P:\n    def print(self): return 7\nP().print()", "7\n"],
    ["the value of an expression with side effects", "import sys; sys.stdout.write('hi\\n')", "hi\n3\n"],
    ["repr is the object's own", "class A:\n    def __repr__(self): return 'A!'\nA()", "A!\n"],
    ["sys.argv as under -c", "import sys; sys.argv", "['-c']\n"],
    ["__name__ is __main__", "__name__", "'__main__'\n"],
    [
      "fresh globals: none of the driver's names",
      "sorted(globals())",
      "['__annotations__', '__builtins__', '__doc__', '__loader__', '__name__', '__package__', '__spec__']\n",
    ],
    ["__main__ is the program's module", "import __main__\nx = 1\n__main__.x", "1\n"],
    [
      "classes pickle through __main__",
      "import pickle\nclass K: pass\ntype(pickle.loads(pickle.dumps(K()))).__name__",
      "'K'\n",
    ],
    ["stdin", "input() + input()", "'ab'\n"],
  ];
  for (const [name, code, stdout] of semantics) {
    it(`driver: ${name}`, async () => {
      const r = await sb.run(code, { stdin: "a\nb\n" });
      assert.deepEqual([r.stdout, r.stderr, r.exitCode], [stdout, "", 0]);
    });
  }

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
