/**
 * The HTTP service under load (issue 22): autocannon against `POST /v1/run` and
 * `POST /api/v2/execute` with print(1) (32 connections; requests/s, p50/p99 latency, non-2xx
 * answers other than 429, which must be 0, and the server's peak RSS), the server's peak RSS under
 * a 10,000-request flood against a full queue, and a cold `wasi-py 'print(1)'` through a running
 * service against native `python3 -c 'print(1)'` (medians of interleaved runs). The server is a
 * child process (`node build/cli.js --serve`), so its RSS is its own.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import process from "node:process";
import autocannon from "autocannon";
import { round } from "./stats.ts";

/** One autocannon run. */
export interface LoadRow {
  route: string;
  seconds: number;
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers by status. */
  statuses: Record<string, number>;
  /** Non-2xx answers other than 429 (must be 0). */
  unexpected: number;
  /** Errors and timeouts at the client (must be 0). */
  errors: number;
  serverPeakRssMiB: number;
}

/** The whole section. */
export interface ServeBench {
  workers: number;
  load: LoadRow[];
  flood: {
    requests: number;
    maxQueue: number;
    statuses: Record<string, number>;
    serverPeakRssMiB: number;
    idleRssMiB: number;
  };
  cold: { reps: number; viaServiceMs: number; pythonMs: number; ratio: number };
}

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(root: string, args: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    [join(root, "build", "cli.js"), "--serve", "--listen", "127.0.0.1:0", ...args],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      const m = /serving on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A process's resident set, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? round(Number(m[1]) / 1024, 1) : NaN;
  } catch {
    return NaN;
  }
}

/** Samples `pid`'s RSS every 200 ms while `f` runs; returns f's value and the peak. */
async function withPeakRss<T>(pid: number, f: () => Promise<T>): Promise<[T, number]> {
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 200);
  try {
    return [await f(), peak];
  } finally {
    clearInterval(timer);
  }
}

interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}

function cannon(options: Record<string, unknown>): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(options, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r as CannonResult)));
  });
}

const statusesOf = (r: CannonResult) =>
  Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));

async function load(server: Server, route: string, body: unknown, seconds: number): Promise<LoadRow> {
  const connections = 32;
  const [r, peak] = await withPeakRss(server.child.pid!, () =>
    cannon({
      url: `${server.url}${route}`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      connections,
      duration: seconds,
      timeout: 60,
    }));
  const statuses = statusesOf(r);
  const unexpected = Object.entries(statuses).filter(([k]) => !k.startsWith("2") && k !== "429")
    .reduce((n, [, c]) => n + c, 0);
  return {
    route,
    seconds,
    connections,
    requestsPerSec: round(r.requests.average, 1),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    statuses,
    unexpected,
    errors: r.errors + r.timeouts,
    serverPeakRssMiB: peak,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Cold `wasi-py 'print(1)'` through the service against `python -c`, interleaved. */
function cold(root: string, url: string, python: string, reps: number): ServeBench["cold"] {
  const via: number[] = [];
  const native: number[] = [];
  const env = { ...process.env, WASI_PY_SERVER: url };
  for (let i = 0; i < reps; i++) {
    let t = performance.now();
    const w = spawnSync(process.execPath, [join(root, "build", "cli.js"), "print(1)"], { env, encoding: "utf8" });
    via.push(performance.now() - t);
    if (w.stdout !== "1\n") throw new Error(`through the service: ${w.stdout} ${w.stderr}`);
    t = performance.now();
    spawnSync(python, ["-c", "print(1)"]);
    native.push(performance.now() - t);
  }
  const viaServiceMs = round(median(via), 1);
  const pythonMs = round(median(native), 1);
  return { reps, viaServiceMs, pythonMs, ratio: round(viaServiceMs / pythonMs, 2) };
}

/**
 * The section: `seconds` per autocannon run (20 in a full run), `reps` cold runs.
 *
 * @example
 * const s = await runServeBench(repoRoot(), "/usr/bin/python3", 20, 15, console.error);
 */
export async function runServeBench(
  root: string,
  python: string,
  seconds: number,
  reps: number,
  log: (s: string) => void,
): Promise<ServeBench> {
  const workers = availableParallelism();
  const server = await startServer(root, [`--workers=${workers}`, "--max-queue=256", "--rate=0"]);
  let result: Omit<ServeBench, "flood">;
  try {
    log(`serve: autocannon, 32 connections, ${seconds} s per route`);
    const native = await load(server, "/v1/run", { code: "print(1)" }, seconds);
    const piston = await load(server, "/api/v2/execute", {
      language: "python",
      version: "*",
      files: [{ content: "print(1)" }],
    }, seconds);
    log(`serve: cold wasi-py 'print(1)' through the service, ${reps} interleaved runs`);
    result = { workers, load: [native, piston], cold: cold(root, server.url, python, reps) };
  } finally {
    await server.stop();
  }
  log("serve: 10,000 requests against a full queue (1 worker, --max-queue=8)");
  const small = await startServer(root, ["--workers=1", "--max-queue=8", "--rate=0", "--queue-timeout=60"]);
  try {
    const idleRssMiB = rssMiB(small.child.pid!);
    const [r, peak] = await withPeakRss(small.child.pid!, () =>
      cannon({
        url: `${small.url}/v1/run`,
        method: "POST",
        body: JSON.stringify({ code: "import time\ntime.sleep(0.2)" }),
        connections: 100,
        amount: 10_000,
        timeout: 60,
      }));
    const flood = { requests: 10_000, maxQueue: 8, statuses: statusesOf(r), serverPeakRssMiB: peak, idleRssMiB };
    return { ...result, flood };
  } finally {
    await small.stop();
  }
}

/** The section's lines for the report. */
export function serveReport(s: ServeBench): string[] {
  const rows = s.load.map((l) =>
    `  ${l.route.padEnd(16)} ${String(l.requestsPerSec).padStart(7)} req/s  p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms  ` +
    `non-2xx other than 429: ${l.unexpected}  errors: ${l.errors}  server RSS peak ${l.serverPeakRssMiB} MiB  ` +
    `(${JSON.stringify(l.statuses)})`
  );
  return [
    `HTTP service (${s.workers} workers, 32 connections, ${s.load[0]?.seconds ?? 0} s each, print(1))`,
    ...rows,
    `  flood: ${s.flood.requests} requests, 1 worker, max-queue ${s.flood.maxQueue}: ${
      JSON.stringify(s.flood.statuses)
    }, server RSS ${s.flood.idleRssMiB} MiB idle, ${s.flood.serverPeakRssMiB} MiB peak`,
    `  cold wasi-py 'print(1)' through the service: ${s.cold.viaServiceMs} ms vs python3 -c ${s.cold.pythonMs} ms ` +
    `(${s.cold.ratio}x, median of ${s.cold.reps} interleaved)`,
  ];
}
