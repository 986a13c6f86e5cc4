/**
 * An in-memory filesystem for one guest run: a shared read-only tree (the stdlib image) with a
 * fresh writable `/tmp` and a fresh writable `/home` (where programs start, as under snekbox),
 * both under one byte and file-count quota. There are no symlinks: image links are
 * resolved to the nodes they name when the tree is built.
 *
 * Why it is shaped this way (host safety, issue 11):
 * - The quota counts the bytes the host holds (each file's buffer capacity), not file sizes, and a
 *   file unlinked while open keeps counting until its last descriptor closes: the host memory one
 *   run's filesystem can take is bounded by tmpQuotaBytes whatever the guest does.
 * - Descriptors hold nodes, and every directory knows its parent, so `..` and the "not inside
 *   itself" rule of rename follow the tree as it is now, never a path remembered at open time.
 * - Work proportional to a size (allocating, zero-filling, copying) is reported through `onWork`
 *   before it is done, so the host can charge fuel for it (see cost.ts) and refuse it. How the
 *   bytes are stored (plain or resizable buffers, what is held) is file-bytes.ts's business.
 * Errors are thrown as FsError carrying a WASI errno.
 */
import { Errno } from "./constants.ts";
import { growsInPlace, planSize } from "./file-bytes.ts";

/** A filesystem operation the guest asked for failed; `errno` is what the syscall returns. */
export class FsError extends Error {
  override name = "FsError";
  constructor(readonly errno: number, message = `errno ${errno}`) {
    super(message);
  }
}

interface NodeBase {
  ino: bigint;
  /** False for everything in the image: no write, create, remove or rename through this node. */
  writable: boolean;
  atimNs: bigint;
  mtimNs: bigint;
  ctimNs: bigint;
}

export interface FileNode extends NodeBase {
  kind: "file";
  /** Contents are data[0, size); data may be longer (spare capacity, counted by the quota). */
  data: Uint8Array;
  size: number;
  /** Links from directories (0 once unlinked) and open descriptors: quota is released when both are 0. */
  links: number;
  opens: number;
  /**
   * Image files only: called before the contents are read, e.g. to wait until shared memory holding
   * the image has been filled (src/sandbox/_image-fill.ts). A throw makes the read fail with EIO.
   */
  beforeRead?: () => void;
}

export interface DirNode extends NodeBase {
  kind: "dir";
  entries: Map<string, FsNode>;
  /** The directory that holds this one (what `..` names); undefined for a root and once removed. */
  parent: DirNode | undefined;
  /** Set by rmdir: nothing can be created in it any more, and `..` from it is ENOENT. */
  removed: boolean;
}

export type FsNode = FileNode | DirNode;

/** Bytes held and entries a writable area may have. */
export class Quota {
  usedBytes = 0;
  files = 0;
  constructor(readonly maxBytes: number, readonly maxFiles: number) {}

  /** Bytes that can still be reserved. */
  get roomBytes(): number {
    return this.maxBytes - this.usedBytes;
  }

  reserveBytes(delta: number): void {
    if (delta > 0 && this.usedBytes + delta > this.maxBytes) throw new FsError(Errno.NOSPC);
    this.usedBytes += delta;
  }

  reserveFile(): void {
    if (this.files >= this.maxFiles) throw new FsError(Errno.NOSPC);
    this.files++;
  }

  releaseFile(): void {
    this.files--;
  }
}

export const MAX_PATH_BYTES = 4096;
/** The writable home's name in `/` (programs start in `/home`). */
export const HOME_NAME = "home";
export const MAX_NAME_BYTES = 255;

/** Where a path lands: the directory it is in, the last component, and the node if it exists. */
export interface Resolved {
  /** The directory holding `name` (for "." and "..": the named directory's own parent). */
  parent: DirNode;
  name: string;
  /** The node named, if it exists. */
  node: FsNode | undefined;
}

/** A new, empty directory node. */
export function dirNode(writable: boolean, ino: bigint, timeNs: bigint, parent: DirNode | undefined): DirNode {
  return {
    kind: "dir",
    ino,
    writable,
    entries: new Map(),
    parent,
    removed: false,
    atimNs: timeNs,
    mtimNs: timeNs,
    ctimNs: timeNs,
  };
}

const EMPTY = new Uint8Array(0);

/** What MemFs needs besides the image. */
export interface MemFsOptions {
  /** Bytes /tmp's files may hold (their buffers' capacity). */
  tmpQuotaBytes: number;
  tmpMaxFiles: number;
  now: () => bigint;
}

/**
 * The filesystem one run sees: `/` (read-only) = the image's top level plus a fresh writable `/tmp`
 * and a fresh writable `/home` (HOME_DIR), sharing one quota.
 *
 * @example
 * ```ts
 * const fs = new MemFs(buildImageTree([]), { tmpQuotaBytes: 1 << 20, tmpMaxFiles: 10, now: () => 0n });
 * const file = fs.createFile(fs.resolve(fs.root, "tmp/a"));
 * fs.writeAt(file, 0, new TextEncoder().encode("hi")); // 2
 * ```
 */
