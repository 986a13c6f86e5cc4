/**
 * Where this user's caches may live and which cache files may be trusted: the rules, read from
 * the environment and the host (its temp dir, user id, owners and modes), for the interpreter's
 * assets (sandbox/assets.ts) and the expanded package images (packages/), which both sit above it.
 */
import { currentUid, hostEnv, isAbsolute, join, ownership, readTextIfAny, tempDir, userId } from "./fs.ts";

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

/**
 * Why a cache folder or file with this owner and mode must not be read, or undefined when it may:
 * it must be the user's (`uid`; undefined: unknown, not checked) and not writable by group or others.
 *
 * @example
 * ownershipProblem({ uid: 1001, mode: 0o700 }, 1000); // "owned by uid 1001, not by uid 1000"
 * ownershipProblem({ uid: 1000, mode: 0o777 }, 1000); // "writable by others (mode 777)"
 */
export function ownershipProblem(info: { uid: number; mode: number }, uid: number | undefined): string | undefined {
  if (uid !== undefined && info.uid !== uid) return `owned by uid ${info.uid}, not by uid ${uid}`;
  if ((info.mode & 0o022) !== 0) return `writable by others (mode ${(info.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * Why the cache path must not be read, or undefined (also when nothing is there yet: it will be
 * made ours): it must be the user's and writable by nobody else (ownershipProblem).
 *
 * @example
 * cacheTrustProblem("/tmp/planted"); // "owned by uid 1001, not by uid 1000" when another user made it
 */
export function cacheTrustProblem(path: string): string | undefined {
  try {
    const info = ownership(path);
    return info === undefined || info === null ? undefined : ownershipProblem(info, currentUid());
  } catch (e) {
    return `cannot be checked (${(e as { code?: string }).code ?? (e as Error).message})`;
  }
}

/**
 * A cache file's text if it is there and the user's alone (see cacheTrustProblem), else undefined.
 *
 * @example
 * readCacheText("/home/me/.cache/wasi-py/<sha256>/stdlib.tar.verified"); // "<stamp> <seal>" or undefined
 */
export function readCacheText(path: string): string | undefined {
  return cacheTrustProblem(path) === undefined ? readTextIfAny(path) : undefined;
}
