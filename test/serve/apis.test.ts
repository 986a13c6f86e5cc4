// The three APIs of `wasi-py --serve` against a server started by the test (issue 22): the real
// piston-client package, fetch requests in the shape snekbox's clients send, the native API, and
// the error paths (413, 408, 429 with a full queue, 503 after the queue timeout, 404, 400), the
// metrics, and SIGTERM during runs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import piston from "piston-client";
import { startServe } from "../helpers/serve-process.ts";
import type { ServedProcess } from "../helpers/serve-process.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/mod.ts";

const b64 = (s: string) => btoa(s);
const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json: json as Record<string, unknown> };
}

describe("wasi-py --serve: the three APIs", () => {
  let s: ServedProcess;
  before(async () => {
    s = await startServe([
      "--workers=2",
      "--max-queue=1",
      "--queue-timeout=1",
      "--max-body=64k",
      "--body-timeout=1",
      "--headers-timeout=1",
      "--grace=3",
      "--timeout=20",
    ]);
  });
  after(async () => {
    if (s.child.exitCode === null) await s.stop();
  });

  it("piston-client, unchanged: runtimes and execute", async () => {
    const client = piston({ server: s.url });
    const runtimes = await client.runtimes();
    assert.deepEqual(runtimes.map((r: { language: string }) => r.language), ["python"]);
    const ok = await client.execute("python", "import sys\nprint(sys.argv[1:], input())", { stdin: "hi\n" });
    assert.equal(ok.run.stdout, "['1', '2', '3'] hi\n");
    assert.deepEqual([ok.run.code, ok.run.status, ok.run.signal], [0, null, null]);
    // piston-client picks the version from /runtimes by the language's own name, not an alias.
    const err = await client.execute("python", "raise ValueError('x')", { args: [] });
    assert.equal(err.run.status, "RE");
    assert.equal(err.run.code, 1);
    assert.match(err.run.stderr, /ValueError: x/);
    assert.equal(err.run.output, err.run.stderr);
  });

  it("piston: TO for a timeout and for run_cpu_time, 400 {message} for bad requests, file encodings", async () => {
    const exec = `${s.url}/api/v2/execute`;
    const to = await post(exec, {
      language: "python",
      version: "3",
      files: [{ content: "import time\ntime.sleep(600)" }], // cannot finish, spends no fuel: only the timer ends it
      run_timeout: 300,
    });
    assert.deepEqual([to.status, (to.json.run as Record<string, unknown>).status], [200, "TO"]);
    assert.equal((to.json.run as Record<string, unknown>).message, "Timed out after 0.3 s", "the run's own limit");
    const cpu = await post(exec, {
      language: "python",
      version: "*",
      files: [{ content: "while True: pass" }],
      run_cpu_time: 1,
    });
    const run = cpu.json.run as Record<string, unknown>;
    assert.deepEqual([run.status, run.signal, run.code], ["TO", "SIGKILL", null]);
    const unknown = await post(exec, { language: "python", version: "2.7", files: [{ content: "1" }] });
    assert.deepEqual([unknown.status, unknown.json], [400, { message: "python-2.7 runtime is unknown" }]);
    const js = await post(exec, { language: "js", version: "*", files: [{ content: "1" }] });
    assert.equal(js.status, 400);
    const files = await post(exec, {
      language: "python3",
      version: "3.13",
      files: [
        {
          name: "main.py",
          content: b64("print(open('data.bin','rb').read(), open('t.txt').read())"),
          encoding: "base64",
        },
        { name: "data.bin", content: "00ff", encoding: "hex" },
        { name: "t.txt", content: "é" },
      ],
      compile_timeout: 10000,
      compile_memory_limit: -1,
    });
    assert.equal((files.json.run as Record<string, unknown>).stdout, "b'\\x00\\xff' é\n");
    const badHex = await post(exec, { language: "py", version: "3", files: [{ content: "zz", encoding: "hex" }] });
    assert.deepEqual([badHex.status, badHex.json], [400, { message: "files[0].content is not hex" }]);
    const tooLong = await post(exec, { language: "py", version: "3", files: [{ content: "1" }], run_timeout: 10 ** 9 });
    assert.match(String(tooLong.json.message), /run_timeout must be at most/);
  });

  it("snekbox: {input}, {args, files} with files returned, -m, merged output, 400", async () => {
    // Merged in write order, as seen every 10 ms (the sandbox's output poll).
    const code =
      "import sys, time\nprint(1, flush=True)\ntime.sleep(0.1)\nprint(2, file=sys.stderr)\ntime.sleep(0.1)\nprint(3)";
    const plain = await post(`${s.url}/eval`, { input: code });
    assert.deepEqual(plain.json, { stdout: "1\n2\n3\n", returncode: 0, files: [] });
    const withFiles = await post(`${s.url}/eval`, {
      args: ["main.py", "x"],
      files: [{
        path: "main.py",
        content: b64(
          "import sys\nopen('out/r.txt','w') if False else None\nimport os\nos.mkdir('out')\nopen('out/r.txt','w').write(sys.argv[1] * 2)\nprint('ok')",
        ),
      }],
    });
    assert.equal(withFiles.json.stdout, "ok\n");
    assert.deepEqual(withFiles.json.files, [{ path: "out/r.txt", size: 2, content: b64("xx") }]);
    const dashC = await post(`${s.url}/eval`, { args: ["-c", "import sys; sys.exit(len(sys.argv))", "a"] });
    assert.equal(dashC.json.returncode, 2);
    const module = await post(`${s.url}/eval`, { args: ["-m", "this"] });
    assert.match(String(module.json.stdout), /^The Zen of Python/);
    const killed = await post(`${s.url}/eval`, { input: "x = 'a' * 10**7\nwhile True: x += x" });
    assert.equal(killed.json.returncode, 137);
    const bad = await post(`${s.url}/eval`, { files: [] });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.json), ["title", "description"]);
  });

  it("native: /v1/run with files and limits, /v1/batch streamed in order, /v1/info", async () => {
    const r = await post(`${s.url}/v1/run`, {
      code: "import sys\nprint(open('in.txt').read(), sys.argv[1:], input())\nopen('o.txt','w').write('z')",
      stdin: "s",
      args: ["a"],
      files: [{ path: "in.txt", content: "hi" }],
      returnFiles: true,
      timeoutMs: 5000,
    });
    assert.equal(r.json.stdout, "hi ['a'] s\n");
    assert.deepEqual(r.json.files, [{ path: "o.txt", size: 1, content: b64("z") }]);
    assert.equal(r.json.outcome, "ok");
    assert.deepEqual(
      r.json.limits,
      { ...DEFAULT_LIMITS, timeoutMs: 5000 },
      "the request's, the service's for the rest",
    );
    const limit = await post(`${s.url}/v1/run`, { code: "1", timeoutMs: 10 ** 8 });
    assert.deepEqual([limit.status, limit.json], [400, { error: "timeoutMs must be at most 20000 on this service" }]);
    const unknown = await post(`${s.url}/v1/run`, { code: "1", color: true });
    assert.equal(unknown.status, 400);
    const res = await fetch(`${s.url}/v1/batch`, {
      method: "POST",
      body: '{"code":"import time; time.sleep(0.3); 1"}\n{"id":"b","code":"2"}\nnot json\n',
    });
    assert.equal(res.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.id, l.stdout ?? l.status]), [[1, "1\n"], ["b", "2\n"], [3, 400]]);
    assert.deepEqual(lines[1].limits, { ...DEFAULT_LIMITS, timeoutMs: 20_000 }, "the service's --timeout");
    const info = await (await fetch(`${s.url}/v1/info`)).json() as { limits: { timeoutMs: number }; python: string };
    assert.equal(info.limits.timeoutMs, 20000);
    assert.match(info.python, /^3\.13\./);
  });

  it("413 for a body over --max-body, 404 for an unknown route", async () => {
    const big = await post(`${s.url}/v1/run`, { code: "x" + " ".repeat(70_000) });
    assert.equal(big.status, 413);
    const none = await fetch(`${s.url}/nope`);
    assert.equal(none.status, 404);
    await none.body?.cancel();
  });

  it("408 for a body that does not arrive within --body-timeout", async () => {
    const { hostname, port } = new URL(s.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), hostname, () => {
        sock.write(
          "POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        );
      });
      let got = "";
      sock.setEncoding("utf8");
      sock.on("data", (d: string) => {
        got += d;
        if (got.includes("\r\n\r\n")) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on("end", () => resolve(got));
      sock.on("close", () => resolve(got));
      sock.on("error", reject);
      setTimeout(() => sock.destroy(), 30_000);
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it("headers that do not arrive within --headers-timeout: the connection is answered 408 and closed", async (t) => {
    if (IS_DENO) {
      t.skip("Deno.serve has no header timeout (README, Service)");
      return;
    }
    const { hostname, port } = new URL(s.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), hostname, () => sock.write("POST /v1/run HTTP/1.1\r\nHost: x\r\n"));
      let got = "";
      sock.setEncoding("utf8");
      sock.on("data", (d: string) => (got += d));
      sock.on("close", () => resolve(got));
      sock.on("error", reject);
      setTimeout(() => sock.destroy(), 30_000);
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it("a full queue: 503 after --queue-timeout, 429 with Retry-After beyond --max-queue", async () => {
    // Sleeping, not spinning: a warm worker spends the default fuel in under a second.
    const busy = { code: "import time\nwhile True: time.sleep(0.01)", timeoutMs: 4000 };
    const blockers = [post(`${s.url}/v1/run`, busy), post(`${s.url}/v1/run`, busy)];
    await new Promise((r) => setTimeout(r, 500)); // both workers taken
    const queued = post(`${s.url}/v1/run`, { code: "print(1)" });
    await new Promise((r) => setTimeout(r, 100));
    const full = await post(`${s.url}/v1/run`, { code: "print(2)" });

    assert.equal(full.status, 429);
    assert.equal(full.headers.get("retry-after"), "1");
    const waited = await queued;
    assert.equal(waited.status, 503);
    assert.ok(Number(waited.headers.get("retry-after")) >= 1);
    for (const b of await Promise.all(blockers)) assert.equal(b.json.outcome, "timeout");
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /wasi_py_rejected_requests_total\{reason="queue_full"\} 1/);
    assert.match(metrics, /wasi_py_rejected_requests_total\{reason="queue_timeout"\} 1/);
    assert.ok(Number(/wasi_py_runs_total\{outcome="timeout"\} (\d+)/.exec(metrics)?.[1]) >= 2, metrics);
    assert.match(metrics, /wasi_py_run_duration_seconds_count \d+/);
    assert.match(metrics, /wasi_py_queue_depth 0/);
  });

  it("one JSON log line per request", () => {
    const lines = s.stdout().trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.length >= 20);
    assert.ok(lines.every((l) => typeof l.status === "number" && typeof l.path === "string" && l.client));
  });

  it("SIGTERM: running runs finish within the grace period, longer ones end aborted, then exit 0", async () => {
    const short = post(`${s.url}/v1/run`, { code: "import time\ntime.sleep(1)\nprint('done')" });
    const long = post(`${s.url}/v1/run`, { code: "import time\nwhile True: time.sleep(0.01)" });
    // Both runs started (not still on their way in), whatever the machine's load.
    for (let running = 0; running < 2;) {
      await new Promise((r) => setTimeout(r, 50));
      running = ((await (await fetch(`${s.url}/healthz`)).json()) as { running: number }).running;
    }
    s.child.kill("SIGTERM");
    const [a, b] = await Promise.all([short, long]);
    assert.deepEqual([a.json.outcome, a.json.stdout], ["ok", "done\n"]);
    assert.deepEqual([b.json.outcome, b.json.exitCode], ["aborted", 130]);
    const code = await s.exited;
    assert.match(s.stderr(), /SIGTERM: stopping[^]*stopped\n$/);
    // Deno's node:child_process reports a child that exits 0 after a SIGTERM it handled as
    // (null, "SIGTERM"); Node reports its real status.
    assert.ok(code === 0 || (IS_DENO && code === null), `exit code ${code}`);
  });
});
