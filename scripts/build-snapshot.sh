#!/usr/bin/env bash
# Builds the pre-initialised (Wizer-snapshotted) CPython module for wasi-py, UNMETERED.
#
# Usage: scripts/build-snapshot.sh --pybuild <dir> --stdlib <image.tar | guest root dir> -o <out.wasm>
#                                  [--driver <driver.py>] [--driver-args <driver-args.py>]
#                                  [--preload <list>] [--keep <dir>]
#   --pybuild  a configured and built CPython wasm32-wasi tree (has Makefile, libpython3.13.a)
#   --stdlib   the stdlib image tar (paths usr/local/lib/python3.13/..., as the sandbox serves
#              them), or a folder laid out the same way; the snapshot must see exactly the files
#              (and mtimes) the sandbox will present, because importlib caches directory listings
#   --driver   the Python driver source (default: DRIVER_PY exported by build/src/sandbox/_driver.js,
#              so run `npx tsc -p tsconfig.json` first)
#   --driver-args  the same driver taking program arguments (default: driverWithArgs(DRIVER_PY) of
#              build/src/sandbox/_program-args.js), so runs with arguments keep the compiled driver
#   --preload  modules to import during initialisation (default scripts/snapshot/preload.txt);
#              they stay hidden from sys.modules until imported (scripts/snapshot/hidden_modules.py)
#   --keep     keep intermediate files (linked module, staging folders) in this folder
#
# Steps: compile scripts/snapshot/*.c with the tree's flags; link it against
# libpython3.13.a with the same libraries and linker flags as the tree's python.wasm (no crt1,
# no debug info); run Wizer (npm @bytecodealliance/wizer) with the stdlib mapped at / and
# nothing from the host environment. The result exports `_start` (our run entry) and `memory`.
# Metering comes after: node build/scripts/meter-wasm.js <out.wasm> <metered.wasm>.
set -euo pipefail
export LC_ALL=C.UTF-8 TZ=UTC

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "build-snapshot: $*" >&2; exit 1; }
trap 'echo "build-snapshot: failed at line $LINENO (see the messages above)" >&2' ERR

PYBUILD="" STDLIB="" OUT="" DRIVER="" DRIVER_ARGS="" PRELOAD="$REPO/scripts/snapshot/preload.txt" KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pybuild) PYBUILD="${2:?}"; shift 2;;
    --stdlib) STDLIB="${2:?}"; shift 2;;
    -o|--out) OUT="${2:?}"; shift 2;;
    --driver) DRIVER="${2:?}"; shift 2;;
    --driver-args) DRIVER_ARGS="${2:?}"; shift 2;;
    --preload) PRELOAD="${2:?}"; shift 2;;
    --keep) KEEP="${2:?}"; shift 2;;
    -h|--help) sed -n '2,24p' "$0"; exit 0;;
    *) die "unknown argument '$1' (see --help)";;
  esac
done
[ -n "$PYBUILD" ] && [ -n "$STDLIB" ] && [ -n "$OUT" ] || die "need --pybuild, --stdlib and -o (see --help)"
[ -d "$PYBUILD" ] || die "no such folder: $PYBUILD"
PYBUILD="$(cd "$PYBUILD" && pwd)"
[ -f "$PYBUILD/Makefile" ] && [ -f "$PYBUILD/libpython3.13.a" ] || die "$PYBUILD is not a built CPython tree"
[ -e "$STDLIB" ] || die "no such stdlib image: $STDLIB"
[ -f "$PRELOAD" ] || die "no such preload list: $PRELOAD"
[ -z "$DRIVER" ] || [ -f "$DRIVER" ] || die "no such driver file: $DRIVER"
[ -z "$DRIVER_ARGS" ] || [ -f "$DRIVER_ARGS" ] || die "no such driver file: $DRIVER_ARGS"
WIZER="$REPO/node_modules/@bytecodealliance/wizer-linux-x64/wizer"
[ -x "$WIZER" ] || die "wizer not found at $WIZER (npm install)"

if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"; T="$(cd "$KEEP" && pwd)"; rm -rf "$T/root" "$T/buildin"
else
  T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fi
OUT_ABS="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

# Values of the tree's own Makefile variables, so flags and libraries always match its python.wasm.
printf 'print-%%:\n\t@printf "%%s\\n" "$($*)"\n' > "$T/print.mk"
mkvar() { make -s -C "$PYBUILD" -f Makefile -f "$T/print.mk" "print-$1"; }
CC="$(mkvar CC)"
CFLAGS="$(mkvar PY_CFLAGS) $(mkvar PY_CPPFLAGS) -std=c11 -Werror=implicit-function-declaration"
LDFLAGS="$(mkvar PY_CORE_LDFLAGS) $(mkvar LINKFORSHARED)"
LIBS="$(mkvar LIBRARY) $(mkvar LIBS) $(mkvar MODLIBS) $(mkvar SYSLIBS)"

