import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemFs } from "../../src/wasi/memfs.ts";
import { buildImageTree } from "../../src/wasi/image-tree.ts";
import type { TarEntry } from "../../src/wasi/tar.ts";
import { ExitSignal, MONOTONIC_EPOCH_NS, WasiHost } from "../../src/wasi/host.ts";
import { Errno, Filetype, Oflags, Rights } from "../../src/wasi/constants.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const IMAGE = buildImageTree([
  {
    path: "usr/local/lib/python3.13/os.py",
    type: "file",
    data: enc.encode("import sys\n"),
    linkTarget: "",
    mode: 0o644,
    mtime: 0,
  } satisfies TarEntry,
]);

type Fn = (...args: (number | bigint)[]) => number;

/** A host over one 64 KiB page, with syscalls callable directly and helpers to lay out arguments. */
function setup(opts: { stdin?: string; quota?: number; sleep?: (ms: number) => void; monotonic?: () => bigint } = {}) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const out: string[] = [];
  const err: string[] = [];
  const fs = new MemFs(IMAGE, { tmpQuotaBytes: opts.quota ?? 1 << 20, tmpMaxFiles: 100, now: () => 1n });
  const host = new WasiHost({
    args: ["python", "-c", "pass"],
    env: ["HOME=/tmp", "LANG=C.UTF-8"],
    fs,
    stdin: enc.encode(opts.stdin ?? ""),
    stdout: (b) => out.push(dec.decode(b)),
    stderr: (b) => err.push(dec.decode(b)),
    sleep: opts.sleep ?? (() => {}),
    monotonicNs: opts.monotonic,
  });
  host.setMemory(memory);
  const w = host.imports([{
    module: "wasi_snapshot_preview1",
    name: "fd_fdstat_set_rights",
    kind: "function",
  }]) as unknown as Record<string, Fn>;
  const dv = () => new DataView(memory.buffer);
  const u8 = () => new Uint8Array(memory.buffer);
  let heap = 1024;
  const alloc = (n: number) => {
    const p = heap;
    heap += (n + 7) & ~7;
    return p;
  };
  const str = (s: string): [number, number] => {
    const b = enc.encode(s);
    const p = alloc(b.length);
    u8().set(b, p);
    return [p, b.length];
  };
  /** One iovec over `data` (or an empty buffer of `len` bytes to read into). */
  const iov = (data: string | number): [number, number] => {
    const [p, n] = typeof data === "string" ? str(data) : [alloc(data), data];
    const v = alloc(8);
    dv().setUint32(v, p, true);
    dv().setUint32(v + 4, n, true);
    return [v, p];
  };
  const u32 = (p: number) => dv().getUint32(p, true);
  const open = (path: string, oflags = 0, rights = Rights.FD_READ | Rights.FD_SEEK, fdflags = 0): [number, number] => {
    const [p, n] = str(path);
    const fdp = alloc(4);
    const e = w.path_open!(3, 1, p, n, oflags, rights, 0n, fdflags, fdp);
    return [e, u32(fdp)];
  };
  const write = (fd: number, s: string): [number, number] => {
    const [v] = iov(s);
    const np = alloc(4);
    const e = w.fd_write!(fd, v, 1, np);
    return [e, u32(np)];
  };
  const read = (fd: number, n: number): [number, string] => {
    const [v, p] = iov(n);
    const np = alloc(4);
    const e = w.fd_read!(fd, v, 1, np);
    return [e, dec.decode(u8().subarray(p, p + u32(np)))];
  };
  return { host, w, memory, out, err, fs, alloc, str, iov, u32, dv, u8, open, write, read };
}

