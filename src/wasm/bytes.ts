/**
 * The byte layer of the WebAssembly binary format: LEB128 numbers, length-prefixed names
 * and a growable output buffer. Kept apart from the module layout (binary.ts) because the
 * metering rewrite walks every byte of a ~10 MB interpreter at build time through these
 * two classes alone, so they stay pure and allocation-light.
 */

/**
 * Thrown for malformed or unsupported input; the message is meant for a human.
 *
 * @example
 * ```ts
 * try {
 *   new ByteReader(new Uint8Array([0x80])).u32();
 * } catch (e) {
 *   if (e instanceof WasmFormatError) console.error(e.message); // unexpected end of data in LEB128 ...
 * }
 * ```
 */
export class WasmFormatError extends Error {
  override name = "WasmFormatError";
}

/**
 * A cursor over a byte array. Methods throw WasmFormatError past the end.
 *
 * @example
 * ```ts
 * const r = new ByteReader(new Uint8Array([0xe5, 0x8e, 0x26]));
 * r.u32(); // 624485
 * r.atEnd; // true
 * ```
 */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    readonly end = bytes.length,
  ) {
    this.pos = pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string, at = this.pos): never {
    throw new WasmFormatError(`${message} (at byte offset ${at})`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("unexpected end of data");
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    const bytes = this.bytes;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of data in LEB128");
      const b = bytes[this.pos++]!;
      if (i === 4 && (b & 0xf0) !== 0) this.fail("u32 LEB128 out of range", this.pos - 1);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail("u32 LEB128 too long");
  }

  /** Signed LEB128 of at most 32 bits (also used for i32.const). */
  s32(): number {
    return this.signed(32);
  }

  /** Signed LEB128 of at most 33 bits (block types). */
  s33(): number {
    return this.signed(33);
  }

  /** Signed LEB128 of up to 64 bits, as a bigint (rare: only where the value is needed). */
  s64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      if (i === 9) {
        // The 10th byte holds bit 63 only; the rest must be its sign extension.
        if (b !== 0x00 && b !== 0x7f) this.fail("s64 LEB128 out of range", this.pos - 1);
      }
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 1n << shift;
        return BigInt.asIntN(64, result);
      }
    }
    return this.fail("s64 LEB128 too long");
  }

  /** Advances over a signed or unsigned LEB128 of at most `maxBytes` bytes without decoding it. */
  skipLeb(maxBytes: number): void {
    const bytes = this.bytes;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of data in LEB128");
      if ((bytes[this.pos++]! & 0x80) === 0) return;
    }
    this.fail("LEB128 too long");
  }

  /** Signed LEB128 of at most `bits` (<= 33) bits, as a number. */
  private signed(bits: number): number {
    const bytes = this.bytes;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0;
    let shift = 0;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of data in LEB128");
      const b = bytes[this.pos++]!;
      if (i === maxBytes - 1) {
        // Unused high bits of the last byte must equal the sign bit.
        const used = bits - 7 * i; // bits carried by this byte
        const rest = (b & 0x7f) >> (used - 1); // sign bit and everything above it
        const allowed = rest === 0 || rest === 0x7f >> (used - 1);
        if (!allowed || (b & 0x80) !== 0) this.fail(`s${bits} LEB128 out of range`, this.pos - 1);
      }
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 2 ** shift;
        return result;
      }
    }
    return this.fail(`s${bits} LEB128 too long`);
  }

  /** A length-prefixed UTF-8 name. */
  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) this.fail("name runs past the end");
    const s = utf8Decoder.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * An append-only byte buffer that doubles its capacity as needed.
 *
 * @example
 * ```ts
 * const w = new ByteWriter();
 * w.u32(624485);
 * w.name("env");
 * w.toBytes(); // Uint8Array [0xe5, 0x8e, 0x26, 3, 0x65, 0x6e, 0x76]
 * ```
 */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;
  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): void {
    if (this.length >= this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    this.buf.set(src.subarray(start, end), this.length);
    this.length += n;
  }

  u32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${value}`);
    }
    this.reserve(5);
    const buf = this.buf;
    let v = value;
    for (;;) {
      const b = v % 128;
      v = Math.floor(v / 128);
      if (v === 0) {
        buf[this.length++] = b;
        return;
      }
      buf[this.length++] = b | 0x80;
    }
  }

  /** Signed LEB128 of a safe integer (covers s32 and s33). */
  sLeb(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    this.reserve(10);
    const buf = this.buf;
    let v = value;
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      if (done) {
        buf[this.length++] = b;
        return;
      }
      buf[this.length++] = b | 0x80;
    }
  }

  s64(value: bigint): void {
    let v = BigInt.asIntN(64, value);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      if (done) {
        this.u8(b);
        return;
      }
      this.u8(b | 0x80);
    }
  }

  name(s: string): void {
    const encoded = utf8Encoder.encode(s);
    this.u32(encoded.length);
    this.bytes(encoded);
  }

  /** Appends `u32 length` then the contents of another writer. */
  sized(other: ByteWriter): void {
    this.u32(other.length);
    this.bytes(other.buf, 0, other.length);
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Encodes a u32 as LEB128 bytes (for tests and small constants).
 *
 * @example
 * ```ts
 * encodeU32(128); // Uint8Array [0x80, 0x01]
 * ```
 */
export function encodeU32(value: number): Uint8Array {
  const w = new ByteWriter(8);
  w.u32(value);
  return w.toBytes();
}

/**
 * Encodes a signed integer as LEB128 bytes.
 *
 * @example
 * ```ts
 * encodeS64(-1n); // Uint8Array [0x7f]
 * ```
 */
export function encodeS64(value: bigint): Uint8Array {
  const w = new ByteWriter(16);
  w.s64(value);
  return w.toBytes();
}
