// Two instances of `wasi-py --serve` behind Debian's HAProxy (issue 22): the service keeps no
// state between requests, so a load balancer with a health check on /healthz spreads requests
// over both and routes around one that stops. The README's recipe is this configuration.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServe } from "../helpers/serve-process.ts";
import type { ServedProcess } from "../helpers/serve-process.ts";

function haproxyBinary(): string {
  for (const p of ["/usr/sbin/haproxy", "/usr/bin/haproxy"]) if (existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" });
  if (r.status === 0) return r.stdout.trim();
  throw new Error(
    "haproxy is not installed: apt-get install -y haproxy (npm test installs it, see scripts/test-plan.mjs)",
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** The recipe's configuration for two instances (README, "Service"). */
export function haproxyConfig(port: number, backends: readonly string[]): string {
  return `global
    maxconn 1024
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend wasi_py
    bind 127.0.0.1:${port}
    default_backend wasi_py_instances
backend wasi_py_instances
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
${backends.map((b, i) => `    server py${i + 1} ${b} check`).join("\n")}
`;
}

const runs = (s: ServedProcess) => s.stdout().split("\n").filter((l) => l.includes('"path":"/v1/run"')).length;

describe("two instances behind HAProxy", () => {
  let a: ServedProcess;
  let b: ServedProcess;
  let proxy: ChildProcess;
  let url: string;
  let dir: string;
  before(async () => {
    const bin = haproxyBinary();
    [a, b] = await Promise.all([startServe(["--workers=1"]), startServe(["--workers=1"])]);
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), "wasi-py-haproxy-"));
    const cfg = join(dir, "haproxy.cfg");
    writeFileSync(cfg, haproxyConfig(port, [a.url, b.url].map((u) => new URL(u).host)));
    proxy = spawn(bin, ["-f", cfg, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i++) {
      const ok = await fetch(`${url}/healthz`).then(async (r) => {
        await r.body?.cancel();
        return r.status === 200;
      }, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("haproxy did not answer /healthz within 60 s");
  });
  after(async () => {
    proxy?.kill("SIGTERM");
    for (const s of [a, b]) if (s?.child.exitCode === null) await s.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (code: string) => {
    const res = await fetch(`${url}/v1/run`, { method: "POST", body: JSON.stringify({ code }) });
    return { status: res.status, body: await res.json() as { stdout: string } };
  };

  it("spreads runs over both instances", async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => run(`import time\ntime.sleep(0.2)\nprint(${i})`)),
    );
    assert.deepEqual(answers.map((x) => [x.status, x.body.stdout]), answers.map((_, i) => [200, `${i}\n`]));
    assert.ok(runs(a) > 0 && runs(b) > 0, `runs: ${runs(a)} and ${runs(b)}`);
  });

  it("routes around an instance that stops", async () => {
    await a.stop();
    const before = runs(b);
    for (let i = 0; i < 4; i++) {
      const x = await run(`print(${i})`);
      assert.deepEqual([x.status, x.body.stdout], [200, `${i}\n`]);
    }
    assert.equal(runs(b) - before, 4);
  });
});