describe("WasiHost: process", () => {
  it("gives args and environ exactly", () => {
    const t = setup();
    const [c, s] = [t.alloc(4), t.alloc(4)];
    assert.equal(t.w.args_sizes_get!(c, s), 0);
    assert.equal(t.u32(c), 3);
    assert.equal(t.u32(s), "python\0-c\0pass\0".length);
    const ptrs = t.alloc(12);
    const buf = t.alloc(t.u32(s));
    assert.equal(t.w.args_get!(ptrs, buf), 0);
    assert.equal(dec.decode(t.u8().subarray(t.u32(ptrs + 4), t.u32(ptrs + 4) + 2)), "-c");
    assert.equal(t.w.environ_sizes_get!(c, s), 0);
    assert.equal(t.u32(c), 2);
  });

  it("proc_exit unwinds with the exit code", () => {
    const t = setup();
    assert.throws(() => t.w.proc_exit!(3), (e: unknown) => e instanceof ExitSignal && e.code === 3);
  });

  it("answers ENOSYS for imports it does not implement and ENOTSUP for sockets", () => {
    const t = setup();
    assert.equal(t.w.fd_fdstat_set_rights!(0, 0n, 0n), Errno.NOSYS);
    assert.equal(t.w.sock_recv!(0, 0, 0, 0, 0, 0), Errno.NOTSUP);
    assert.equal(t.w.sock_accept!(3, 0, 0), Errno.NOTSUP);
  });

  it("keeps the monotonic clock at its epoch until main() begins, then advances", () => {
    let now = 5_000n;
    const t = setup({ monotonic: () => now });
    const p = t.alloc(8);
    assert.equal(t.w.clock_time_get!(1, 1n, p), 0);
    assert.equal(t.dv().getBigUint64(p, true), MONOTONIC_EPOCH_NS);
    now += 777n;
    t.w.environ_sizes_get!(t.alloc(4), t.alloc(4)); // constructors may read the environment
    t.w.clock_time_get!(1, 1n, p);
    assert.equal(t.dv().getBigUint64(p, true), MONOTONIC_EPOCH_NS);
    t.w.args_sizes_get!(t.alloc(4), t.alloc(4)); // main() begins
    now += 1000n;
    t.w.clock_time_get!(1, 1n, p);
    assert.equal(t.dv().getBigUint64(p, true), MONOTONIC_EPOCH_NS + 1000n);
    assert.equal(t.w.clock_time_get!(0, 1n, p), 0);
    assert.ok(t.dv().getBigUint64(p, true) > 1_600_000_000n * 1_000_000_000n, "realtime is wall-clock time");
    assert.equal(t.w.clock_time_get!(9, 1n, p), Errno.INVAL);
  });

  it("poll_oneoff sleeps for a relative clock subscription", () => {
    const slept: number[] = [];
    const t = setup({ sleep: (ms) => slept.push(ms) });
    const sub = t.alloc(48);
    t.u8().fill(0, sub, sub + 48);
    t.dv().setBigUint64(sub, 42n, true); // userdata
    t.dv().setUint8(sub + 8, 0); // clock
    t.dv().setUint32(sub + 16, 1, true); // monotonic
    t.dv().setBigUint64(sub + 24, 250_000_000n, true); // 250 ms
    const ev = t.alloc(32);
    const n = t.alloc(4);
    assert.equal(t.w.poll_oneoff!(sub, ev, 1, n), 0);
    assert.equal(slept.length, 1);
    assert.ok(slept[0]! > 200 && slept[0]! <= 250);
    assert.equal(t.u32(n), 1);
    assert.equal(t.dv().getBigUint64(ev, true), 42n);
    assert.equal(t.w.poll_oneoff!(sub, ev, 0, n), Errno.INVAL);
  });
});

