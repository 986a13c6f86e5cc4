/**
 * The state every syscall family shares (open descriptors, the filesystem, guest memory, clocks,
 * the per-run streams) and the helpers they have in common: descriptor lookup, path decoding and
 * resolution, iovec reading, stat records, clocks. One object per host; the families in this
 * folder are plain maps of functions that take it as their first argument.
 */
import { ALL_RIGHTS, Clockid, Errno, Filetype, Fstflags } from "../constants.ts";
import { FsError, type MemFs } from "../memfs.ts";
import type { DirNode, FileNode, FsNode } from "../memfs.ts";
import { Fault, GuestMemory } from "../memory.ts";
import { FUEL_PER_PATH, fuelForBytes } from "../cost.ts";
import { RandomPool } from "../random-pool.ts";

/**
 * A stdin read as the guest consumes it (the sandbox's lazy stdin). `read` fills `into` and returns
 * how many bytes it copied: fewer than asked only at the end of stdin (0 once there), or when the
 * source paused with some bytes delivered; it may throw FsError (e.g. EFBIG past the stdin cap).
 * `available` says how many bytes are there now; `readable` waits up to `timeoutMs` (Infinity: no
 * limit but the run's) until a read would not block, i.e. bytes are there or stdin ended.
 */
export interface StdinSource {
  read(into: Uint8Array): number;
  available(): number;
  readable(timeoutMs: number): boolean;
}

/** Bytes a read of stdin would return without waiting (poll_oneoff's nbytes). */
export function stdinAvailable(stdin: Uint8Array | StdinSource, pos: number): number {
  return stdin instanceof Uint8Array ? stdin.length - pos : stdin.available();
}

/** What a WasiHost is made from; the per-run parts can be replaced later with `bindRun`. */
export interface WasiHostOptions {
  args: readonly string[];
  /** "NAME=value" strings, exactly what the guest sees. */
  env: readonly string[];
  fs: MemFs;
  /** All of stdin, or a source read lazily as the guest asks (StdinSource). */
  stdin: Uint8Array | StdinSource;
  /** Receives each write to fd 1 / fd 2; must copy what it keeps before returning. */
  stdout: (bytes: Uint8Array) => void;
  stderr: (bytes: Uint8Array) => void;
  /** Blocks the calling thread for up to `ms` milliseconds (the worker uses Atomics.wait). */
  sleep: (ms: number) => void;
  /** Called on entry to every syscall (used to sample the fuel counter). */
  onSyscall?: () => void;
  monotonicNs?: () => bigint;
  realtimeNs?: () => bigint;
  randomFill?: (buf: Uint8Array) => void;
  /**
   * Takes `units` of fuel for host work (see ../cost.ts); throws HostFuelExhausted when the
   * counter goes below zero. Absent for an unmetered guest.
   */
  chargeFuel?: (units: number) => void;
}

/** The options a worker supplies per run (see WasiHost.bindRun). */
export type RunBinding = Pick<
  WasiHostOptions,
  "args" | "env" | "stdin" | "stdout" | "stderr" | "sleep" | "onSyscall" | "chargeFuel"
>;

export type StreamFd = { kind: "stdin"; pos: number } | { kind: "stdout" } | { kind: "stderr" };
export interface FileFd {
  kind: "file";
  node: FileNode;
  pos: number;
  rights: bigint;
  inheriting: bigint;
  flags: number;
}
export interface DirFd {
  kind: "dir";
  /** The directory itself: where it is now decides what `..` and relative paths name. */
  node: DirNode;
  rights: bigint;
  inheriting: bigint;
  preopen?: string;
}
export type Fd = StreamFd | FileFd | DirFd;

/** One syscall: the shared context, then the guest's arguments; returns an errno or nothing (success). */
export type Syscall = (h: HostContext, ...args: never[]) => number | void;
/** A family of syscalls by WASI name. */
export type SyscallTable = Readonly<Record<string, Syscall>>;

/** Open descriptors a guest may hold at once (EMFILE beyond). */
export const MAX_FDS = 1024;
/** Longest path a guest may pass, in bytes (ENAMETOOLONG beyond). */
const MAX_PATH_BYTES = 4096;
/** Size of a WASI filestat record. */
export const FILESTAT_BYTES = 64;

/** The guest's monotonic clock reads this (1 s) when main() begins. */
export const MONOTONIC_EPOCH_NS = 1_000_000_000n;

// ignoreBOM: a leading U+FEFF is part of the name the guest passed, not a marker to strip.
const pathDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
export const encoder = new TextEncoder();

/** Ends a syscall with `errno` (the host's guard turns the FsError into the return value). */
export function fail(errno: number): never {
  throw new FsError(errno);
}

/** A guest's 64-bit file offset or size as a JS number; EINVAL when negative or beyond 2^53. */
export function offset(v: bigint): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.INVAL);
  return Number(v);
}

function defaultMonotonicNs(): bigint {
  return BigInt(Math.round(performance.now() * 1e6));
}
function defaultRealtimeNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}
function nulTerminated(list: readonly string[]): Uint8Array[] {
  return list.map((s) => encoder.encode(s + "\0"));
}

export class HostContext {
  private mem: GuestMemory | undefined;
  readonly fds = new Map<number, Fd>();
  readonly fs: MemFs;
  readonly monotonicNs: () => bigint;
  readonly realtimeNs: () => bigint;
  readonly randomFill: (buf: Uint8Array) => void;
  /**
   * When the guest made its first syscall other than a clock or environment read, i.e. when main()
   * began.
   * Until then the monotonic clock reads exactly MONOTONIC_EPOCH_NS: the static constructors
   * (mimalloc seeds its allocator randomisation from this clock) see the same value on every run,
   * so the same program spends the same fuel. From then on the clock advances in real time.
   */
  mainStartNs: bigint | undefined;
  argBytes: Uint8Array[];
  envBytes: Uint8Array[];

