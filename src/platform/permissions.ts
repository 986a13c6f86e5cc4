/**
 * Deno's permissions for the command, checked before anything else loads: without this, a
 * missing flag surfaces as a NotCapable stack trace from deep inside a dependency (the argument
 * parser's `debug` reads the environment as it loads). Instead the user gets one line naming every
 * flag that is missing and the whole narrow set the command needs. On Node (no permission model)
 * nothing is checked.
 *
 * What the command needs on Deno, and why:
 * - read: the package folder (the interpreter and stdlib in assets/) and the asset cache;
 * - write: the asset cache only (expanded once, on first use);
 * - env: all variables, because cmd-ts's `debug` lists the whole environment as it loads (our own
 *   code reads WASI_PY_CACHE, XDG_CACHE_HOME, HOME, NO_COLOR and the bot's password variables);
 * - net: the bot's `--server`, the service's `--listen` address (`--serve`), and the service a
 *   command runs through (`--server URL`); checked here when they are on the command line.
 */
import process from "node:process";
import { dirname, isAbsolute, join } from "node:path";
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
 * The preferred asset cache as src/platform/cache-dirs.ts's cacheDirs() finds it (a test keeps the two
 * in step): the first absolute one of $WASI_PY_CACHE, $XDG_CACHE_HOME/wasi-py, $HOME/.cache/wasi-py;
 * undefined when none is set (the sandbox then uses the temp dir, or memory, and asks nothing).
 *
 * @example
 * ```ts
 * cacheDirFor((n) => (n === "XDG_CACHE_HOME" ? "/c" : undefined)); // "/c/wasi-py"
 * ```
 */
export function cacheDirFor(env: (name: string) => string | undefined): string | undefined {
  const candidates: Array<[string, string[]]> = [
    ["WASI_PY_CACHE", []],
    ["XDG_CACHE_HOME", ["wasi-py"]],
    ["HOME", [".cache", "wasi-py"]],
  ];
  for (const [name, rest] of candidates) {
    const base = env(name);
    if (base !== undefined && isAbsolute(base)) return join(base, ...rest);
  }
  return undefined;
}

/** The `host[:port]` of a `--server` option, if our options have one. */
function serverHost(opts: readonly string[]): string | undefined {
  return optionValue(opts, "--server");
}

/** The value of `--name VALUE` or `--name=VALUE` among our options. */
function optionValue(opts: readonly string[], name: string): string | undefined {
  const at = opts.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const value = opts[at].startsWith(`${name}=`) ? opts[at].slice(name.length + 1) : opts[at + 1];
  return value === undefined || value === "" ? undefined : value;
}

/** HOST:PORT of a service URL given with `--server` (the command through a service), if it parses. */
function urlHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The permissions the command needs with these options, given where the package and the asset
 * cache are (`cache` undefined: none is configured, so none is asked for). `options` are our
 * options only, the arguments before the code (src/cli/argv.ts's optionPart): after the code,
 * `--irc --server host` are the program's and ask for no network.
 *
 * @example
 * ```ts
 * commandNeeds(["1+1"], "/pkg", "/c").map((n) => n.flag);
 * // ["--allow-env", "--allow-read=/pkg", "--allow-read=/c", "--allow-write=/c"]
 * ```
 */
export function commandNeeds(options: readonly string[], root: string, cache: string | undefined): PermissionNeed[] {
  const needs: PermissionNeed[] = [
    { descriptor: { name: "env" }, flag: "--allow-env" },
    { descriptor: { name: "read", path: root }, flag: `--allow-read=${root}` },
  ];
  if (cache !== undefined) {
    needs.push({ descriptor: { name: "read", path: cache }, flag: `--allow-read=${cache}` });
    needs.push({ descriptor: { name: "write", path: cache }, flag: `--allow-write=${cache}` });
  }
  const server = options.includes("--irc")
    ? serverHost(options)
    : options.includes("--serve")
    ? optionValue(options, "--listen") ?? "127.0.0.1:8060"
    : urlHost(serverHost(options));
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
 * missing; on Node, returns at once. Call it before loading the rest of the command, with our
 * options (the arguments before the code; see commandNeeds).
 *
 * @example
 * ```ts
 * exitUnlessDenoPermissions(optionPart(cliArgs(), KNOWN_OPTIONS));
 * const { main } = await import("./src/cli/main.ts");
 * ```
 */
export function exitUnlessDenoPermissions(options: readonly string[]): void {
  const perms = denoPermissions();
  if (perms === undefined) return;
  const root = packageRoot((import.meta as unknown as { url: string }).url);
  const envNeed: PermissionNeed = { descriptor: { name: "env" }, flag: "--allow-env" };
  const envKnown = granted(perms, envNeed);
  const env = (name: string) => (process.env[name] === "" ? undefined : process.env[name]);
  // Without env access the cache folder is unknown: show where it usually is, and ask for env first.
  const all = commandNeeds(options, root, envKnown ? cacheDirFor(env) : DEFAULT_CACHE_TEXT);
  const checkable = envKnown ? all : all.slice(0, 2);
  const message = permissionMessage(checkable.filter((n) => !granted(perms, n)), all);
  if (message === undefined) return;
  process.stderr.write(`${message}\n`);
  process.exit(120); // EXIT.internal in src/options/exit-codes.ts: wasi-py itself could not run
}
