#!/usr/bin/env bash
# A snapshot variant of the interpreter with modules of a package image pre-imported (issue 25,
# item 5): `import sympy` then costs ~4 M fuel and ~25 ms instead of ~2.5 G and ~2 s, while the
# modules stay out of sys.modules until a program imports them (scripts/snapshot/hidden_modules.py),
# as the stdlib's pre-imported ones do. Measured in the README (Packages, "A snapshot with sympy
# pre-imported").
#
# Usage: scripts/build-package-snapshot.sh --pybuild DIR --image IMAGE -o OUT.wasm [--no-opt] MODULE...
#   --pybuild  a built CPython wasm32-wasi tree (scripts/build-cpython.sh makes one: $WORK/wasi-full)
#   --image    the package image (.tar.br or .tar, scripts/build-packages.sh) the variant is for
#   -o         the metered interpreter to write; use it with that image mounted, and only with it:
#                Sandbox.create({ wasm: readFileSync(OUT), packages: [IMAGE] })
#   --no-opt   skip binaryen's wasm-opt (faster to build; then each instance copies the whole
#              memory image instead of restoring it, which makes every run slower)
#   MODULE     modules to pre-import, in order, after scripts/snapshot/preload.txt's
#
# Steps: the guest tree the sandbox presents (the committed stdlib image, and the package image
# under site-packages, every mtime 0, folders included, as the mount shows them) goes to
# scripts/build-snapshot.sh with the preload list extended; then wasm-opt -Oz and meter-wasm, as
# scripts/build-cpython.sh does for the shipped interpreter. Needs node, python3 (for the tar) and
# `npm install` and `npx tsc -p tsconfig.json` first. About 1.5 min of CPU with wasm-opt.
set -euo pipefail
export LC_ALL=C.UTF-8 TZ=UTC

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "build-package-snapshot: $*" >&2; exit 1; }

PYBUILD="" IMAGE="" OUT="" OPT=1 MODULES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pybuild) PYBUILD="${2:?}"; shift 2;;
    --image) IMAGE="${2:?}"; shift 2;;
    -o|--out) OUT="${2:?}"; shift 2;;
    --no-opt) OPT=0; shift;;
    -h|--help) sed -n '2,24p' "$0"; exit 0;;
    -*) die "unknown option '$1' (see --help)";;
    *) MODULES+=("$1"); shift;;
  esac
done
[ -n "$PYBUILD" ] && [ -n "$IMAGE" ] && [ -n "$OUT" ] || die "need --pybuild, --image and -o (see --help)"
[ ${#MODULES[@]} -gt 0 ] || die "name at least one module to pre-import (see --help)"
[ -f "$IMAGE" ] || die "no such package image: $IMAGE"
case "$IMAGE" in *.tar.br|*.tar) ;; *) die "a package image ends in .tar.br or .tar: $IMAGE";; esac
[ -f "$REPO/build/scripts/meter-wasm.js" ] || die "build/ is missing: run npx tsc -p tsconfig.json first"
for m in "${MODULES[@]}"; do
  [[ "$m" =~ ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$ ]] || die "not a module name: '$m'"
done

T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
OUT_ABS="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

echo "build-package-snapshot: the guest tree (stdlib image and $IMAGE under site-packages)"
node --input-type=module -e '
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { brotliDecompressSync } = await import("node:zlib");
  const [stdlib, image, dir] = process.argv.slice(1);
  const raw = (p) => (p.endsWith(".br") ? brotliDecompressSync(readFileSync(p)) : readFileSync(p));
  writeFileSync(`${dir}/stdlib.tar`, raw(stdlib));
  writeFileSync(`${dir}/image.tar`, raw(image));' "$REPO/assets/stdlib.tar.br" "$IMAGE" "$T"
python3 - "$T" <<'PY'
import sys, tarfile
t = sys.argv[1]
site = "usr/local/lib/python3.13/site-packages"
with tarfile.open(f"{t}/root.tar", "w", format=tarfile.USTAR_FORMAT) as out:
    with tarfile.open(f"{t}/stdlib.tar") as s:
        for m in s.getmembers():
            out.addfile(m, s.extractfile(m) if m.isfile() else None)
    dirs = {site}
    with tarfile.open(f"{t}/image.tar") as p:
        members = [m for m in p.getmembers() if m.isfile()]
        for m in members:
            parts = m.name.split("/")[:-1]
            dirs.update(f"{site}/{'/'.join(parts[:i])}" for i in range(1, len(parts) + 1))
        for d in sorted(dirs):
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            out.addfile(info)
        for m in members:
            data = p.extractfile(m)
            m.name, m.mtime = f"{site}/{m.name}", 0
            out.addfile(m, data)
PY
{ cat "$REPO/scripts/snapshot/preload.txt"; printf '%s\n' "${MODULES[@]}"; } > "$T/preload.txt"

bash "$REPO/scripts/build-snapshot.sh" --pybuild "$PYBUILD" --stdlib "$T/root.tar" --preload "$T/preload.txt" \
  -o "$T/unmetered.wasm"
if [ "$OPT" = 1 ]; then
  echo "build-package-snapshot: binaryen wasm-opt -Oz"
  node --stack-size=65500 "$REPO/node_modules/binaryen/bin/wasm-opt" "$T/unmetered.wasm" -Oz --strip-producers \
    -o "$T/opt.wasm" || die "wasm-opt failed"
  mv "$T/opt.wasm" "$T/unmetered.wasm"
fi
node "$REPO/build/scripts/meter-wasm.js" "$T/unmetered.wasm" "$OUT_ABS"
echo "build-package-snapshot: wrote $OUT ($(stat -c %s "$OUT_ABS") bytes), for $IMAGE with ${MODULES[*]} pre-imported"
