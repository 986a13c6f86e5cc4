/**
 * An in-memory filesystem for one guest run: a shared read-only tree (the stdlib image) with a
 * fresh writable `/tmp` under a byte and file-count quota. There are no symlinks: image links are
 * resolved to the nodes they name when the tree is built, so `..` can be handled lexically.
 * Errors are thrown as FsError carrying a WASI errno.
 */
import { Errno } from "./constants.ts";
import type { TarEntry } from "./tar.ts";

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
  /** Contents are data[0, size); data may be longer (spare capacity) and, in the image, shared. */
  data: Uint8Array;
  size: number;
  /** Links from directories (0 once unlinked) and open descriptors: quota is released when both are 0. */
  links: number;
  opens: number;
}

export interface DirNode extends NodeBase {
  kind: "dir";
  entries: Map<string, FsNode>;
}

export type FsNode = FileNode | DirNode;

/** Bytes and entries a writable area may hold. */
export class Quota {
  usedBytes = 0;
  files = 0;
  constructor(readonly maxBytes: number, readonly maxFiles: number) {}

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
export const MAX_NAME_BYTES = 255;

/** Where a path lands: the directories walked (root first) and the last component. */
export interface Resolved {
  /** Chain of directories from the root to the parent of `name` (inclusive). */
  parents: DirNode[];
  name: string;
  /** The node named, if it exists. */
  node: FsNode | undefined;
}

let nextImageIno = 1n;

function dirNode(writable: boolean, ino: bigint, timeNs: bigint): DirNode {
  return { kind: "dir", ino, writable, entries: new Map(), atimNs: timeNs, mtimNs: timeNs, ctimNs: timeNs };
}

/**
 * Builds the read-only tree of an image. Symlinks and hard links inside the image become aliases of
 * their targets; links that point outside the image or nowhere are left out.
 */
export function buildImageTree(entries: readonly TarEntry[]): DirNode {
  const root = dirNode(false, nextImageIno++, 0n);
  const ensureDir = (parts: string[]): DirNode => {
    let dir = root;
    for (const part of parts) {
      let child = dir.entries.get(part);
      if (child === undefined) {
        child = dirNode(false, nextImageIno++, 0n);
        dir.entries.set(part, child);
      }
      if (child.kind !== "dir") throw new FsError(Errno.NOTDIR, `image: ${parts.join("/")} is not a directory`);
      dir = child;
    }
    return dir;
  };
  const links: TarEntry[] = [];
  for (const e of entries) {
    const parts = e.path.split("/");
    const name = parts.pop()!;
    const timeNs = BigInt(e.mtime) * 1_000_000_000n;
    if (e.type === "dir") {
      const d = ensureDir([...parts, name]);
      d.mtimNs = d.atimNs = d.ctimNs = timeNs;
    } else if (e.type === "file") {
      ensureDir(parts).entries.set(name, {
        kind: "file",
        ino: nextImageIno++,
        writable: false,
        data: e.data,
        size: e.data.length,
        links: 1,
        opens: 0,
        atimNs: timeNs,
        mtimNs: timeNs,
        ctimNs: timeNs,
      });
    } else {
      links.push(e);
    }
  }
  // Links may point at other links: resolve until nothing changes (bounded by the number of links).
  for (let round = 0; round <= links.length && links.length > 0; round++) {
    const pending: TarEntry[] = [];
    for (const e of links) {
      const parts = e.path.split("/");
      const name = parts.pop()!;
      const base = e.type === "symlink" && !e.linkTarget.startsWith("/") ? parts : [];
      const target = lexicalWalk(root, [...base, ...e.linkTarget.split("/")]);
      if (target === undefined) pending.push(e);
      else ensureDir(parts).entries.set(name, target);
    }
    if (pending.length === links.length) break;
    links.splice(0, links.length, ...pending);
  }
  return root;
}

/** Walks components from the root, `..` applied lexically first; undefined if anything is missing. */
function lexicalWalk(root: DirNode, parts: string[]): FsNode | undefined {
  const clean: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") clean.pop();
    else clean.push(part);
  }
  let node: FsNode = root;
  for (const part of clean) {
    if (node.kind !== "dir") return undefined;
    const child: FsNode | undefined = node.entries.get(part);
    if (child === undefined) return undefined;
    node = child;
  }
  return node;
}

