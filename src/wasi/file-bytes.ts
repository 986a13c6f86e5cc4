/**
 * How a /tmp file's bytes are stored, so that the memory the host holds for them follows the file
 * (issue 11). A plain Uint8Array can only be replaced, and a replaced buffer is garbage until the
 * engine collects it: a loop of truncate(8 MiB)/truncate(0) left hundreds of MiB of garbage on Deno
 * (glibc serves such buffers from its heap, touched and kept). So:
 * - small files (up to SMALL_FILE_BYTES) use plain buffers whose capacity doubles (cheap appends);
 * - larger ones use a resizable ArrayBuffer (ES2024) resized in place to the exact size: growing
 *   commits zeroed pages, shrinking gives pages back to the system at once, with no garbage.
 *   Its reservation (maxByteLength, address space only) stays within RESERVE_FACTOR × size (at
 *   least MIN_RESERVE_BYTES, at most the quota): outgrowing it, or shrinking far below it, moves
 *   the bytes to a buffer of the right reservation.
 * Every plan says its capacity (what the quota counts) and its work in bytes (what fuel pays) before
 * anything is allocated, so the caller can refuse it first.
 */

/** Files up to this size live in plain buffers. */
export const SMALL_FILE_BYTES = 64 * 1024;
/** Smallest capacity a growing plain buffer gets (small appends then do not reallocate each time). */
const MIN_CAPACITY_BYTES = 64;
/** A resizable buffer reserves this many times the size it is made for… */
const RESERVE_FACTOR = 4;
/** …at least this much… */
const MIN_RESERVE_BYTES = 1024 * 1024;
/** …and is replaced when the file shrinks below 1/SHRINK_FACTOR of its reservation. */
const SHRINK_FACTOR = 16;

/**
 * Work, in bytes copied (what fuel counts at 8 bytes a unit), of giving the system's pages to a
 * buffer or taking them back, per byte: allocating a buffer, or resizing a resizable one, makes the
 * kernel map, zero and later unmap pages (measured on Node 20/24 and Deno: ~30 ms of CPU to grow a
 * resizable buffer by 8 MiB and shrink it back, ~4 ns a byte, against ~0.1 ns a byte for a copy),
 * and the engine collect what was dropped. At 4 fuel units a byte an 8 MiB ftruncate loop still cost
 * the host ~1 ns of CPU per unit, 5-6x a Python loop (bench hostcost, Node, load 8): 8 units a byte.
 */
export const PAGE_WORK_PER_BYTE = 64;
/**
 * Fixed work of each allocation or resize, in bytes copied (131,072 fuel units): the calls into the
 * kernel and the engine's bookkeeping (~20 µs per resize of a resizable buffer, however small): at
 * 0.12-0.18 ns of host CPU per unit of a Python loop, ~130,000 units. (It was 32,768: a loop of 1-byte
 * appends to a file past SMALL_FILE_BYTES, one resize each, bought 4-5x a loop's host CPU per unit.)
 */
export const PAGE_WORK_PER_CALL = 1024 * 1024;

/** The work of allocating, committing or releasing `bytes` of buffer pages in one call. */
function pageWork(bytes: number): number {
  return PAGE_WORK_PER_CALL + bytes * PAGE_WORK_PER_BYTE;
}

/** ES2024 resizable ArrayBuffer (tsconfig's lib is ES2023). */
interface ResizableBuffer extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
const ResizableArrayBuffer = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ResizableBuffer;

function resizable(data: Uint8Array): ResizableBuffer | undefined {
  const b = data.buffer as ResizableBuffer;
  return b.resizable === true ? b : undefined;
}

/** What changing a file's size will do. */
export interface SizePlan {
  /** Bytes held afterwards (the quota's count). */
  capacity: number;
  /**
   * The fuel's count, in bytes copied: bytes zero-filled or copied, plus pages allocated, committed
   * or released, weighted by what they cost (pageWork).
   */
  workBytes: number;
  /** Does it; returns the file's new array (possibly the same one). */
  apply: () => Uint8Array;
}

/**
 * Plans resizing `data` (holding `fileSize` meaningful bytes) to `size`, with at most `reachable`
 * bytes held. Returns undefined when `size` itself does not fit.
 *
 * @example
 * const plan = planSize(new Uint8Array(0), 0, 100, 1 << 20)!;
 * plan.capacity; // 100
 * plan.apply().length; // 100
 */
export function planSize(data: Uint8Array, fileSize: number, size: number, reachable: number): SizePlan | undefined {
  if (size > reachable) return undefined;
  const keep = Math.min(fileSize, size);
  const big = resizable(data);
  if (size > SMALL_FILE_BYTES) {
    const fits = big !== undefined && size <= big.maxByteLength && size * SHRINK_FACTOR >= big.maxByteLength;
    if (fits) {
      return {
        capacity: size,
        workBytes: size === data.length ? 0 : pageWork(Math.abs(size - data.length)),
        apply: () => {
          big.resize(size);
          return data;
        },
      };
    }
    const reserve = Math.min(reachable, Math.max(MIN_RESERVE_BYTES, size * RESERVE_FACTOR));
    return {
      capacity: size,
      workBytes: pageWork(size) + keep + released(big),
      apply: () => {
        const buffer = new ResizableArrayBuffer(size, { maxByteLength: reserve });
        return copyInto(new Uint8Array(buffer), data, keep);
      },
    };
  }
  if (big !== undefined || size > data.length || size * 2 < data.length) {
    const grow = size > data.length && big === undefined;
    const capacity = grow
      ? Math.min(Math.max(size, data.length * 2, MIN_CAPACITY_BYTES), SMALL_FILE_BYTES, reachable)
      : size;
    return {
      capacity,
      workBytes: pageWork(capacity) + keep + released(big),
      apply: () => copyInto(new Uint8Array(capacity), data, keep),
    };
  }
  // Shrinking within the same plain buffer: the cut must read as zeros if the file grows again.
  return {
    capacity: data.length,
    workBytes: Math.max(0, fileSize - size),
    apply: () => data.fill(0, size, Math.max(size, fileSize)),
  };
}

/** The work of giving back a resizable buffer's pages (copyInto does it), 0 for a plain buffer. */
function released(big: ResizableBuffer | undefined): number {
  return big === undefined || big.byteLength === 0 ? 0 : pageWork(big.byteLength);
}

/**
 * Whether growing a file from `fileSize` to `size` bytes needs no plan: a plain buffer with room,
 * whose bytes past the file's end are already zero (writes and appends take this path).
 */
export function growsInPlace(data: Uint8Array, fileSize: number, size: number): boolean {
  return size >= fileSize && size <= data.length && resizable(data) === undefined;
}

/** Copies the kept bytes over; an old resizable buffer gives its pages back now, not at the next GC. */
function copyInto(next: Uint8Array, data: Uint8Array, keep: number): Uint8Array {
  next.set(data.subarray(0, keep));
  resizable(data)?.resize(0);
  return next;
}
