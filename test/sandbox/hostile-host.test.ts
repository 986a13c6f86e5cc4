/**
 * Hostile programs against the host around the sandbox (issue 11): a guest must not exhaust the
 * host's memory through /tmp, make the host work for free, forge its outcome by printing, or be
 * reported timed out because the host's main thread was busy. One table of programs, run on one
 * shared Sandbox on whichever runtime runs the test (Node and Deno both run this file); then the
 * cases that need the host's hands (a blocked main thread, a recycled worker).
 * Fuel figures are never hard-coded except the host's own charges (src/wasi/cost.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/sandbox/mod.ts";
import type { Outcome, RunOptions, RunResult } from "../../src/sandbox/mod.ts";
import { LimitError } from "../../src/limits/mod.ts";
import { fuelForBytes } from "../../src/wasi/cost.ts";
import { DEFAULT_FUEL_PER_PAGE } from "../../src/wasm/meter/mod.ts";
import { PAGE_WORK_PER_BYTE, PAGE_WORK_PER_CALL } from "../../src/wasi/file-bytes.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";
import wabtInit from "wabt";

const MiB = 1 << 20;

interface Case {
  name: string;
  code: string;
  opts?: RunOptions;
  outcome: Outcome;
  exitCode?: number;
  stdout?: string;
  /** Matched against the last non-empty line of stderr. */
  err?: RegExp;
  check?: (r: RunResult) => void;
}

const lastLine = (s: string) => s.trimEnd().split("\n").pop() ?? "";
const SMALL_FUEL = { fuel: 50_000_000 };

