/// <reference path="../platform/webassembly.d.ts" />
/**
 * Our WASI preview1 host: the syscalls CPython needs, over an in-memory filesystem, with every
 * pointer checked. We write our own instead of node:wasi (its preopens are real host folders) or
 * browser_wasi_shim (its read-only flag did not stop writes): what the guest can reach is exactly
 * what this file implements, and anything else answers ENOSYS.
 */
import {
  ALL_RIGHTS,
  Clockid,
  Errno,
  Eventtype,
  Fdflags,
  Filetype,
  Fstflags,
  Oflags,
  Rights,
  SUBCLOCKFLAGS_ABSTIME,
  Whence,
} from "./constants.ts";
import { FsError, MemFs } from "./memfs.ts";
import type { DirNode, FileNode, FsNode } from "./memfs.ts";
import { Fault, GuestMemory } from "./memory.ts";

/** Thrown by proc_exit to unwind the guest; the runner catches it and reads `code`. */
export class ExitSignal {
  constructor(readonly code: number) {}
}

export interface WasiHostOptions {
  args: readonly string[];
  /** "NAME=value" strings, exactly what the guest sees. */
  env: readonly string[];
  fs: MemFs;
  stdin: Uint8Array;
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
}

type StreamFd = { kind: "stdin"; pos: number } | { kind: "stdout" } | { kind: "stderr" };
interface FileFd {
  kind: "file";
  node: FileNode;
  pos: number;
  rights: bigint;
  inheriting: bigint;
  flags: number;
}
interface DirFd {
  kind: "dir";
  chain: DirNode[];
  rights: bigint;
  inheriting: bigint;
  preopen?: string;
}
type Fd = StreamFd | FileFd | DirFd;

export const MAX_FDS = 1024;
const MAX_IOVS = 1024;
const MAX_SUBSCRIPTIONS = 1024;

const STDIN_RIGHTS = Rights.FD_READ | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;
const STDOUT_RIGHTS = Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;
/**
 * wasi-libc's isatty() is "character device without seek/tell rights". Std streams advertise
 * FD_TELL (fd_tell itself still answers ESPIPE) so the guest never believes it has a terminal,
 * which keeps CPython from colouring tracebacks.
 */
const NOT_A_TTY = Rights.FD_TELL;

const WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_DATASYNC;

const pathDecoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function fail(errno: number): never {
  throw new FsError(errno);
}

function defaultMonotonicNs(): bigint {
  return BigInt(Math.round(performance.now() * 1e6));
}
function defaultRealtimeNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}
/** Web Crypto, present on Node 20+ and Deno (typed here: tsconfig's lib has no DOM types). */
const webCrypto = (globalThis as unknown as { crypto: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;

function defaultRandomFill(buf: Uint8Array): void {
  // getRandomValues fills at most 64 KiB per call.
  for (let i = 0; i < buf.length; i += 65536) {
    webCrypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)));
  }
}

/** The guest's monotonic clock reads this (1 s) when main() begins. */
export const MONOTONIC_EPOCH_NS = 1_000_000_000n;

/** The import module name of WASI preview1. */
export const WASI_MODULE = "wasi_snapshot_preview1";

export class WasiHost {
  private mem: GuestMemory | undefined;
  private readonly fds = new Map<number, Fd>();
  private readonly fs: MemFs;
  private readonly monotonicNs: () => bigint;
  private readonly realtimeNs: () => bigint;
  private readonly randomFill: (buf: Uint8Array) => void;
  /**
   * When the guest made its first syscall other than a clock or environment read, i.e. when main()
   * began.
   * Until then the monotonic clock reads exactly MONOTONIC_EPOCH_NS: the static constructors
   * (mimalloc seeds its allocator randomisation from this clock) see the same value on every run,
   * so the same program spends the same fuel. From then on the clock advances in real time.
   */
  private mainStartNs: bigint | undefined;
  private argBytes: Uint8Array[];
  private envBytes: Uint8Array[];

