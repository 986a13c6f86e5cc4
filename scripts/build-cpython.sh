#!/usr/bin/env bash
# Builds CPython 3.13 for wasm32-wasi from Debian packages and writes the wasi-py assets.
#
# Usage: scripts/build-cpython.sh [plain|full|all|meter|assets]   (default: all)
#   plain  toolchain + native build-Python + plain python.wasm, published at $WORK/plain
#   full   (after plain) C libraries, linked interpreter, stdlib image, wasm-opt, metering, assets/
#   all    both
#   meter  (after full) redo strip, snapshot (unless WASI_PY_SNAPSHOT=0), wasm-opt, metering and assets/ with the
#          rewriter and driver as committed (git HEAD); use it when those changed, since the
#          metered asset depends on them
#   assets (after full) only rewrite assets/ from $WORK/out
# Environment: WASI_PY_WORK (default /work/build) holds every build product outside the
# repository; DEBIAN_MIRROR overrides the mirror (e.g. a snapshot.debian.org URL when the
# pinned versions below have left deb.debian.org); JOBS (default 2) make jobs; the shipped
# interpreter is the pre-initialised snapshot (scripts/build-snapshot.sh) unless WASI_PY_SNAPSHOT=0
# asks for the plain one; WASI_PY_WASM_OPT (default -Oz; empty: skip) is the wasm-opt level.
# Needs: Debian 12 (bookworm), root, apt reachable, Node >= 20 with the repo's npm deps installed.
#
# What it makes (see also the team brief's asset contract):
#   $WORK/plain/{python.wasm,lib/python3.13/,NATIVE_PYTHON,READY}  quick unmetered build, source Lib/
#   $WORK/wasi-full/                 CPython tree linked with zlib, libbz2, liblzma, sqlite3
#   $WORK/out/python-unmetered.wasm  the Wizer snapshot (build-snapshot.sh) of that interpreter
#                                    without DWARF, optimised by binaryen's wasm-opt (no name section);
#                                    WASI_PY_SNAPSHOT=0: not snapshotted
#   $WORK/out/python.wasm            the same after scripts/meter-wasm.ts (fuel metering)
#   $WORK/out/stdlib.tar             usr/local/lib/python3.13 (+ .pyc) and usr/share/zoneinfo;
#                                    dropped parts of Lib/ are listed in build-stdlib-image.py
#   assets/*.br, assets/licenses/, assets/manifest.json  (brotli, committed)
# Interpreter: stack first, 8 MiB stack, 20 MiB initial memory (CPython's configure flags for
# WASI, kept as they are); no threads, no dynamic loading; _ctypes, _ssl, _hashlib absent.
#
# Reproducibility: SOURCE_DATE_EPOCH (below) fixes __DATE__/__TIME__ in sys.version and the
# manifest's buildDate; -ffile-prefix-map and a relative configure path keep the work dir out of
# python.wasm; the sysconfig data has the work dir renamed /wasi-py-build; .pyc use
# unchecked-hash (no mtimes) and are written with PYTHONHASHSEED=0; the tar has mtime 0,
# uid/gid 0 and sorted entries; brotli output depends only on Node's brotli version (recorded
# in the manifest). Two runs with the same pinned inputs give byte-identical assets.

# ---- Pinned versions: the ONE place to change them --------------------------------------
CLANG_MAJOR=16                                   # bookworm: clang-16, lld-16, libclang-rt-16-dev-wasm32
PY_SRC_PKG=python3.13                            # sid source package (the newest 3.13 whose files the
PY_SRC_VERSION=3.13.15-1                         # archive serves: sid's Sources index also lists 3.13.18-1,
PY_UPSTREAM=3.13.15                              # but its files are 404 in the pool as of 2026-11-30)
PY_SUITE=sid                                     # the suite PY_SRC_VERSION comes from; the rest come from trixie
WASI_LIBC_VERSION=0.0~git20241209.574b88d-2      # trixie binary package wasi-libc (Architecture: all)
ZLIB_VERSION=1:1.3.dfsg+really1.3.1-1            # trixie source package zlib
BZIP2_VERSION=1.0.8-6                            # trixie source package bzip2
XZ_VERSION=5.8.1-1+deb13u1                       # trixie source package xz-utils
SQLITE_VERSION=3.46.1-7+deb13u2                  # trixie source package sqlite3
TZDATA_VERSION=2026f-0+deb13u1                   # trixie binary package tzdata (Architecture: all)
SOURCE_DATE_EPOCH=1763942400                     # 2025-11-24T00:00:00Z: the recorded "build date"
# C recursion limit for __wasi__ (CPython 3.13 has 5000, "based on wasmtime 16"). C recursion runs
# on the host thread's native stack, and the metered module ends any recursion whose estimated
# frames pass its stack budget (src/wasm/meter/stack.ts: 1,900,000 estimated bytes, 16% below the
# smallest native overflow measured on a Deno worker's ~1 MB stack; Deno ignores stackSizeMb).
# Every recursion CPython guards must reach RecursionError inside that budget: the heaviest
# measured, `__getattr__` calling getattr, takes ~1,025 estimated bytes per unit (2.15 M at 2100),
# so 1600 units need ~1.64 M. The price: native CPython (limit 10000 on Linux) stops that
# recursion at Python's limit of 1000 levels (2004 units), we stop it at 799 levels, so its
# traceback says "[Previous line repeated 796 more times]" instead of 996 (same exception, same
# message). A limit of 2100 kept the native count, but needed 2.15 M of a budget that must stay
# below 2.26 M, the overflow of nested map/zip iterators on Deno: no margin for either.
WASI_C_RECURSION_LIMIT=1600
# C optimisation level of the wasm interpreter (CPython's default is -O3). Measured on the 2-core
# machine (CPU time of the two FUEL_PROGRAMS in bench/programs.ts, Node 20, median of 5, one run):
#   -O3 + wasm-opt -O2: code 4.55 MB, metered module 14.17 MB; metered 2671 / 3132 ms
#   -Os + wasm-opt -Oz: code 3.97 MB, metered module 13.33 MB; metered 2281 / 2459 ms (15-21% faster:
#                       metering grows every inlined copy, and V8 compiles and caches less code)
#   -Oz + wasm-opt -Oz: code 3.69 MB, metered module 13.02 MB; metered 2849 / 3730 ms (too slow)
# With -Os the smallest native stack overflow on a Deno worker (nested map iterators) moved from
# 2.26 M to 2.41 M estimated stack bytes, so the 1.9 M stack budget keeps a 21% margin, and every
# recursion CPython guards still ends in RecursionError (test/sandbox/hostile.test.ts).
WASI_OPT=-Os
# ------------------------------------------------------------------------------------------