const CASES: Case[] = [
  // ---- item 4: outcomes cannot be forged by printing ----
  {
    name: "printing MemoryError before an endless loop is still fuel_exhausted",
    code: "import sys\nprint('MemoryError', file=sys.stderr)\nwhile 1: pass",
    opts: SMALL_FUEL,
    outcome: "fuel_exhausted",
  },
  {
    name: "printing MemoryError before sys.exit(3) is an error",
    code: "import sys\nprint('MemoryError', file=sys.stderr)\nsys.exit(3)",
    outcome: "error",
    exitCode: 3,
  },
  {
    name: "printing the snapshot's out-of-memory line then exiting 70 is an error",
    code: "import sys\nprint('wasi-py snapshot: out of memory', file=sys.stderr)\nsys.exit(70)",
    outcome: "error",
    exitCode: 70,
  },
  {
    name: "printing CPython's fatal allocation error then exiting 1 is an error",
    code: "import sys\nsys.stderr.write('Fatal Python error: _PyArgv_AsWstrList: memory allocation failed\\n')\n" +
      "sys.exit(1)",
    outcome: "error",
    exitCode: 1,
  },
  {
    name: "a forged traceback ending in MemoryError is an error",
    code: "raise SystemExit('Traceback (most recent call last):\\n  File \"<string>\", line 1\\nMemoryError')",
    outcome: "error",
    exitCode: 1,
  },
  {
    name: "memory that really reaches its limit is still memory_exhausted",
    code: "l = []\nwhile True: l.append(bytearray(10**6))",
    opts: { memoryMiB: 64 },
    outcome: "memory_exhausted",
    err: /^MemoryError$/,
  },

  // ---- item 7: exit statuses as native python3 -c gives them ----
  { name: "sys.exit(256) is status 0", code: "import sys\nsys.exit(256)", outcome: "ok", exitCode: 0 },
  { name: "sys.exit(2**31) is status 0", code: "import sys\nsys.exit(2**31)", outcome: "ok", exitCode: 0 },
  { name: "sys.exit(-1) is status 255", code: "import sys\nsys.exit(-1)", outcome: "error", exitCode: 255 },
  { name: "sys.exit(257) is status 1", code: "import sys\nsys.exit(257)", outcome: "error", exitCode: 1 },
  {
    name: "a program may itself exit 123 (the outcome still says error)",
    code: "import sys\nsys.exit(123)",
    outcome: "error",
    exitCode: 123,
  },

  // ---- item 7: a leading U+FEFF is part of a path ----
  {
    name: "a leading BOM in a file name is kept",
    code: "import os\nopen('/tmp/\\ufeffa', 'w').write('x')\nprint([n.encode() for n in os.listdir('/tmp')], " +
      "os.path.exists('/tmp/a'), open('/tmp/\\ufeffa').read())",
    outcome: "ok",
    stdout: "[b'\\xef\\xbb\\xbfa'] False x\n",
  },

  // ---- item 6: a directory cannot move inside itself through a stale descriptor ----
  {
    name: "rename into a moved directory's old place through a stale fd is EINVAL",
    code: `import os
os.makedirs('/tmp/p/c'); os.mkdir('/tmp/q')
F = os.open('/tmp/p/c', os.O_RDONLY)
os.rename('/tmp/p/c', '/tmp/q/c')
try:
    os.rename('/tmp/q', 'x', dst_dir_fd=F)
    print('moved')
except OSError as e:
    import errno
    print(errno.errorcode[e.errno])
print(sorted(os.listdir('/tmp')), os.listdir('/tmp/q'), os.listdir('/tmp/q/c'), os.listdir('/tmp/p'))`,
    outcome: "ok",
    stdout: "EINVAL\n['p', 'q'] ['c'] [] []\n",
  },

  // ---- item 1: /tmp memory is bounded by the quota, counted as bytes held ----
  {
    name: "the issue's create/truncate(8M)/truncate(0) loop: its host work runs the fuel out",
    code: `import os
i=0
while True:
    p=f"/tmp/{i}"; os.close(os.open(p, os.O_CREAT|os.O_WRONLY))
    os.truncate(p, 8<<20); os.truncate(p, 0); i+=1`,
    outcome: "fuel_exhausted",
  },
  {
    // 20 files, not the default 1,000: each 8 MiB truncate costs the host ~35 ms of page work.
    name: "the same loop with unlimited fuel ends at the file limit, holding no bytes",
    code: `import os
i=0
try:
    while True:
        p=f"/tmp/{i}"; os.close(os.open(p, os.O_CREAT|os.O_WRONLY))
        os.truncate(p, 8<<20); os.truncate(p, 0); i+=1
finally:
    print(i)`,
    opts: { fuel: Infinity, tmpMaxFiles: 20 },
    stdout: "20\n",
    outcome: "error",
    err: /^OSError: \[Errno \d+\] No space left on device/,
  },
  {
    name: "create/truncate/unlink forever: host work runs the fuel out",
    code: `import os
i=0
while True:
    p=f"/tmp/{i}"; os.close(os.open(p, os.O_CREAT|os.O_WRONLY))
    os.truncate(p, 8<<20); os.truncate(p, 0); os.unlink(p); i+=1`,
    outcome: "fuel_exhausted",
  },
  {
    name: "an unlinked file keeps its bytes counted until closed",
    code: `import os
a = os.open('/tmp/a', os.O_CREAT|os.O_RDWR); os.ftruncate(a, 6<<20); os.unlink('/tmp/a')
b = os.open('/tmp/b', os.O_CREAT|os.O_RDWR)
try:
    os.ftruncate(b, 6<<20); print('fits')
except OSError as e:
    import errno
    print(errno.errorcode[e.errno])
os.close(a); os.ftruncate(b, 6<<20); print('after close: fits')`,
    outcome: "ok",
    stdout: "ENOSPC\nafter close: fits\n",
  },

  // ---- item 2: host work costs fuel ----
  {
    name: "the issue's grow/shrink loop with fuel 5e6 and a 512 MiB quota runs out of fuel",
    code: `import os
fd = os.open('/tmp/f', os.O_CREAT|os.O_WRONLY)
while True:
    os.ftruncate(fd, 512<<20); os.ftruncate(fd, 0)`,
    opts: { fuel: 5_000_000, tmpQuotaBytes: 512 * MiB },
    outcome: "fuel_exhausted",
  },
  {
    name: "os.urandom of 64 MiB with little fuel is refused before the work",
    code: "import os\nx = os.urandom(64 << 20)\nprint('got it')",
    opts: { fuel: 20_000_000, memoryMiB: 256 },
    outcome: "fuel_exhausted",
    stdout: "",
  },
  {
    name: "listing a large directory again and again runs out of fuel",
    code: "import os\nfor i in range(900): open(f'/tmp/{i:0200}', 'w').close()\nwhile True: os.listdir('/tmp')",
    opts: { fuel: 200_000_000 },
    outcome: "fuel_exhausted",
  },
];

/** Runs `code` with the size N set from a fixed-width string, so only the host's work differs. */
const sized = (n: number, body: string) => `import os\nN = int('${String(n).padStart(9, "0")}')\n${body}`;

