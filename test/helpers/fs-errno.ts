/**
 * The memfs tests' way to observe a refused operation: run it and give the WASI errno it was
 * refused with (0 if it succeeded). Shared by test/wasi/memfs.test.ts and memfs-rules.test.ts.
 */
import { FsError } from "../../src/wasi/memfs.ts";

/**
 * The errno of the FsError `fn` throws, or 0 if it returns; any other error propagates.
 *
 * @example
 * ```ts
 * assert.equal(errno(() => fs.unlink(dir, "missing")), Errno.NOENT);
 * ```
 */
export function errno(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof FsError) return err.errno;
    throw err;
  }
  return 0;
}
