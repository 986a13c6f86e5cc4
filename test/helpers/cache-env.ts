/**
 * Runs a body with the cache's environment variables set as a test wants them, so that the
 * asset cache (src/platform/cache-dirs.ts) looks only where the test says, then puts them back;
 * and awaits the stdlib's background pinning, whose timers keep no process alive.
 */
import process from "node:process";

/** The variables that choose cache folders (src/platform/cache-dirs.ts). */
export const CACHE_VARS = ["WASI_PY_CACHE", "XDG_CACHE_HOME", "HOME", "TMPDIR"] as const;

/**
 * Runs `body` with the cache variables set as given (others of CACHE_VARS removed), then restores them.
 *
 * @example
 * ```ts
 * withCacheEnv({ WASI_PY_CACHE: "/tmp/x", HOME: "/tmp/x" }, () => readAssetShared("stdlib.tar"));
 * ```
 */
export function withCacheEnv<T>(vars: Partial<Record<(typeof CACHE_VARS)[number], string>>, body: () => T): T {
  const saved = Object.fromEntries(CACHE_VARS.map((k) => [k, process.env[k]]));
  for (const k of CACHE_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return body();
  } finally {
    for (const k of CACHE_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

/**
 * `p`, awaited with a timer keeping the event loop alive: the stdlib's pinning runs on timers that
 * do not (src/platform/timers.ts), and a test awaiting it would otherwise end with it pending.
 *
 * @example
 * ```ts
 * assert.equal(await alive(image.pin!()), true);
 * ```
 */
export async function alive<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(keep);
  }
}
