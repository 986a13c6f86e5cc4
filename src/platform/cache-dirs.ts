/**
 * Where this user's caches may live: the one rule, read from the environment and the host (its
 * temp dir and user id), for the interpreter's assets (sandbox/assets.ts) and the expanded
 * package images (packages/image.ts), which both sit above it.
 */
import { hostEnv, isAbsolute, join, tempDir, userId } from "./fs.ts";

/**
 * Where the cache may live, in order of preference (only absolute paths: a relative or empty
 * variable is skipped, so nothing is ever written into the current folder).
 *
 * @example
 * cacheDirs(); // ["/home/me/.cache/wasi-py", "/tmp/wasi-py-1000"] with HOME=/home/me and no variables set
 */
export function cacheDirs(): string[] {
  const dirs: string[] = [];
  const add = (base: string | undefined, ...rest: string[]) => {
    if (base !== undefined && isAbsolute(base)) dirs.push(join(base, ...rest));
  };
  add(hostEnv("WASI_PY_CACHE"));
  add(hostEnv("XDG_CACHE_HOME"), "wasi-py");
  add(hostEnv("HOME"), ".cache", "wasi-py");
  add(sharedCacheDir());
  return dirs;
}

/**
 * The last place of cacheDirs: this user's folder in the shared temp dir, where anyone could have
 * planted it first (so what is found there is checked, or not used).
 *
 * @example
 * sharedCacheDir(); // "/tmp/wasi-py-1000"
 */
export function sharedCacheDir(): string {
  return join(tempDir(), `wasi-py-${userId()}`);
}

/**
 * The preferred cache folder (it may turn out unusable; see cacheDirs).
 *
 * @example
 * defaultCacheDir(); // "/home/me/.cache/wasi-py" with HOME=/home/me
 */
export function defaultCacheDir(): string {
  return cacheDirs()[0] ?? sharedCacheDir();
}

/** The cache's rule in one line, for --help and messages. */
export const CACHE_RULE =
  "$WASI_PY_CACHE, else $XDG_CACHE_HOME/wasi-py, else ~/.cache/wasi-py, else <temp dir>/wasi-py-<uid>, else memory";
