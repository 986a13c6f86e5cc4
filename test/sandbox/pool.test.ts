import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { memoryUsage } from "node:process";
import wabtInit from "wabt";
import { LimitError, ModuleShapeError, Sandbox, SandboxClosedError } from "../../src/sandbox/mod.ts";
import type { Outcome } from "../../src/sandbox/mod.ts";
import { classify, exitStatus } from "../../src/sandbox/result.ts";
import type { Ending } from "../../src/sandbox/result.ts";
import { DEFAULT_LIMITS, resolveLimits } from "../../src/limits/mod.ts";
import { fuelCounterStart, spentFuel } from "../../src/sandbox/_fuel.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";
import { statusLine } from "../../src/format/summary.ts";
import { FUEL_PER_HOST_CALL, FUEL_PER_STREAM_WRITE } from "../../src/wasi/cost.ts";

// ---- pure parts ---------------------------------------------------------------------------------

describe("classify: host-side facts only", () => {
  const none = { stdout: false, stderr: false };
  const exit = (code: number, memoryAtMax = false): Ending => ({ kind: "exit", code, memoryAtMax });
  const trap = (fuelSpent: boolean, memoryAtMax: boolean): Ending => ({
    kind: "trap",
    message: "unreachable",
    fuelSpent,
    memoryAtMax,
  });
  const cases: [string, Ending, { stdout: boolean; stderr: boolean }, Outcome][] = [
    ["clean exit", exit(0), none, "ok"],
    ["exit 0, stdout cut", exit(0), { stdout: true, stderr: false }, "output_truncated"],
    ["exit 1", exit(1), none, "error"],
    ["exit 1 and cut: error wins", exit(1), { stdout: true, stderr: false }, "error"],
    ["exit 1 with memory at its limit", exit(1, true), none, "memory_exhausted"],
    ["exit 0 with memory at its limit is still ok", exit(0, true), none, "ok"],
    ["exit 256 is status 0 (as native python3 -c)", exit(256), none, "ok"],
    ["exit 2**31 is status 0", exit(2 ** 31), none, "ok"],
    ["exit -1 is status 255", exit(0xffffffff), none, "error"],
    ["trap with fuel spent", trap(true, false), none, "fuel_exhausted"],
    ["trap with fuel spent, memory full: fuel", trap(true, true), none, "fuel_exhausted"],
    ["trap at max memory", trap(false, true), none, "memory_exhausted"],
    ["other trap", trap(false, false), none, "crashed"],
    ["timeout", { kind: "timeout" }, none, "timeout"],
  ];
  for (const [name, ending, truncated, expected] of cases) {
    it(name, () => assert.equal(classify(ending, truncated), expected));
  }
  it("exitStatus keeps the low 8 bits", () => {
    assert.deepEqual([0, 1, 255, 256, 257, 2 ** 31, 0xffffffff].map(exitStatus), [0, 1, 255, 0, 1, 0, 255]);
  });
});

describe("limits", () => {
  it("fills defaults", () => assert.deepEqual(resolveLimits({}), { ...DEFAULT_LIMITS }));
  it("accepts Infinity fuel", () => assert.equal(resolveLimits({ fuel: Infinity }).fuel, Infinity));
  const bad: [string, object][] = [
    ["negative fuel", { fuel: -1 }],
    ["fractional fuel", { fuel: 1.5 }],
    ["zero timeout", { timeoutMs: 0 }],
    ["memory over 4 GiB", { memoryMiB: 4097 }],
    ["NaN quota", { tmpQuotaBytes: NaN }],
  ];
  for (const [name, opts] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => resolveLimits(opts), LimitError));
  }
  const spent: [string, bigint, bigint, number][] = [
    ["nothing spent", 1000n, 1000n, 0],
    ["part of the budget", 1000n, 400n, 600],
    ["counter at zero: the whole budget", 1000n, 0n, 1000],
    ["counter below zero (the trap overshoots): the whole budget, not more", 1000n, -37n, 1000],
    ["unlimited budget", fuelCounterStart(Infinity), fuelCounterStart(Infinity) - 5n, 5],
  ];
  for (const [name, start, remaining, expected] of spent) {
    it(`spentFuel: ${name}`, () => assert.equal(spentFuel(start, remaining), expected));
  }
  it("rejects a string output cap with TypeError", () => {
    assert.throws(() => resolveLimits({ maxOutputBytes: "1" } as object), TypeError);
  });
});

