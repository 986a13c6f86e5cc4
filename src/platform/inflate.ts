/**
 * Raw DEFLATE decompression (RFC 1951, no zlib or gzip header), the method of a zip entry
 * (src/packages/zip.ts reads wheels with it). Deno 2 implements node:zlib, so one implementation
 * serves both runtimes. The output is capped at the size the caller expects, so a crafted entry
 * cannot make the host inflate more than its header declared.
 */
import { inflateRawSync } from "node:zlib";

/**
 * The bytes `data` inflates to, which must be exactly `expectedBytes` long; throws an Error
 * saying what went wrong (corrupt data, longer or shorter than expected) otherwise.
 *
 * @example
 * ```ts
 * inflateRaw(new Uint8Array([0x03, 0x00]), 0); // Uint8Array(0)
 * ```
 */
export function inflateRaw(data: Uint8Array, expectedBytes: number): Uint8Array {
  let out: Uint8Array;
  try {
    // One byte of room beyond the declared size: a longer stream shows as too long, not as cut.
    out = inflateRawSync(data, { maxOutputLength: Math.max(1, expectedBytes + 1) });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (/maxOutputLength|buffer/i.test(why)) throw new Error(`inflates to more than ${expectedBytes} bytes`);
    throw new Error(`corrupt deflate data (${why})`);
  }
  if (out.length !== expectedBytes) {
    throw new Error(`inflates to ${out.length > expectedBytes ? "more" : out.length} bytes, expected ${expectedBytes}`);
  }
  return out;
}
