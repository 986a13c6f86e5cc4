/**
 * Fidelity to native CPython on CPython's own material (issue 24): each program in
 * test/fixtures/fidelity/ runs the docstring examples of a stdlib module (doctest.testmod) or the
 * >>> examples of a Doc/library page of the CPython 3.13.15 sources the build fetches
 * (scripts/gen-fidelity-programs.py), and must print exactly what the native build-Python of the
 * same sources printed (golden files by scripts/gen-traceback-fixtures.sh). A rebuild of the
 * interpreter that changes behaviour fails here.
 *
 * Also the behaviours that a golden file cannot show: asyncio waits in wall time, not
 * fuel; the run's time limit still ends an endless wait; sockets and subprocesses stay
 * unavailable.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { fixturePath, readFixtureText } from "../helpers/fixtures.ts";

const GUEST_STDLIB = "/usr/local/lib/python3.13/";
const programs = readdirSync(fixturePath("fidelity")).filter((f) => f.endsWith(".py")).sort();
const nativePrefix = readFixtureText("tracebacks", "STDLIB_PREFIX").trim();

function expected(name: string, ext: string): string {
  return readFixtureText("fidelity", `${name}.${ext}`).split(nativePrefix).join(GUEST_STDLIB);
}

describe("fidelity: CPython's own doctests and documentation examples print as natively", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ workers: 1 });
  });
  after(() => sb.close());

  it("has a dozen or more programs", () => {
    assert.ok(programs.length >= 12, `only ${programs.length} programs`);
  });

  for (const file of programs) {
    const name = file.slice(0, -3);
    it(name, async () => {
      const code = readFixtureText("fidelity", file).replace(/\n+$/, "");
      const r = await sb.run(code, { fuel: Infinity, timeoutMs: 240_000, maxOutputBytes: 4 * 1024 * 1024 });
      assert.equal(r.stdout, expected(name, "stdout"), "stdout");
      assert.equal(r.stderr, expected(name, "stderr"), "stderr");
      assert.equal(r.exitCode, Number(expected(name, "exit").trim()), "exit status");
    });
  }
});

describe("asyncio in the sandbox", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ workers: 1 });
  });
  after(() => sb.close());

  const sleepFor = (seconds: number) =>
    `import asyncio, time\nt = time.monotonic()\nasyncio.run(asyncio.sleep(${seconds}))\nprint(time.monotonic() - t >= ${seconds})`;

  it("waiting is wall time, not fuel", async () => {
    const short = await sb.run(sleepFor(0.001), { fuel: Infinity, timeoutMs: 60_000 });
    const long = await sb.run(sleepFor(0.5), { fuel: Infinity, timeoutMs: 60_000 });
    assert.equal(short.stdout, "True\n", short.stderr);
    assert.equal(long.stdout, "True\n", long.stderr);
    // The event loop sleeps in poll_oneoff: half a second more of waiting costs (almost) no fuel.
    assert.ok(long.fuelUsed < short.fuelUsed * 1.05, `${long.fuelUsed} fuel against ${short.fuelUsed}`);
  });

  it("the time limit still ends an endless wait", async () => {
    for (
      const code of [
        "import asyncio\nasyncio.run(asyncio.Event().wait())",
        "import asyncio\nasyncio.run(asyncio.sleep(3600))",
      ]
    ) {
      const r = await sb.run(code, { fuel: Infinity, timeoutMs: 1500 });
      assert.equal(r.outcome, "timeout", `${code}: ${r.outcome} ${r.stderr}`);
    }
  });

  it("sockets and subprocesses stay unavailable, with an OSError", async () => {
    const r = await sb.run(
      `import asyncio
async def main():
    for what, start in (("connect", lambda: asyncio.open_connection("127.0.0.1", 9)),
                        ("subprocess", lambda: asyncio.create_subprocess_exec("ls"))):
        try:
            await start()
            print(what, "worked")
        except (OSError, NotImplementedError) as e:
            print(what, type(e).__name__)
asyncio.run(main())`,
      { fuel: Infinity, timeoutMs: 60_000 },
    );
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^connect \w*(Error|NotImplementedError)\nsubprocess \w*(Error|NotImplementedError)\n$/);
    assert.doesNotMatch(r.stdout, /worked/);
  });
});