set -euo pipefail
export SOURCE_DATE_EPOCH
export LC_ALL=C.UTF-8 TZ=UTC
umask 022

STAGE="${1:-all}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WASI_PY_WORK:-/work/build}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
JOBS="${JOBS:-2}"
LLVM="/usr/lib/llvm-${CLANG_MAJOR}"
SDK="$WORK/wasi-sdk"           # wasi-sdk shaped folder: clang wrappers + sysroot
SYSROOT="$SDK/share/wasi-sysroot"
DL="$WORK/dl"
SRC="$WORK/src"
PYSRC="$SRC/Python-$PY_UPSTREAM"
NATIVE="$WORK/native"
DEPS="$WORK/deps"              # wasm32-wasi static libraries and headers
HOST_TRIPLE=wasm32-wasi        # clang 16 does not know wasm32-wasip1
BUILD_START=$(date +%s)

CURRENT_STEP="(start)"
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "!! build-cpython.sh FAILED in step: $CURRENT_STEP (exit $rc)" >&2; fi' EXIT
step() {
  CURRENT_STEP="$1"
  echo "==> [$(( $(date +%s) - BUILD_START ))s] $1"
}
die() { echo "!! $*" >&2; exit 1; }

# apt with a private configuration listing only trixie (and $PY_SUITE for CPython's sources), so the
# system's sources stay bookworm. Every package is fetched by its pinned version, never "the newest".
APT_DIR="$WORK/apt"
apt_debian() {
  apt-get -q -o Dir::Etc::SourceList="$APT_DIR/debian.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root \
    -o Debug::NoLocking=1 "$@"
}

# ---- plain stage --------------------------------------------------------------------------

