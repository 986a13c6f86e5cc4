// `wasi-py CODE` through a running service (issue 22): which commands go there, what is sent,
// that the client's import graph holds no interpreter code, and end to end against a service
// started by the test: output formats, exit codes, streaming, an unreachable service, Ctrl-C.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { remoteBody, remoteResult, remoteTarget } from "../../src/cli/remote.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";
import { CLI_FUEL_DEFAULT } from "../../src/options/limits.ts";
import { result } from "../helpers/run-result.ts";
import { plainRun } from "../../src/cli/plain-args.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { startServe } from "../helpers/serve-process.ts";
import type { ServedProcess } from "../helpers/serve-process.ts";

describe("remoteTarget and remoteBody", () => {
  const env = (v?: string) => (k: string) => (k === "WASI_PY_SERVER" ? v : undefined);
  const cases: [string[], string | undefined, { url: string; argv: string[] } | undefined][] = [
    [["1+1"], undefined, undefined],
    [["1+1"], "http://s:1", { url: "http://s:1", argv: ["1+1"] }],
    [["--server", "http://a:2", "-fraw", "1"], undefined, { url: "http://a:2", argv: ["-fraw", "1"] }],
    [["--server=http://a:2", "1"], "http://s:1", { url: "http://a:2", argv: ["1"] }],
    [["1", "--server", "x"], undefined, undefined], // after the code: the program's argument
    [["--serve"], "http://s:1", undefined],
    [["--batch"], "http://s:1", undefined],
    [["--help"], "http://s:1", undefined],
    [["1"], "", undefined],
  ];
  for (const [argv, server, expected] of cases) {
    it(`${JSON.stringify(argv)} with WASI_PY_SERVER=${server}`, () =>
      assert.deepEqual(remoteTarget(argv, env(server)), expected));
  }
  it("sends only the limits the user changed", () => {
    const o = { ...plainRun(["1"])!, timeoutMs: 500, args: ["a"] };
    assert.deepEqual(remoteBody(o, "1", "in"), { code: "1", stdin: "in", args: ["a"], timeoutMs: 500 });
    assert.equal(remoteBody({ ...o, fuel: Infinity }, "1", "").fuel, "unlimited");
  });
  it("reads the service's limits back (null fuel is unlimited); without them, the options'", () => {
    const o = { ...plainRun(["1"])!, timeoutMs: 500 };
    const { limits: _, ...sent } = result();
    const served = { ...sent, limits: { ...DEFAULT_LIMITS, fuel: null, memoryMiB: 64 } };
    assert.deepEqual(remoteResult(served, o).limits, { ...DEFAULT_LIMITS, fuel: Infinity, memoryMiB: 64 });
    assert.deepEqual(remoteResult(sent, o).limits, { ...DEFAULT_LIMITS, fuel: CLI_FUEL_DEFAULT, timeoutMs: 500 });
  });
  it("loads no interpreter code: nothing of src/sandbox beyond types (the limits' numbers are src/limits)", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^import (?!type)[^;]*?from "(\.[^"]+)"|import\("(\.[^"]+)"\)/gm)) {
        visit(resolve(dirname(file), m[1] ?? m[2]!));
      }
    };
    visit(join(repoRoot(), "src", "cli", "remote.ts"));
    const sandbox = [...seen].filter((f) => f.includes(`${join("src", "sandbox")}`)).map((f) => f.split(/[\\/]/).pop());
    assert.deepEqual(sandbox, []);
    assert.ok([...seen].some((f) => f.endsWith(join("src", "limits", "mod.ts"))), "the walk follows imports");
    assert.ok(![...seen].some((f) => /src[\\/](wasi|wasm|serve)[\\/]/.test(f)), [...seen].join("\n"));
  });
});