describe("hostile programs against the host", () => {
  let sb: Sandbox;
  const results = new Map<string, Promise<RunResult>>();

  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 2, warm: true });
    for (const c of CASES) {
      const p = sb.run(c.code, { timeoutMs: 180_000, ...c.opts });
      p.catch(() => {}); // reported by its own test
      results.set(c.name, p);
    }
  });

  after(async () => {
    await sb?.close();
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const r = await results.get(c.name)!;
      const info = `outcome ${r.outcome}, exit ${r.exitCode}, stdout ${JSON.stringify(r.stdout)}, stderr ends ${
        JSON.stringify(lastLine(r.stderr).slice(0, 200))
      }${r.detail ? `, detail ${r.detail}` : ""}`;
      assert.equal(r.outcome, c.outcome, info);
      if (c.exitCode !== undefined) assert.equal(r.exitCode, c.exitCode, info);
      if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout, info);
      if (c.err) assert.match(lastLine(r.stderr), c.err, info);
      if (r.outcome === "fuel_exhausted") assert.equal(r.fuelUsed, c.opts?.fuel ?? 1_000_000_000);
      c.check?.(r);
    });
  }

  it("host work is charged in proportion: ftruncate to 8 MiB costs its allocation", async () => {
    const body = "fd = os.open('/tmp/f', os.O_CREAT|os.O_WRONLY)\nos.ftruncate(fd, N)";
    const [none, big] = await Promise.all([sb.run(sized(0, body)), sb.run(sized(8 * MiB, body))]);
    assert.deepEqual([none.outcome, big.outcome], ["ok", "ok"]);
    const extra = big.fuelUsed - none.fuelUsed;
    // A new resizable buffer of 8 MiB: its pages, weighted by what they cost the host (file-bytes.ts).
    const charge = fuelForBytes(PAGE_WORK_PER_CALL + 8 * MiB * PAGE_WORK_PER_BYTE);
    // The guest's own work differs by a few hundred units (parsing a different number).
    assert.ok(Math.abs(extra - charge) < 2000, `extra ${extra} for a ${charge} charge`);
  });

  it("memory growth is charged per page added (issue 21, item 16); a grow refused by the limit is not", async () => {
    const [none, big] = await Promise.all([sb.run("b = None"), sb.run("b = bytearray(32 << 20)")]);
    assert.deepEqual([none.outcome, big.outcome], ["ok", "ok"]);
    const pages = (big.memoryBytes! - none.memoryBytes!) / 65536;
    assert.ok(pages >= 400, `grew ${pages} pages`);
    const extra = big.fuelUsed - none.fuelUsed;
    // The pages, then zero-filling 32 MiB (1 unit per 8 bytes) and the guest's own work (< 1 M).
    const pagesCharge = pages * DEFAULT_FUEL_PER_PAGE;
    assert.ok(
      extra >= pagesCharge && extra < pagesCharge + fuelForBytes(32 * MiB) + 1_000_000,
      `extra ${extra}, pages ${pages}`,
    );
    // 300 MiB at once is past a 64 MiB limit: refused, so MemoryError and memory_exhausted, with
    // little fuel spent (before the price was per page added, per page asked: here 300 M).
    const refused = await sb.run("b = bytearray(300 << 20)", { memoryMiB: 64, fuel: 50_000_000 });
    assert.equal(refused.outcome, "memory_exhausted");
    assert.ok(refused.fuelUsed < 10_000_000, `fuel ${refused.fuelUsed}`);
  });

  it("host charges are deterministic: the same host-heavy program spends the same fuel twice", async () => {
    const code = sized(
      3 * MiB,
      "p = '/tmp/f'\nopen(p, 'wb').write(b'x' * N)\nd = open(p, 'rb').read()\n" +
        "for i in range(50): open(f'/tmp/{i}', 'w').close()\nprint(len(d), len(os.listdir('/tmp')), len(os.urandom(N)))",
    );
    const [a, b] = await Promise.all([sb.run(code), sb.run(code)]);
    assert.equal(a.stdout, `${3 * MiB} 51 ${3 * MiB}\n`);
    assert.equal(a.fuelUsed, b.fuelUsed);
    const base = await sb.run(sized(0, "print(1)"));
    assert.ok(a.fuelUsed - base.fuelUsed > 4 * fuelForBytes(3 * MiB), "write, read and urandom are all charged");
  });
});