export class MemFs {
  readonly root: DirNode;
  /** The program's home and working folder, `/home`: writable, under the same quota as /tmp. */
  readonly home: DirNode;
  readonly quota: Quota;
  /**
   * Told the byte count of each allocation, zero-fill or copy before it happens; may throw to
   * refuse it (the host charges fuel here). Default: nothing.
   */
  onWork: (bytes: number) => void = () => {};
  private nextIno: bigint;
  private readonly image: DirNode;
  private readonly now: () => bigint;

  constructor(image: DirNode, opts: MemFsOptions) {
    this.now = opts.now;
    this.image = image;
    this.quota = new Quota(opts.tmpQuotaBytes, opts.tmpMaxFiles);
    this.nextIno = 1n << 40n; // run-local inode numbers never collide with the image's
    this.root = dirNode(false, image.ino, 0n, undefined);
    for (const [name, node] of image.entries) this.root.entries.set(name, node);
    this.root.entries.set("tmp", dirNode(true, this.nextIno++, this.now(), this.root));
    this.home = dirNode(true, this.nextIno++, this.now(), this.root);
    this.root.entries.set(HOME_NAME, this.home);
  }

  /** What `..` names from `dir`: its parent (the root for the root); ENOENT for a removed one. */
  parentOf(dir: DirNode): DirNode {
    if (dir.removed) throw new FsError(Errno.NOENT);
    const up = dir.parent;
    return up === undefined || up === this.image ? this.root : up;
  }