install_host_packages() {
  step "host packages (bookworm): clang-$CLANG_MAJOR, lld-$CLANG_MAJOR, compiler-rt wasm32, build tools"
  [ "$(id -u)" = 0 ] || die "must run as root (apt-get install)"
  local pkgs=(clang-$CLANG_MAJOR lld-$CLANG_MAJOR llvm-$CLANG_MAJOR libclang-rt-$CLANG_MAJOR-dev-wasm32
              build-essential pkg-config dpkg-dev xz-utils bzip2 tcl ca-certificates)
  if [ "$(dpkg-query -W -f='${Status}\n' "${pkgs[@]}" 2>/dev/null | grep -c 'install ok installed')" = "${#pkgs[@]}" ]; then
    echo "    already installed"
  else
    apt-get -q update
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${pkgs[@]}"
  fi
  command -v node >/dev/null || die "node (>= 20) is required for compression and metering"
  [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "node >= 20 is required (found $(node --version))"
}

fetch_debian_packages() {
  step "fetch pinned Debian packages (trixie + $PY_SUITE sources, private apt config)"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$DL"
  cat > "$APT_DIR/debian.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $PY_SUITE main
EOF
  apt_debian update >/dev/null
  cd "$DL"
  [ -f wasi-libc_*_all.deb ] 2>/dev/null || apt_debian download "wasi-libc=$WASI_LIBC_VERSION"
  ls tzdata_*_all.deb >/dev/null 2>&1 || apt_debian download "tzdata=$TZDATA_VERSION"
  local p
  for p in "$PY_SRC_PKG=$PY_SRC_VERSION" "zlib=$ZLIB_VERSION" "bzip2=$BZIP2_VERSION" \
           "xz-utils=$XZ_VERSION" "sqlite3=$SQLITE_VERSION"; do
    local name="${p%%=*}" ver="${p#*=}"
    ver="${ver#*:}"   # .dsc file names carry no epoch
    [ -f "${name}_${ver}.dsc" ] || apt_debian source --download-only "$p"
  done
}

make_sysroot_and_wrappers() {
  step "wasi sysroot (wasi-libc $WASI_LIBC_VERSION) and clang-$CLANG_MAJOR wrappers"
  rm -rf "$SDK" && mkdir -p "$SDK/bin" "$SDK/share" "$WORK/wasi-libc"
  rm -rf "$WORK/wasi-libc" && dpkg -x "$DL"/wasi-libc_*_all.deb "$WORK/wasi-libc"
  ln -s "$WORK/wasi-libc/usr" "$SYSROOT"
  [ -f "$LLVM/lib/clang/$CLANG_MAJOR/lib/wasi/libclang_rt.builtins-wasm32.a" ] \
    || die "compiler-rt builtins for wasm32 missing (libclang-rt-$CLANG_MAJOR-dev-wasm32)"
  # -ffile-prefix-map keeps build paths out of __FILE__ strings and the like.
  local t
  for t in clang clang++; do
    cat > "$SDK/bin/$t" <<EOF
#!/bin/sh
exec $LLVM/bin/$t --target=$HOST_TRIPLE --sysroot=$SYSROOT -ffile-prefix-map=$WORK/= "\$@"
EOF
  done
  cat > "$SDK/bin/clang-cpp" <<EOF
#!/bin/sh
exec $LLVM/bin/clang --target=$HOST_TRIPLE --sysroot=$SYSROOT -E "\$@"
EOF
  chmod +x "$SDK/bin/"*
  for t in llvm-ar llvm-ranlib llvm-nm llvm-strip llvm-objcopy wasm-ld; do
    ln -s "$LLVM/bin/$t" "$SDK/bin/$t"
  done
  ln -s "$LLVM/bin/llvm-ranlib" "$SDK/bin/ranlib"
  ln -s "$LLVM/bin/llvm-ar" "$SDK/bin/ar"
  # A runner for wasm programs under node:wasi (configure/make's HOSTRUNNER; checks only).
  cat > "$SDK/bin/wasi-run" <<'EOF'
#!/bin/sh
# usage: wasi-run <module.wasm> [args...]; maps / to / read-write (build checks only, NOT a sandbox).
# --no-turbo-fast-api-calls: Node 20's node:wasi can abort in a GC inside a fast API call.
exec node --no-warnings --no-turbo-fast-api-calls -e '
const { WASI } = require("node:wasi");
const fs = require("node:fs");
const [wasmPath, ...args] = process.argv.slice(1);
const env = {};
for (const k of ["PYTHONPATH", "PYTHONHOME", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHON_COLORS", "LANG", "HOME"])
  if (process.env[k] !== undefined) env[k] = process.env[k];
const wasi = new WASI({ version: "preview1", args: ["python", ...args], env, preopens: { "/": "/" }, returnOnExit: true });
const mod = new WebAssembly.Module(fs.readFileSync(wasmPath));
const inst = new WebAssembly.Instance(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
' "$@"
EOF
  chmod +x "$SDK/bin/wasi-run"
  echo 'int main(void){return 0;}' > "$WORK/t.c"
  "$SDK/bin/clang" -o "$WORK/t.wasm" "$WORK/t.c" || die "wasm toolchain cannot link a trivial program"
  rm -f "$WORK/t.c" "$WORK/t.wasm"
}

unpack_python() {
  step "unpack CPython $PY_UPSTREAM (upstream tarball of Debian's $PY_SRC_PKG $PY_SRC_VERSION)"
  # Debian's patches target Debian's own multiarch layout; the WASI build uses the
  # pristine upstream tarball that the source package ships.
  rm -rf "$PYSRC" && mkdir -p "$SRC"
  tar -C "$SRC" -xf "$DL/${PY_SRC_PKG}_${PY_UPSTREAM}.orig.tar.xz"
  [ -d "$PYSRC" ] || die "unexpected layout of ${PY_SRC_PKG}_${PY_UPSTREAM}.orig.tar.xz"
}

# The source patches: Py_C_RECURSION_LIMIT for __wasi__ (see WASI_C_RECURSION_LIMIT above), and
# the patches in scripts/cpython/ (each says why at its top-of-hunk comments):
#   linux-errno.patch   Python sees Linux's errno numbers and glibc's messages (C side; the table
#                       is made from the native build-Python by linux_errno_header below)
#   asyncio-wasi.patch  asyncio's event loop without a self-pipe, selectors waiting on nothing
# Idempotent, and leaves the files (and their mtimes) alone when they are already patched.
patch_python() {
  step "patch CPython: Py_C_RECURSION_LIMIT $WASI_C_RECURSION_LIMIT for __wasi__, scripts/cpython/*.patch"
  local p
  for p in linux-errno asyncio-wasi; do
    if ! patch -d "$PYSRC" -p1 -R -s -f --dry-run < "$REPO/scripts/cpython/$p.patch" > /dev/null 2>&1; then
      patch -d "$PYSRC" -p1 -s -f --no-backup-if-mismatch < "$REPO/scripts/cpython/$p.patch" || die "patch $p.patch does not apply"
    fi
  done
  local h="$PYSRC/Include/cpython/pystate.h"
  local re="^#elif defined(__wasi__)"
  if ! grep -A2 "$re" "$h" | grep -q "define Py_C_RECURSION_LIMIT $WASI_C_RECURSION_LIMIT\$"; then
    sed -i "/$re/,/define Py_C_RECURSION_LIMIT/ s/define Py_C_RECURSION_LIMIT [0-9]*/define Py_C_RECURSION_LIMIT $WASI_C_RECURSION_LIMIT/" "$h"
  fi
  grep -A2 "$re" "$h" | grep -q "define Py_C_RECURSION_LIMIT $WASI_C_RECURSION_LIMIT\$" \
    || die "could not set Py_C_RECURSION_LIMIT for __wasi__ in $h"
}

# The errno table of linux-errno.patch, from the native build-Python (Linux's numbers, glibc's
# messages); rewritten only when its content changes, so make does not rebuild for nothing.
linux_errno_header() {
  step "errno table: Linux numbers and messages from the native build-Python"
  local h="$PYSRC/Include/internal/pycore_linux_errno.h"
  env -u PYTHONPATH -u PYTHONHOME "$NATIVE/python" "$REPO/scripts/cpython/gen-linux-errno.py" "$h.new"
  if cmp -s "$h.new" "$h"; then rm "$h.new"; else mv "$h.new" "$h"; fi
}

build_native_python() {
  step "native build-Python $PY_UPSTREAM (needed to cross-compile; also used to make .pyc)"
  rm -rf "$NATIVE" && mkdir -p "$NATIVE" && cd "$NATIVE"
  "$PYSRC/configure" -q > configure.log 2>&1 || { tail -30 configure.log; die "native configure"; }
  make -s -j"$JOBS" all > make.log 2>&1 || { tail -40 make.log; die "native make"; }
  "$NATIVE/python" -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'
}

# configure_wasi <builddir> [extra configure args...]: the host build, as Tools/wasm/wasi.py does it,
# less CPython's test modules (--disable-test-modules: _testcapi, _testinternalcapi, _testlimitedcapi,
# _testbuffer, _testclinic[_limited], _testexternalinspection, _xxtestfuzz, xxsubtype; the
# dlopen-only ones - _testimportmultiple, _testmultiphase, _testsinglephase, xxlimited[_35],
# _ctypes_test - are never built for WASI anyway). A sandbox has no use for them and they cost code.
# configure is called by a relative path (as wasi.py does): VPATH is compiled into getpath, and a
# relative one keeps the work dir's location out of python.wasm.
configure_wasi() {
  local dir="$1"; shift
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  env CONFIG_SITE="$PYSRC/Tools/wasm/config.site-wasm32-wasi" \
      HOSTRUNNER="$SDK/bin/wasi-run" \
      CC="$SDK/bin/clang" CPP="$SDK/bin/clang-cpp" CXX="$SDK/bin/clang++" \
      AR="$SDK/bin/llvm-ar" RANLIB="$SDK/bin/ranlib" \
      PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$SYSROOT/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$SYSROOT" \
      WASI_SDK_PATH="$SDK" WASI_SYSROOT="$SYSROOT" PATH="$SDK/bin:$PATH" \
      "$(realpath --relative-to="$dir" "$PYSRC")/configure" -q --host="$HOST_TRIPLE" --build="$("$PYSRC/config.guess")" \
      --with-build-python="$NATIVE/python" --disable-test-modules "$@" > configure.log 2>&1 \
      || { tail -30 configure.log; die "wasi configure in $dir"; }
}

make_wasi() {
  local dir="$1"
  cd "$dir"
  env PATH="$SDK/bin:$PATH" make -s -j"$JOBS" OPT="-DNDEBUG -g $WASI_OPT -Wall" all > make.log 2>&1 \
    || { tail -40 make.log; die "wasi make in $dir"; }
  [ -f python.wasm ] || die "no python.wasm in $dir"
  local sysconfig; sysconfig=$(ls build/lib.wasi-wasm32-3.13/_sysconfigdata_*.py)
  [ -f "$sysconfig" ] || die "no _sysconfigdata in $dir"
  PYTHONHOME=/ PYTHONPATH="$PYSRC/Lib:$dir/build/lib.wasi-wasm32-3.13" \
    "$SDK/bin/wasi-run" python.wasm -c 'import sys; print(sys.version)'
}

build_plain_wasi() {
  step "plain CPython for $HOST_TRIPLE (no extra libraries)"
  configure_wasi "$WORK/wasi-plain"
  make_wasi "$WORK/wasi-plain"
}

publish_plain() {
  step "publish plain build at $WORK/plain"
  local out="$WORK/plain"
  rm -rf "$out" && mkdir -p "$out/lib"
  cp "$WORK/wasi-plain/python.wasm" "$out/python.wasm"
  cp -r "$PYSRC/Lib" "$out/lib/python3.13"
  find "$out/lib" -name __pycache__ -type d -prune -exec rm -rf {} +   # left by the native build
  cp "$WORK"/wasi-plain/build/lib.wasi-wasm32-3.13/_sysconfigdata_*.py "$out/lib/python3.13/"
  echo "$NATIVE/python" > "$out/NATIVE_PYTHON"
  touch "$out/READY"
}

# ---- full stage ---------------------------------------------------------------------------

WASM_CFLAGS="-O2 -g0"

# unpack_orig <source package> <upstream version> <ext>: the pristine upstream tarball of a
# pinned Debian source package, into $SRC/deps/<package>.
unpack_orig() {
  local pkg="$1" up="$2" ext="$3" dir="$SRC/deps/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  tar -C "$dir" --strip-components=1 -xf "$DL/${pkg}_${up}.orig.tar.${ext}"
  echo "$dir"
}

build_zlib() {
  step "zlib $ZLIB_VERSION for $HOST_TRIPLE"
  local d; d=$(unpack_orig zlib 1.3.dfsg+really1.3.1 gz); cd "$d"
  CC="$SDK/bin/clang" AR="$SDK/bin/llvm-ar" RANLIB="$SDK/bin/ranlib" CFLAGS="$WASM_CFLAGS" \
    CHOST=wasm32 ./configure --static --prefix="$DEPS" > configure.log 2>&1 \
    || { tail -20 configure.log; die "zlib configure"; }
  make -s -j"$JOBS" libz.a > make.log 2>&1 || { tail -20 make.log; die "zlib make"; }
  mkdir -p "$DEPS/include" "$DEPS/lib" "$DEPS/licenses"
  cp zlib.h zconf.h "$DEPS/include/"; cp libz.a "$DEPS/lib/"
  cp LICENSE "$DEPS/licenses/zlib.txt"
}

build_bzip2() {
  step "bzip2 $BZIP2_VERSION (libbz2) for $HOST_TRIPLE"
  local d; d=$(unpack_orig bzip2 1.0.8 gz); cd "$d"
  local f objs=()
  for f in blocksort huffman crctable randtable compress decompress bzlib; do
    "$SDK/bin/clang" $WASM_CFLAGS -D_FILE_OFFSET_BITS=64 -c "$f.c" -o "$f.o" || die "bzip2 compile $f.c"
    objs+=("$f.o")
  done
  rm -f libbz2.a && "$SDK/bin/llvm-ar" rcsD libbz2.a "${objs[@]}"
  mkdir -p "$DEPS/include" "$DEPS/lib" "$DEPS/licenses"
  cp bzlib.h "$DEPS/include/"; cp libbz2.a "$DEPS/lib/"
  cp LICENSE "$DEPS/licenses/bzip2.txt"
}

build_xz() {
  step "xz-utils $XZ_VERSION (liblzma) for $HOST_TRIPLE"
  local d; d=$(unpack_orig xz-utils 5.8.1 xz); cd "$d"
  CC="$SDK/bin/clang" AR="$SDK/bin/llvm-ar" RANLIB="$SDK/bin/ranlib" CFLAGS="$WASM_CFLAGS" \
    ./configure -q --host="$HOST_TRIPLE" --prefix="$DEPS" --disable-shared --enable-static \
      --disable-threads --disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo \
      --disable-lzma-links --disable-scripts --disable-doc --disable-nls --disable-sandbox \
      --disable-symbol-versions > configure.log 2>&1 || { tail -20 configure.log; die "xz configure"; }
  make -s -j"$JOBS" -C src/liblzma > make.log 2>&1 || { tail -20 make.log; die "xz make"; }
  make -s -C src/liblzma install > install.log 2>&1 || { tail -20 install.log; die "xz install"; }
  mkdir -p "$DEPS/licenses"; cp COPYING "$DEPS/licenses/xz-utils.txt"
}

build_sqlite() {
  step "sqlite3 $SQLITE_VERSION for $HOST_TRIPLE"
  local d; d=$(unpack_orig sqlite3 3.46.1 xz); cd "$d"
  # The amalgamation is generated by native tools (lemon, tclsh); then compiled for wasm.
  mkdir -p native && cd native
  ../configure -q > configure.log 2>&1 || { tail -20 configure.log; die "sqlite native configure"; }
  make -s sqlite3.c > make.log 2>&1 || { tail -20 make.log; die "sqlite amalgamation"; }
  # No threads, no extension loading, no mmap/WAL (no shared memory in WASI).
  "$SDK/bin/clang" $WASM_CFLAGS -D_WASI_EMULATED_GETPID \
    -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0 \
    -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_MATH_FUNCTIONS \
    -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DQS=0 \
    -c sqlite3.c -o sqlite3.o > compile.log 2>&1 || { tail -30 compile.log; die "sqlite compile"; }
  rm -f libsqlite3.a && "$SDK/bin/llvm-ar" rcsD libsqlite3.a sqlite3.o
  mkdir -p "$DEPS/include" "$DEPS/lib" "$DEPS/licenses"
  cp sqlite3.h sqlite3ext.h "$DEPS/include/"; cp libsqlite3.a "$DEPS/lib/"
  cp ../LICENSE.md "$DEPS/licenses/sqlite3.txt" 2>/dev/null \
    || echo "SQLite is in the public domain (https://sqlite.org/copyright.html)." > "$DEPS/licenses/sqlite3.txt"
}

# Fixes in front of wasi-libc, linked with --wrap (scripts/cpython/fma-zero-sign.c says why).
build_libc_fixes() {
  step "wasi-libc fixes: fma keeps the sign of a zero result"
  mkdir -p "$DEPS/lib" "$WORK/libc-fixes"
  "$SDK/bin/clang" $WASM_CFLAGS -c "$REPO/scripts/cpython/fma-zero-sign.c" -o "$WORK/libc-fixes/fma-zero-sign.o"
  rm -f "$DEPS/lib/libwasi-py-fixes.a"
  "$SDK/bin/llvm-ar" rcsD "$DEPS/lib/libwasi-py-fixes.a" "$WORK/libc-fixes/fma-zero-sign.o"
}

build_full_wasi() {
  step "CPython for $HOST_TRIPLE linked with zlib, libbz2, liblzma, sqlite3"
  local I="-I$DEPS/include" L="-L$DEPS/lib"
  configure_wasi "$WORK/wasi-full" \
    LDFLAGS="-Wl,--wrap=fma" LIBS="$L -lwasi-py-fixes" \
    ZLIB_CFLAGS="$I" ZLIB_LIBS="$L -lz" \
    BZIP2_CFLAGS="$I" BZIP2_LIBS="$L -lbz2" \
    LIBLZMA_CFLAGS="$I" LIBLZMA_LIBS="$L -llzma" \
    LIBSQLITE3_CFLAGS="$I" LIBSQLITE3_LIBS="$L -lsqlite3"
  make_wasi "$WORK/wasi-full"
  local m
  for m in zlib _bz2 _lzma _sqlite3; do
    grep -q "^$m " "$WORK/wasi-full/Modules/Setup.stdlib" \
      || die "module $m is not built into the interpreter (see $WORK/wasi-full/config.log)"
  done
  ! grep -E "^(_test|_xxtestfuzz|xx|_ctypes_test)" "$WORK/wasi-full/Modules/Setup.stdlib" \
    || die "test modules are still built into the interpreter (see above)"
}

OUT="$WORK/out"   # final uncompressed products: python-unmetered.wasm, python.wasm, stdlib.tar, licenses/

strip_wasm() {
  step "strip debug info (keep the name section)"
  mkdir -p "$OUT"
  "$LLVM/bin/llvm-objcopy" --strip-debug "$WORK/wasi-full/python.wasm" "$OUT/python-unmetered.wasm"
  if "$LLVM/bin/llvm-objdump" -h "$OUT/python-unmetered.wasm" | grep -q '\.debug_'; then
    die "debug sections survived stripping"
  fi
  "$LLVM/bin/llvm-objdump" -h "$OUT/python-unmetered.wasm" | grep -q ' name ' || die "name section lost"
  echo "    $(stat -c %s "$WORK/wasi-full/python.wasm") -> $(stat -c %s "$OUT/python-unmetered.wasm") bytes"
}

build_stdlib_image() {
  step "stdlib image: Lib/ minus sandbox-useless parts, .pyc (unchecked-hash), tzdata $TZDATA_VERSION"
  rm -rf "$WORK/tzdata" && dpkg -x "$DL/tzdata_${TZDATA_VERSION}_all.deb" "$WORK/tzdata"
  # The build's sysconfig data records build paths; name the work dir /wasi-py-build instead,
  # so the image does not depend on where it was built.
  local sc; sc=$(ls "$WORK"/wasi-full/build/lib.wasi-wasm32-3.13/_sysconfigdata_*.py)
  mkdir -p "$WORK/sysconfig" && sed "s|$WORK|/wasi-py-build|g" "$sc" > "$WORK/sysconfig/$(basename "$sc")"
  # PYTHONHASHSEED=0: marshal writes sets/frozensets in hash order.
  env -u PYTHONPATH -u PYTHONHOME PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 \
    "$NATIVE/python" -X utf8 "$REPO/scripts/build-stdlib-image.py" \
    --lib "$PYSRC/Lib" --sysconfig "$WORK/sysconfig/$(basename "$sc")" \
    --zoneinfo "$WORK/tzdata/usr/share/zoneinfo" --stage "$WORK/stdlib-stage" --out "$OUT/stdlib.tar"
}

collect_licenses() {
  step "licences of CPython and of every library linked into python.wasm"
  local L="$OUT/licenses"
  rm -rf "$L" && mkdir -p "$L"
  cp "$PYSRC/LICENSE" "$L/cpython-LICENSE.txt"
  cp "$PYSRC/Doc/license.rst" "$L/cpython-incorporated-software.rst"  # libmpdec, HACL*, expat, ...
  local p
  for p in "$PY_SRC_PKG:$PY_SRC_VERSION" "zlib:$ZLIB_VERSION" "bzip2:$BZIP2_VERSION" \
           "xz-utils:$XZ_VERSION" "sqlite3:$SQLITE_VERSION"; do
    local name="${p%%:*}" ver="${p#*:}"; ver="${ver#*:}"
    tar -xOf "$DL/${name}_${ver}".debian.tar.* debian/copyright > "$L/$name-debian-copyright.txt" \
      || die "no debian/copyright in $name"
  done
  cp "$DEPS/licenses/zlib.txt" "$L/zlib-LICENSE.txt"
  cp "$DEPS/licenses/bzip2.txt" "$L/bzip2-LICENSE.txt"
  cp "$DEPS/licenses/xz-utils.txt" "$L/xz-utils-COPYING.txt"
  cp "$DEPS/licenses/sqlite3.txt" "$L/sqlite3-LICENSE.txt"
  cp "$WORK/wasi-libc/usr/share/doc/wasi-libc/copyright" "$L/wasi-libc-debian-copyright.txt"
  cp "/usr/share/doc/libclang-rt-$CLANG_MAJOR-dev-wasm32/copyright" "$L/compiler-rt-debian-copyright.txt"
  cp "$WORK/tzdata/usr/share/doc/tzdata/copyright" "$L/tzdata-debian-copyright.txt"
}

# The repository's committed tree (git HEAD), compiled with tsc, in $WORK/repo-head: metering and
# the snapshot use the committed rewriter/driver, not whatever is being edited in the checkout.
# Outside a git checkout, the checkout itself.
TS_TREE=""
committed_tree() {
  [ -z "$TS_TREE" ] || return 0
  if git -C "$REPO" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    TS_TREE="$WORK/repo-head"
    rm -rf "$TS_TREE" && mkdir -p "$TS_TREE"
    git -C "$REPO" archive HEAD | tar -x -C "$TS_TREE"
    ln -s "$REPO/node_modules" "$TS_TREE/node_modules"
    echo "    using the committed tree $(git -C "$REPO" rev-parse --short HEAD)"
  else
    TS_TREE="$REPO"
  fi
  (cd "$TS_TREE" && npx tsc -p tsconfig.json > "$WORK/tsc.log" 2>&1) \
    || echo "    warning: tsc reported errors (see $WORK/tsc.log); using the emitted JavaScript"
}

# By default (WASI_PY_SNAPSHOT=0 turns it off) the shipped interpreter is the Wizer-pre-initialised snapshot
# made by scripts/build-snapshot.sh (snapshot engineer's script) from the same CPython tree and
# stdlib image; it bakes in DRIVER_PY of src/sandbox/_driver.ts, so rebuild when the driver changes.
snapshot_wasm() {
  rm -f "$OUT/snapshot-driver.py"
  [ "${WASI_PY_SNAPSHOT:-1}" != 0 ] || return 0
  step "pre-initialised snapshot (scripts/build-snapshot.sh)"
  committed_tree
  [ -f "$TS_TREE/scripts/build-snapshot.sh" ] || die "scripts/build-snapshot.sh is missing"
  [ -f "$TS_TREE/build/src/sandbox/_driver.js" ] || die "tsc did not emit build/src/sandbox/_driver.js"
  node --input-type=module -e '
    const { pathToFileURL } = await import("node:url");
    const m = await import(pathToFileURL(process.argv[1]).href);
    if (typeof m.DRIVER_PY !== "string") throw new Error("driver.js exports no DRIVER_PY");
    process.stdout.write(m.DRIVER_PY);' "$TS_TREE/build/src/sandbox/_driver.js" > "$OUT/snapshot-driver.py"
  bash "$TS_TREE/scripts/build-snapshot.sh" --pybuild "$WORK/wasi-full" --stdlib "$OUT/stdlib.tar" \
    --driver "$OUT/snapshot-driver.py" -o "$OUT/python-snapshot.wasm"
  cp "$OUT/python-snapshot.wasm" "$OUT/python-unmetered.wasm"
}

# binaryen's optimiser (npm binaryen, pinned in package.json; its wasm-opt is a Node program)
# on the interpreter that ships, before metering: smaller code is less to meter, to read and
# to compile. Without -g it drops the name section (function names only help a debugger; no
# part of wasi-py reads them). WASI_PY_WASM_OPT= (empty) skips it; default -Oz (on the -Os build:
# 80 KB less code than -O2 and no slower, see WASI_OPT above).
optimize_wasm() {
  local level="${WASI_PY_WASM_OPT--Oz}"
  if [ -z "$level" ]; then step "wasm-opt skipped (WASI_PY_WASM_OPT is empty)"; return; fi
  step "binaryen wasm-opt $level (drops the name section)"
  local opt="$REPO/node_modules/binaryen/bin/wasm-opt"
  [ -f "$opt" ] || die "node_modules/binaryen is missing (npm install)"
  local before; before=$(stat -c %s "$OUT/python-unmetered.wasm")
  node --stack-size=65500 "$opt" "$OUT/python-unmetered.wasm" "$level" --strip-producers -o "$OUT/python-opt.wasm" \
    || die "wasm-opt failed"
  mv "$OUT/python-opt.wasm" "$OUT/python-unmetered.wasm"
  echo "    $before -> $(stat -c %s "$OUT/python-unmetered.wasm") bytes"
}

meter_wasm() {
  step "fuel metering: node build/scripts/meter-wasm.js"
  committed_tree
  if [ ! -f "$TS_TREE/scripts/meter-wasm.ts" ]; then
    if [ "${WASI_PY_SKIP_METER:-}" = 1 ]; then
      echo "    WASI_PY_SKIP_METER=1: no metered python.wasm this time"; rm -f "$OUT/python.wasm"; return
    fi
    die "scripts/meter-wasm.ts is missing (set WASI_PY_SKIP_METER=1 to write the other assets only)"
  fi
  [ -f "$TS_TREE/build/scripts/meter-wasm.js" ] || die "tsc did not emit build/scripts/meter-wasm.js"
  node "$TS_TREE/build/scripts/meter-wasm.js" "$OUT/python-unmetered.wasm" "$OUT/python.wasm"
  [ -s "$OUT/python.wasm" ] || die "meter-wasm.js wrote no output"
}

# brotli <in> <out>: Node's brotli at quality 11, 16 MiB window (deterministic for one brotli version).
brotli() {
  node -e '
const zlib = require("node:zlib"), fs = require("node:fs");
const [src, dst] = process.argv.slice(1);
const buf = fs.readFileSync(src);
const C = zlib.constants;
fs.writeFileSync(dst, zlib.brotliCompressSync(buf, { params: {
  [C.BROTLI_PARAM_QUALITY]: 11, [C.BROTLI_PARAM_LGWIN]: 24, [C.BROTLI_PARAM_SIZE_HINT]: buf.length } }));
' "$1" "$2"
}

write_assets() {
  step "write assets/ (brotli) and manifest.json"
  # Assembled next to the work products, then swapped in by renames: the checkout's assets/ is
  # never half-written while tests or a sandbox read it.
  local A="$WORK/assets.new" f
  rm -rf "$A" && mkdir -p "$A"
  for f in python.wasm python-unmetered.wasm stdlib.tar; do
    [ -f "$OUT/$f" ] || continue
    brotli "$OUT/$f" "$A/$f.br"
    echo "    $f: $(stat -c %s "$OUT/$f") -> $(stat -c %s "$A/$f.br") bytes"
  done
  cp -r "$OUT/licenses" "$A/licenses"
  v() { dpkg-query -W -f='${Version}' "$1"; }
  cat > "$WORK/versions.json" <<EOF
{
  "python": "$PY_UPSTREAM",
  "hostTriple": "$HOST_TRIPLE",
  "sourceDateEpoch": $SOURCE_DATE_EPOCH,
  "interpreter": $(if [ -f "$OUT/snapshot-driver.py" ]; then
      printf '{ "snapshot": true, "driverSha256": "%s" }' "$(sha256sum < "$OUT/snapshot-driver.py" | cut -d' ' -f1)"
    else printf '{ "snapshot": false }'; fi),
  "sources": {
    "$PY_SRC_PKG": "$PY_SRC_VERSION",
    "wasi-libc": "$WASI_LIBC_VERSION",
    "zlib": "$ZLIB_VERSION",
    "bzip2": "$BZIP2_VERSION",
    "xz-utils": "$XZ_VERSION",
    "sqlite3": "$SQLITE_VERSION",
    "tzdata": "$TZDATA_VERSION"
  },
  "toolchain": {
    "clang-$CLANG_MAJOR ($WASI_OPT)": "$(v clang-$CLANG_MAJOR)",
    "lld-$CLANG_MAJOR": "$(v lld-$CLANG_MAJOR)",
    "libclang-rt-$CLANG_MAJOR-dev-wasm32": "$(v libclang-rt-$CLANG_MAJOR-dev-wasm32)",
    "node (brotli)": "$(node -p 'process.version + " (brotli " + (process.versions.brotli || "?") + ")"')",
    "binaryen (wasm-opt ${WASI_PY_WASM_OPT--Oz})": "$(node -p 'require(process.argv[1]).version' "$REPO/node_modules/binaryen/package.json")"
  }
}
EOF
  env -u PYTHONPATH -u PYTHONHOME "$NATIVE/python" "$REPO/scripts/build-manifest.py" "$A" "$WORK/versions.json" "$OUT"
  rm -rf "$REPO/assets.old"
  if [ -d "$REPO/assets" ]; then mv "$REPO/assets" "$REPO/assets.old"; fi
  mv "$A" "$REPO/assets"
  rm -rf "$REPO/assets.old"
}

# ---- main ---------------------------------------------------------------------------------

main() {
  case "$STAGE" in
    plain|full|all) ;;
    meter) strip_wasm; snapshot_wasm; optimize_wasm; meter_wasm; write_assets; step "done in $(( $(date +%s) - BUILD_START ))s"; return;;
    assets) write_assets; step "done in $(( $(date +%s) - BUILD_START ))s"; return;;
    *) die "unknown stage '$STAGE' (expected plain, full, all, meter or assets)";;
  esac
  if [ "$STAGE" != full ]; then
    install_host_packages
    fetch_debian_packages
    make_sysroot_and_wrappers
    unpack_python
    patch_python
    build_native_python
    linux_errno_header
    build_plain_wasi
    publish_plain
  fi
  if [ "$STAGE" != plain ]; then
    patch_python
    linux_errno_header
    build_libc_fixes
    build_zlib
    build_bzip2
    build_xz
    build_sqlite
    build_full_wasi
    strip_wasm
    build_stdlib_image
    collect_licenses
    snapshot_wasm
    optimize_wasm
    meter_wasm
    write_assets
  fi
  step "done in $(( $(date +%s) - BUILD_START ))s"
}

# One line, so that bash has read all of it before running (safe against edits mid-run).
main "$@"; exit $?
