/**
 * Where mounted packages live in the guest and what may be mounted there: the site-packages
 * folder every mount is merged into and the rule that refuses compiled extensions. The
 * pre-initialised interpreter's sys.path was fixed when its snapshot was made, with no
 * site-packages (the stdlib image has none); the driver (src/sandbox/_driver.ts) adds the folder
 * with `site.addsitedir` when it exists, as `site` would at start-up, so runs with packages keep
 * the snapshot's compiled driver.
 */

/**
 * A package path that cannot be mounted; the message is one line naming the file.
 *
 * @example
 * ```ts
 * import { PackageError, Sandbox } from "wasi-py";
 *
 * try {
 *   const sb = await Sandbox.create({ packages: ["/no/such/package.tar.br"] });
 *   await sb.close();
 * } catch (e) {
 *   if (!(e instanceof PackageError)) throw e;
 *   // e.message names the path and why it cannot be mounted
 * }
 * ```
 */
export class PackageError extends Error {
  /** Always "PackageError". */
  override name = "PackageError";
}

/** The guest folder holding every mounted package (a path of the stdlib image, without "/"). */
export const SITE_PACKAGES = "usr/local/lib/python3.13/site-packages";

/**
 * Most bytes all mounted packages may hold together (host memory shared by the workers): far above
 * any real set of pure-Python packages (sympy with its tests is ~60 MB), and a bound on a wheel whose
 * entries declare absurd sizes.
 */
export const MAX_PACKAGE_BYTES = 1024 * 1024 * 1024;

/** Files that are native code: a pure-Python mount must hold none. */
const COMPILED = /\.(?:so|pyd|dylib|dll)(?:\.\d+)*$/i;

/**
 * Why a file of a package cannot be mounted, or undefined when it can.
 *
 * @example
 * compiledReason("numpy/core/_umath.cpython-313-x86_64-linux-gnu.so"); // "... is a compiled extension ..."
 * compiledReason("six.py"); // undefined
 */
export function compiledReason(path: string): string | undefined {
  return COMPILED.test(path) ? `${path} is a compiled extension (only pure-Python packages can be mounted)` : undefined;
}