  /**
   * Resolves `path` relative to the directory `from`. Trailing slashes require a directory. The
   * last component may be missing (node undefined); a missing middle one is ENOENT.
   */
  resolve(from: DirNode, path: string): Resolved {
    if (path.length === 0) throw new FsError(Errno.NOENT);
    if (path.includes("\0")) throw new FsError(Errno.INVAL);
    if (new TextEncoder().encode(path).length > MAX_PATH_BYTES) throw new FsError(Errno.NAMETOOLONG);
    const mustBeDir = path.endsWith("/");
    const parts = path.split("/").filter((p) => p !== "");
    let dir = path.startsWith("/") ? this.root : from;
    if (parts.length === 0) parts.push("."); // "/" or "///"
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      if (part === ".") continue;
      if (part === "..") {
        dir = this.parentOf(dir);
        continue;
      }
      checkName(part);
      const child = dir.entries.get(part);
      if (child === undefined) throw new FsError(Errno.NOENT);
      if (child.kind !== "dir") throw new FsError(Errno.NOTDIR);
      dir = child;
    }
    const last = parts[parts.length - 1]!;
    if (last === "." || last === "..") {
      const named = last === ".." ? this.parentOf(dir) : dir;
      return { parent: named.removed ? named : this.parentOf(named), name: last, node: named };
    }
    checkName(last);
    const node = dir.entries.get(last);
    if (mustBeDir && node !== undefined && node.kind !== "dir") throw new FsError(Errno.NOTDIR);
    return { parent: dir, name: last, node };
  }

  /** The directory a new entry goes into: writable (EROFS) and not removed (ENOENT). */
  private writableDir(dir: DirNode): DirNode {
    if (!dir.writable) throw new FsError(Errno.ROFS);
    if (dir.removed) throw new FsError(Errno.NOENT);
    return dir;
  }

  createFile(r: Resolved): FileNode {
    if (r.node !== undefined) throw new FsError(Errno.EXIST);
    if (r.name === "." || r.name === "..") throw new FsError(Errno.EXIST);
    const dir = this.writableDir(r.parent);
    this.quota.reserveFile();
    const t = this.now();
    const file: FileNode = {
      kind: "file",
      ino: this.nextIno++,
      writable: true,
      data: EMPTY,
      size: 0,
      links: 1,
      opens: 0,
      atimNs: t,
      mtimNs: t,
      ctimNs: t,
    };
    dir.entries.set(r.name, file);
    dir.mtimNs = t;
    return file;
  }

  mkdir(r: Resolved): DirNode {
    if (r.node !== undefined || r.name === "." || r.name === "..") throw new FsError(Errno.EXIST);
    const dir = this.writableDir(r.parent);
    this.quota.reserveFile();
    const t = this.now();
    const d = dirNode(true, this.nextIno++, t, dir);
    dir.entries.set(r.name, d);
    dir.mtimNs = t;
    return d;
  }

  unlink(r: Resolved): void {
    if (r.node === undefined) throw new FsError(Errno.NOENT);
    if (r.node.kind === "dir") throw new FsError(Errno.ISDIR);
    const dir = this.writableDir(r.parent);
    dir.entries.delete(r.name);
    dir.mtimNs = this.now();
    this.dropLink(r.node);
  }

  rmdir(r: Resolved): void {
    const node = r.node;
    if (node === undefined) throw new FsError(Errno.NOENT);
    if (node.kind !== "dir") throw new FsError(Errno.NOTDIR);
    if (r.name === "." || r.name === "..") throw new FsError(node === this.root ? Errno.BUSY : Errno.INVAL);
    const dir = this.writableDir(r.parent);
    if (!node.writable) throw new FsError(Errno.ROFS);
    if (node.entries.size > 0) throw new FsError(Errno.NOTEMPTY);
    dir.entries.delete(r.name);
    dir.mtimNs = this.now();
    this.removeDir(node);
  }

  /**
   * POSIX rename(2): the source must exist; "." and ".." are EINVAL; a directory may replace only an
   * empty directory (ENOTDIR / ENOTEMPTY) and a file only a file (EISDIR); a directory cannot move
   * into itself or below itself (EINVAL, checked on the tree as it is now); renaming a node onto
   * itself does nothing.
   */
  rename(src: Resolved, dst: Resolved): void {
    const node = src.node;
    if (node === undefined) throw new FsError(Errno.NOENT);
    if (src.name === "." || src.name === ".." || dst.name === "." || dst.name === "..") {
      throw new FsError(Errno.INVAL);
    }
    const from = this.writableDir(src.parent);
    const to = this.writableDir(dst.parent);
    if (!node.writable) throw new FsError(Errno.ROFS);
    if (node === dst.node) return;
    if (node.kind === "dir") {
      if (this.isWithin(to, node)) throw new FsError(Errno.INVAL);
      if (dst.node !== undefined) {
        if (dst.node.kind !== "dir") throw new FsError(Errno.NOTDIR);
        if (dst.node.entries.size > 0) throw new FsError(Errno.NOTEMPTY);
        this.removeDir(dst.node);
      }
      node.parent = to;
    } else if (dst.node !== undefined) {
      if (dst.node.kind === "dir") throw new FsError(Errno.ISDIR);
      this.dropLink(dst.node);
    }
    from.entries.delete(src.name);
    to.entries.set(dst.name, node);
    const t = this.now();
    from.mtimNs = to.mtimNs = node.ctimNs = t;
  }

  /** Whether `dir` is `ancestor` or lies below it, following parents as the tree is now. */
  private isWithin(dir: DirNode, ancestor: DirNode): boolean {
    for (let d: DirNode | undefined = dir; d !== undefined; d = d.parent) {
      if (d === ancestor) return true;
    }
    return false;
  }

  private removeDir(dir: DirNode): void {
    dir.removed = true;
    dir.parent = undefined;
    this.quota.releaseFile();
  }

  /** Called when a descriptor closes: an unlinked file's bytes return to the quota. */
  closeFile(file: FileNode): void {
    file.opens--;
    if (file.writable && file.links === 0 && file.opens === 0) this.freeFile(file);
  }

  private dropLink(file: FileNode): void {
    file.links--;
    if (file.links === 0 && file.opens === 0) this.freeFile(file);
  }

  /** The node is gone (no links, no descriptors): its buffer and its entry return to the quota. */
  private freeFile(file: FileNode): void {
    this.quota.reserveBytes(-file.data.length);
    this.quota.releaseFile();
    file.size = 0;
    file.data = EMPTY;
  }

  /** Copies file bytes from `pos` into `dst`; returns the count. */
  static readAt(file: FileNode, pos: number, dst: Uint8Array): number {
    if (file.beforeRead !== undefined) {
      try {
        file.beforeRead();
      } catch (e) {
        throw new FsError(Errno.IO, e instanceof Error ? e.message : String(e));
      }
    }
    if (pos >= file.size) return 0;
    const n = Math.min(dst.length, file.size - pos);
    dst.set(file.data.subarray(pos, pos + n));
    return n;
  }

  /** Writes `src` at `pos`, growing the file within the quota (a short write when only part fits). */
  writeAt(file: FileNode, pos: number, src: Uint8Array): number {
    if (!file.writable) throw new FsError(Errno.ROFS);
    if (src.length === 0) return 0;
    let n = src.length;
    const end = pos + n;
    if (end > file.size) {
      const reachable = file.data.length + this.quota.roomBytes; // largest size this file can have
      const size = Math.min(end, reachable);
      if (size <= pos) throw new FsError(Errno.NOSPC);
      n = size - pos;
      this.setSize(file, size);
    }
    file.data.set(src.subarray(0, n), pos);
    file.mtimNs = this.now();
    return n;
  }

  /**
   * Truncates or extends (with zeros) within the quota. How the bytes are stored (and so what is
   * held, allocated or copied) is file-bytes.ts's plan; the quota takes the new capacity and
   * onWork the work before anything happens.
   */
  setSize(file: FileNode, size: number): void {
    if (!file.writable) throw new FsError(Errno.ROFS);
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError(Errno.INVAL);
    if (growsInPlace(file.data, file.size, size)) {
      file.size = size;
      file.mtimNs = this.now();
      return;
    }
    const held = file.data.length;
    const plan = planSize(file.data, file.size, size, held + this.quota.roomBytes);
    if (plan === undefined) throw new FsError(Errno.NOSPC);
    this.onWork(plan.workBytes);
    this.quota.reserveBytes(plan.capacity - held);
    file.data = plan.apply();
    file.size = size;
    file.mtimNs = this.now();
  }
}

function checkName(name: string): void {
  if (name.length > MAX_NAME_BYTES || new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    throw new FsError(Errno.NAMETOOLONG);
  }
}