  constructor(private opts: WasiHostOptions) {
    this.fs = opts.fs;
    this.monotonicNs = opts.monotonicNs ?? defaultMonotonicNs;
    this.realtimeNs = opts.realtimeNs ?? defaultRealtimeNs;
    this.randomFill = opts.randomFill ?? defaultRandomFill;
    this.argBytes = opts.args.map((a) => encoder.encode(a + "\0"));
    this.envBytes = opts.env.map((e) => encoder.encode(e + "\0"));
    this.fds.set(0, { kind: "stdin", pos: 0 });
    this.fds.set(1, { kind: "stdout" });
    this.fds.set(2, { kind: "stderr" });
    this.fds.set(3, { kind: "dir", chain: [this.fs.root], rights: ALL_RIGHTS, inheriting: ALL_RIGHTS, preopen: "/" });
  }

  /**
   * Supplies the per-run parts to a host (and instance) made before the run was known, so that a
   * worker can instantiate the next evaluation while idle. Call before the guest starts.
   */
  bindRun(run: Pick<WasiHostOptions, "args" | "env" | "stdin" | "stdout" | "stderr" | "sleep" | "onSyscall">): void {
    this.opts = { ...this.opts, ...run };
    this.argBytes = run.args.map((a) => encoder.encode(a + "\0"));
    this.envBytes = run.env.map((e) => encoder.encode(e + "\0"));
  }

  /** Attaches the guest's memory (before instantiation for an imported memory, after for an exported one). */
  setMemory(memory: WebAssembly.Memory): void {
    this.mem = new GuestMemory(memory);
  }

  private get m(): GuestMemory {
    if (this.mem === undefined) throw new Error("WASI host used before its memory was attached");
    return this.mem;
  }

  /**
   * The import namespace for a module: our syscalls, plus an ENOSYS stub for any other function the
   * module imports from wasi_snapshot_preview1.
   */
  imports(
    moduleImports: readonly WebAssembly.ModuleImportDescriptor[] = [],
  ): Record<string, (...args: never[]) => unknown> {
    const impl = this.syscalls();
    const out: Record<string, (...args: never[]) => unknown> = {};
    for (const [name, fn] of Object.entries(impl)) out[name] = this.guard(name, fn);
    for (const imp of moduleImports) {
      if (imp.module === WASI_MODULE && imp.kind === "function" && !(imp.name in out)) {
        out[imp.name] = () => {
          this.opts.onSyscall?.();
          return Errno.NOSYS;
        };
      }
    }
    return out;
  }

  /** Turns host-side errors caused by the guest into errnos; proc_exit's signal passes through. */
  private guard(name: string, fn: (...args: never[]) => number | void): (...args: never[]) => unknown {
    // Static constructors read clocks and the environment (mimalloc reads MIMALLOC_* options);
    // any other call means main() has begun (wasi-libc calls args_sizes_get right before main).
    const beforeMain = name.startsWith("clock_") || name.startsWith("environ_");
    return (...args: never[]) => {
      this.opts.onSyscall?.();
      if (!beforeMain && this.mainStartNs === undefined) this.mainStartNs = this.monotonicNs();
      try {
        return fn(...args) ?? Errno.SUCCESS;
      } catch (e) {
        if (e instanceof FsError) return e.errno;
        if (e instanceof Fault) return Errno.FAULT;
        throw e;
      }
    };
  }

  // ---- helpers -------------------------------------------------------------------------------

  private fd(n: number): Fd {
    const fd = this.fds.get(n >>> 0);
    if (fd === undefined) fail(Errno.BADF);
    return fd;
  }

  private dirFd(n: number): DirFd {
    const fd = this.fd(n);
    if (fd.kind !== "dir") fail(Errno.NOTDIR);
    return fd;
  }

  private path(ptr: number, len: number): string {
    if (len >>> 0 > 4096) fail(Errno.NAMETOOLONG);
    try {
      return pathDecoder.decode(this.m.bytes(ptr, len).slice());
    } catch (e) {
      if (e instanceof Fault) throw e;
      fail(Errno.ILSEQ);
    }
  }

  private resolveAt(dirfd: number, ptr: number, len: number) {
    const dir = this.dirFd(dirfd);
    const path = this.path(ptr, len);
    if (path.startsWith("/")) fail(Errno.NOTCAPABLE); // wasi-libc always sends preopen-relative paths
    return this.fs.resolve(dir.chain, path);
  }

