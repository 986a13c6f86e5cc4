/**
 * The snekbox-compatible API, as python-discord/snekbox documents `POST /eval`: `{input}` (run as
 * `python -c INPUT`) or `{args, files}` where args are python's own (`-c CODE ...`, `FILE ...` for
 * one of the given files, `-m MODULE ...`), files `{path, content (base64)}` written into the
 * working folder. Answers `{stdout, returncode, files}`: stdout and stderr merged as written, the
 * files the program wrote (base64, at most SNEKBOX_MAX_FILES), returncode 137 when a limit killed
 * it (as snekbox's SIGKILL), 255 for an interpreter crash. Request mapping is pure.
 */
import type { Hono } from "hono";
import type { RunOptions } from "../sandbox/mod.ts";
import { readJson } from "./body.ts";
import { badRequest } from "./errors.ts";
import { fromBase64, programText, toBase64 } from "./encoding.ts";
import type { Runner, ServedResult } from "./runner.ts";
import type { ServeConfig } from "./config.ts";
import type { AppEnv } from "./app-env.ts";

/** Most files returned, as snekbox. */
export const SNEKBOX_MAX_FILES = 100;
/** returncode of a run a limit ended (snekbox: the SIGKILL of a time or memory limit). */
export const SNEKBOX_KILLED = 137;
/** returncode of a crashed interpreter (snekbox: NsJail's fatal error). */
export const SNEKBOX_CRASHED = 255;

/**
 * An /eval body → the program and its options; HttpError 400.
 *
 * @example
 * snekboxRequest({ input: "print(1)" }, config).code; // "print(1)"
 * snekboxRequest({ args: ["main.py"], files: [{ path: "main.py", content: "cHJpbnQoMSk=" }] }, config).code; // "print(1)"
 */
export function snekboxRequest(body: unknown, config: ServeConfig): { code: string; options: RunOptions } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body must be an object");
  const b = body as Record<string, unknown>;
  if (b.input !== undefined && typeof b.input !== "string") throw badRequest("input must be a string");
  if (b.args !== undefined && !(Array.isArray(b.args) && b.args.every((a) => typeof a === "string"))) {
    throw badRequest("args must be an array of strings");
  }
  if (b.input === undefined && b.args === undefined) throw badRequest("input or args is required");
  const args = [...((b.args as string[] | undefined) ?? (b.input !== undefined ? ["-c"] : []))];
  if (b.input !== undefined) args.push(b.input as string);
  const files = b.files === undefined ? [] : fileList(b.files);
  const { code, programArgs } = pythonArgs(args, files);
  return {
    code,
    options: {
      ...config.limits,
      args: programArgs,
      files,
      returnFiles: { maxFiles: SNEKBOX_MAX_FILES },
    },
  };
}

function fileList(files: unknown): { path: string; content: Uint8Array }[] {
  if (!Array.isArray(files)) throw badRequest("files must be an array of { path, content }");
  return files.map((f: unknown, i) => {
    if (typeof f !== "object" || f === null) throw badRequest(`files[${i}] must be an object`);
    const { path, content } = f as Record<string, unknown>;
    if (typeof path !== "string" || path.startsWith("/") || path.includes("\0")) {
      throw badRequest(`files[${i}].path must be a relative path`);
    }
    const bytes = content === undefined
      ? new Uint8Array(0)
      : typeof content === "string"
      ? fromBase64(content, `files[${i}].content`)
      : undefined;
    if (bytes === undefined) throw badRequest(`files[${i}].content must be a base64 string`);
    return { path, content: bytes };
  });
}

/**
 * python's arguments → the code to run and sys.argv[1:]: `-c CODE A...`, `FILE A...` (a given
 * file), `-m MODULE A...` (run as __main__ by runpy). HttpError 400 for anything else. Pure.
 *
 * @example
 * pythonArgs(["-c", "print(1)", "x"], []); // { code: "print(1)", programArgs: ["x"] }
 */
export function pythonArgs(
  args: readonly string[],
  files: readonly { path: string; content: Uint8Array }[],
): { code: string; programArgs: string[] } {
  const [first, second, ...rest] = args;
  if (first === undefined) throw badRequest("args must name what to run (-c CODE, -m MODULE or a file)");
  if (first === "-c" || first === "-m") {
    if (second === undefined) throw badRequest(`${first} needs an argument`);
    if (first === "-c") return { code: second, programArgs: rest };
    if (!/^[A-Za-z_][\w.]*$/.test(second)) throw badRequest(`-m wants a module name, got ${JSON.stringify(second)}`);
    const code = `import runpy\nrunpy.run_module(${JSON.stringify(second)}, run_name="__main__", alter_sys=True)`;
    return { code, programArgs: rest };
  }
  if (first.startsWith("-")) throw badRequest(`python option ${first} is not supported here (use -c, -m or a file)`);
  const file = files.find((f) => f.path === first || `./${f.path}` === first);
  if (file === undefined) throw badRequest(`${first}: no such file among the request's files`);
  return { code: programText(file.content, first), programArgs: args.slice(1) };
}

/**
 * A result as snekbox answers it.
 *
 * @example
 * snekboxResponse(result).returncode; // 0
 */
export function snekboxResponse(r: ServedResult): Record<string, unknown> {
  const killed = r.outcome === "timeout" || r.outcome === "fuel_exhausted" || r.outcome === "memory_exhausted" ||
    r.outcome === "aborted";
  return {
    stdout: r.merged ?? r.stdout + r.stderr,
    returncode: killed ? SNEKBOX_KILLED : r.outcome === "crashed" ? SNEKBOX_CRASHED : r.exitCode,
    files: (r.files ?? []).map((f) => ({ path: f.path, size: f.content.length, content: toBase64(f.content) })),
  };
}

/** Registers POST /eval. */
export function snekboxRoutes(app: Hono<AppEnv>, runner: Runner, config: ServeConfig): void {
  app.post("/eval", async (c) => {
    const req = snekboxRequest(await readJson(c.req.raw, config), config);
    const r = await runner.run(req.code, req.options, c.req.raw.signal, true);
    c.set("outcome", r.outcome);
    return c.json(snekboxResponse(r));
  });
}
