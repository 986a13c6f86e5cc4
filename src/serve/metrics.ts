/**
 * What `GET /metrics` says, in the Prometheus text format (version 0.0.4): runs by outcome,
 * queue depth and running runs, run time and fuel histograms, requests by route and status, and
 * rejected requests by reason. Counters live here; the rendering is a pure function of them.
 */

/** Why a request was turned away before (or instead of) running. */
export type RejectReason =
  | "queue_full"
  | "queue_timeout"
  | "rate_limited"
  | "unauthorized"
  | "body_too_large"
  | "body_timeout"
  | "bad_request"
  | "shutting_down";

/** Upper bounds of the run-time histogram, seconds. */
const WALL_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Upper bounds of the fuel histogram, units. */
const FUEL_BUCKETS = [1e6, 1e7, 1e8, 1e9, 1e10, 1e11];

class Histogram {
  readonly counts: number[];
  sum = 0;
  total = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.bounds.forEach((b, i) => {
      if (v <= b) this.counts[i]!++;
    });
    this.sum += v;
    this.total++;
  }
  render(name: string, help: string): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.bounds.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.total}`, `${name}_sum ${this.sum}`, `${name}_count ${this.total}`);
    return lines;
  }
}

/**
 * The service's counters.
 *
 * @example
 * const m = new Metrics();
 * m.run("ok", 2.5, 600_000);
 * m.render({ running: 0, queued: 0, workers: 1 }).includes('wasi_py_runs_total{outcome="ok"} 1'); // true
 */
export class Metrics {
  private readonly runs = new Map<string, number>();
  private readonly rejected = new Map<string, number>();
  private readonly requests = new Map<string, number>();
  private readonly wall = new Histogram(WALL_BUCKETS_S);
  private readonly fuel = new Histogram(FUEL_BUCKETS);

  /** A run finished with `outcome` after `wallMs`, spending `fuel`. */
  run(outcome: string, wallMs: number, fuel: number): void {
    bump(this.runs, `outcome="${outcome}"`);
    this.wall.observe(wallMs / 1000);
    this.fuel.observe(fuel);
  }

  /** A request was turned away. */
  reject(reason: RejectReason): void {
    bump(this.rejected, `reason="${reason}"`);
  }

  /** A request was answered. */
  request(route: string, status: number): void {
    bump(this.requests, `route="${route}",status="${status}"`);
  }

  /** The exposition text, with the sandbox's load now. */
  render(load: { running: number; queued: number; workers: number }): string {
    return [
      ...counter("wasi_py_runs_total", "Runs finished, by outcome.", this.runs),
      ...counter("wasi_py_rejected_requests_total", "Requests turned away, by reason.", this.rejected),
      ...counter("wasi_py_http_requests_total", "Requests answered, by route and status.", this.requests),
      ...gauge("wasi_py_queue_depth", "Runs waiting for a worker.", load.queued),
      ...gauge("wasi_py_running_runs", "Runs going on.", load.running),
      ...gauge("wasi_py_workers", "Worker threads (runs at once).", load.workers),
      ...this.wall.render("wasi_py_run_duration_seconds", "Wall-clock time of finished runs."),
      ...this.fuel.render("wasi_py_run_fuel", "Fuel spent by finished runs."),
    ].join("\n") + "\n";
  }
}

function bump(map: Map<string, number>, labels: string): void {
  map.set(labels, (map.get(labels) ?? 0) + 1);
}

function counter(name: string, help: string, map: Map<string, number>): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
  for (const [labels, n] of [...map].sort()) lines.push(`${name}{${labels}} ${n}`);
  return lines;
}

function gauge(name: string, help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];
}
