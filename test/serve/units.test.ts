// The service's pure parts as tables (issue 22): settings, semver selectors, python's arguments,
// encodings, tokens, the rate limiter, the metrics text and the Piston/snekbox result mapping.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isLoopback, parseListen, resolveServeConfig, ServeConfigError } from "../../src/serve/config.ts";
import { pistonRequest, pistonRun, versionMatches } from "../../src/serve/piston.ts";
import { pythonArgs, snekboxResponse } from "../../src/serve/snekbox.ts";
import { fromBase64, fromHex, toBase64 } from "../../src/serve/encoding.ts";
import { clientKey, matchToken } from "../../src/serve/auth.ts";
import { RateLimiter } from "../../src/serve/rate-limit.ts";
import { Metrics } from "../../src/serve/metrics.ts";
import { HttpError } from "../../src/serve/errors.ts";
import { nativeRequest } from "../../src/serve/native.ts";
import type { ServedResult } from "../../src/serve/runner.ts";
import { FUEL_PER_CPU_MS } from "../../src/options/serve.ts";
import { result as finished } from "../helpers/run-result.ts";

const config = (argv: string[] = [], env: Record<string, string> = {}, files: Record<string, string> = {}) =>
  resolveServeConfig({
    argv: ["--serve", ...argv],
    env: (k) => env[k],
    readText: (p) => {
      if (!(p in files)) throw new Error("ENOENT");
      return files[p]!;
    },
  });

/** A finished run of 0 fuel units (test/helpers/run-result.ts's) with `over` applied. */
const result = (over: Partial<ServedResult> = {}): ServedResult => finished({ fuelUsed: 0, ...over });