/** Blocks this thread (the pool's main thread) for `ms` without yielding to its event loop. */
function blockMainThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe("timeouts are measured on the run's own clock", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, warm: true });
  });
  after(async () => {
    await sb?.close();
  });

  it("a short run is ok even when the main thread is blocked past its timeout", async () => {
    const pending = sb.run("print(6*7)", { timeoutMs: 3000 });
    blockMainThread(6000);
    const r = await pending;
    assert.deepEqual([r.outcome, r.stdout], ["ok", "42\n"], r.detail ?? "");
    assert.ok(r.wallMs < 3000, `the run's own duration: ${r.wallMs} ms`);
    assert.equal((await sb.run("print(1)")).outcome, "ok");
  });

  it("a run that cannot finish still times out, however late the timer runs", async () => {
    const pending = sb.run("while True: pass", { fuel: Infinity, timeoutMs: 1000 });
    blockMainThread(2500);
    const r = await pending;
    assert.equal(r.outcome, "timeout");
    assert.ok(r.wallMs >= 1000, `ended early: ${r.wallMs} ms`);
    assert.equal((await sb.run("print(1)")).stdout, "1\n");
  });
});

describe("recycling a worker after a large run", () => {
  /** The pool's threads, read through its private state (no public API exposes them). */
  const threads = (sb: Sandbox) => (sb as unknown as { slots: { worker: unknown }[] }).slots.map((s) => s.worker);

  it("replaces the thread whose guest memory grew past recycleMemoryMiB, and only that", async () => {
    const sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, warm: true, recycleMemoryMiB: 48 });
    try {
      const first = threads(sb)[0];
      const small = await sb.run("print(1)");
      assert.ok(small.memoryBytes! < 48 * MiB, String(small.memoryBytes));
      assert.equal(threads(sb)[0], first, "a small run keeps its thread");
      const big = await sb.run("x = bytearray(64 << 20)\nprint(len(x))");
      assert.equal(big.outcome, "ok");
      assert.ok(big.memoryBytes! > 48 * MiB);
      assert.notEqual(threads(sb)[0], first, "the large run's thread was replaced");
      assert.equal(threads(sb).length, 1);
      assert.equal((await sb.run("print(2)")).stdout, "2\n");
    } finally {
      await sb.close();
    }
  });

  it("rejects a recycleMemoryMiB that is not a positive number", async () => {
    for (const bad of [0, -1, Number.NaN]) {
      await assert.rejects(Sandbox.create({ ...interpreterOptions(), workers: 1, recycleMemoryMiB: bad }), LimitError);
    }
  });
});

describe("memory exhaustion is a host fact", () => {
  async function wat(source: string): Promise<Uint8Array> {
    const wabt = await wabtInit();
    const m = wabt.parseWat("t.wat", source, { mutable_globals: true });
    const { buffer } = m.toBinary({});
    m.destroy();
    return new Uint8Array(buffer);
  }
  /** A module that asks for `pages` more pages, counts a refusal, prints a forged line and exits 1. */
  const module = (countsRefusals: boolean, pages: number) =>
    wat(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "memory" (memory 2))
      (global $fuel (export "wasi_py_fuel") (mut i64) (i64.const 0))
      (global $refused ${countsRefusals ? '(export "wasi_py_grow_refused")' : ""} (mut i32) (i32.const 0))
      (data (i32.const 16) "MemoryError\\n")
      (func (export "_start")
        (if (i32.eq (memory.grow (i32.const ${pages})) (i32.const -1))
          (then (global.set $refused (i32.add (global.get $refused) (i32.const 1)))))
        (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 12))
        (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $exit (i32.const 1))))`);
  const EMPTY_TAR = new Uint8Array(1024);

  const cases: [string, boolean, number, Outcome][] = [
    ["a refused memory.grow far below the limit, counted by the module", true, 4096, "memory_exhausted"],
    ["a granted memory.grow, counted by the module, stderr saying MemoryError", true, 1, "error"],
    ["no count exported: memory far below its limit is an error whatever stderr says", false, 4096, "error"],
  ];
  for (const [name, counts, pages, outcome] of cases) {
    it(name, async () => {
      const sb = await Sandbox.create({ wasm: await module(counts, pages), stdlib: EMPTY_TAR, driver: "", workers: 1 });
      try {
        const r = await sb.run("", { memoryMiB: 16 });
        assert.equal(r.stderr, "MemoryError\n");
        assert.deepEqual([r.outcome, r.exitCode], [outcome, 1]);
      } finally {
        await sb.close();
      }
    });
  }
});
