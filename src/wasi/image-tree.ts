/**
 * The read-only tree a worker mounts under every run's filesystem (memfs.ts): built from an
 * image's entries (the stdlib image, mounted packages), now or when first looked into.
 *
 * Deferred (issue 23): most programs never touch a file (`print(1)`, arithmetic, comprehensions:
 * the snapshot has the common modules imported), yet building the tree of ~1,700 stdlib entries
 * took ~25 ms of a fresh worker, on the critical path of a cold `wasi-py 'print(1)'`. So a worker
 * makes the root and its top-level directories at once and everything below them on the first
 * look inside one; the nodes are the same either way (the top-level ones are filled in place).
 */
import { Errno } from "./constants.ts";
import type { TarEntry } from "./tar.ts";
import { dirNode, FsError } from "./memfs.ts";
import type { DirNode, FsNode } from "./memfs.ts";

let nextImageIno = 1n;

/**
 * An entry of an image, with its own FileNode.beforeRead if it needs one (a package image's file
 * that is read from disk when first opened, src/packages/lazy.ts).
 */
export interface ImageEntry extends TarEntry {
  beforeRead?: () => void;
}

/**
 * Builds the read-only tree of an image. Symlinks and hard links inside the image become aliases of
 * their targets; links that point outside the image or nowhere are left out. A file's
 * FileNode.beforeRead is its entry's own, else `beforeRead` if given.
 */
export function buildImageTree(entries: readonly ImageEntry[], beforeRead?: () => void): DirNode {
  const root = dirNode(false, nextImageIno++, 0n, undefined);
  fillImageTree(root, entries, beforeRead);
  return root;
}

/** Adds `entries` under `root` (buildImageTree's work; directories already there are used as they are). */
function fillImageTree(root: DirNode, entries: readonly ImageEntry[], beforeRead?: () => void): void {
  const ensureDir = (parts: string[]): DirNode => {
    let dir = root;
    for (const part of parts) {
      let child = dir.entries.get(part);
      if (child === undefined) {
        child = dirNode(false, nextImageIno++, 0n, dir);
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
      const before = e.beforeRead ?? beforeRead;
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
        ...(before === undefined ? {} : { beforeRead: before }),
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

/**
 * The top-level directories the rows of tar indexes (src/wasi/tar-index.ts) make, by name, with
 * their mtime (0 where no row names the directory itself); undefined when a top-level row is not
 * a directory or a row is malformed (the caller then builds the tree at once, which reports it).
 *
 * @example
 * topDirectories([[["usr", "dir", 0, 0, "", 493, 7], ["usr/a.py", "file", 512, 3, "", 420, 7]]]); // Map { "usr" => 7 }
 */
export function topDirectories(rowLists: readonly unknown[]): Map<string, number> | undefined {
  const tops = new Map<string, number>();
  for (const rows of rowLists) {
    if (!Array.isArray(rows)) return undefined;
    for (const row of rows as unknown[]) {
      if (!Array.isArray(row) || typeof row[0] !== "string" || typeof row[6] !== "number") return undefined;
      const path = row[0], slash = path.indexOf("/");
      if (slash === 0) return undefined;
      if (slash > 0) {
        const name = path.slice(0, slash);
        if (!tops.has(name)) tops.set(name, 0);
      } else if (row[1] !== "dir") {
        return undefined;
      } else {
        tops.set(path, row[6]);
      }
    }
  }
  return tops;
}

/**
 * A read-only tree whose root and top-level directories (`tops`, from topDirectories) exist now,
 * and whose entries (`entries()`, called once) are added on the first look inside a top-level
 * directory. If `entries()` throws, every later look throws the same error (a run then ends with
 * a host error rather than seeing an empty tree).
 *
 * @example
 * ```ts
 * const root = deferredImageTree(topDirectories([index.rows])!, () => entriesFromIndex(bytes, index));
 * ```
 */
export function deferredImageTree(
  tops: ReadonlyMap<string, number>,
  entries: () => readonly ImageEntry[],
  beforeRead?: () => void,
): DirNode {
  const root = dirNode(false, nextImageIno++, 0n, undefined);
  const dirs: DirNode[] = [];
  for (const [name, mtime] of tops) {
    const d = dirNode(false, nextImageIno++, BigInt(mtime) * 1_000_000_000n, root);
    root.entries.set(name, d);
    dirs.push(d);
  }
  let failure: { error: unknown } | undefined;
  const lookInside = (d: DirNode): PropertyDescriptor => ({
    get: () => (build(), d.entries),
    configurable: true,
    enumerable: true,
  });
  const build = () => {
    if (failure !== undefined) throw failure.error;
    // Plain maps again, then filled: the getters are gone for good unless the entries fail.
    for (const d of dirs) {
      Object.defineProperty(d, "entries", { value: new Map(), writable: true, enumerable: true, configurable: true });
    }
    try {
      fillImageTree(root, entries(), beforeRead);
    } catch (error) {
      failure = { error };
      for (const d of dirs) Object.defineProperty(d, "entries", lookInside(d));
      throw error;
    }
  };
  for (const d of dirs) Object.defineProperty(d, "entries", lookInside(d));
  return root;
}
