/**
 * The descriptor syscalls (fd_*): reading and writing the std streams and /tmp files, seeking,
 * stat, descriptor flags, preopens and directory listing. Rights are checked here; the bytes
 * themselves live in MemFs.
 */
import { Errno, Fdflags, Filetype, Rights, Whence } from "../constants.ts";
import { FsError, MemFs } from "../memfs.ts";
import type { FsNode } from "../memfs.ts";
import { encoder, fail, offset } from "./context.ts";
import { FUEL_PER_DIRENT, FUEL_PER_FILE_WRITE, FUEL_PER_RECORD, FUEL_PER_STREAM_WRITE, fuelForBytes } from "../cost.ts";
import type { Fd, HostContext, SyscallTable } from "./context.ts";

/** Most iovecs one read or write may pass (EINVAL beyond). */
const MAX_IOVS = 1024;
/** Size of a WASI iovec / ciovec record ({buf u32, len u32}). */
const IOVEC_BYTES = 8;
/** Size of a WASI fdstat record. */
const FDSTAT_BYTES = 24;
/** Size of a WASI dirent header (the name follows it). */
const DIRENT_BYTES = 24;
/** Highest WASI advice value (NOREUSE). */
const MAX_ADVICE = 5;

const STDIN_RIGHTS = Rights.FD_READ | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;
const STDOUT_RIGHTS = Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;
/**
 * wasi-libc's isatty() is "character device without seek/tell rights". Std streams advertise
 * FD_TELL (fd_tell itself still answers ESPIPE) so the guest never believes it has a terminal,
 * which keeps CPython from colouring tracebacks.
 */
const NOT_A_TTY = Rights.FD_TELL;

/** Reads the iovec array (each {buf u32, len u32}), checking every buffer. */
function iovecs(h: HostContext, ptr: number, count: number): Uint8Array[] {
  const m = h.m;
  const n = count >>> 0;
  if (n > MAX_IOVS) fail(Errno.INVAL);
  h.charge(n * FUEL_PER_RECORD);
  m.check(ptr, n * IOVEC_BYTES);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const buf = m.u32At(ptr + i * IOVEC_BYTES);
    const blen = m.u32At(ptr + i * IOVEC_BYTES + 4);
    m.check(buf, blen);
    out.push(m.bytes(buf, blen));
  }
  return out;
}

