/**
 * The packages option, the one path-list setting every front end shares (the CLI's `--packages`
 * and WASI_PY_PACKAGES, the bot's and the HTTP service's config key `packages`): named once here,
 * with the pure parts (splitting the variable, checking a config value), so they cannot disagree.
 * Mounting itself is src/packages/mount.ts, reached through SandboxOptions.packages.
 */
import { OptionError } from "./spec.ts";

/** The packages option's names and help line. */
export const PACKAGES_OPTION = {
  /** SandboxOptions key and config-file key. */
  key: "packages",
  configKey: "packages",
  /** Long flag (repeatable), without dashes. */
  flag: "packages",
  /** Environment variable: a path list, separated like PATH. */
  env: "WASI_PY_PACKAGES",
  valueName: "PATH",
  help: "mount pure-Python packages read-only (folder, .whl, .tar.br image); repeatable; also $WASI_PY_PACKAGES",
} as const;

/**
 * The paths of a path-list variable (empty items dropped, as PATH does with nothing to add).
 *
 * @example
 * splitPathList("/a:/b.whl::", ":"); // ["/a", "/b.whl"]
 */
export function splitPathList(text: string | undefined, delimiter: string): string[] {
  return (text ?? "").split(delimiter).filter((p) => p !== "");
}

/**
 * Checks a config file's `packages` value: a list of non-empty strings. Throws OptionError naming
 * `where`.
 *
 * @example
 * readPackagesConfig(["/srv/py/sympy.tar.br"], "bot.json"); // ["/srv/py/sympy.tar.br"]
 */
export function readPackagesConfig(value: unknown, where: string): string[] {
  const as = `${where}: ${PACKAGES_OPTION.configKey}`;
  if (!Array.isArray(value) || !value.every((p) => typeof p === "string" && p !== "")) {
    throw new OptionError(`${as} must be a list of paths (non-empty strings)`, as);
  }
  return [...value];
}

/**
 * The packages a run mounts: the flags' paths first (they win a conflict), then the variable's.
 *
 * @example
 * packagesFrom(["a.whl"], "/b:/c", ":"); // ["a.whl", "/b", "/c"]
 */
export function packagesFrom(flags: readonly string[], envText: string | undefined, delimiter: string): string[] {
  return [...flags, ...splitPathList(envText, delimiter)];
}
