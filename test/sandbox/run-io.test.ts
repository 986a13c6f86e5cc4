/**
 * The sandbox API's per-run extras: onOutput (exact bytes while the program runs), lazy stdin
 * from an async iterable (read only as the program consumes it, capped at 64 MiB of what it
 * reads), program arguments, and cancellation with an AbortSignal. Progress is observed through
 * onOutput, never through wall-clock timing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitError, Sandbox } from "../../src/sandbox/mod.ts";
import { MAX_STDIN_BYTES } from "../../src/limits/mod.ts";
import { encodeArgs } from "../../src/sandbox/_program-args.ts";

const GENEROUS = { timeoutMs: 60_000, fuel: Infinity };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("run extras", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ workers: 1 });
  });
  after(() => sb.close());

  it("onOutput streams while the program waits for more input", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* input() {
      await gate; // stdin has nothing until the program's first line has been seen
      yield new TextEncoder().encode("go\n");
    }
    const seen: string[] = [];
    const r = await sb.run("print('first', flush=True)\nprint(input())", {
      ...GENEROUS,
      stdin: input(),
      onOutput: (stream, bytes) => {
        seen.push(`${stream}:${text(bytes)}`);
        if (text(bytes).includes("first")) release();
      },
    });
    assert.equal(r.stdout, "first\ngo\n");
    assert.deepEqual(seen, ["stdout:first\n", "stdout:go\n"]);
  });

  it("onOutput gets exact bytes, both streams", async () => {
    const got: Record<string, number[]> = { stdout: [], stderr: [] };
    const r = await sb.run(
      "import sys\n_ = sys.stdout.buffer.write(b'\\xff\\xfe')\n_ = sys.stderr.buffer.write(b'\\x80')",
      {
        onOutput: (s, b) => got[s]!.push(...b),
      },
    );
    assert.deepEqual(got, { stdout: [0xff, 0xfe], stderr: [0x80] });
    assert.equal(r.stdout, "\uFFFD\uFFFD", "the result's text is still decoded");
  });

  it("a program that never reads stdin never pulls from it", async () => {
    let pulled = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => {
        pulled = true;
        return { next: () => new Promise(() => {}) }; // a stdin that never delivers
      },
    };
    const r = await sb.run("print(1)", { stdin: source });
    assert.deepEqual([r.stdout, pulled], ["1\n", false]);
  });

  it("only what the program consumes is pulled from an endless source", async () => {
    let pulls = 0;
    async function* endless() {
      for (;;) {
        pulls++;
        yield new TextEncoder().encode("y\n".repeat(1000));
      }
    }
    const r = await sb.run("print(input(), input())", { stdin: endless() });
    assert.equal(r.stdout, "y y\n");
    // CPython's first read asks for 8 KiB, which a read fills (so fuel does not depend on chunking).
    assert.ok(pulls <= Math.ceil(8192 / 2000) + 1, `${pulls} pulls`);
  });

  it("reading past 64 MiB fails in the program (EFBIG); exactly 64 MiB is fine", async () => {
    async function* bytes(total: number) {
      const chunk = new Uint8Array(1 << 20).fill(0x61);
      for (let left = total; left > 0; left -= chunk.length) yield chunk.subarray(0, Math.min(left, chunk.length));
    }
    const read = "import sys\nprint(len(sys.stdin.buffer.read()))";
    const exact = await sb.run(read, { ...GENEROUS, stdin: bytes(MAX_STDIN_BYTES) });
    assert.equal(exact.stdout, `${MAX_STDIN_BYTES}\n`);
    const over = await sb.run(read, { ...GENEROUS, stdin: bytes(MAX_STDIN_BYTES + 1) });
    assert.equal(over.exitCode, 1);
    assert.match(over.stderr, /OSError: \[Errno 27\] File too large/);
  });

  it("a failing source is an I/O error in the program", async () => {
    // deno-lint-ignore require-yield
    async function* broken(): AsyncGenerator<Uint8Array> {
      throw new Error("disk gone");
    }
    const r = await sb.run("input()", { stdin: broken() });
    assert.match(r.stderr, /OSError: \[Errno 5\] Input\/output error/);
  });

  it("args become sys.argv[1:] (and orig_argv), any text", async () => {
    const args = ["a", "b c", "", "é\u{1F600}", "-x", "x\ny"];
    const r = await sb.run(
      "import sys; print(sys.argv == ['-c'] + ARGS, sys.orig_argv[3:] == ARGS)".replace(
        /ARGS/g,
        JSON.stringify(args),
      ),
      { args },
    );
    assert.equal(r.stdout, "True True\n", r.stderr);
  });

  it("without args the fuel of a run is unchanged (the snapshot's driver is used)", async () => {
    const plain = await sb.run("print(1)");
    const empty = await sb.run("print(1)", { args: [] });
    assert.equal(empty.fuelUsed, plain.fuelUsed);
  });

  it("bad args are refused: TypeError for a wrong type, LimitError for too many", async () => {
    await assert.rejects(sb.run("1", { args: [1 as unknown as string] }), TypeError);
    assert.throws(() => encodeArgs(new Array(5000).fill("a")), LimitError);
  });

  it("an abort ends a running program like Ctrl-C: outcome aborted, exit 130, output kept; the sandbox goes on", async () => {
    const ac = new AbortController();
    const r = await sb.run("print('first', flush=True)\nwhile True: pass", {
      ...GENEROUS,
      signal: ac.signal,
      onOutput: () => ac.abort(),
    });
    assert.deepEqual([r.exitCode, r.outcome, r.stdout], [130, "aborted", "first\n"]);
    assert.equal((await sb.run("print(2)")).stdout, "2\n");
  });

  it("an aborted signal refuses the run; one aborted while queued rejects", async () => {
    await assert.rejects(sb.run("1", { signal: AbortSignal.abort() }));
    const ac = new AbortController();
    const blocker = new AbortController();
    const first = sb.run("print('busy', flush=True)\nwhile True: pass", {
      ...GENEROUS,
      signal: blocker.signal,
      onOutput: () => {
        ac.abort(); // the second run is still queued behind this one
        blocker.abort();
      },
    });
    const queued = sb.run("print('never')", { signal: ac.signal });
    await assert.rejects(queued);
    assert.equal((await first).exitCode, 130);
  });
});