/** The filesystem one run sees: `/` (read-only) = the image's top level plus a fresh writable `/tmp`. */
export class MemFs {
  readonly root: DirNode;
  readonly quota: Quota;
  private nextIno: bigint;

  constructor(image: DirNode, opts: { tmpQuotaBytes: number; tmpMaxFiles: number; now: () => bigint }) {
    this.now = opts.now;
    this.quota = new Quota(opts.tmpQuotaBytes, opts.tmpMaxFiles);
    this.nextIno = 1n << 40n; // run-local inode numbers never collide with the image's
    this.root = dirNode(false, image.ino, 0n);
    for (const [name, node] of image.entries) this.root.entries.set(name, node);
    this.root.entries.set("tmp", dirNode(true, this.nextIno++, this.now()));
  }

  private readonly now: () => bigint;

  /**
   * Resolves `path` relative to the directory chain `from` (root first). Trailing slashes require a
   * directory. The last component may be missing (node undefined); a missing middle one is ENOENT.
   */
  resolve(from: readonly DirNode[], path: string): Resolved {
    if (path.length === 0) throw new FsError(Errno.NOENT);
    if (path.includes("\0")) throw new FsError(Errno.INVAL);
    if (new TextEncoder().encode(path).length > MAX_PATH_BYTES) throw new FsError(Errno.NAMETOOLONG);
    const mustBeDir = path.endsWith("/");
    const parts = path.split("/").filter((p) => p !== "");
    const chain = path.startsWith("/") ? [this.root] : [...from];
    if (parts.length === 0) parts.push("."); // "/" or "///"
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      if (part === ".") continue;
      if (part === "..") {
        if (chain.length > 1) chain.pop();
        continue;
      }
      checkName(part);
      const child = chain[chain.length - 1]!.entries.get(part);
      if (child === undefined) throw new FsError(Errno.NOENT);
      if (child.kind !== "dir") throw new FsError(Errno.NOTDIR);
      chain.push(child);
    }
    const last = parts[parts.length - 1]!;
    if (last === "." || last === "..") {
      if (last === ".." && chain.length > 1) chain.pop();
      const dir = chain[chain.length - 1]!;
      // Report the directory itself, with its own parent as "parents" so callers can stat it.
      return { parents: chain.length > 1 ? chain.slice(0, -1) : chain, name: last, node: dir };
    }
    checkName(last);
    const node = chain[chain.length - 1]!.entries.get(last);
    if (mustBeDir && node !== undefined && node.kind !== "dir") throw new FsError(Errno.NOTDIR);
    return { parents: chain, name: last, node };
  }

  /** The chain for a directory found by resolve (root first, ending with that directory). */
  static chainOf(r: Resolved): DirNode[] {
    if (r.node === undefined || r.node.kind !== "dir") throw new FsError(Errno.NOTDIR);
    if (r.name === "." || r.name === "..") {
      const last = r.parents[r.parents.length - 1];
      return last === r.node ? [...r.parents] : [...r.parents, r.node];
    }
    return [...r.parents, r.node];
  }

  private parentOf(r: Resolved): DirNode {
    return r.parents[r.parents.length - 1]!;
  }

  /** Refuses any change to a directory of the image. */
  private writableDir(dir: DirNode): DirNode {
    if (!dir.writable) throw new FsError(Errno.ROFS);
    return dir;
  }

  createFile(r: Resolved): FileNode {
    if (r.node !== undefined) throw new FsError(Errno.EXIST);
    if (r.name === "." || r.name === "..") throw new FsError(Errno.EXIST);
    const dir = this.writableDir(this.parentOf(r));
    this.quota.reserveFile();
    const t = this.now();
    const file: FileNode = {
      kind: "file",
      ino: this.nextIno++,
      writable: true,
      data: new Uint8Array(0),
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
    const dir = this.writableDir(this.parentOf(r));
    this.quota.reserveFile();
    const t = this.now();
    const d = dirNode(true, this.nextIno++, t);
    dir.entries.set(r.name, d);
    dir.mtimNs = t;
    return d;
  }

  unlink(r: Resolved): void {
    if (r.node === undefined) throw new FsError(Errno.NOENT);
    if (r.node.kind === "dir") throw new FsError(Errno.ISDIR);
    const dir = this.writableDir(this.parentOf(r));
    dir.entries.delete(r.name);
    dir.mtimNs = this.now();
    this.dropLink(r.node);
  }

  rmdir(r: Resolved): void {
    if (r.node === undefined) throw new FsError(Errno.NOENT);
    if (r.node.kind !== "dir") throw new FsError(Errno.NOTDIR);
    if (r.name === "." || r.name === "..") throw new FsError(r.node === this.root ? Errno.BUSY : Errno.INVAL);
    const dir = this.writableDir(this.parentOf(r));
    if (r.node.entries.size > 0) throw new FsError(Errno.NOTEMPTY);
    dir.entries.delete(r.name);
    dir.mtimNs = this.now();
    this.quota.releaseFile();
  }

  rename(src: Resolved, dst: Resolved): void {
    const node = src.node;
    if (node === undefined) throw new FsError(Errno.NOENT);
    if (src.name === "." || src.name === ".." || dst.name === "." || dst.name === "..") {
      throw new FsError(Errno.INVAL);
    }
    const from = this.writableDir(this.parentOf(src));
    const to = this.writableDir(this.parentOf(dst));
    if (!node.writable) throw new FsError(Errno.ROFS);
    if (node === dst.node) return;
    if (node.kind === "dir") {
      // A directory cannot move inside itself.
      if (dst.parents.includes(node)) throw new FsError(Errno.INVAL);
      if (dst.node !== undefined) {
        if (dst.node.kind !== "dir") throw new FsError(Errno.NOTDIR);
        if (dst.node.entries.size > 0) throw new FsError(Errno.NOTEMPTY);
        this.quota.releaseFile();
      }
    } else if (dst.node !== undefined) {
      if (dst.node.kind === "dir") throw new FsError(Errno.ISDIR);
      this.dropLink(dst.node);
    }
    from.entries.delete(src.name);
    to.entries.set(dst.name, node);
    const t = this.now();
    from.mtimNs = to.mtimNs = node.ctimNs = t;
  }

  /** Called when a descriptor closes: an unlinked file's bytes return to the quota. */
  closeFile(file: FileNode): void {
    file.opens--;
    if (file.writable && file.links === 0 && file.opens === 0) this.freeFile(file);
  }

  private dropLink(file: FileNode): void {
    file.links--;
    this.quota.releaseFile();
    if (file.links === 0 && file.opens === 0) this.freeFile(file);
  }

  private freeFile(file: FileNode): void {
    this.quota.reserveBytes(-file.size);
    file.size = 0;
    file.data = new Uint8Array(0);
  }

  /** Copies file bytes from `pos` into `dst`; returns the count. */
  static readAt(file: FileNode, pos: number, dst: Uint8Array): number {
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
      const room = this.quota.maxBytes - this.quota.usedBytes;
      const grow = Math.min(end - file.size, room);
      if (grow <= 0 || pos >= file.size + grow) throw new FsError(Errno.NOSPC);
      n = file.size + grow - pos;
      this.setSize(file, file.size + grow);
    }
    file.data.set(src.subarray(0, n), pos);
    file.mtimNs = this.now();
    return n;
  }

  /** Truncates or extends (with zeros) within the quota. */
  setSize(file: FileNode, size: number): void {
    if (!file.writable) throw new FsError(Errno.ROFS);
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError(Errno.INVAL);
    const delta = size - file.size;
    this.quota.reserveBytes(delta);
    if (size > file.data.length) {
      const grown = new Uint8Array(Math.min(Math.max(size, file.data.length * 2, 64), this.quota.maxBytes));
      grown.set(file.data.subarray(0, file.size));
      file.data = grown;
    } else if (size < file.size) {
      file.data.fill(0, size, file.size);
    }
    file.size = size;
    file.mtimNs = this.now();
  }
}

function checkName(name: string): void {
  if (name.length > MAX_NAME_BYTES || new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    throw new FsError(Errno.NAMETOOLONG);
  }
}
