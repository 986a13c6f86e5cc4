/**
 * The service's Hono app: one JSON log line and the metrics per request, CORS only when asked
 * for, health and metrics, bearer auth, the per-client rate limit, refusal while shutting down,
 * then the three APIs (native.ts, piston.ts, snekbox.ts). Errors are rendered in the shape of the
 * API the request used: Piston's `{message}`, snekbox's (Falcon's) `{title, description}`, the
 * native `{error}`. Runtime-free: the listener (src/platform/http.ts) hands requests to `fetch`.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Context } from "hono";
import { clientKey, matchToken } from "./auth.ts";
import { HttpError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { RateLimiter } from "./rate-limit.ts";
import { nativeRoutes } from "./native.ts";
import { pistonRoutes } from "./piston.ts";
import { snekboxRoutes } from "./snekbox.ts";
import type { Runner } from "./runner.ts";
import type { ServeConfig } from "./config.ts";
import type { AppEnv } from "./app-env.ts";
import type { ClientInfo } from "../platform/http.ts";

/** What the app needs besides its config. */
export interface AppParts {
  runner: Runner;
  metrics: Metrics;
  /** The interpreter's version (Piston's runtime version, /v1/info). */
  cpython: string;
  /** Writes one log line. */
  log: (line: string) => void;
  /** Milliseconds now (the rate limiter's clock). */
  nowMs: () => number;
}

/** The app and what the server drives from outside. */
export interface ServiceApp {
  fetch: (request: Request, client: ClientInfo) => Response | Promise<Response>;
  /** From now on, new runs get 503 and /healthz says so. */
  startShutdown(): void;
}

/** The route label for metrics and logs (a path not ours is "other", so labels stay few). */
export function routeLabel(path: string): string {
  const known = [
    "/v1/run",
    "/v1/batch",
    "/v1/info",
    "/api/v2/runtimes",
    "/api/v2/execute",
    "/eval",
    "/healthz",
    "/metrics",
  ];
  return known.includes(path) ? path : "other";
}

/** An error's body in the API's own shape. */
export function errorBody(path: string, status: number, message: string): Record<string, string> {
  if (path.startsWith("/api/v2/")) return { message };
  if (path === "/eval") return { title: statusTitle(status), description: message };
  return { error: message };
}

function statusTitle(status: number): string {
  const titles: Record<number, string> = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    408: "408 Request Timeout",
    413: "413 Payload Too Large",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
  };
  return titles[status] ?? String(status);
}

/** Paths answered without a token (a load balancer's health check carries none). */
const OPEN_PATHS = new Set(["/healthz"]);

/**
 * Builds the app.
 *
 * @example
 * const app = createApp(config, { runner, metrics, cpython: "3.13.15", log: console.log, nowMs: Date.now });
 */
export function createApp(config: ServeConfig, parts: AppParts): ServiceApp {
  const { runner, metrics } = parts;
  const limiter = new RateLimiter(config.ratePerMinute, config.rateBurst);
  let stopping = false;
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = parts.nowMs();
    await next();
    const route = routeLabel(c.req.path);
    metrics.request(route, c.res.status);
    parts.log(JSON.stringify({
      time: new Date().toISOString(),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((parts.nowMs() - started) * 10) / 10,
      client: c.get("client") ?? `addr:${c.env.address}`,
      outcome: c.get("outcome"),
    }));
  });
  if (config.corsOrigin !== undefined) {
    app.use(cors({ origin: config.corsOrigin, allowHeaders: ["Authorization", "Content-Type"], maxAge: 600 }));
  }

  app.get("/healthz", (c) => {
    const load = runner.sandbox.load;
    return c.json({ status: stopping ? "stopping" : "ok", ...load }, stopping ? 503 : 200);
  });

  app.use(async (c, next) => {
    const index = config.tokens.length === 0 ? -1 : matchToken(c.req.header("authorization"), config.tokens);
    if (config.tokens.length > 0 && index < 0 && !OPEN_PATHS.has(c.req.path)) {
      throw new HttpError(401, "a valid bearer token is required (Authorization: Bearer TOKEN)", "unauthorized");
    }
    const key = clientKey(index, c.env.address);
    c.set("client", key);
    if (c.req.method === "POST") {
      const waitMs = limiter.take(key, parts.nowMs());
      if (waitMs > 0) {
        throw new HttpError(429, "too many requests from this client", "rate_limited", Math.ceil(waitMs / 1000));
      }
      if (stopping) throw new HttpError(503, "the service is shutting down", "shutting_down", 5);
    }
    await next();
  });

  app.get(
    "/metrics",
    (c) => c.text(metrics.render(runner.sandbox.load), 200, { "content-type": "text/plain; version=0.0.4" }),
  );
  nativeRoutes(app, runner, config, parts.cpython);
  pistonRoutes(app, runner, config, parts.cpython);
  snekboxRoutes(app, runner, config);

  app.notFound((c) => c.json(errorBody(c.req.path, 404, `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((e, c) => errorResponse(c, e, metrics));

  return {
    fetch: (request, client) => app.fetch(request, { address: client.address }),
    startShutdown: () => {
      stopping = true;
    },
  };
}

function errorResponse(c: Context<AppEnv>, e: Error, metrics: Metrics): Response {
  const http = e instanceof HttpError ? e : undefined;
  const status = http?.status ?? 500;
  if (http !== undefined) metrics.reject(http.reason);
  const message = http?.message ?? `internal error: ${e.message}`;
  const headers: Record<string, string> = {};
  if (http?.retryAfterS !== undefined) headers["retry-after"] = String(http.retryAfterS);
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="wasi-py"';
  // The rest of an unread body would be taken for the next request: end the connection.
  if (status === 408 || status === 413) headers["connection"] = "close";
  return c.json(errorBody(c.req.path, status, message), status as 400, headers);
}