// ---- the pipeline with tiny hand-written modules (no CPython needed) -----------------------------

const EMPTY_TAR = new Uint8Array(1024);

async function wat(source: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const m = wabt.parseWat("t.wat", source, { mutable_globals: true, bulk_memory: true });
  const { buffer } = m.toBinary({});
  m.destroy();
  return new Uint8Array(buffer);
}

describe("sandbox with small modules", () => {
  it("refuses a broken stdlib image up front", async () => {
    const wasm = await wat(`(module (memory (export "memory") 1) (func (export "_start")))`);
    const bad = new Uint8Array(1024);
    bad[0] = 65;
    await assert.rejects(Sandbox.create({ wasm, stdlib: bad, driver: "", workers: 1 }), /checksum/);
  });

  it("refuses a module the sandbox cannot run, with ModuleShapeError", async () => {
    const cases: [string, RegExp][] = [
      [`(module (import "env" "clock" (func)) (memory (export "memory") 1) (func (export "_start")))`, /env\.clock/],
      [`(module (memory (export "memory") 1))`, /no _start/],
      [`(module (func (export "_start")))`, /neither imports env\.memory nor exports its memory/],
    ];
    for (const [text, message] of cases) {
      const wasm = await wat(text);
      const refused = Sandbox.create({ wasm, stdlib: EMPTY_TAR, driver: "", workers: 1 });
      await assert.rejects(refused, (e) => e instanceof ModuleShapeError && message.test(e.message), text);
    }
  });

  it("reports a trap as crashed, stack exhaustion too, and keeps serving", async () => {
    const wasm = await wat(`(module (memory (export "memory") 1)
      (func $f (export "_start") (call $f)))`);
    const sb = await Sandbox.create({ wasm, stdlib: EMPTY_TAR, driver: "", workers: 1 });
    try {
      // A generous time limit: the trap ends the run, not the clock (a loaded machine can take
      // seconds to start a worker, and Deno type-checks the worker module in each new worker).
      const r = await sb.run("", { timeoutMs: 120_000 });
      assert.equal(r.outcome, "crashed");
      assert.match(r.detail ?? "", /call stack|RangeError/i);
      assert.equal((await sb.run("", { timeoutMs: 120_000 })).outcome, "crashed");
    } finally {
      await sb.close();
    }
  });

  it("metered shape: imported memory capped by memoryMiB, fuel global read after the run", async () => {
    // Writes "hi\n" to stdout, grows memory by a page per call argument, spends 1000 fuel, exits 7.
    // The host charges (src/wasi/cost.ts) each of its two calls FUEL_PER_HOST_CALL, and the write
    // 1 for its iovec, 1 for its 3 bytes, FUEL_PER_STREAM_WRITE for going to stdout.
    const wasm = await wat(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 2))
      (global $fuel (export "wasi_py_fuel") (mut i64) (i64.const 0))
      (data (i32.const 16) "hi\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (global.set $fuel (i64.sub (global.get $fuel) (i64.const 1000)))
        (if (i32.eq (memory.grow (i32.const 100)) (i32.const -1))
          (then (global.set $fuel (i64.const -1)) (unreachable)))
        (call $exit (i32.const 7))))`);
    const sb = await Sandbox.create({ wasm, stdlib: EMPTY_TAR, driver: "", workers: 1 });
    try {
      assert.equal(sb.metered, true);
      const r = await sb.run("", { fuel: 50_000, memoryMiB: 16 });
      assert.deepEqual([r.outcome, r.exitCode, r.stdout, r.fuelUsed], [
        "error",
        7,
        "hi\n",
        1002 + 2 * FUEL_PER_HOST_CALL + FUEL_PER_STREAM_WRITE,
      ]);
      const small = await sb.run("", { fuel: 50_000, memoryMiB: 1 });
      assert.equal(small.outcome, "fuel_exhausted", "memory.grow refused at 1 MiB; the module then drains its fuel");
      await assert.rejects(sb.run("", { memoryMiB: 0 }), LimitError);
      await assert.rejects(sb.run("print(1)\0"), LimitError);
    } finally {
      await sb.close();
    }
    await assert.rejects(sb.run(""), SandboxClosedError);
  });
});

// ---- the real interpreter ------------------------------------------------------------------------

describe("sandbox with CPython", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 2, warm: true });
  });
  after(async () => {
    await sb.close();
  });

  const lastLine = (s: string) => s.trimEnd().split("\n").pop() ?? "";

  it("runs print(1)", async () => {
    const r = await sb.run("print(1)");
    assert.equal(r.stdout, "1\n");
    assert.equal(r.stderr, "");
    assert.deepEqual([r.outcome, r.exitCode], ["ok", 0]);
    assert.equal(sb.metered, true, "the product path is the metered interpreter");
    assert.ok(r.fuelUsed > 0);
    assert.ok(r.memoryBytes !== undefined && r.memoryBytes > 0 && r.memoryBytes <= DEFAULT_LIMITS.memoryMiB * 2 ** 20);
    assert.deepEqual(r.limits, { ...DEFAULT_LIMITS }, "no limits given: the defaults");
  });

  it("a result carries the limits it ran under: those given, defaults for the rest", async () => {
    const given = { fuel: 123_456_789, timeoutMs: 7000, memoryMiB: 99, maxOutputBytes: 4321, tmpQuotaBytes: 12_345 };
    const r = await sb.run("pass", given);
    assert.equal(r.outcome, "ok");
    assert.deepEqual(r.limits, { ...given, tmpMaxFiles: DEFAULT_LIMITS.tmpMaxFiles });
    const all = { ...given, fuel: Infinity, tmpMaxFiles: 7 };
    assert.deepEqual((await sb.run("pass", all)).limits, all);
  });

  it("spends exactly the same fuel on the same program", async () => {
    const code = "import json\nd = {str(i): i for i in range(2000)}\nprint(len(json.dumps(d)))";
    const a = await sb.run(code);
    const b = await sb.run(code);
    const c = await sb.run(code);
    assert.equal(a.stdout, b.stdout);
    assert.equal(a.fuelUsed, b.fuelUsed);
    assert.equal(b.fuelUsed, c.fuelUsed);
  });

  it("while True: pass ends as fuel_exhausted", async () => {
    // A wall clock far beyond what 1e9 fuel takes, so fuel never races it on a loaded machine.
    const r = await sb.run("while True: pass", { timeoutMs: 300_000 });
    assert.equal(r.outcome, "fuel_exhausted");
    assert.equal(r.fuelUsed, DEFAULT_LIMITS.fuel);
    assert.equal(statusLine(r), "Out of fuel after 1,000,000,000 units", "the summary names the run's budget");
  });

  it("with unlimited fuel a busy loop ends as timeout, keeping what was printed", async () => {
    const r = await sb.run("print('started', flush=True)\nwhile True: pass", { fuel: Infinity, timeoutMs: 1500 });
    assert.equal(r.outcome, "timeout");
    assert.equal(r.stdout, "started\n");
    assert.ok(r.wallMs >= 1400 && r.wallMs < 15_000, `took ${r.wallMs} ms`);
    assert.equal(r.fuelUsedIsLowerBound, true, "stopped by the pool's timer: fuel sampled at the last host call");
    assert.equal(statusLine(r), "Timed out after 1.5 s", "the summary names the limit given to run()");
  });

  it("says which fuel counts are exact: a run the worker saw end is exact, one stopped from outside a lower bound", async () => {
    const done = await sb.run("print(1)");
    assert.equal(done.fuelUsedIsLowerBound, false);
    // Ends at the deadline inside a sleep: the worker itself ends it and reads the counter.
    const slept = await sb.run("import time\ntime.sleep(60)", { fuel: Infinity, timeoutMs: 500 });
    assert.equal(slept.outcome, "timeout");
    assert.equal(slept.fuelUsedIsLowerBound, false);
    const fuel = await sb.run("while True: pass", { fuel: 3_000_000 });
    assert.deepEqual([fuel.outcome, fuel.fuelUsed, fuel.fuelUsedIsLowerBound], ["fuel_exhausted", 3_000_000, false]);
    const aborter = new AbortController();
    setTimeout(() => aborter.abort(), 300);
    const aborted = await sb.run("while True: pass", { fuel: Infinity, signal: aborter.signal });
    assert.equal(aborted.fuelUsedIsLowerBound, true);
  });

  it("time.sleep works and is cut by the deadline", async () => {
    const ok = await sb.run("import time\nt = time.monotonic()\ntime.sleep(0.1)\nprint(time.monotonic() - t >= 0.09)");
    assert.equal(ok.stdout, "True\n");
    const r = await sb.run("import time\ntime.sleep(60)", { timeoutMs: 1000 });
    assert.equal(r.outcome, "timeout");
    assert.ok(r.wallMs < 15_000, `took ${r.wallMs} ms`);
  });

  it("huge allocations end as MemoryError / memory_exhausted and the host stays healthy", async () => {
    // On wasm32 a size of 10**10 does not fit Py_ssize_t: CPython raises OverflowError first.
    const huge = await sb.run("bytearray(10**10)");
    assert.match(lastLine(huge.stderr), /^(OverflowError|MemoryError)/);
    assert.ok(huge.outcome === "error" || huge.outcome === "memory_exhausted");
    // Outcomes come from host facts, never stderr: a request the host refused (memory.grow
    // returned -1, counted by the module) is memory_exhausted; one CPython rejects by its size
    // before asking for memory never reached the limit, so it is the program's error.
    for (const [code, outcome] of [["[0]*10**9", "error"], ["bytearray(10**9)", "memory_exhausted"]] as const) {
      const r = await sb.run(code);
      assert.equal(r.outcome, outcome, code);
      assert.equal(lastLine(r.stderr), "MemoryError", code);
    }
    const gradual = await sb.run("x = []\nwhile True: x.append(bytearray(10**6))", { memoryMiB: 64 });
    assert.equal(gradual.outcome, "memory_exhausted");
    assert.ok(gradual.memoryBytes! > 60 * 2 ** 20 && gradual.memoryBytes! <= 64 * 2 ** 20, String(gradual.memoryBytes));
    const next = await sb.run("print(1)");
    assert.equal(next.outcome, "ok");
  });

  it("truncates an output flood and keeps running", async () => {
    const r = await sb.run("print('x' * 100_000)\nprint('done', file=__import__('sys').stderr)");
    assert.equal(r.outcome, "output_truncated");
    assert.equal(r.stdout.length, DEFAULT_LIMITS.maxOutputBytes);
    assert.deepEqual(r.truncated, { stdout: true, stderr: false });
    assert.equal(r.stderr, "done\n", "the program went on after its stdout was cut");
    const err = await sb.run("import sys\nfor i in range(10_000): print(i, file=sys.stderr)", { maxOutputBytes: 1000 });
    assert.equal(err.truncated.stderr, true);
    assert.equal(err.stderr.length, 1000);
  });

  it("decodes invalid UTF-8 with replacement characters", async () => {
    const r = await sb.run("import sys\nn = sys.stdout.buffer.write(b'\\xef\\xbb\\xbf\\xff\\xfe ok\\n')");
    assert.equal(r.stdout, "\ufeff\ufffd\ufffd ok\n", "invalid bytes replaced, a leading BOM kept");
  });

  it("shows nothing of the host", async () => {
    const r = await sb.run("open('/etc/passwd')");
    assert.equal(r.outcome, "error");
    assert.match(lastLine(r.stderr), /^FileNotFoundError/);
    const ls = await sb.run("import os\nprint(sorted(os.listdir('/')), os.environ.get('PATH'), os.getcwd())");
    assert.equal(ls.stdout, "['home', 'tmp', 'usr'] None /home\n");
  });

  it("refuses every write into the stdlib", async () => {
    const code = `
import os, errno
p = '/usr/local/lib/python3.13/os.py'
for f in [lambda: open(p, 'a'), lambda: open(p, 'w'), lambda: open(p, 'r+'), lambda: os.remove(p),
          lambda: os.rename(p, '/tmp/os.py'), lambda: os.mkdir('/usr/local/x'), lambda: open('/usr/x', 'w'),
          lambda: os.truncate(p, 0), lambda: os.rmdir('/usr/share/zoneinfo')]:
    try:
        f()
        print('WROTE')
    except OSError as e:
        print(errno.errorcode[e.errno])
print(open(p).read(10))`;
    const r = await sb.run(code);
    assert.equal(r.stderr, "");
    const lines = r.stdout.trimEnd().split("\n");
    assert.ok(!lines.includes("WROTE"), r.stdout);
    assert.ok(lines.slice(0, -1).every((l) => l === "EROFS" || l === "EACCES" || l === "EPERM"), r.stdout);
    assert.match(lines.at(-1)!, /\S/);
  });

  it("/tmp works within a run, is empty in the next, and has a quota", async () => {
    const first = await sb.run(
      "import os\nos.mkdir('/tmp/d')\nopen('/tmp/d/f', 'w').write('abc')\nprint(open('/tmp/d/f').read(), os.listdir('/tmp'))",
    );
    assert.equal(first.stdout, "abc ['d']\n");
    const next = await sb.run("import os\nprint(os.listdir('/tmp'))");
    assert.equal(next.stdout, "[]\n");
    const full = await sb.run("open('/tmp/big', 'wb').write(b'x' * (9 * 2**20))");
    assert.equal(full.outcome, "error");
    assert.match(lastLine(full.stderr), /No space left on device/);
  });

  it("source too deeply nested to parse is an error, not memory exhaustion", async () => {
    const r = await sb.run('eval("(" * 10000 + ")" * 10000)');
    assert.equal(r.outcome, "error");
    assert.match(lastLine(r.stderr), /^MemoryError: Parser stack overflowed/);
  });

  it("deep recursion ends cleanly", async () => {
    const r = await sb.run("def f(n): return f(n + 1)\nf(0)");
    assert.equal(r.outcome, "error");
    assert.match(lastLine(r.stderr), /^RecursionError/);
    const nested = await sb.run("x = []\nfor i in range(100_000): x = [x]\nprint(len(repr(x)))");
    assert.ok(nested.outcome === "error" || nested.outcome === "crashed", nested.outcome);
    assert.equal((await sb.run("print(2)")).stdout, "2\n");
  });

  it("gives stdin to input() and tracebacks without colour", async () => {
    const r = await sb.run(
      "print(input() + '!')\nimport sys\nprint(sys.stdout.isatty(), sys.stderr.isatty())\ninput()",
      { stdin: "hello\n" },
    );
    assert.equal(r.stdout, "hello!\nFalse False\n");
    assert.match(lastLine(r.stderr), /^EOFError/);
    assert.ok(!r.stderr.includes("\x1b"), "no ANSI escapes");
  });

  it("runs evaluations in parallel on its workers", async () => {
    const rs = await Promise.all([1, 2, 3].map((n) => sb.run(`print(${n} * 2)`)));
    assert.deepEqual(rs.map((r) => r.stdout), ["2\n", "4\n", "6\n"]);
  });

  it("20 runs in a row leak no memory", async () => {
    // Each run touches 64 MiB of guest memory. Freed instances come back only when the worker's
    // GC runs, so single samples swing (Deno by several hundred MiB); compare the lowest RSS of the
    // first five runs with the lowest of the last five: a leak would add >= 15 * 64 MiB between them.
    const code = "x = bytearray(64 * 2**20)\nprint(len(x))";
    const rss: number[] = [];
    for (let i = 0; i < 20; i++) {
      assert.equal((await sb.run(code)).outcome, "ok");
      rss.push(memoryUsage().rss / 2 ** 20);
    }
    const grown = Math.min(...rss.slice(-5)) - Math.min(...rss.slice(0, 5));
    assert.ok(grown < 400, `lowest RSS grew by ${grown.toFixed(0)} MiB: ${rss.map((x) => x.toFixed(0)).join(" ")}`);
  });
});
