/**
 * Lazy stdin: the guest reads stdin as it consumes it, instead of the host reading all of stdin
 * before the program starts. A program that never reads stdin never waits for it, an endless
 * producer (`yes | wasi-py 'input()'`) is fine, and the stdin cap counts only what the program
 * actually read.
 *
 * How: a SharedArrayBuffer ring between the pool (main thread) and the worker. The worker's
 * fd_read, finding the ring empty, bumps the WANT cell and blocks (Atomics.wait) on the SEQ cell;
 * the pool's pump, waiting on WANT with Atomics.waitAsync, pulls one chunk from the source, copies
 * it into the ring, bumps SEQ and wakes the worker. Only the pump writes WRITTEN/STATE/SEQ/PAUSED,
 * only the worker writes READ/WANT. The worker's waits end at the run's deadline.
 *
 * Fuel must not depend on how the source's chunks arrive (a file gives 64 KiB chunks, a slow
 * producer a few bytes at a time), since every read call costs the guest fuel. So a read fills
 * the whole buffer it was given, as a read of a bytes stdin does, and returns fewer bytes only at
 * the end of stdin, on an error, or when the source pauses: it has delivered nothing for
 * STDIN_PAUSE_MS although the pump's thread was free to take it (a terminal waiting for the next
 * line, a producer waiting for the program's answer). Only pauses can change a program's reads.
 */
import { Errno } from "../wasi/constants.ts";
import { FsError } from "../wasi/memfs.ts";
import type { StdinSource } from "../wasi/syscalls/context.ts";

/** The ring's header cells (Int32) and data size. */
export const STDIN_RING = Object.freeze({
  /** Total bytes the pump has put in the ring. */
  written: 0,
  /** Total bytes the worker has taken out. */
  read: 1,
  /** OPEN, END, OVER_CAP or FAILED. */
  state: 2,
  /** Bumped by the worker each time it finds the ring empty and waits. */
  want: 3,
  /** Bumped by the pump after every write or state change; the worker waits on it. */
  seq: 4,
  /** 1 while the source has paused (see STDIN_PAUSE_MS), 0 otherwise. */
  paused: 5,
  headerBytes: 32,
  dataBytes: 64 * 1024,
});

/** STATE values. */
export const STDIN_STATE = Object.freeze({ open: 0, end: 1, overCap: 2, failed: 3 });

/**
 * A source that has delivered nothing for this long, while the pump's thread was free to take its
 * bytes, has paused: a read holding some bytes returns them instead of waiting to fill its buffer.
 */
export const STDIN_PAUSE_MS = 50;

/**
 * Blocks the worker while `cell[index]` holds `value`, at most `timeoutMs` (Infinity: no limit but
 * the run's deadline, where it throws to end the run). The worker's implementation marks the
 * time as spent in a host call (run-clock.ts).
 */
export type HostWait = (cell: Int32Array, index: number, value: number, timeoutMs: number) => void;

/**
 * A fresh ring for one run.
 *
 * @example
 * const ring = createStdinRing(); // give it to the worker in the run message
 */
export function createStdinRing(): SharedArrayBuffer {
  return new SharedArrayBuffer(STDIN_RING.headerBytes + STDIN_RING.dataBytes);
}

/**
 * The worker's side: a blocking StdinSource over the ring, for the WASI host's fd_read and
 * poll_oneoff. Reading past the cap fails with EFBIG (Python: `OSError: [Errno 27] File too
 * large`), a failed source with EIO: the program learns its input was cut, nothing is dropped
 * silently.
 *
 * @example
 * host.bindRun({ ...binding, stdin: ringReader(msg.stdinRing, wait) });
 */
export function ringReader(ring: SharedArrayBuffer, wait: HostWait): StdinSource {
  const h = new Int32Array(ring, 0, STDIN_RING.headerBytes / 4);
  const data = new Uint8Array(ring, STDIN_RING.headerBytes, STDIN_RING.dataBytes);
  const size = STDIN_RING.dataBytes;
  const available = () => Atomics.load(h, STDIN_RING.written) - Atomics.load(h, STDIN_RING.read);
  /** Moves what the ring holds into `into` from `at`; returns the new fill. */
  const take = (into: Uint8Array, at: number): number => {
    let got = at;
    for (;;) {
      const read = Atomics.load(h, STDIN_RING.read);
      const n = Math.min(Atomics.load(h, STDIN_RING.written) - read, into.length - got, size - read % size);
      if (n <= 0) return got;
      into.set(data.subarray(read % size, read % size + n), got);
      Atomics.store(h, STDIN_RING.read, read + n);
      got += n;
    }
  };
  /** Asks the pump for more and waits for its answer (or `timeoutMs`). */
  const askAndWait = (seq: number, timeoutMs: number) => {
    Atomics.add(h, STDIN_RING.want, 1);
    Atomics.notify(h, STDIN_RING.want);
    wait(h, STDIN_RING.seq, seq, timeoutMs);
  };
  return {
    available,
    read(into) {
      let got = 0;
      for (;;) {
        const seq = Atomics.load(h, STDIN_RING.seq);
        got = take(into, got);
        if (got === into.length) return got;
        const state = Atomics.load(h, STDIN_RING.state);
        if (state !== STDIN_STATE.open && got > 0) return got;
        if (state === STDIN_STATE.end) return 0;
        if (state === STDIN_STATE.overCap) throw new FsError(Errno.FBIG);
        if (state === STDIN_STATE.failed) throw new FsError(Errno.IO);
        if (got > 0 && Atomics.load(h, STDIN_RING.paused) === 1) return got;
        askAndWait(seq, Infinity);
      }
    },
    readable(timeoutMs) {
      const until = performance.now() + timeoutMs;
      // Asks the pump at least once, even with no time to wait: a polling loop sees bytes soon.
      for (let asked = false;; asked = true) {
        const seq = Atomics.load(h, STDIN_RING.seq);
        if (available() > 0 || Atomics.load(h, STDIN_RING.state) !== STDIN_STATE.open) return true;
        const left = Math.max(0, until - performance.now());
        if (asked && left === 0) return false;
        askAndWait(seq, left);
      }
    },
  };
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: boolean; value: Promise<string> | string };

