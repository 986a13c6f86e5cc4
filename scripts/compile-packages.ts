/**
 * Byte-compiles a site-packages tree with the sandbox's own interpreter (scripts/build-packages.sh
 * runs it on the tree it takes from Debian's packages), so every `.pyc` is exactly what the guest
 * would write: its magic number, its marshal format, its file names. The tree is mounted as
 * packages and a guest program compiles the files in batches, handing each `.pyc` back on stdout
 * (hex); this script writes them into `__pycache__/` as unchecked-hash pycs (the stdlib image's
 * kind: the files are read-only, so there is no source to check them against a change). A file
 * that does not compile on 3.13 is listed on stderr with its SyntaxError and left as source only.
 *
 * Then, given OUT, packs the tree as a package image: a deterministic USTAR tar (scripts/ustar.ts)
 * compressed with brotli.
 *
 * Usage: node build/scripts/compile-packages.js TREE [OUT.tar.br]
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import process from "node:process";
import { brotliCompressSync, constants } from "node:zlib";
import { Sandbox } from "../src/sandbox/mod.ts";
import { writeUstar } from "./ustar.ts";

/** Source bytes per guest run (its pycs come back as hex, within the output limit). */
const BATCH_SOURCE_BYTES = 4 * 1024 * 1024;
const SITE = "/usr/local/lib/python3.13/site-packages";

/** The guest side: compiles each path on stdin, one result line per file. */
const COMPILER = `import sys, importlib.util, importlib._bootstrap_external as be
for rel in sys.stdin.read().split('\\n'):
    if not rel:
        continue
    path = '${SITE}/' + rel
    src = open(path, 'rb').read()
    try:
        code = compile(src, path, 'exec', dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        print('ERR', rel, type(e).__name__ + ': ' + str(e).replace('\\n', ' '))
        continue
    print('OK', rel, be._code_to_hash_pyc(code, importlib.util.source_hash(src), False).hex())
`;

/** Every regular file under `dir`, paths relative to `root` ("/"-separated), with its size. */
function allFiles(root: string, dir = root, out: { rel: string; bytes: number }[] = []) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) allFiles(root, path, out);
    else if (st.isFile()) out.push({ rel: relative(root, path).split("\\").join("/"), bytes: st.size });
  }
  return out;
}

/** Writes the tree as a brotli-compressed USTAR package image. */
function pack(root: string, out: string): void {
  const files = new Map(allFiles(root).map((f) => [f.rel, new Uint8Array(readFileSync(join(root, f.rel)))]));
  const tar = writeUstar(files);
  const params = { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: tar.length };
  const compressed = brotliCompressSync(tar, { params });
  // Written aside and renamed into place: a reader never sees half an image.
  const partial = `${out}.partial-${process.pid}`;
  writeFileSync(partial, compressed);
  renameSync(partial, out);
  process.stderr.write(`compile-packages: wrote ${out} (${compressed.length} bytes; ${tar.length} expanded)\n`);
}

function batches(files: { rel: string; bytes: number }[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const f of files) {
    if (current.length > 0 && size + f.bytes > BATCH_SOURCE_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(f.rel);
    size += f.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Writes one result line's pyc; returns the failure text for an ERR line. */
function store(root: string, line: string): string | undefined {
  const [kind, rel, rest] = [line.slice(0, 3), ...line.slice(3).trim().split(/ (.*)/s)] as [string, string, string];
  if (kind === "ERR") return `${rel}: ${rest}`;
  const target = join(root, dirname(rel), "__pycache__", `${basename(rel, ".py")}.cpython-313.pyc`);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, Buffer.from(rest, "hex"));
  return undefined;
}

async function main(root: string, out: string | undefined): Promise<number> {
  const files = allFiles(root).filter((f) => f.rel.endsWith(".py") && !f.rel.includes("__pycache__/"));
  const sb = await Sandbox.create({ workers: 2, packages: [root] });
  let failed = 0;
  try {
    await Promise.all(
      batches(files).map(async (batch) => {
        const r = await sb.run(COMPILER, {
          stdin: batch.join("\n"),
          fuel: Infinity,
          timeoutMs: 30 * 60 * 1000,
          memoryMiB: 1024,
          maxOutputBytes: 64 * 1024 * 1024,
        });
        if (r.outcome !== "ok") throw new Error(`compiling ${batch[0]}...: ${r.outcome} ${r.stderr.slice(-400)}`);
        for (const line of r.stdout.split("\n")) {
          if (line === "") continue;
          const why = store(root, line);
          if (why !== undefined) {
            failed++;
            process.stderr.write(`compile-packages: left as source (does not compile on 3.13): ${why}\n`);
          }
        }
      }),
    );
  } finally {
    await sb.close();
  }
  process.stderr.write(`compile-packages: ${files.length - failed} of ${files.length} files compiled\n`);
  if (out !== undefined) pack(root, out);
  return 0;
}

const root = process.argv[2];
if (root === undefined) {
  process.stderr.write("usage: node build/scripts/compile-packages.js TREE [OUT.tar.br]\n");
  process.exit(2);
}
process.exit(await main(root, process.argv[3]));
