/**
 * Deno's permissions for the command, checked before anything else loads: without this, a
 * missing flag surfaces as a NotCapable stack trace from deep inside a dependency (picocolors
 * reads the environment as it loads). Instead the user gets one line naming every flag that is
 * missing and the whole narrow set the command needs. On Node (no permission model) nothing is
 * checked.
 *
 * What the command needs on Deno, and why:
 * - read: the package folder (the interpreter and stdlib in assets/) and the asset cache;
 * - write: the asset cache only (expanded once, on first use);
 * - env: all variables, because cmd-ts's `debug` lists the whole environment as it loads (our own
 *   code reads only WASI_PY_CACHE, XDG_CACHE_HOME, NO_COLOR and the bot's password variables);
 * - sys: `homedir`, to find ~/.cache when neither WASI_PY_CACHE nor XDG_CACHE_HOME is set;
 * - net: the bot only; checked here when `--server` is on the command line.
 */
import process from "node:process";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The part of Deno's permission API used here (tsconfig's `lib` has no Deno types). */
interface DenoPermissions {
  querySync(descriptor: PermissionNeed["descriptor"]): { state: string };
}

/** One permission the command needs: its Deno descriptor and the flag that grants it. */
export interface PermissionNeed {
  descriptor: { name: string; path?: string; host?: string; kind?: string };
  flag: string;
}

function denoPermissions(): DenoPermissions | undefined {
  const deno = (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno;
  return deno?.permissions;
}

/** The package folder: this file is src/platform/permissions.ts, or build/src/platform/permissions.js. */
export function packageRoot(moduleUrl: string): string {
  const platformDir = dirname(fileURLToPath(moduleUrl));
  const root = dirname(dirname(platformDir));
  return moduleUrl.endsWith(".ts") ? root : dirname(root);
}

/**
 * The asset cache as src/sandbox/assets.ts's defaultCacheDir computes it (a test keeps the two in
 * step), given an environment reader; `home` is called only when it is needed.
 *
 * @example
 * ```ts
 * cacheDirFor((n) => (n === "XDG_CACHE_HOME" ? "/c" : undefined), () => "/home/u"); // "/c/wasi-py"
 * ```
 */
export function cacheDirFor(env: (name: string) => string | undefined, home: () => string): string {
  const explicit = env("WASI_PY_CACHE");
  if (explicit !== undefined) return explicit;
  return join(env("XDG_CACHE_HOME") ?? join(home(), ".cache"), "wasi-py");
}

/** The `host[:port]` of a `--server` argument, if the command line has one. */
function serverHost(argv: readonly string[]): string | undefined {
  const end = argv.indexOf("--");
  const opts = end < 0 ? argv : argv.slice(0, end);
  const at = opts.findIndex((a) => a === "--server" || a.startsWith("--server="));
  if (at < 0) return undefined;
  const value = opts[at].startsWith("--server=") ? opts[at].slice("--server=".length) : opts[at + 1];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * The permissions the command needs with these arguments, given where the package and the asset
 * cache are; `needsHome` when the cache is found through the home folder.
 *
 * @example
 * ```ts
 * commandNeeds(["1+1"], "/pkg", "/c").map((n) => n.flag);
 * // ["--allow-env", "--allow-read=/pkg", "--allow-read=/c", "--allow-write=/c"]
 * ```
 */
export function commandNeeds(
  argv: readonly string[],
  root: string,
  cache: string,
  needsHome = false,
): PermissionNeed[] {
  const needs: PermissionNeed[] = [
    { descriptor: { name: "env" }, flag: "--allow-env" },
    { descriptor: { name: "read", path: root }, flag: `--allow-read=${root}` },
  ];
  if (needsHome) needs.push({ descriptor: { name: "sys", kind: "homedir" }, flag: "--allow-sys=homedir" });
  needs.push({ descriptor: { name: "read", path: cache }, flag: `--allow-read=${cache}` });
  needs.push({ descriptor: { name: "write", path: cache }, flag: `--allow-write=${cache}` });
  const server = argv.includes("--irc") ? serverHost(argv) : undefined;
  if (server !== undefined) needs.push({ descriptor: { name: "net", host: server }, flag: `--allow-net=${server}` });
  return needs;
}

/**
 * The one-line message for the needs that are not granted, or undefined when all are. `all` is
 * the full set, shown so the user can copy it.
 *
 * @example
 * ```ts
 * const env = { descriptor: { name: "env" }, flag: "--allow-env" };
 * permissionMessage([env], [env]);
 * // "wasi-py: Deno permission missing: --allow-env (the command needs: --allow-env)"
 * ```
 */
export function permissionMessage(
  missing: readonly PermissionNeed[],
  all: readonly PermissionNeed[],
): string | undefined {
  if (missing.length === 0) return undefined;
  const s = missing.length === 1 ? "" : "s";
  return `wasi-py: Deno permission${s} missing: ${flagList(missing)} (the command needs: ${flagList(all)})`;
}

/** Flags joined the way Deno takes them: one flag per kind, values comma-separated. */
function flagList(needs: readonly PermissionNeed[]): string {
  const byFlag = new Map<string, string[]>();
  for (const { flag } of needs) {
    const [name, value] = flag.split("=", 2);
    const values = byFlag.get(name) ?? [];
    if (value !== undefined && !values.includes(value)) values.push(value);
    byFlag.set(name, values);
  }
  return [...byFlag].map(([name, values]) => (values.length === 0 ? name : `${name}=${values.join(",")}`)).join(" ");
}

/** The usual cache folder as shell text, for the message when the environment cannot be read. */
const DEFAULT_CACHE_TEXT = "$HOME/.cache/wasi-py";

function granted(perms: DenoPermissions, need: PermissionNeed): boolean {
  try {
    return perms.querySync(need.descriptor).state === "granted";
  } catch {
    return false;
  }
}

/**
 * On Deno, exits with status 120 and one line on stderr when a permission the command needs is
 * missing; on Node, returns at once. Call it before loading the rest of the command.
 *
 * @example
 * ```ts
 * exitUnlessDenoPermissions(cliArgs());
 * const { main } = await import("./src/cli/main.ts");
 * ```
 */
export function exitUnlessDenoPermissions(argv: readonly string[]): void {
  const perms = denoPermissions();
  if (perms === undefined) return;
  const root = packageRoot((import.meta as unknown as { url: string }).url);
  const envNeed: PermissionNeed = { descriptor: { name: "env" }, flag: "--allow-env" };
  let cache: string | undefined;
  let needsHome = false;
  if (granted(perms, envNeed)) {
    const env = (name: string) => (process.env[name] === "" ? undefined : process.env[name]);
    needsHome = env("WASI_PY_CACHE") === undefined && env("XDG_CACHE_HOME") === undefined;
    const homeNeed: PermissionNeed = { descriptor: { name: "sys", kind: "homedir" }, flag: "--allow-sys=homedir" };
    if (!needsHome || granted(perms, homeNeed)) cache = cacheDirFor(env, homedir);
  }
  // Without env access the cache folder is unknown: show where it usually is, and ask for env first.
  const all = commandNeeds(argv, root, cache ?? DEFAULT_CACHE_TEXT, cache === undefined || needsHome);
  const checkable = cache === undefined ? all.slice(0, 2) : all;
  const message = permissionMessage(checkable.filter((n) => !granted(perms, n)), all);
  if (message === undefined) return;
  process.stderr.write(`${message}\n`);
  process.exit(120); // EXIT.internal in src/options/exit-codes.ts: wasi-py itself could not run
}
