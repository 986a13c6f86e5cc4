#!/usr/bin/env bash
# Makes a package image (issue 25) from Debian's pure-Python python3-* packages:
#   scripts/build-packages.sh [-o OUT.tar.br] NAME...
# NAME is a Debian package (python3-sympy) or its short form (sympy). For each: `apt-get download`
# the .deb (no root needed, nothing installed), `dpkg -x` it, take its usr/lib/python3/dist-packages
# tree. A tree with compiled code (.so) is refused, naming the file. The merged tree is then
# byte-compiled by the sandbox's own interpreter (scripts/compile-packages.ts, so the .pyc match
# the guest), packed as a deterministic USTAR tar (scripts/ustar.ts: sorted, mtime 0, owner 0) and
# compressed with brotli: mount it with `wasi-py --packages OUT.tar.br`. The image's WASI-PY-IMAGE file lists the
# .deb files it was made from. Default OUT: build/packages/<first NAME>.tar.br.
# Needs apt-get and dpkg (Debian/Ubuntu) and node; run `npm install` first.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build-packages: $*" >&2; exit 1; }

out=""
if [ "${1:-}" = "-o" ]; then
  [ $# -ge 2 ] || die "-o needs a file name"
  out=$2
  shift 2
fi
[ $# -ge 1 ] || die "usage: scripts/build-packages.sh [-o OUT.tar.br] NAME..."
command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs apt-get and dpkg (Debian or Ubuntu)"
[ -n "$out" ] || out="build/packages/${1#python3-}.tar.br"
case "$out" in *.tar.br) ;; *) die "the image's name must end in .tar.br, got $out" ;; esac
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

work=$(mktemp -d "${TMPDIR:-/tmp}/wasi-py-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt-get download drops root to _apt, which must reach the folder
mkdir -p "$work/debs" "$work/tree"

for name in "$@"; do
  deb=python3-${name#python3-}
  echo "build-packages: $deb"
  (cd "$work/debs" && apt-get download -q "$deb" >/dev/null 2>"$work/apt.err") ||
    die "apt-get download $deb failed: $(tail -n 1 "$work/apt.err") (run apt-get update?)"
  file=$(ls -t "$work/debs/${deb}_"*.deb | head -n 1)
  dpkg -x "$file" "$work/x-$deb"
  src="$work/x-$deb/usr/lib/python3/dist-packages"
  [ -d "$src" ] || die "$deb has no usr/lib/python3/dist-packages"
  so=$(find "$src" -name '*.so' -o -name '*.so.*' | head -n 1)
  [ -z "$so" ] || die "$deb: ${so#"$src"/} is a compiled extension (only pure-Python packages can be mounted)"
  # First named wins a file two packages hold, as in a mount of several paths.
  cp -rn "$src"/. "$work/tree/"
done
find "$work/tree" -name __pycache__ -type d -prune -exec rm -rf {} +
# What the image was made from, one .deb per line (the integration test checks it).
(cd "$work/debs" && ls -- *.deb | sed 's/\.deb$//' | sort) >"$work/tree/WASI-PY-IMAGE"

echo "build-packages: byte-compiling with the guest interpreter, then packing"
# Compile only when build/ is missing or older than a source: tsc rewrites every file of build/, and
# `npm test` (which has just built it) may be running other tests on those files at this moment.
compiled=build/scripts/compile-packages.js
if [ ! -f "$compiled" ] || [ -n "$(find cli.ts src scripts -name '*.ts' -newer "$compiled" -print -quit)" ]; then
  npx tsc -p tsconfig.json
fi
node "$compiled" "$work/tree" "$out"