describe("WasiHost: streams", () => {
  it("captures stdout/stderr and reads stdin to EOF", () => {
    const t = setup({ stdin: "line\n" });
    assert.deepEqual(t.write(1, "out"), [0, 3]);
    assert.deepEqual(t.write(2, "err"), [0, 3]);
    assert.deepEqual(t.out, ["out"]);
    assert.deepEqual(t.err, ["err"]);
    assert.deepEqual(t.read(0, 100), [0, "line\n"]);
    assert.deepEqual(t.read(0, 100), [0, ""]);
  });

  it("reports std streams as non-terminals (character device with the tell right)", () => {
    const t = setup();
    for (const fd of [0, 1, 2]) {
      const p = t.alloc(24);
      assert.equal(t.w.fd_fdstat_get!(fd, p), 0);
      assert.equal(t.dv().getUint8(p), Filetype.CHARACTER_DEVICE);
      const rights = t.dv().getBigUint64(p + 8, true);
      assert.notEqual(rights & (Rights.FD_SEEK | Rights.FD_TELL), 0n, "wasi-libc isatty() is false");
      assert.equal(t.w.fd_seek!(fd, 0n, 1, t.alloc(8)), Errno.SPIPE);
    }
  });

  it("returns EFAULT for iovecs, buffers and result pointers outside memory", () => {
    const t = setup();
    const np = t.alloc(4);
    assert.equal(t.w.fd_write!(1, 65536 - 4, 1, np), Errno.FAULT, "iovec array past the end");
    const v = t.alloc(8);
    t.dv().setUint32(v, 65000, true);
    t.dv().setUint32(v + 4, 1000, true);
    assert.equal(t.w.fd_write!(1, v, 1, np), Errno.FAULT, "buffer past the end");
    assert.equal(t.w.fd_write!(1, v, 0, -1), Errno.FAULT, "negative (huge unsigned) result pointer");
    assert.equal(t.w.fd_write!(1, v, 5000, np), Errno.INVAL, "too many iovecs");
    assert.equal(t.w.args_get!(-8, 0), Errno.FAULT);
    assert.equal(t.w.random_get!(65000, 1000), Errno.FAULT);
    assert.equal(t.w.fd_prestat_dir_name!(3, 65536, 1), Errno.FAULT);
    assert.deepEqual(t.out, []);
  });
});

describe("WasiHost: files", () => {
  it("preopens / as fd 3 and nothing else", () => {
    const t = setup();
    const p = t.alloc(8);
    assert.equal(t.w.fd_prestat_get!(3, p), 0);
    assert.equal(t.u32(p + 4), 1);
    const name = t.alloc(1);
    assert.equal(t.w.fd_prestat_dir_name!(3, name, 1), 0);
    assert.equal(String.fromCharCode(t.u8()[name]!), "/");
    assert.equal(t.w.fd_prestat_get!(4, p), Errno.BADF);
  });

  it("reads the stdlib and refuses to open it for writing, truncating or creating", () => {
    const t = setup();
    const [e, fd] = t.open("usr/local/lib/python3.13/os.py");
    assert.equal(e, 0);
    assert.deepEqual(t.read(fd, 100), [0, "import sys\n"]);
    assert.equal(t.write(fd, "x")[0], Errno.BADF, "opened read-only");
    const os = "usr/local/lib/python3.13/os.py";
    assert.equal(t.open(os, 0, Rights.FD_WRITE)[0], Errno.ROFS);
    assert.equal(t.open(os, Oflags.CREAT, Rights.FD_WRITE, 1)[0], Errno.ROFS, "append mode");
    assert.equal(t.open(os, Oflags.TRUNC)[0], Errno.ROFS);
    assert.equal(t.open("usr/local/lib/python3.13/new.py", Oflags.CREAT)[0], Errno.ROFS);
    const [p, n] = t.str(os);
    assert.equal(t.w.path_unlink_file!(3, p, n), Errno.ROFS);
    assert.equal(t.w.path_create_directory!(3, ...t.str("usr/x")), Errno.ROFS);
    assert.equal(t.w.path_remove_directory!(3, ...t.str("usr/local")), Errno.ROFS);
    assert.equal(t.w.path_rename!(3, p, n, 3, ...t.str("tmp/os.py")), Errno.ROFS);
    assert.equal(t.w.path_symlink!(...t.str("x"), 3, ...t.str("usr/y")), Errno.ROFS);
    assert.equal(t.w.path_filestat_set_times!(3, 0, p, n, 0n, 0n, 8), Errno.ROFS);
  });

  it("shows nothing of the host: absolute paths are refused, .. stops at the root", () => {
    const t = setup();
    assert.equal(t.open("/etc/passwd")[0], Errno.NOTCAPABLE);
    assert.equal(t.open("../../../etc/passwd")[0], Errno.NOENT);
    assert.equal(t.open("tmp/../../usr/local/lib/python3.13/os.py")[0], 0);
  });

  it("works in /tmp: create, write, seek, read, stat, readdir, unlink", () => {
    const t = setup();
    const [e, fd] = t.open("tmp/a.txt", Oflags.CREAT | Oflags.EXCL, Rights.FD_READ | Rights.FD_WRITE | Rights.FD_SEEK);
    assert.equal(e, 0);
    assert.deepEqual(t.write(fd, "hello world"), [0, 11]);
    const pos = t.alloc(8);
    assert.equal(t.w.fd_seek!(fd, 6n, 0, pos), 0);
    assert.deepEqual(t.read(fd, 5), [0, "world"]);
    assert.equal(t.w.fd_seek!(fd, -100n, 1, pos), Errno.INVAL);
    const st = t.alloc(64);
    assert.equal(t.w.fd_filestat_get!(fd, st), 0);
    assert.equal(t.dv().getUint8(st + 16), Filetype.REGULAR_FILE);
    assert.equal(t.dv().getBigUint64(st + 32, true), 11n);
    assert.equal(t.open("tmp/a.txt", Oflags.CREAT | Oflags.EXCL)[0], Errno.EXIST);
    const [de, dfd] = t.open("tmp", Oflags.DIRECTORY, Rights.FD_READDIR);
    assert.equal(de, 0);
    const buf = t.alloc(256);
    const used = t.alloc(4);
    assert.equal(t.w.fd_readdir!(dfd, buf, 256, 0n, used), 0);
    const names: string[] = [];
    for (let at = buf; at < buf + t.u32(used);) {
      const len = t.dv().getUint32(at + 16, true);
      names.push(dec.decode(t.u8().subarray(at + 24, at + 24 + len)));
      at += 24 + len;
    }
    assert.deepEqual(names, [".", "..", "a.txt"]);
    assert.equal(t.w.fd_close!(fd), 0);
    assert.equal(t.w.fd_close!(fd), Errno.BADF);
    assert.equal(t.w.path_unlink_file!(3, ...t.str("tmp/a.txt")), 0);
    assert.equal(t.open("tmp/a.txt")[0], Errno.NOENT);
    assert.equal(t.w.path_readlink!(3, ...t.str("tmp"), t.alloc(8), 8, t.alloc(4)), Errno.INVAL);
  });

  it("ENOSPC beyond the /tmp quota", () => {
    const t = setup({ quota: 8 });
    const [, fd] = t.open("tmp/big", Oflags.CREAT, Rights.FD_WRITE | Rights.FD_FILESTAT_SET_SIZE);
    assert.deepEqual(t.write(fd, "0123456789"), [0, 8], "a short write first");
    assert.equal(t.write(fd, "x")[0], Errno.NOSPC);
    assert.equal(t.w.fd_filestat_set_size!(fd, 1n << 40n), Errno.NOSPC);
  });
});