  constructor(public opts: WasiHostOptions) {
    this.fs = opts.fs;
    this.fs.onWork = (bytes) => this.charge(fuelForBytes(bytes));
    this.monotonicNs = opts.monotonicNs ?? defaultMonotonicNs;
    this.realtimeNs = opts.realtimeNs ?? defaultRealtimeNs;
    if (opts.randomFill !== undefined) {
      this.randomFill = opts.randomFill;
    } else {
      const pool = new RandomPool();
      this.randomFill = (buf) => pool.fill(buf);
    }
    this.argBytes = nulTerminated(opts.args);
    this.envBytes = nulTerminated(opts.env);
    this.fds.set(0, { kind: "stdin", pos: 0 });
    this.fds.set(1, { kind: "stdout" });
    this.fds.set(2, { kind: "stderr" });
    this.fds.set(3, { kind: "dir", node: this.fs.root, rights: ALL_RIGHTS, inheriting: ALL_RIGHTS, preopen: "/" });
  }

  bindRun(run: RunBinding): void {
    this.opts = { ...this.opts, ...run };
    this.argBytes = nulTerminated(run.args);
    this.envBytes = nulTerminated(run.env);
  }

  /** Takes fuel for host work (nothing for an unmetered guest); may throw HostFuelExhausted. */
  charge(units: number): void {
    if (units > 0) this.opts.chargeFuel?.(units);
  }

  setMemory(memory: WebAssembly.Memory): void {
    this.mem = new GuestMemory(memory);
  }

  /** The guest's memory, bounds-checked. */
  get m(): GuestMemory {
    if (this.mem === undefined) throw new Error("WASI host used before its memory was attached");
    return this.mem;
  }

  fd(n: number): Fd {
    const fd = this.fds.get(n >>> 0);
    if (fd === undefined) fail(Errno.BADF);
    return fd;
  }

  dirFd(n: number): DirFd {
    const fd = this.fd(n);
    if (fd.kind !== "dir") fail(Errno.NOTDIR);
    return fd;
  }

  path(ptr: number, len: number): string {
    if (len >>> 0 > MAX_PATH_BYTES) fail(Errno.NAMETOOLONG);
    this.charge(FUEL_PER_PATH + fuelForBytes(len >>> 0));
    try {
      return pathDecoder.decode(this.m.bytes(ptr, len).slice());
    } catch (e) {
      if (e instanceof Fault) throw e;
      fail(Errno.ILSEQ);
    }
  }

  resolveAt(dirfd: number, ptr: number, len: number) {
    const dir = this.dirFd(dirfd);
    const path = this.path(ptr, len);
    if (path.startsWith("/")) fail(Errno.NOTCAPABLE); // wasi-libc always sends preopen-relative paths
    return this.fs.resolve(dir.node, path);
  }

  allocFd(entry: Fd): number {
    if (this.fds.size >= MAX_FDS) fail(Errno.MFILE);
    let n = 0;
    while (this.fds.has(n)) n++;
    this.fds.set(n, entry);
    return n;
  }

  release(fd: Fd): void {
    if (fd.kind === "file") this.fs.closeFile(fd.node);
  }

  filestat(ptr: number, node: FsNode | "stream"): void {
    const m = this.m;
    m.check(ptr, FILESTAT_BYTES);
    m.bytes(ptr, FILESTAT_BYTES).fill(0);
    if (node === "stream") {
      m.setU8(ptr + 16, Filetype.CHARACTER_DEVICE);
      m.setU64(ptr + 24, 1n);
      return;
    }
    m.setU64(ptr + 0, 1n); // one device for the whole tree
    m.setU64(ptr + 8, node.ino);
    m.setU8(ptr + 16, node.kind === "dir" ? Filetype.DIRECTORY : Filetype.REGULAR_FILE);
    m.setU64(ptr + 24, 1n);
    m.setU64(ptr + 32, BigInt(node.kind === "dir" ? 4096 : node.size));
    m.setU64(ptr + 40, node.atimNs);
    m.setU64(ptr + 48, node.mtimNs);
    m.setU64(ptr + 56, node.ctimNs);
  }

  /** Nanoseconds since main() began (0 before). */
  sinceMain(): bigint {
    return this.mainStartNs === undefined ? 0n : this.monotonicNs() - this.mainStartNs;
  }

  clockNow(id: number): bigint {
    switch (id) {
      case Clockid.REALTIME:
        return this.realtimeNs();
      case Clockid.MONOTONIC:
        return MONOTONIC_EPOCH_NS + this.sinceMain();
      case Clockid.PROCESS_CPUTIME_ID:
      case Clockid.THREAD_CPUTIME_ID:
        return this.sinceMain();
      default:
        fail(Errno.INVAL);
    }
  }

  setTimes(node: FsNode, atim: bigint, mtim: bigint, flags: number): void {
    if ((flags & Fstflags.ATIM && flags & Fstflags.ATIM_NOW) || (flags & Fstflags.MTIM && flags & Fstflags.MTIM_NOW)) {
      fail(Errno.INVAL);
    }
    if (!node.writable) fail(Errno.ROFS);
    const now = this.realtimeNs();
    if (flags & Fstflags.ATIM) node.atimNs = atim;
    if (flags & Fstflags.ATIM_NOW) node.atimNs = now;
    if (flags & Fstflags.MTIM) node.mtimNs = mtim;
    if (flags & Fstflags.MTIM_NOW) node.mtimNs = now;
  }
}
