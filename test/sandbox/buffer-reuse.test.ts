import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

// The pool reuses a worker's output and clock buffers for its next run of the same output size
// (pool.ts, Slot.last): nothing of one run may show in the next.
describe("a worker's shared buffers, reused from run to run", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1 });
  });
  after(async () => {
    await sb.close();
  });

  it("a run after a long one sees only its own output and fuel (reused buffers are reset)", async () => {
    const long = await sb.run("print('x' * 5000); import sys; print('e' * 300, file=sys.stderr)");
    assert.equal(long.stdout, "x".repeat(5000) + "\n");
    const short = await sb.run("print(2)");
    assert.equal(short.stdout, "2\n");
    assert.equal(short.stderr, "");
    assert.deepEqual(short.truncated, { stdout: false, stderr: false });
    const again = await sb.run("print(2)");
    assert.equal(again.fuelUsed, short.fuelUsed);
  });

  it("a cut run leaves no truncation flag behind", async () => {
    const cut = await sb.run("print('z' * 1000)", { maxOutputBytes: 100 });
    assert.deepEqual(cut.truncated, { stdout: true, stderr: false });
    assert.equal(cut.stdout, "z".repeat(100));
    const next = await sb.run("print('ok')", { maxOutputBytes: 100 });
    assert.deepEqual(next.truncated, { stdout: false, stderr: false });
    assert.equal(next.stdout, "ok\n");
  });

  it("alternates output sizes, big code, stdin and lazy stdin without mixing runs up", async () => {
    const bigCode = `x = ${JSON.stringify("y".repeat(70_000))}\nprint(len(x))`;
    async function* lazy() {
      yield new TextEncoder().encode("lazy line\n");
    }
    const steps: [string, () => Promise<string>, string][] = [
      ["small", async () => (await sb.run("print(1)")).stdout, "1\n"],
      ["other output size", async () => (await sb.run("print(3)", { maxOutputBytes: 100 })).stdout, "3\n"],
      ["same size again", async () => (await sb.run("print(4)", { maxOutputBytes: 100 })).stdout, "4\n"],
      ["big code", async () => (await sb.run(bigCode, { maxOutputBytes: 100 })).stdout, "70000\n"],
      ["stdin bytes", async () => (await sb.run("print(input())", { stdin: "from stdin\n" })).stdout, "from stdin\n"],
      ["lazy stdin", async () => (await sb.run("print(input())", { stdin: lazy() })).stdout, "lazy line\n"],
      ["plain again", async () => (await sb.run("print(5)")).stdout, "5\n"],
      [
        "args",
        async () => (await sb.run("import sys; print(sys.argv[1:])", { args: ["a", "b"] })).stdout,
        "['a', 'b']\n",
      ],
      ["unlimited fuel", async () => (await sb.run("print(6)", { fuel: Infinity })).stdout, "6\n"],
    ];
    for (const [name, step, expected] of steps) assert.equal(await step(), expected, name);
  });

  it("after a timeout (the worker replaced), runs go on", async () => {
    const r = await sb.run("while True: pass", { fuel: Infinity, timeoutMs: 300 });
    assert.equal(r.outcome, "timeout");
    for (let i = 0; i < 3; i++) assert.equal((await sb.run(`print(${i})`)).stdout, `${i}\n`);
  });
});