echo "build-snapshot: compile and link the entry point against $PYBUILD/libpython3.13.a"
OBJS=()
for c in wasi_py_main build_determinism hidden_modules run_part; do
  ( cd "$PYBUILD" && $CC $CFLAGS -g0 -c "$REPO/scripts/snapshot/$c.c" -o "$T/$c.o" )
  OBJS+=("$T/$c.o")
done
# -nostartfiles: no crt1 (no _start/_initialize); our wizer.initialize runs the constructors once.
# --wrap: clock/random reads during initialisation are made deterministic (see wasi_py_main.c).
( cd "$PYBUILD" && $CC $LDFLAGS -nostartfiles -Wl,--no-entry -Wl,--strip-debug \
    -Wl,--wrap=__wasi_clock_time_get -Wl,--wrap=__wasi_random_get -Wl,--wrap=__wasi_fd_filestat_get \
    -Wl,--wrap=__wasi_fd_fdstat_get \
    -Wl,--wrap=__wasi_path_filestat_get -Wl,--wrap=__wasi_fd_readdir \
    -o "$T/linked.wasm" "${OBJS[@]}" $LIBS )

echo "build-snapshot: stage the guest files"
mkdir -p "$T/root/tmp" "$T/buildin"
if [ -d "$STDLIB" ]; then
  cp -a "$STDLIB/." "$T/root/"
else
  tar -C "$T/root" -xf "$STDLIB"   # keeps the image's mtimes (0), as the sandbox presents them
fi
[ -f "$T/root/usr/local/lib/python3.13/os.py" ] || die "$STDLIB has no usr/local/lib/python3.13/os.py"
touch -d @0 "$T/root/tmp" "$T/root"   # as in the image: every mtime 0
if [ -n "$DRIVER" ]; then
  cp "$DRIVER" "$T/buildin/driver.py"
else
  [ -f "$REPO/build/src/sandbox/_driver.js" ] || die "build/src/sandbox/_driver.js missing: run npx tsc -p tsconfig.json, or pass --driver"
  node --input-type=module -e '
    const { pathToFileURL } = await import("node:url");
    const m = await import(pathToFileURL(process.argv[1]).href);
    if (typeof m.DRIVER_PY !== "string") throw new Error("driver.js exports no DRIVER_PY string");
    process.stdout.write(m.DRIVER_PY);' "$REPO/build/src/sandbox/_driver.js" > "$T/buildin/driver.py"
fi
if [ -n "$DRIVER_ARGS" ]; then
  cp "$DRIVER_ARGS" "$T/buildin/driver-args.py"
elif [ -f "$REPO/build/src/sandbox/_program-args.js" ]; then
  node --input-type=module -e '
    const { pathToFileURL } = await import("node:url");
    const { readFileSync } = await import("node:fs");
    const m = await import(pathToFileURL(process.argv[1]).href);
    process.stdout.write(m.driverWithArgs(readFileSync(process.argv[2], "utf8")));' \
    "$REPO/build/src/sandbox/_program-args.js" "$T/buildin/driver.py" > "$T/buildin/driver-args.py"
else
  die "build/src/sandbox/_program-args.js missing: runs with program arguments would compile the driver every time"
fi
cp "$PRELOAD" "$T/buildin/preload.txt"
cp "$REPO/scripts/snapshot/hidden_modules.py" "$T/buildin/hidden_modules.py"
touch -d @0 "$T/buildin"/* "$T/buildin"

echo "build-snapshot: pre-initialise with wizer"
# stdio are pipes (never a terminal, never seekable), as in the sandbox; no host environment;
# / is the staged guest tree at fd 3 (as in the sandbox), /wasi-py-snapshot-inputs exists only now.
if ! : | "$WIZER" "$T/linked.wasm" -o "$T/snapshot.wasm" \
    --init-func wizer.initialize --rename-func _start=wasi_py_run \
    --allow-wasi --inherit-env false --inherit-stdio true \
    --mapdir "/::$T/root" --mapdir "/wasi-py-snapshot-inputs::$T/buildin" \
    --wasm-bulk-memory true --wasm-reference-types true 2>&1 | cat; then
  die "wizer failed"
fi
[ -s "$T/snapshot.wasm" ] || die "wizer produced nothing"
mv "$T/snapshot.wasm" "$OUT_ABS"
echo "build-snapshot: wrote $OUT ($(stat -c %s "$OUT_ABS") bytes)"
