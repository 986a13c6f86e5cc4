/**
 * The path syscalls (path_*): open, stat, create and remove directories, unlink, rename. Paths
 * are always relative to a directory descriptor (a preopen or one opened from it); links do not
 * exist, so readlink, symlink and link answer as a filesystem without them would.
 */
import { ALL_RIGHTS, Errno, Oflags, Rights } from "../constants.ts";
import type { Resolved } from "../memfs.ts";
import { fail, FILESTAT_BYTES } from "./context.ts";
import type { HostContext, SyscallTable } from "./context.ts";

/** Rights whose presence makes an open a write (a read-only node then answers EROFS). */
const WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_DATASYNC;

/** The directory a resolved path would be created in. */
function parentOf(r: Resolved) {
  return r.parent;
}

function pathOpen(
  h: HostContext,
  dirfd: number,
  _lookup: number,
  ptr: number,
  len: number,
  oflags: number,
  base: bigint,
  inheriting: bigint,
  fdflags: number,
  outPtr: number,
): void {
  h.m.check(outPtr, 4);
  const r = h.resolveAt(dirfd, ptr, len);
  const wantsWrite = (base & WRITE_RIGHTS) !== 0n || (oflags & Oflags.TRUNC) !== 0;
  let node = r.node;
  if (node === undefined) {
    if (!(oflags & Oflags.CREAT)) fail(Errno.NOENT);
    if (oflags & Oflags.DIRECTORY) fail(Errno.INVAL);
    node = h.fs.createFile(r); // EROFS outside /tmp, ENOSPC beyond the quota
  } else if (oflags & Oflags.CREAT && oflags & Oflags.EXCL) {
    fail(Errno.EXIST);
  }
  const rights = base & ALL_RIGHTS;
  if (node.kind === "dir") {
    if (wantsWrite) fail(Errno.ISDIR);
    h.m.setU32(outPtr, h.allocFd({ kind: "dir", node, rights, inheriting: inheriting & ALL_RIGHTS }));
    return;
  }
  if (oflags & Oflags.DIRECTORY) fail(Errno.NOTDIR);
  if (wantsWrite && !node.writable) fail(Errno.ROFS);
  const fdn = h.allocFd({
    kind: "file",
    node,
    pos: 0,
    rights,
    inheriting: inheriting & ALL_RIGHTS,
    flags: fdflags & 0xffff,
  });
  node.opens++;
  if (oflags & Oflags.TRUNC) h.fs.setSize(node, 0);
  h.m.setU32(outPtr, fdn);
}

export const pathSyscalls: SyscallTable = {
  path_open: pathOpen,

  path_filestat_get: (h: HostContext, dirfd: number, _flags: number, ptr: number, len: number, out: number) => {
    h.m.check(out, FILESTAT_BYTES);
    const r = h.resolveAt(dirfd, ptr, len);
    if (r.node === undefined) fail(Errno.NOENT);
    h.filestat(out, r.node);
  },

  path_filestat_set_times: (
    h: HostContext,
    dirfd: number,
    _flags: number,
    ptr: number,
    len: number,
    atim: bigint,
    mtim: bigint,
    flags: number,
  ) => {
    const r = h.resolveAt(dirfd, ptr, len);
    if (r.node === undefined) fail(Errno.NOENT);
    h.setTimes(r.node, atim, mtim, flags);
  },

  path_create_directory: (h: HostContext, dirfd: number, ptr: number, len: number) => {
    h.fs.mkdir(h.resolveAt(dirfd, ptr, len));
  },

  path_remove_directory: (h: HostContext, dirfd: number, ptr: number, len: number) => {
    h.fs.rmdir(h.resolveAt(dirfd, ptr, len));
  },

  path_unlink_file: (h: HostContext, dirfd: number, ptr: number, len: number) => {
    const r = h.resolveAt(dirfd, ptr, len);
    if (r.node?.kind === "dir") fail(parentOf(r).writable ? Errno.ISDIR : Errno.ROFS);
    h.fs.unlink(r);
  },

  path_rename: (h: HostContext, fd1: number, p1: number, l1: number, fd2: number, p2: number, l2: number) => {
    const src = h.resolveAt(fd1, p1, l1);
    const dst = h.resolveAt(fd2, p2, l2);
    h.fs.rename(src, dst);
  },

  path_readlink: (
    h: HostContext,
    dirfd: number,
    ptr: number,
    len: number,
    _buf: number,
    _blen: number,
    used: number,
  ) => {
    h.m.check(used, 4);
    const r = h.resolveAt(dirfd, ptr, len);
    fail(r.node === undefined ? Errno.NOENT : Errno.INVAL); // there are no symlinks
  },

  path_symlink: (h: HostContext, _p1: number, _l1: number, dirfd: number, ptr: number, len: number) => {
    if (!parentOf(h.resolveAt(dirfd, ptr, len)).writable) fail(Errno.ROFS);
    fail(Errno.PERM);
  },

  path_link: (
    h: HostContext,
    _fd1: number,
    _f: number,
    _p1: number,
    _l1: number,
    dirfd: number,
    ptr: number,
    len: number,
  ) => {
    if (!parentOf(h.resolveAt(dirfd, ptr, len)).writable) fail(Errno.ROFS);
    fail(Errno.PERM);
  },
};