  /** Reads the iovec array (each {buf u32, len u32}), checking every buffer. */
  private iovecs(ptr: number, count: number): Uint8Array[] {
    const n = count >>> 0;
    if (n > MAX_IOVS) fail(Errno.INVAL);
    this.m.check(ptr, n * 8);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const buf = this.m.u32At(ptr + i * 8);
      const blen = this.m.u32At(ptr + i * 8 + 4);
      this.m.check(buf, blen);
      out.push(this.m.bytes(buf, blen));
    }
    return out;
  }

  private allocFd(entry: Fd): number {
    if (this.fds.size >= MAX_FDS) fail(Errno.MFILE);
    let n = 0;
    while (this.fds.has(n)) n++;
    this.fds.set(n, entry);
    return n;
  }

  private release(fd: Fd): void {
    if (fd.kind === "file") this.fs.closeFile(fd.node);
  }

  private filestat(ptr: number, node: FsNode | "stream"): void {
    this.m.check(ptr, 64);
    const b = this.m.bytes(ptr, 64);
    b.fill(0);
    if (node === "stream") {
      this.m.setU8(ptr + 16, Filetype.CHARACTER_DEVICE);
      this.m.setU64(ptr + 24, 1n);
      return;
    }
    this.m.setU64(ptr + 0, 1n); // one device for the whole tree
    this.m.setU64(ptr + 8, node.ino);
    this.m.setU8(ptr + 16, node.kind === "dir" ? Filetype.DIRECTORY : Filetype.REGULAR_FILE);
    this.m.setU64(ptr + 24, 1n);
    this.m.setU64(ptr + 32, BigInt(node.kind === "dir" ? 4096 : node.size));
    this.m.setU64(ptr + 40, node.atimNs);
    this.m.setU64(ptr + 48, node.mtimNs);
    this.m.setU64(ptr + 56, node.ctimNs);
  }

  /** Nanoseconds since main() began (0 before). */
  private sinceMain(): bigint {
    return this.mainStartNs === undefined ? 0n : this.monotonicNs() - this.mainStartNs;
  }

  private clockNow(id: number): bigint {
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

  private setTimes(node: FsNode, atim: bigint, mtim: bigint, flags: number): void {
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

  private readInto(fd: Fd, iovs: Uint8Array[], at: number | undefined): number {
    if (fd.kind === "stdin") {
      let total = 0;
      for (const iov of iovs) {
        const n = Math.min(iov.length, this.opts.stdin.length - fd.pos);
        if (n <= 0) break;
        iov.set(this.opts.stdin.subarray(fd.pos, fd.pos + n));
        fd.pos += n;
        total += n;
      }
      return total;
    }
    if (fd.kind === "dir") fail(Errno.ISDIR);
    if (fd.kind !== "file" || !(fd.rights & Rights.FD_READ)) fail(Errno.BADF);
    let pos = at ?? fd.pos;
    let total = 0;
    for (const iov of iovs) {
      const n = MemFs.readAt(fd.node, pos, iov);
      pos += n;
      total += n;
      if (n < iov.length) break;
    }
    if (at === undefined) fd.pos = pos;
    return total;
  }

  private writeFrom(fd: Fd, iovs: Uint8Array[], at: number | undefined): number {
    if (fd.kind === "stdout" || fd.kind === "stderr") {
      const sink = fd.kind === "stdout" ? this.opts.stdout : this.opts.stderr;
      let total = 0;
      for (const iov of iovs) {
        if (iov.length > 0) sink(iov);
        total += iov.length;
      }
      return total;
    }
    if (fd.kind === "dir") fail(Errno.ISDIR);
    if (fd.kind !== "file" || !(fd.rights & Rights.FD_WRITE)) fail(Errno.BADF);
    let pos = at ?? (fd.flags & Fdflags.APPEND ? fd.node.size : fd.pos);
    let total = 0;
    for (const iov of iovs) {
      let n: number;
      try {
        n = this.fs.writeAt(fd.node, pos, iov);
      } catch (e) {
        if (total > 0 && e instanceof FsError) break; // report the short write; ENOSPC comes next time
        throw e;
      }
      pos += n;
      total += n;
      if (n < iov.length) break;
    }
    if (at === undefined) fd.pos = pos;
    return total;
  }

  private static offset(v: bigint): number {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.INVAL);
    return Number(v);
  }

  // ---- the syscalls --------------------------------------------------------------------------

  private syscalls(): Record<string, (...args: never[]) => number | void> {
    const m = () => this.m;
    const strings = (list: Uint8Array[], ptrs: number, buf: number) => {
      let total = 0;
      for (const s of list) total += s.length;
      m().check(ptrs, list.length * 4);
      m().check(buf, total);
      let at = buf >>> 0;
      list.forEach((s, i) => {
        m().setU32(ptrs + i * 4, at);
        m().write(at, s);
        at += s.length;
      });
    };
    const sizes = (list: Uint8Array[], countPtr: number, sizePtr: number) => {
      m().check(countPtr, 4);
      m().check(sizePtr, 4);
      m().setU32(countPtr, list.length);
      m().setU32(sizePtr, list.reduce((a, s) => a + s.length, 0));
    };

    return {
      args_get: (argv: number, buf: number) => strings(this.argBytes, argv, buf),
      args_sizes_get: (c: number, s: number) => sizes(this.argBytes, c, s),
      environ_get: (envp: number, buf: number) => strings(this.envBytes, envp, buf),
      environ_sizes_get: (c: number, s: number) => sizes(this.envBytes, c, s),

      clock_res_get: (id: number, ptr: number) => {
        this.clockNow(id);
        m().setU64(ptr, 1000n);
      },
      clock_time_get: (id: number, _precision: bigint, ptr: number) => {
        m().check(ptr, 8);
        m().setU64(ptr, this.clockNow(id));
      },

      random_get: (ptr: number, len: number) => {
        this.randomFill(m().bytes(ptr, len));
      },

      sched_yield: () => {},

      proc_exit: (code: number) => {
        throw new ExitSignal(code >>> 0);
      },

      fd_close: (n: number) => {
        const fd = this.fd(n);
        this.fds.delete(n >>> 0);
        this.release(fd);
      },

      fd_renumber: (from: number, to: number) => {
        const src = this.fd(from);
        const dst = this.fd(to);
        if (from >>> 0 === to >>> 0) return;
        this.release(dst);
        this.fds.set(to >>> 0, src);
        this.fds.delete(from >>> 0);
      },

      fd_fdstat_get: (n: number, ptr: number) => {
        const fd = this.fd(n);
        m().check(ptr, 24);
        m().bytes(ptr, 24).fill(0);
        let type: number, flags = 0, base: bigint, inheriting = 0n;
        switch (fd.kind) {
          case "stdin":
            type = Filetype.CHARACTER_DEVICE;
            base = STDIN_RIGHTS | NOT_A_TTY;
            break;
          case "stdout":
          case "stderr":
            type = Filetype.CHARACTER_DEVICE;
            base = STDOUT_RIGHTS | NOT_A_TTY;
            flags = Fdflags.APPEND;
            break;
          case "file":
            type = Filetype.REGULAR_FILE;
            base = fd.rights;
            inheriting = fd.inheriting;
            flags = fd.flags;
            break;
          case "dir":
            type = Filetype.DIRECTORY;
            base = fd.rights;
            inheriting = fd.inheriting;
            break;
        }
        m().setU8(ptr, type);
        m().setU16(ptr + 2, flags);
        m().setU64(ptr + 8, base);
        m().setU64(ptr + 16, inheriting);
      },

      fd_fdstat_set_flags: (n: number, flags: number) => {
        const fd = this.fd(n);
        if (fd.kind === "file") fd.flags = flags & 0xffff;
      },

      fd_filestat_get: (n: number, ptr: number) => {
        const fd = this.fd(n);
        if (fd.kind === "file") this.filestat(ptr, fd.node);
        else if (fd.kind === "dir") this.filestat(ptr, fd.chain[fd.chain.length - 1]!);
        else this.filestat(ptr, "stream");
      },

      fd_filestat_set_size: (n: number, size: bigint) => {
        const fd = this.fd(n);
        if (fd.kind === "dir") fail(Errno.ISDIR);
        if (fd.kind !== "file" || !(fd.rights & Rights.FD_FILESTAT_SET_SIZE)) fail(Errno.BADF);
        this.fs.setSize(fd.node, WasiHost.offset(size));
      },

      fd_filestat_set_times: (n: number, atim: bigint, mtim: bigint, flags: number) => {
        const fd = this.fd(n);
        if (fd.kind === "file") this.setTimes(fd.node, atim, mtim, flags);
        else if (fd.kind === "dir") this.setTimes(fd.chain[fd.chain.length - 1]!, atim, mtim, flags);
        else fail(Errno.BADF);
      },

      fd_read: (n: number, iovs: number, count: number, nread: number) => {
        const fd = this.fd(n);
        const bufs = this.iovecs(iovs, count);
        m().check(nread, 4);
        m().setU32(nread, this.readInto(fd, bufs, undefined));
      },

      fd_pread: (n: number, iovs: number, count: number, offset: bigint, nread: number) => {
        const fd = this.fd(n);
        if (fd.kind !== "file") fail(fd.kind === "dir" ? Errno.ISDIR : Errno.SPIPE);
        const bufs = this.iovecs(iovs, count);
        m().check(nread, 4);
        m().setU32(nread, this.readInto(fd, bufs, WasiHost.offset(offset)));
      },

      fd_write: (n: number, iovs: number, count: number, nwritten: number) => {
        const fd = this.fd(n);
        const bufs = this.iovecs(iovs, count);
        m().check(nwritten, 4);
        m().setU32(nwritten, this.writeFrom(fd, bufs, undefined));
      },

      fd_pwrite: (n: number, iovs: number, count: number, offset: bigint, nwritten: number) => {
        const fd = this.fd(n);
        if (fd.kind !== "file") fail(fd.kind === "dir" ? Errno.ISDIR : Errno.SPIPE);
        const bufs = this.iovecs(iovs, count);
        m().check(nwritten, 4);
        m().setU32(nwritten, this.writeFrom(fd, bufs, WasiHost.offset(offset)));
      },

      fd_seek: (n: number, offset: bigint, whence: number, ptr: number) => {
        const fd = this.fd(n);
        if (fd.kind === "dir") fail(Errno.ISDIR);
        if (fd.kind !== "file") fail(Errno.SPIPE);
        m().check(ptr, 8);
        const base = whence === Whence.SET
          ? 0n
          : whence === Whence.CUR
          ? BigInt(fd.pos)
          : whence === Whence.END
          ? BigInt(fd.node.size)
          : fail(Errno.INVAL);
        fd.pos = WasiHost.offset(base + offset);
        m().setU64(ptr, BigInt(fd.pos));
      },

      fd_tell: (n: number, ptr: number) => {
        const fd = this.fd(n);
        if (fd.kind === "dir") fail(Errno.ISDIR);
        if (fd.kind !== "file") fail(Errno.SPIPE);
        m().setU64(ptr, BigInt(fd.pos));
      },

      fd_sync: (n: number) => {
        this.fd(n);
      },
      fd_datasync: (n: number) => {
        this.fd(n);
      },

      fd_advise: (n: number, offset: bigint, len: bigint, advice: number) => {
        const fd = this.fd(n);
        if (fd.kind === "dir") fail(Errno.ISDIR);
        if (fd.kind !== "file") fail(Errno.SPIPE);
        if (offset < 0n || len < 0n || advice >>> 0 > 5) fail(Errno.INVAL);
      },

      fd_allocate: (n: number, offset: bigint, len: bigint) => {
        const fd = this.fd(n);
        if (fd.kind === "dir") fail(Errno.ISDIR);
        if (fd.kind !== "file" || !(fd.rights & Rights.FD_WRITE)) fail(Errno.BADF);
        const end = WasiHost.offset(offset + len);
        if (end > fd.node.size) this.fs.setSize(fd.node, end);
      },

      fd_prestat_get: (n: number, ptr: number) => {
        const fd = this.fd(n);
        if (fd.kind !== "dir" || fd.preopen === undefined) fail(Errno.BADF);
        m().check(ptr, 8);
        m().setU32(ptr, 0); // tag 0 = directory (the padding bytes are zeroed too)
        m().setU32(ptr + 4, encoder.encode(fd.preopen).length);
      },

      fd_prestat_dir_name: (n: number, ptr: number, len: number) => {
        const fd = this.fd(n);
        if (fd.kind !== "dir" || fd.preopen === undefined) fail(Errno.BADF);
        const name = encoder.encode(fd.preopen);
        if (len >>> 0 < name.length) fail(Errno.NAMETOOLONG);
        m().write(ptr, name);
      },

      fd_readdir: (n: number, buf: number, len: number, cookie: bigint, usedPtr: number) => {
        const fd = this.fd(n);
        if (fd.kind !== "dir") fail(Errno.NOTDIR);
        m().check(buf, len);
        m().check(usedPtr, 4);
        const dir = fd.chain[fd.chain.length - 1]!;
        const parent = fd.chain.length > 1 ? fd.chain[fd.chain.length - 2]! : dir;
        const list: [string, FsNode][] = [[".", dir], ["..", parent], ...dir.entries];
        let used = 0;
        const size = len >>> 0;
        for (
          let i = cookie < 0n ? list.length : Number(cookie > BigInt(list.length) ? BigInt(list.length) : cookie);
          i < list.length && used < size;
          i++
        ) {
          const [name, node] = list[i]!;
          const nameBytes = encoder.encode(name);
          const entry = new Uint8Array(24 + nameBytes.length);
          const dv = new DataView(entry.buffer);
          dv.setBigUint64(0, BigInt(i + 1), true);
          dv.setBigUint64(8, node.ino, true);
          dv.setUint32(16, nameBytes.length, true);
          dv.setUint8(20, node.kind === "dir" ? Filetype.DIRECTORY : Filetype.REGULAR_FILE);
          entry.set(nameBytes, 24);
          // The last entry may be cut short; a full buffer tells the guest to call again.
          const take = Math.min(entry.length, size - used);
          m().write(buf + used, entry.subarray(0, take));
          used += take;
        }
        m().setU32(usedPtr, used);
      },

      path_open: (
        dirfd: number,
        _lookup: number,
        ptr: number,
        len: number,
        oflags: number,
        base: bigint,
        inheriting: bigint,
        fdflags: number,
        outPtr: number,
      ) => {
        m().check(outPtr, 4);
        const r = this.resolveAt(dirfd, ptr, len);
        const wantsWrite = (base & WRITE_RIGHTS) !== 0n || (oflags & Oflags.TRUNC) !== 0;
        let node = r.node;
        if (node === undefined) {
          if (!(oflags & Oflags.CREAT)) fail(Errno.NOENT);
          if (oflags & Oflags.DIRECTORY) fail(Errno.INVAL);
          node = this.fs.createFile(r); // EROFS outside /tmp, ENOSPC beyond the quota
        } else if (oflags & Oflags.CREAT && oflags & Oflags.EXCL) {
          fail(Errno.EXIST);
        }
        if (node.kind === "dir") {
          if (wantsWrite) fail(Errno.ISDIR);
          const chain = MemFs.chainOf({ ...r, node });
          m().setU32(
            outPtr,
            this.allocFd({ kind: "dir", chain, rights: base & ALL_RIGHTS, inheriting: inheriting & ALL_RIGHTS }),
          );
          return;
        }
        if (oflags & Oflags.DIRECTORY) fail(Errno.NOTDIR);
        if (wantsWrite && !node.writable) fail(Errno.ROFS);
        const fdn = this.allocFd({
          kind: "file",
          node,
          pos: 0,
          rights: base & ALL_RIGHTS,
          inheriting: inheriting & ALL_RIGHTS,
          flags: fdflags & 0xffff,
        });
        node.opens++;
        if (oflags & Oflags.TRUNC) this.fs.setSize(node, 0);
        m().setU32(outPtr, fdn);
      },

      path_filestat_get: (dirfd: number, _flags: number, ptr: number, len: number, out: number) => {
        m().check(out, 64);
        const r = this.resolveAt(dirfd, ptr, len);
        if (r.node === undefined) fail(Errno.NOENT);
        this.filestat(out, r.node);
      },

      path_filestat_set_times: (
        dirfd: number,
        _flags: number,
        ptr: number,
        len: number,
        atim: bigint,
        mtim: bigint,
        flags: number,
      ) => {
        const r = this.resolveAt(dirfd, ptr, len);
        if (r.node === undefined) fail(Errno.NOENT);
        this.setTimes(r.node, atim, mtim, flags);
      },

      path_create_directory: (dirfd: number, ptr: number, len: number) => {
        this.fs.mkdir(this.resolveAt(dirfd, ptr, len));
      },

      path_remove_directory: (dirfd: number, ptr: number, len: number) => {
        this.fs.rmdir(this.resolveAt(dirfd, ptr, len));
      },

      path_unlink_file: (dirfd: number, ptr: number, len: number) => {
        const r = this.resolveAt(dirfd, ptr, len);
        if (r.node?.kind === "dir") fail(r.parents[r.parents.length - 1]!.writable ? Errno.ISDIR : Errno.ROFS);
        this.fs.unlink(r);
      },

      path_rename: (fd1: number, p1: number, l1: number, fd2: number, p2: number, l2: number) => {
        const src = this.resolveAt(fd1, p1, l1);
        const dst = this.resolveAt(fd2, p2, l2);
        this.fs.rename(src, dst);
      },

      path_readlink: (dirfd: number, ptr: number, len: number, _buf: number, _blen: number, used: number) => {
        m().check(used, 4);
        const r = this.resolveAt(dirfd, ptr, len);
        fail(r.node === undefined ? Errno.NOENT : Errno.INVAL); // there are no symlinks
      },

      path_symlink: (_p1: number, _l1: number, dirfd: number, ptr: number, len: number) => {
        const r = this.resolveAt(dirfd, ptr, len);
        if (!r.parents[r.parents.length - 1]!.writable) fail(Errno.ROFS);
        fail(Errno.PERM);
      },

      path_link: (_fd1: number, _f: number, _p1: number, _l1: number, dirfd: number, ptr: number, len: number) => {
        const r = this.resolveAt(dirfd, ptr, len);
        if (!r.parents[r.parents.length - 1]!.writable) fail(Errno.ROFS);
        fail(Errno.PERM);
      },

      poll_oneoff: (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => {
        const count = nsubs >>> 0;
        if (count === 0 || count > MAX_SUBSCRIPTIONS) fail(Errno.INVAL);
        m().check(inPtr, count * 48);
        m().check(outPtr, count * 32);
        m().check(neventsPtr, 4);
        type Ev = { userdata: bigint; error: number; type: number; nbytes: bigint };
        const ready: Ev[] = [];
        const clocks: { userdata: bigint; deadline: bigint; clock: number }[] = [];
        for (let i = 0; i < count; i++) {
          const s = inPtr + i * 48;
          const userdata = m().u64At(s);
          const tag = m().u8At(s + 8);
          if (tag === Eventtype.CLOCK) {
            const clock = m().u32At(s + 16);
            const timeout = m().u64At(s + 24);
            const flags = m().u16At(s + 40);
            let now: bigint;
            try {
              now = this.clockNow(clock);
            } catch {
              ready.push({ userdata, error: Errno.INVAL, type: tag, nbytes: 0n });
              continue;
            }
            clocks.push({ userdata, clock, deadline: flags & SUBCLOCKFLAGS_ABSTIME ? timeout : now + timeout });
          } else if (tag === Eventtype.FD_READ || tag === Eventtype.FD_WRITE) {
            const fd = this.fds.get(m().u32At(s + 16));
            let nbytes = 0n;
            if (fd?.kind === "stdin") nbytes = BigInt(this.opts.stdin.length - fd.pos);
            else if (fd?.kind === "file" && tag === Eventtype.FD_READ) {
              nbytes = BigInt(Math.max(0, fd.node.size - fd.pos));
            }
            ready.push({ userdata, error: fd === undefined ? Errno.BADF : 0, type: tag, nbytes });
          } else {
            fail(Errno.INVAL);
          }
        }
        if (ready.length === 0 && clocks.length > 0) {
          // Sleep until the earliest clock fires; the worker's deadline bounds the whole run anyway.
          const waits = clocks.map((c) => c.deadline - this.clockNow(c.clock));
          const shortest = waits.reduce((a, b) => (b < a ? b : a));
          if (shortest > 0n) this.opts.sleep(Number(shortest) / 1e6);
          for (const c of clocks) {
            if (this.clockNow(c.clock) >= c.deadline || c === clocks[waits.indexOf(shortest)]) {
              ready.push({ userdata: c.userdata, error: 0, type: Eventtype.CLOCK, nbytes: 0n });
            }
          }
        }
        ready.forEach((ev, i) => {
          const e = outPtr + i * 32;
          m().bytes(e, 32).fill(0);
          m().setU64(e, ev.userdata);
          m().setU16(e + 8, ev.error);
          m().setU8(e + 10, ev.type);
          m().setU64(e + 16, ev.nbytes);
        });
        m().setU32(neventsPtr, ready.length);
      },

      sock_accept: () => Errno.NOTSUP,
      sock_recv: () => Errno.NOTSUP,
      sock_send: () => Errno.NOTSUP,
      sock_shutdown: () => Errno.NOTSUP,
    };
  }
}
