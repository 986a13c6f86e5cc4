/**
 * Stdin as the program sees it, whatever delivers it (issue 21, items 13 and 14):
 * - fuel does not depend on how stdin's chunks arrive: the same bytes as a string, as one chunk,
 *   as a file's 64 KiB chunks or as a trickle of odd-sized chunks cost exactly the same fuel;
 *   a source that pauses (a terminal, a producer waiting for the program's answer) still gets
 *   its answer;
 * - `select`/`poll` on stdin report it readable only when it holds bytes or has ended, honour
 *   their timeout on an empty open pipe, and end at the run's deadline when they have none.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

const GENEROUS = { timeoutMs: 60_000, fuel: Infinity };
const encoder = new TextEncoder();

/** 200 KB of lines of varied length. */
function input(): Uint8Array {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < 200_000; i++) {
    const line = `${i} ${"x".repeat((i * 37) % 90)}\n`;
    lines.push(line);
    size += line.length;
  }
  return encoder.encode(lines.join(""));
}

/** `bytes` in chunks of `chunkBytes`, each after a macrotask (a producer writing as it goes). */
async function* chunked(bytes: Uint8Array, chunkBytes: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += chunkBytes) {
    await new Promise((r) => setTimeout(r, 0));
    yield bytes.slice(at, at + chunkBytes);
  }
}

/** A stdin that never delivers and never ends (an open pipe nobody writes to). */
const silent: AsyncIterable<Uint8Array> = {
  [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }),
};

describe("stdin: chunking and readiness", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1 });
  });
  after(() => sb.close());

  const READERS: [string, string][] = [
    ["line loop", "import sys\nn = 0\nfor line in sys.stdin: n += len(line)\nprint(n)"],
    ["read()", "import sys\nprint(len(sys.stdin.buffer.read()))"],
    ["input() loop", "n = 0\ntry:\n    while True: n += len(input())\nexcept EOFError: print(n)"],
  ];
  for (const [name, code] of READERS) {
    it(`${name}: the same fuel whatever the chunks`, async () => {
      const bytes = input();
      const sources: [string, () => Uint8Array | AsyncIterable<Uint8Array>][] = [
        ["bytes", () => bytes],
        ["one chunk", () => chunked(bytes, bytes.length)],
        ["64 KiB chunks", () => chunked(bytes, 65536)],
        ["1,000-byte chunks", () => chunked(bytes, 1000)],
        ["4,099-byte chunks", () => chunked(bytes, 4099)],
      ];
      const rows: string[] = [];
      for (const [label, stdin] of sources) {
        const r = await sb.run(code, { ...GENEROUS, stdin: stdin() });
        assert.equal(r.outcome, "ok", `${label}: ${r.stderr}`);
        rows.push(`${r.stdout.trim()} ${r.fuelUsed}`);
      }
      assert.deepEqual(rows, new Array(rows.length).fill(rows[0]), sources.map((s) => s[0]).join(", "));
    });
  }

  it("a source that pauses still gets its answer (a read returns what arrived)", async () => {
    let answered!: () => void;
    const seen = new Promise<void>((r) => (answered = r));
    async function* dialogue() {
      yield encoder.encode("ping\n");
      await seen; // the producer waits for the program's answer before writing more
      yield encoder.encode("bye\n");
    }
    const r = await sb.run("print(input(), flush=True)\nprint(input())", {
      ...GENEROUS,
      stdin: dialogue(),
      onOutput: () => answered(),
    });
    assert.deepEqual([r.outcome, r.stdout], ["ok", "ping\nbye\n"]);
  });

  const SELECT =
    "import select, sys, time\nt = time.monotonic()\nr, _, _ = select.select([sys.stdin], [], [], TIMEOUT)\n" +
    "print(len(r), round(time.monotonic() - t, 1))";

  it("select on an empty open pipe waits for its timeout and reports nothing", async () => {
    const r = await sb.run(SELECT.replace("TIMEOUT", "0.5"), { ...GENEROUS, stdin: silent });
    assert.equal(r.outcome, "ok", r.stderr);
    const [ready, waited] = r.stdout.trim().split(" ");
    assert.equal(ready, "0");
    assert.ok(Number(waited) >= 0.4, `waited ${waited} s`);
  });

  it("select reports stdin readable when bytes arrive, and at its end", async () => {
    async function* late() {
      await new Promise((r) => setTimeout(r, 200));
      yield encoder.encode("hi\n");
    }
    const arrived = await sb.run(SELECT.replace("TIMEOUT", "30") + "\nprint(input())", { ...GENEROUS, stdin: late() });
    assert.equal(arrived.stdout.split(/\s/)[0], "1", arrived.stderr);
    assert.match(arrived.stdout, /\nhi\n$/);
    async function* empty() {}
    const ended = await sb.run(SELECT.replace("TIMEOUT", "30"), { ...GENEROUS, stdin: empty() });
    assert.equal(ended.stdout.split(" ")[0], "1", "at its end stdin is readable (a read returns 0 at once)");
    for (const stdin of ["data", ""]) {
      const bytes = await sb.run(SELECT.replace("TIMEOUT", "30"), { ...GENEROUS, stdin });
      assert.equal(bytes.stdout.split(" ")[0], "1", `bytes stdin ${JSON.stringify(stdin)}`);
    }
  });

  it("select without a timeout on an empty open pipe ends at the run's deadline, with exact fuel", async () => {
    const r = await sb.run("import select, sys\nselect.select([sys.stdin], [], [])\nprint('woke')", {
      fuel: Infinity,
      timeoutMs: 1000,
      stdin: silent,
    });
    assert.deepEqual([r.outcome, r.stdout], ["timeout", ""]);
    assert.equal(r.fuelUsedIsLowerBound, false, "the worker ended it in the host call");
  });
});
