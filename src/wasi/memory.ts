/// <reference path="../platform/webassembly.d.ts" />
/**
 * Bounds-checked access to a guest's linear memory. Every pointer and length a guest passes goes
 * through here, so a bad pointer becomes EFAULT instead of a host exception.
 */

/** A guest pointer/length outside its memory; turned into EFAULT at the syscall boundary. */
export class Fault extends Error {
  override name = "Fault";
  constructor(ptr: number, len: number) {
    super(`guest range ${ptr}+${len} is outside memory`);
  }
}

export class GuestMemory {
  private buffer: ArrayBuffer | undefined;
  private view: DataView | undefined;
  private u8: Uint8Array | undefined;

  constructor(private readonly memory: WebAssembly.Memory) {}

  /** Re-reads the buffer: a memory.grow detaches the old one. */
  private refresh(): void {
    const b = this.memory.buffer as ArrayBuffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.view = new DataView(b);
      this.u8 = new Uint8Array(b);
    }
  }

  get size(): number {
    this.refresh();
    return this.u8!.length;
  }

  /** Throws Fault unless [ptr, ptr+len) lies inside memory. Arguments are taken as unsigned 32-bit. */
  check(ptr: number, len: number): void {
    this.refresh();
    const p = ptr >>> 0;
    const l = len >>> 0;
    if (p + l > this.u8!.length) throw new Fault(p, l);
  }

  /** A live view of guest bytes (valid until the next memory growth). */
  bytes(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    return this.u8!.subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0));
  }

  u8At(ptr: number): number {
    this.check(ptr, 1);
    return this.view!.getUint8(ptr >>> 0);
  }
  u16At(ptr: number): number {
    this.check(ptr, 2);
    return this.view!.getUint16(ptr >>> 0, true);
  }
  u32At(ptr: number): number {
    this.check(ptr, 4);
    return this.view!.getUint32(ptr >>> 0, true);
  }
  u64At(ptr: number): bigint {
    this.check(ptr, 8);
    return this.view!.getBigUint64(ptr >>> 0, true);
  }

  setU8(ptr: number, v: number): void {
    this.check(ptr, 1);
    this.view!.setUint8(ptr >>> 0, v);
  }
  setU16(ptr: number, v: number): void {
    this.check(ptr, 2);
    this.view!.setUint16(ptr >>> 0, v, true);
  }
  setU32(ptr: number, v: number): void {
    this.check(ptr, 4);
    this.view!.setUint32(ptr >>> 0, v >>> 0, true);
  }
  setU64(ptr: number, v: bigint): void {
    this.check(ptr, 8);
    this.view!.setBigUint64(ptr >>> 0, BigInt.asUintN(64, v), true);
  }

  /** Copies bytes into guest memory. */
  write(ptr: number, src: Uint8Array): void {
    this.check(ptr, src.length);
    this.u8!.set(src, ptr >>> 0);
  }
}