function readInto(h: HostContext, fd: Fd, iovs: Uint8Array[], at: number | undefined): number {
  if (fd.kind === "stdin") {
    const stdin = h.opts.stdin;
    let total = 0;
    if (!(stdin instanceof Uint8Array)) {
      // A lazy stdin fills the buffers as a bytes stdin does (see StdinSource), so the program's
      // reads, and its fuel, do not depend on how the source's chunks arrived.
      for (const iov of iovs) {
        let n: number;
        try {
          n = iov.length === 0 ? 0 : stdin.read(iov);
        } catch (e) {
          if (total > 0 && e instanceof FsError) break; // a short read now; the error comes next time
          throw e;
        }
        total += n;
        if (n < iov.length) break;
      }
      return total;
    }
    for (const iov of iovs) {
      const n = Math.min(iov.length, stdin.length - fd.pos);
      if (n <= 0) break;
      iov.set(stdin.subarray(fd.pos, fd.pos + n));
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

function writeFrom(h: HostContext, fd: Fd, iovs: Uint8Array[], at: number | undefined): number {
  if (fd.kind === "stdout" || fd.kind === "stderr") {
    const sink = fd.kind === "stdout" ? h.opts.stdout : h.opts.stderr;
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
      n = h.fs.writeAt(fd.node, pos, iov);
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

/** The file type, flags and rights fd_fdstat_get reports for a descriptor. */
function fdstatOf(fd: Fd): { type: number; flags: number; base: bigint; inheriting: bigint } {
  switch (fd.kind) {
    case "stdin":
      return { type: Filetype.CHARACTER_DEVICE, flags: 0, base: STDIN_RIGHTS | NOT_A_TTY, inheriting: 0n };
    case "stdout":
    case "stderr":
      return {
        type: Filetype.CHARACTER_DEVICE,
        flags: Fdflags.APPEND,
        base: STDOUT_RIGHTS | NOT_A_TTY,
        inheriting: 0n,
      };
    case "file":
      return { type: Filetype.REGULAR_FILE, flags: fd.flags, base: fd.rights, inheriting: fd.inheriting };
    case "dir":
      return { type: Filetype.DIRECTORY, flags: 0, base: fd.rights, inheriting: fd.inheriting };
  }
}

/** A seekable file descriptor, or ISDIR / SPIPE. */
function seekable(h: HostContext, n: number) {
  const fd = h.fd(n);
  if (fd.kind === "dir") fail(Errno.ISDIR);
  if (fd.kind !== "file") fail(Errno.SPIPE);
  return fd;
}

/** The node a descriptor stands for: a file's, a directory's own (last in its chain), or none. */
function nodeOf(fd: Fd): FsNode | undefined {
  if (fd.kind === "file") return fd.node;
  if (fd.kind === "dir") return fd.node;
  return undefined;
}

/** A dirent: {d_next u64, d_ino u64, d_namlen u32, d_type u8}, then the name. */
function dirent(next: number, node: FsNode, name: Uint8Array): Uint8Array {
  const entry = new Uint8Array(DIRENT_BYTES + name.length);
  const dv = new DataView(entry.buffer);
  dv.setBigUint64(0, BigInt(next), true);
  dv.setBigUint64(8, node.ino, true);
  dv.setUint32(16, name.length, true);
  dv.setUint8(20, node.kind === "dir" ? Filetype.DIRECTORY : Filetype.REGULAR_FILE);
  entry.set(name, DIRENT_BYTES);
  return entry;
}

function readdir(h: HostContext, n: number, buf: number, len: number, cookie: bigint, usedPtr: number): void {
  const m = h.m;
  const fd = h.fd(n);
  if (fd.kind !== "dir") fail(Errno.NOTDIR);
  m.check(buf, len);
  m.check(usedPtr, 4);
  const dir = fd.node;
  const parent = dir.removed ? dir : h.fs.parentOf(dir);
  const total = dir.entries.size + 2;
  let used = 0;
  const size = len >>> 0;
  const first = cookie < 0n ? total : Number(cookie > BigInt(total) ? BigInt(total) : cookie);
  // Walking to the cookie is work too: the entries skipped are charged like the ones written.
  h.charge(Math.max(0, first - 2) * FUEL_PER_DIRENT);
  const entries = dir.entries.entries();
  for (let i = 2; i < first; i++) entries.next();
  for (let i = first; i < total && used < size; i++) {
    const [name, node]: [string, FsNode] = i === 0 ? [".", dir] : i === 1 ? ["..", parent] : entries.next().value!;
    const nameBytes = encoder.encode(name);
    h.charge(FUEL_PER_DIRENT + fuelForBytes(nameBytes.length));
    const entry = dirent(i + 1, node, nameBytes);
    // The last entry may be cut short; a full buffer tells the guest to call again.
    const take = Math.min(entry.length, size - used);
    m.write(buf + used, entry.subarray(0, take));
    used += take;
  }
  m.setU32(usedPtr, used);
}

/** Reads or writes through iovecs, at the descriptor's position or at `at`, and stores the count. */
/** What a write pays on top of its bytes, by where it goes. */
const WRITE_FEE: Readonly<Partial<Record<Fd["kind"], number>>> = {
  file: FUEL_PER_FILE_WRITE,
  stdout: FUEL_PER_STREAM_WRITE,
  stderr: FUEL_PER_STREAM_WRITE,
};

function transfer(
  h: HostContext,
  how: typeof readInto,
  n: number,
  iovs: number,
  count: number,
  countPtr: number,
  at?: bigint,
): void {
  const fd = h.fd(n);
  if (at !== undefined && fd.kind !== "file") fail(fd.kind === "dir" ? Errno.ISDIR : Errno.SPIPE);
  const bufs = iovecs(h, iovs, count);
  h.m.check(countPtr, 4);
  const moved = how(h, fd, bufs, at === undefined ? undefined : offset(at));
  h.m.setU32(countPtr, moved);
  // The copy is done; a guest out of fuel stops right here. A write also pays where it goes: a
  // /tmp or /home file its bookkeeping (sizes, quota, times), stdout and stderr their sink.
  h.charge(fuelForBytes(moved) + (how === writeFrom ? WRITE_FEE[fd.kind] ?? 0 : 0));
}

export const fdSyscalls: SyscallTable = {
  fd_close: (h: HostContext, n: number) => {
    const fd = h.fd(n);
    h.fds.delete(n >>> 0);
    h.release(fd);
  },

  fd_renumber: (h: HostContext, from: number, to: number) => {
    const src = h.fd(from);
    const dst = h.fd(to);
    if (from >>> 0 === to >>> 0) return;
    h.release(dst);
    h.fds.set(to >>> 0, src);
    h.fds.delete(from >>> 0);
  },

  fd_fdstat_get: (h: HostContext, n: number, ptr: number) => {
    const fd = h.fd(n);
    const m = h.m;
    m.check(ptr, FDSTAT_BYTES);
    m.bytes(ptr, FDSTAT_BYTES).fill(0);
    const stat = fdstatOf(fd);
    m.setU8(ptr, stat.type);
    m.setU16(ptr + 2, stat.flags);
    m.setU64(ptr + 8, stat.base);
    m.setU64(ptr + 16, stat.inheriting);
  },

  fd_fdstat_set_flags: (h: HostContext, n: number, flags: number) => {
    const fd = h.fd(n);
    if (fd.kind === "file") fd.flags = flags & 0xffff;
  },

  fd_filestat_get: (h: HostContext, n: number, ptr: number) => {
    h.filestat(ptr, nodeOf(h.fd(n)) ?? "stream");
  },

  fd_filestat_set_size: (h: HostContext, n: number, size: bigint) => {
    const fd = h.fd(n);
    if (fd.kind === "dir") fail(Errno.ISDIR);
    if (fd.kind !== "file" || !(fd.rights & Rights.FD_FILESTAT_SET_SIZE)) fail(Errno.BADF);
    h.fs.setSize(fd.node, offset(size));
  },

  fd_filestat_set_times: (h: HostContext, n: number, atim: bigint, mtim: bigint, flags: number) => {
    const node = nodeOf(h.fd(n));
    if (node === undefined) fail(Errno.BADF);
    h.setTimes(node, atim, mtim, flags);
  },

  fd_read: (h: HostContext, n: number, iovs: number, count: number, nread: number) =>
    transfer(h, readInto, n, iovs, count, nread),
  fd_pread: (h: HostContext, n: number, iovs: number, count: number, at: bigint, nread: number) =>
    transfer(h, readInto, n, iovs, count, nread, at),
  fd_write: (h: HostContext, n: number, iovs: number, count: number, nwritten: number) =>
    transfer(h, writeFrom, n, iovs, count, nwritten),
  fd_pwrite: (h: HostContext, n: number, iovs: number, count: number, at: bigint, nwritten: number) =>
    transfer(h, writeFrom, n, iovs, count, nwritten, at),

  fd_seek: (h: HostContext, n: number, delta: bigint, whence: number, ptr: number) => {
    const fd = seekable(h, n);
    h.m.check(ptr, 8);
    const base = whence === Whence.SET
      ? 0n
      : whence === Whence.CUR
      ? BigInt(fd.pos)
      : whence === Whence.END
      ? BigInt(fd.node.size)
      : fail(Errno.INVAL);
    fd.pos = offset(base + delta);
    h.m.setU64(ptr, BigInt(fd.pos));
  },

  fd_tell: (h: HostContext, n: number, ptr: number) => {
    h.m.setU64(ptr, BigInt(seekable(h, n).pos));
  },

  fd_sync: (h: HostContext, n: number) => {
    h.fd(n);
  },
  fd_datasync: (h: HostContext, n: number) => {
    h.fd(n);
  },

  fd_advise: (h: HostContext, n: number, at: bigint, len: bigint, advice: number) => {
    seekable(h, n);
    if (at < 0n || len < 0n || advice >>> 0 > MAX_ADVICE) fail(Errno.INVAL);
  },

  fd_allocate: (h: HostContext, n: number, at: bigint, len: bigint) => {
    const fd = h.fd(n);
    if (fd.kind === "dir") fail(Errno.ISDIR);
    if (fd.kind !== "file" || !(fd.rights & Rights.FD_WRITE)) fail(Errno.BADF);
    const end = offset(at + len);
    if (end > fd.node.size) h.fs.setSize(fd.node, end);
  },

  fd_prestat_get: (h: HostContext, n: number, ptr: number) => {
    const fd = h.fd(n);
    if (fd.kind !== "dir" || fd.preopen === undefined) fail(Errno.BADF);
    h.m.check(ptr, 8);
    h.m.setU32(ptr, 0); // tag 0 = directory (the padding bytes are zeroed too)
    h.m.setU32(ptr + 4, encoder.encode(fd.preopen).length);
  },

  fd_prestat_dir_name: (h: HostContext, n: number, ptr: number, len: number) => {
    const fd = h.fd(n);
    if (fd.kind !== "dir" || fd.preopen === undefined) fail(Errno.BADF);
    const name = encoder.encode(fd.preopen);
    if (len >>> 0 < name.length) fail(Errno.NAMETOOLONG);
    h.m.write(ptr, name);
  },

  fd_readdir: readdir,
};
