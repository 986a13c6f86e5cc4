/**
 * The Piston-compatible API, as engineer-man/piston's README documents v2: `GET /api/v2/runtimes`
 * and `POST /api/v2/execute`. Language `python` (aliases `py`, `python3`) at this interpreter's
 * version, selected by a semver selector; the first file is the program and every named file is
 * written into its working folder; `run_timeout` (ms) and `run_memory_limit` (bytes) within the
 * service's limits (400 above), `run_cpu_time` (ms) as fuel at FUEL_PER_CPU_MS, at most the service's; compile fields
 * accepted and ignored. Answers `{language, version, run}` with Piston's status letters, or 400
 * `{message}`. Request and response mapping are pure functions.
 */
import type { Hono } from "hono";
import type { RunOptions } from "../sandbox/mod.ts";
import { FUEL_PER_CPU_MS } from "../options/serve.ts";
import { statusLine } from "../format/summary.ts";
import { readJson } from "./body.ts";
import { badRequest } from "./errors.ts";
import { decodeContent, programText } from "./encoding.ts";
import { withinService } from "./runner.ts";
import type { Runner, ServedResult } from "./runner.ts";
import type { ServeConfig } from "./config.ts";
import type { AppEnv } from "./app-env.ts";

/** The language this service runs, and its aliases. */
export const PISTON_LANGUAGE = "python";
export const PISTON_ALIASES = ["py", "python3"];

/** Piston's two-letter statuses. */
export const PISTON_STATUS = {
  runtimeError: "RE",
  timeout: "TO",
  stdoutLimit: "OL",
  stderrLimit: "EL",
  internal: "XX",
} as const;

/**
 * Whether a semver selector (`*`, `3`, `3.x`, `3.13`, `3.13.*`, `3.13.15`, `^3.12`, `>=3.10`)
 * accepts `version`. Pure.
 *
 * @example
 * versionMatches("3.x", "3.13.15"); // true
 * versionMatches("3.12", "3.13.15"); // false
 */
export function versionMatches(selector: string, version: string): boolean {
  const have = version.split(".").map(Number);
  const s = selector.trim();
  if (s === "" || s === "*" || s === "x" || s === "latest") return true;
  const m = /^(\^|~|>=|>|<=|<|=)?\s*v?(\d+|[x*])(?:\.(\d+|[x*]))?(?:\.(\d+|[x*]))?$/.exec(s);
  if (m === null) return false;
  const want = [m[2], m[3], m[4]].map((p) => (p === undefined || p === "x" || p === "*" ? undefined : Number(p)));
  const cmp = (): number => {
    for (let i = 0; i < 3; i++) {
      const w = want[i] ?? 0;
      if (have[i]! !== w) return have[i]! - w;
    }
    return 0;
  };
  switch (m[1]) {
    case ">=":
      return cmp() >= 0;
    case ">":
      return cmp() > 0;
    case "<=":
      return cmp() <= 0;
    case "<":
      return cmp() < 0;
    case "^":
      return have[0] === want[0] && cmp() >= 0;
    case "~":
      return have[0] === want[0] && (want[1] === undefined || have[1] === want[1]) && cmp() >= 0;
    default:
      return want.every((w, i) => w === undefined || have[i] === w);
  }
}

/** A Piston execute request, parsed. */
export interface PistonRequest {
  code: string;
  options: RunOptions;
}

const isSet = (v: unknown) => v !== undefined && v !== null && v !== -1;

/**
 * A /api/v2/execute body → the program and its options; HttpError 400 with Piston's messages.
 *
 * @example
 * pistonRequest({ language: "py", version: "3", files: [{ content: "print(1)" }] }, config, "3.13.15").code; // "print(1)"
 */