describe("wasi-py through a service", () => {
  let s: ServedProcess;
  before(async () => {
    s = await startServe(["--workers=1"]);
  });
  after(async () => {
    await s.stop();
  });
  const run = (args: string[], input = "") => {
    const [cmd, argv] = cliCommand(args);
    return spawnSync(cmd, argv, {
      encoding: "utf8",
      input,
      timeout: 60_000,
      env: { ...process.env, WASI_PY_SERVER: s.url },
    });
  };

  it("the formats and exit codes of a local run", () => {
    assert.deepEqual([run(["6*7"]).stdout, run(["6*7"]).status], ["42\n", 0]);
    const raw = run(["-fraw", "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)"]);
    assert.deepEqual([raw.stdout, raw.stderr, raw.status], ["out\n", "err\n", 3]);
    const json = run(["-fjson", "int(input()) * 2"], "5\n");
    assert.equal(JSON.parse(json.stdout).stdout, "10\n");
    assert.deepEqual(JSON.parse(json.stdout).limits, DEFAULT_LIMITS, "the limits the service ran it under");
    const fuel = run(["--fuel", "1e6", "while True: pass"]);
    assert.deepEqual([fuel.stdout, fuel.status], ["Out of fuel after 1,000,000 units\n", 123]);
    const args = run(["-fraw", "-c", "import sys; print(sys.argv[1:])", "a", "b c"]);
    assert.equal(args.stdout, "['a', 'b c']\n");
  });

  it("a limit above the service's is a usage error; an unreachable service says so", () => {
    const big = run(["--timeout", "86400", "1"]);
    assert.equal(big.status, 2);
    assert.match(big.stderr, /the service said 400: timeoutMs must be at most/);
    const [cmd, argv] = cliCommand(["--server", "http://127.0.0.1:1", "1"]);
    const none = spawnSync(cmd, argv, { encoding: "utf8", timeout: 60_000 });
    assert.equal(none.status, 120);
    assert.match(none.stderr, /cannot reach the service at http:\/\/127\.0\.0\.1:1/);
  });

  it("raw output streams as written, and Ctrl-C aborts the run: exit 130", async () => {
    const [cmd, argv] = cliCommand(["-fraw", "import time\nprint('a', flush=True)\nwhile True: time.sleep(0.05)"]);
    const child = spawn(cmd, argv, {
      env: { ...process.env, WASI_PY_SERVER: s.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    const code = new Promise<number | null>((res) => child.once("exit", (c) => res(c)));
    await new Promise<void>((res) => {
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("a\n")) res();
      });
    });
    child.kill("SIGINT");
    const status = await code;
    assert.equal(out, "a\n");
    assert.match(err, /interrupted \(Ctrl-C\)/);
    assert.ok(status === 130 || (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" && status === null));
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /wasi_py_runs_total\{outcome="aborted"\} 1/);
  });

  for (const [format, want] of [["irc", /^Interrupted\n$/], ["json", /^\{.*"outcome":"aborted".*\}\n$/]] as const) {
    it(`-f ${format}: Ctrl-C during the run prints the one result a run aborted at once gives, exit 130`, async () => {
      const [cmd, argv] = cliCommand([`-f${format}`, "import time\nwhile True: time.sleep(0.05)"]);
      const child = spawn(cmd, argv, {
        env: { ...process.env, WASI_PY_SERVER: s.url },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
      const code = new Promise<number | null>((res) => child.once("close", (c) => res(c)));
      // Interrupt once the service runs it (no output streams in these formats).
      while (!/wasi_py_running_runs 1\b/.test(await (await fetch(`${s.url}/metrics`)).text())) {
        await new Promise((res) => setTimeout(res, 50));
      }
      process.kill(child.pid!, "SIGINT");
      const status = await code;
      assert.match(out, want, err);
      assert.equal(err, "");
      if (format === "json") {
        const r = JSON.parse(out);
        assert.deepEqual([r.exitCode, r.fuelUsed, r.fuelUsedIsLowerBound], [130, 0, true]);
      }
      assert.ok(status === 130 || (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" && status === null));
    });
  }
});
