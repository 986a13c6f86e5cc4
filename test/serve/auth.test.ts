// Who may use the service (issue 22): bearer tokens from the environment, 401 without one, the
// health check open to a load balancer, the per-client rate limit (429 + Retry-After), CORS only
// when asked for, and no start beyond loopback without a token.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startServe } from "../helpers/serve-process.ts";
import type { ServedProcess } from "../helpers/serve-process.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import process from "node:process";

const TOKENS = ["first-client-token-0001", "second-client-token-002"];

describe("wasi-py --serve: tokens, rate limit, CORS", () => {
  let s: ServedProcess;
  before(async () => {
    s = await startServe(["--workers=1", "--rate=1", "--rate-burst=2", "--cors=https://play.example"], {
      WASI_PY_TOKEN: TOKENS.join("\n"),
    });
  });
  after(async () => {
    await s.stop();
  });
  const run = (token?: string, origin?: string) =>
    fetch(`${s.url}/v1/run`, {
      method: "POST",
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(origin === undefined ? {} : { origin }),
      },
      body: JSON.stringify({ code: "print(1)" }),
    });

  it("401 without a token or with a wrong one; /healthz needs none", async () => {
    for (const token of [undefined, "wrong-token-wrong-token", TOKENS[0]!.slice(0, -1)]) {
      const res = await run(token);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="wasi-py"');
      await res.body?.cancel();
    }
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const metrics = await fetch(`${s.url}/metrics`);
    assert.equal(metrics.status, 401);
    await metrics.body?.cancel();
  });

  it("the rate limit is per token: the burst, then 429 with Retry-After, while another client goes on", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await run(TOKENS[0]);
      statuses.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    const other = await run(TOKENS[1]);
    assert.equal(other.status, 200);
    assert.equal((await other.json() as { stdout: string }).stdout, "1\n");
  });

  it("CORS headers for the allowed origin only", async () => {
    const pre = await fetch(`${s.url}/v1/run`, {
      method: "OPTIONS",
      headers: { origin: "https://play.example", "access-control-request-method": "POST" },
    });
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://play.example");
    await pre.body?.cancel();
    const res = await run(TOKENS[1], "https://evil.example");
    assert.notEqual(res.headers.get("access-control-allow-origin"), "https://evil.example");
    await res.body?.cancel();
  });
});

describe("wasi-py --serve: refusals at start", () => {
  const start = (args: string[], env: Record<string, string> = {}) => {
    const [cmd, argv] = cliCommand(["--serve", ...args]);
    return spawnSync(cmd, argv, {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, WASI_PY_TOKEN: "", ...env },
    });
  };
  it("beyond loopback without a token", () => {
    const p = start(["--listen", "0.0.0.0:0"]);
    assert.equal(p.status, 2);
    assert.match(p.stderr, /needs a token: --token-file FILE or WASI_PY_TOKEN/);
  });
  it("a token as a flag value, a short token, a bad --listen", () => {
    assert.match(start(["--token", "x"]).stderr, /unknown option --token \(give it in a file/);
    assert.match(start([], { WASI_PY_TOKEN: "short" }).stderr, /at least 16 characters/);
    assert.match(start(["--listen", "nowhere"]).stderr, /--listen wants HOST:PORT/);
  });
});