export function pistonRequest(body: unknown, config: ServeConfig, version: string): PistonRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body must be an object");
  const b = body as Record<string, unknown>;
  if (typeof b.language !== "string") throw badRequest("language is required as a string");
  if (typeof b.version !== "string") throw badRequest("version is required as a string");
  const language = b.language.toLowerCase();
  if (
    !(language === PISTON_LANGUAGE || PISTON_ALIASES.includes(language)) || !versionMatches(b.version, version)
  ) {
    throw badRequest(`${b.language}-${b.version} runtime is unknown`);
  }
  if (!Array.isArray(b.files) || b.files.length === 0) throw badRequest("files is required as a non-empty array");
  const files = b.files.map((f: unknown, i) => {
    if (typeof f !== "object" || f === null) throw badRequest(`files[${i}] must be an object`);
    const { name, content, encoding } = f as Record<string, unknown>;
    if (name !== undefined && (typeof name !== "string" || name.includes("/") || name === "")) {
      throw badRequest(`files[${i}].name must be a file name without a path`);
    }
    return { name: name as string | undefined, content: decodeContent(content, encoding, `files[${i}]`) };
  });
  if (b.stdin !== undefined && typeof b.stdin !== "string") throw badRequest("stdin must be a string");
  if (b.args !== undefined && !(Array.isArray(b.args) && b.args.every((a) => typeof a === "string"))) {
    throw badRequest("args must be an array of strings");
  }
  for (const key of ["run_timeout", "run_cpu_time", "run_memory_limit"]) {
    if (isSet(b[key]) && (typeof b[key] !== "number" || !(b[key] >= 0))) {
      throw badRequest(`${key} must be a non-negative number`);
    }
  }
  const asked = {
    timeoutMs: isSet(b.run_timeout) ? Math.max(1, Math.ceil(b.run_timeout as number)) : undefined,
    // Clamped, not refused: Piston's documented default (3000 ms) is more fuel than a service gives.
    fuel: isSet(b.run_cpu_time)
      ? Math.min(config.limits.fuel, Math.round((b.run_cpu_time as number) * FUEL_PER_CPU_MS))
      : undefined,
    memoryMiB: isSet(b.run_memory_limit)
      ? Math.max(1, Math.ceil((b.run_memory_limit as number) / (1024 * 1024)))
      : undefined,
  };
  const names = { timeoutMs: "run_timeout", fuel: "run_cpu_time (as fuel)", memoryMiB: "run_memory_limit (in MiB)" };
  const named = files.filter((f) => f.name !== undefined).map((f) => ({ path: f.name!, content: f.content }));
  return {
    code: programText(files[0]!.content, "files[0].content"),
    options: {
      ...withinService(asked, config.limits, names),
      stdin: (b.stdin as string | undefined) ?? "",
      args: b.args as string[] | undefined,
      files: named.length > 0 ? named : undefined,
    },
  };
}

/** Piston's `run` object for a result. */
export interface PistonRun {
  stdout: string;
  stderr: string;
  output: string;
  code: number | null;
  signal: string | null;
  message: string | null;
  status: string | null;
  cpu_time: number;
  wall_time: number;
  memory: number | null;
}

/**
 * A result as Piston's `run`: a limit ends as TO (time or fuel; signal SIGKILL, code null), lost
 * output as OL/EL, a crash as XX, a non-zero exit as RE (memory exhaustion too); `cpu_time` is the
 * fuel spent at FUEL_PER_CPU_MS. Pure.
 */
export function pistonRun(r: ServedResult): PistonRun {
  const killed = r.outcome === "timeout" || r.outcome === "fuel_exhausted" || r.outcome === "aborted";
  const status = r.outcome === "timeout" || r.outcome === "fuel_exhausted"
    ? PISTON_STATUS.timeout
    : r.outcome === "crashed" || r.outcome === "aborted"
    ? PISTON_STATUS.internal
    : r.truncated.stdout
    ? PISTON_STATUS.stdoutLimit
    : r.truncated.stderr
    ? PISTON_STATUS.stderrLimit
    : r.exitCode !== 0
    ? PISTON_STATUS.runtimeError
    : null;
  const message = status === null
    ? null
    : status === PISTON_STATUS.stdoutLimit || status === PISTON_STATUS.stderrLimit
    ? `${status === PISTON_STATUS.stdoutLimit ? "stdout" : "stderr"} length exceeded`
    : statusLine(r) ?? null;
  return {
    stdout: r.stdout,
    stderr: r.stderr,
    output: r.merged ?? r.stdout + r.stderr,
    code: killed || r.exitCode < 0 ? null : r.exitCode,
    signal: killed ? "SIGKILL" : null,
    message,
    status,
    cpu_time: Math.round(r.fuelUsed / FUEL_PER_CPU_MS),
    wall_time: Math.round(r.wallMs),
    memory: r.memoryBytes ?? null,
  };
}

/** Registers the Piston routes. */
export function pistonRoutes(app: Hono<AppEnv>, runner: Runner, config: ServeConfig, version: string): void {
  app.get(
    "/api/v2/runtimes",
    (c) => c.json([{ language: PISTON_LANGUAGE, version, aliases: PISTON_ALIASES, runtime: "wasi-py" }]),
  );
  app.post("/api/v2/execute", async (c) => {
    const req = pistonRequest(await readJson(c.req.raw, config), config, version);
    const r = await runner.run(req.code, req.options, c.req.raw.signal, true);
    c.set("outcome", r.outcome);
    return c.json({ language: PISTON_LANGUAGE, version, run: pistonRun(r) });
  });
}
