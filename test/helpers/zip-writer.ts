/**
 * A minimal zip writer for tests (stored or deflated entries, no zip64), so the tests can make the
 * wheels they mount (and break them byte by byte) without a fixture file or a zip tool.
 */
import { deflateRawSync } from "node:zlib";
import { crc32 } from "../../src/packages/crc32.ts";

export interface ZipInput {
  name: string;
  data: Uint8Array | string;
  /** Default true (deflate); false stores the bytes. */
  deflate?: boolean;
  /** Unix mode for the external attributes (e.g. 0o120777 for a symlink). */
  mode?: number;
}

/** The bytes of a zip archive holding `entries`, in order. */
export function makeZip(entries: readonly ZipInput[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = typeof e.data === "string" ? enc.encode(e.data) : e.data;
    const name = enc.encode(e.name);
    const deflate = e.deflate ?? true;
    const body = deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const crc = crc32(data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true); // made by Unix
    cv.setUint16(6, 20, true);
    cv.setUint16(10, deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, ((e.mode ?? 0o100644) << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const dirBytes = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirBytes, true);
  ev.setUint32(16, offset, true);
  const parts = [...locals, ...centrals, end];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The WHEEL metadata file of a wheel with `tag`. */
export function wheelInfo(tag = "py3-none-any", purelib = true): string {
  return `Wheel-Version: 1.0\nGenerator: wasi-py tests\nRoot-Is-Purelib: ${purelib}\nTag: ${tag}\n`;
}