describe("WasiHost: hostile arguments", () => {
  it("never throws anything but its exit signal, whatever the arguments", () => {
    const names = Object.keys(setup().w).filter((n) => n !== "proc_exit");
    const arg = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.constantFrom(0, 3, 4, 8, 1024, 65528, 65535, 65536, -1),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(arg, { minLength: 9, maxLength: 9 }), (name, args) => {
        const t = setup();
        // Give each parameter the type the wasm signature would: i64 parameters arrive as BigInt.
        const i64 = I64_PARAMS[name] ?? [];
        const typed = args.map((a, i) => (i64.includes(i) ? BigInt(a) : Number(BigInt.asIntN(32, BigInt(a)))));
        const r = t.w[name]!(...typed);
        assert.equal(typeof r, "number");
      }),
      { numRuns: 3000 },
    );
  });
});

/** Positions of i64 parameters in the preview1 signatures. */
const I64_PARAMS: Record<string, number[]> = {
  clock_res_get: [],
  clock_time_get: [1],
  fd_advise: [1, 2],
  fd_allocate: [1, 2],
  fd_fdstat_set_rights: [1, 2],
  fd_filestat_set_size: [1],
  fd_filestat_set_times: [1, 2],
  fd_pread: [3],
  fd_pwrite: [3],
  fd_readdir: [3],
  fd_seek: [1],
  path_filestat_set_times: [4, 5],
  path_open: [5, 6],
};