/** Resolves once h[index] is no longer `value` (or on a stop's notify). Polls where waitAsync is missing. */
async function changed(h: Int32Array, index: number, value: number): Promise<void> {
  const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  if (waitAsync === undefined) {
    while (Atomics.load(h, index) === value) await new Promise((r) => setTimeout(r, 2));
    return;
  }
  const w = waitAsync(h, index, value);
  if (w.async) await w.value;
}

/**
 * The pool's side: fills the ring from `source` whenever the worker asks, until the source ends,
 * `capBytes` have been given, or `stop()` is called. The source's iterator is created at the
 * first request, so a program that never reads stdin never touches it.
 *
 * @example
 * const pump = new StdinPump(ring, process.stdin, 64 << 20);
 * void pump.run();
 * // ... when the run settles:
 * pump.stop();
 */
export class StdinPump {
  private stopped = false;
  private readonly h: Int32Array;
  private readonly data: Uint8Array;
  private iterator: AsyncIterator<Uint8Array> | undefined;
  private pending: Uint8Array | undefined;
  private given = 0;

  constructor(
    ring: SharedArrayBuffer,
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly capBytes: number,
  ) {
    this.h = new Int32Array(ring, 0, STDIN_RING.headerBytes / 4);
    this.data = new Uint8Array(ring, STDIN_RING.headerBytes, STDIN_RING.dataBytes);
  }

  /** Serves requests until the stdin ends or stop(); never rejects. */
  async run(): Promise<void> {
    let served = 0;
    while (!this.stopped) {
      await changed(this.h, STDIN_RING.want, served);
      if (this.stopped) return;
      served = Atomics.load(this.h, STDIN_RING.want);
      // A worker that stopped waiting (a pause, a poll's timeout) may ask again before the answer
      // lands: the ring is refilled only when empty, and the worker asks again once it is.
      if (Atomics.load(this.h, STDIN_RING.written) !== Atomics.load(this.h, STDIN_RING.read)) continue;
      const state = await this.refill();
      if (state !== STDIN_STATE.open) {
        this.publish(state);
        return;
      }
    }
  }

  /** Stops serving (the run ended); a pending source read is left to finish on its own. */
  stop(): void {
    this.stopped = true;
    Atomics.add(this.h, STDIN_RING.want, 1);
    Atomics.notify(this.h, STDIN_RING.want);
  }

  /** Puts the next chunk (at most the ring's size, at most up to the cap) into the empty ring. */
  private async refill(): Promise<number> {
    let chunk = this.pending;
    this.pending = undefined;
    while (chunk === undefined || chunk.length === 0) {
      try {
        this.iterator ??= this.source[Symbol.asyncIterator]();
        const next = await this.watchPause(this.iterator.next());
        if (next.done) return STDIN_STATE.end;
        chunk = typeof next.value === "string" ? new TextEncoder().encode(next.value) : next.value;
      } catch {
        return STDIN_STATE.failed;
      }
      if (this.stopped) return STDIN_STATE.open;
    }
    if (this.given >= this.capBytes) return STDIN_STATE.overCap;
    const n = Math.min(chunk.length, STDIN_RING.dataBytes, this.capBytes - this.given);
    if (n < chunk.length) this.pending = chunk.subarray(n);
    // The worker asks only when the ring is empty, so the write starts where it stopped reading.
    const written = Atomics.load(this.h, STDIN_RING.written);
    const at = written % STDIN_RING.dataBytes;
    const first = Math.min(n, STDIN_RING.dataBytes - at);
    this.data.set(chunk.subarray(0, first), at);
    this.data.set(chunk.subarray(first, n), 0);
    this.given += n;
    Atomics.store(this.h, STDIN_RING.written, written + n);
    this.publish(STDIN_STATE.open);
    return STDIN_STATE.open;
  }

  /**
   * Awaits the source's next chunk, flagging a pause if it takes STDIN_PAUSE_MS. A timer that
   * fires late means this thread was busy (its I/O may be waiting behind the timer): it is re-armed
   * instead, so a stalled main thread never makes a file's or a fast pipe's reads shorter.
   */
  private async watchPause<T>(next: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      const armedAt = performance.now();
      timer = setTimeout(() => {
        if (performance.now() - armedAt > STDIN_PAUSE_MS * 1.5) return arm();
        Atomics.store(this.h, STDIN_RING.paused, 1);
        this.publish(Atomics.load(this.h, STDIN_RING.state));
      }, STDIN_PAUSE_MS);
    };
    arm();
    try {
      return await next;
    } finally {
      clearTimeout(timer);
      Atomics.store(this.h, STDIN_RING.paused, 0);
    }
  }

  private publish(state: number): void {
    Atomics.store(this.h, STDIN_RING.state, state);
    Atomics.add(this.h, STDIN_RING.seq, 1);
    Atomics.notify(this.h, STDIN_RING.seq);
  }
}