describe("serve config", () => {
  const packageCases: Array<[string, string[], Record<string, string>, Record<string, string>, string[]]> = [
    ["none", [], {}, {}, []],
    ["repeatable flag, in order", ["--packages", "/a.whl", "--packages=/b"], {}, {}, ["/a.whl", "/b"]],
    ["the config file's list", ["--config", "s.json"], {}, { "s.json": '{"packages": ["/c.tar.br"]}' }, ["/c.tar.br"]],
    ["flags win over the file", ["--config", "s.json", "--packages", "/a"], {}, { "s.json": '{"packages": ["/c"]}' }, [
      "/a",
    ]],
    ["then WASI_PY_PACKAGES, split like PATH", ["--packages", "/a"], { WASI_PY_PACKAGES: "/x::/y" }, {}, [
      "/a",
      "/x",
      "/y",
    ]],
  ];
  for (const [name, argv, env, files, want] of packageCases) {
    it(`packages: ${name}`, () => assert.deepEqual(config(argv, env, files).packages, want));
  }
  it("packages: a bad config value or a flag without a path is one line", () => {
    assert.throws(() => config(["--config", "s.json"], {}, { "s.json": '{"packages": "/a"}' }), (e: unknown) => {
      assert.ok(e instanceof ServeConfigError);
      assert.match(e.message, /^s\.json: packages must be a list of paths/);
      return true;
    });
    assert.throws(() => config(["--packages"]), /--packages needs a path/);
  });

  it("defaults, flags over the config file, tokens from a file", () => {
    const c = config();
    assert.deepEqual([c.hostname, c.port, c.maxQueue, c.tokens, c.corsOrigin], ["127.0.0.1", 8060, 64, [], undefined]);
    const f = config(["--config", "s.json", "--max-queue=3", "--token-file", "t"], {}, {
      "s.json": '{"maxQueue": 9, "queueTimeoutSeconds": 2.5, "listen": "0.0.0.0:9000", "fuel": "1e6"}',
      "t": "aaaaaaaaaaaaaaaa\n\nbbbbbbbbbbbbbbbb\n",
    });
    assert.deepEqual([f.maxQueue, f.queueTimeoutMs, f.hostname, f.port, f.limits.fuel], [
      3,
      2500,
      "0.0.0.0",
      9000,
      1e6,
    ]);
    assert.deepEqual(f.tokens, ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
  });
  const bad: [string, string[], Record<string, string>, Record<string, string>, RegExp][] = [
    ["unknown flag", ["--nope", "1"], {}, {}, /unknown option --nope/],
    ["value missing", ["--max-queue"], {}, {}, /needs a value/],
    ["out of range", ["--max-queue", "-1"], {}, {}, /--max-queue wants/],
    ["positional", ["x"], {}, {}, /unexpected argument/],
    ["unknown config key", ["--config", "c"], {}, { c: '{"x": 1}' }, /^c: unknown setting "x"$/],
    ["config not JSON", ["--config", "c"], {}, { c: "{" }, /c: not JSON/],
    ["missing config", ["--config", "nope"], {}, {}, /nope: cannot be read/],
    ["token with a space", [], { WASI_PY_TOKEN: "aaaaaaaa aaaaaaaa" }, {}, /without spaces/],
    ["beyond loopback", ["--listen", "[::]:80"], {}, {}, /needs a token/],
    // The service runs the bundled interpreter, which starts with 20 MiB: less could never run.
    ["memory below the interpreter", ["--memory", "19"], {}, {}, /^--memory wants MiB from 20 to 4096, got "19"$/],
    ["config memory below", ["--config", "c"], {}, { c: '{"memoryMiB": 1}' }, /memoryMiB wants MiB from 20 to 4096/],
  ];
  for (const [name, argv, env, files, message] of bad) {
    it(`refuses: ${name}`, () => {
      assert.throws(
        () => config(argv, env, files),
        (e: Error) => e instanceof ServeConfigError && message.test(e.message),
      );
    });
  }
  it("parseListen and isLoopback", () => {
    assert.deepEqual(parseListen("[::1]:0"), { hostname: "::1", port: 0 });
    assert.throws(() => parseListen("host:99999"), ServeConfigError);
    assert.deepEqual(["127.0.0.1", "127.1.2.3", "::1", "localhost", "0.0.0.0", "::", "10.0.0.1"].map(isLoopback), [
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe("Piston mapping", () => {
  const cases: [string, boolean][] = [
    ["*", true],
    ["3", true],
    ["3.x", true],
    ["3.13", true],
    ["3.13.*", true],
    ["3.13.15", true],
    ["^3.10", true],
    [">=3.14", false],
    ["~3.12", false],
    ["3.12", false],
    ["2", false],
    ["banana", false],
  ];
  for (const [selector, ok] of cases) {
    it(`version ${selector}`, () => assert.equal(versionMatches(selector, "3.13.15"), ok));
  }

  it("run_cpu_time becomes fuel at the documented rate, clamped to the service's", () => {
    const c = config();
    const r = pistonRequest(
      { language: "python", version: "*", files: [{ content: "1" }], run_cpu_time: 10 },
      c,
      "3.13.15",
    );
    assert.equal(r.options.fuel, 10 * FUEL_PER_CPU_MS);
    const big = pistonRequest(
      { language: "py", version: "*", files: [{ content: "1" }], run_cpu_time: 1e9 },
      c,
      "3.13.15",
    );
    assert.equal(big.options.fuel, c.limits.fuel);
    const mem = pistonRequest(
      { language: "py", version: "*", files: [{ content: "1" }], run_memory_limit: 3e7 },
      c,
      "3",
    );
    assert.equal(mem.options.memoryMiB, 29);
  });

  const runs: [string, Partial<ServedResult>, [string | null, number | null, string | null]][] = [
    ["ok", {}, [null, 0, null]],
    ["error", { outcome: "error", exitCode: 1 }, ["RE", 1, null]],
    ["memory", { outcome: "memory_exhausted", exitCode: 1 }, ["RE", 1, null]],
    ["timeout", { outcome: "timeout", exitCode: -1 }, ["TO", null, "SIGKILL"]],
    ["fuel", { outcome: "fuel_exhausted", exitCode: -1 }, ["TO", null, "SIGKILL"]],
    ["stdout cut", { outcome: "output_truncated", truncated: { stdout: true, stderr: false } }, ["OL", 0, null]],
    ["stderr cut", { outcome: "output_truncated", truncated: { stdout: false, stderr: true } }, ["EL", 0, null]],
    ["crash", { outcome: "crashed", exitCode: -1 }, ["XX", null, null]],
  ];
  for (const [name, over, [status, code, signal]] of runs) {
    it(`status for ${name}`, () => {
      const run = pistonRun(result(over));
      assert.deepEqual([run.status, run.code, run.signal], [status, code, signal]);
      assert.equal(run.message === null, status === null);
    });
  }
});

describe("snekbox mapping", () => {
  const files = [{ path: "main.py", content: new TextEncoder().encode("print(1)") }];
  const ok: [string[], string, string[]][] = [
    [["-c", "x", "a"], "x", ["a"]],
    [["main.py", "a"], "print(1)", ["a"]],
    [["./main.py"], "print(1)", []],
  ];
  for (const [args, code, programArgs] of ok) {
    it(`args ${JSON.stringify(args)}`, () => assert.deepEqual(pythonArgs(args, files), { code, programArgs }));
  }
  it("-m runs the module by runpy", () =>
    assert.match(pythonArgs(["-m", "timeit", "1"], []).code, /run_module\("timeit"/));
  for (const args of [[], ["-c"], ["-u", "x"], ["nope.py"], ["-m", "a;b"]]) {
    it(`refuses ${JSON.stringify(args)}`, () => assert.throws(() => pythonArgs(args, files), HttpError));
  }
  it("returncode: 137 for limits, 255 for a crash, the exit status otherwise", () => {
    const rc = (o: Partial<ServedResult>) => snekboxResponse(result(o)).returncode;
    assert.deepEqual(
      [rc({}), rc({ outcome: "error", exitCode: 3 }), rc({ outcome: "timeout" }), rc({ outcome: "memory_exhausted" })],
      [0, 3, 137, 137],
    );
    assert.equal(rc({ outcome: "crashed" }), 255);
  });
});

describe("encodings, tokens, rate limit, metrics, native requests", () => {
  it("base64 and hex, strictly", () => {
    const bytes = new Uint8Array([0, 1, 254, 255, 104, 105]);
    assert.deepEqual(fromBase64(toBase64(bytes), "x"), bytes);
    assert.deepEqual(fromHex("00ff", "x"), new Uint8Array([0, 255]));
    for (const bad of ["@@@@", "abc=d", "a"]) assert.throws(() => fromBase64(bad, "x"), HttpError);
    for (const bad of ["0", "zz", "0g"]) assert.throws(() => fromHex(bad, "x"), HttpError);
  });
  it("tokens", () => {
    const tokens = ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"];
    assert.equal(matchToken("Bearer bbbbbbbbbbbbbbbb", tokens), 1);
    assert.equal(matchToken("bearer aaaaaaaaaaaaaaaa ", tokens), 0);
    for (
      const h of [
        undefined,
        "",
        "Bearer",
        "Basic aaaaaaaaaaaaaaaa",
        "Bearer aaaaaaaaaaaaaaa",
        "Bearer aaaaaaaaaaaaaaaaa",
      ]
    ) {
      assert.equal(matchToken(h, tokens), -1, String(h));
    }
    assert.deepEqual([clientKey(0, "::1"), clientKey(-1, "::1")], ["token#1", "addr:::1"]);
  });
  it("rate limiter: burst, refill, separate clients, bounded map", () => {
    const rl = new RateLimiter(60, 2, 4);
    assert.deepEqual([rl.take("a", 0), rl.take("a", 0), rl.take("a", 0)], [0, 0, 1000]);
    assert.equal(rl.take("b", 0), 0);
    assert.equal(rl.take("a", 1000), 0);
    for (let i = 0; i < 100; i++) rl.take(`c${i}`, 0);
    assert.equal(new RateLimiter(0, 0).take("a", 0), 0);
  });
  it("metrics text", () => {
    const m = new Metrics();
    m.run("ok", 3, 600_000);
    m.reject("queue_full");
    m.request("/v1/run", 200);
    const text = m.render({ running: 1, queued: 2, workers: 4 });
    for (
      const line of [
        'wasi_py_runs_total{outcome="ok"} 1',
        'wasi_py_rejected_requests_total{reason="queue_full"} 1',
        'wasi_py_http_requests_total{route="/v1/run",status="200"} 1',
        "wasi_py_queue_depth 2",
        'wasi_py_run_duration_seconds_bucket{le="0.005"} 1',
        'wasi_py_run_fuel_bucket{le="1000000"} 1',
        "# TYPE wasi_py_run_fuel histogram",
      ]
    ) assert.ok(text.includes(line + "\n"), line);
  });
  it("native requests: limits within the service's, unknown fields refused", () => {
    const c = config();
    assert.equal(
      nativeRequest({ code: "1", fuel: "unlimited" }, config(["--fuel", "unlimited"])).options.fuel,
      Infinity,
    );
    assert.throws(() => nativeRequest({ code: "1", fuel: "unlimited" }, c), /fuel must be at most/);
    assert.throws(() => nativeRequest({ code: 1 }, c), /code must be a string/);
    assert.throws(
      () => nativeRequest({ code: "1", files: [{ path: "a", content: "zz", encoding: "hex" }] }, c),
      HttpError,
    );
    assert.equal(nativeRequest({ code: "1", memoryMiB: 64 }, c).options.memoryMiB, 64);
  });
});
