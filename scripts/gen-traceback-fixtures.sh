#!/usr/bin/env bash
# Writes the GOLDEN files for test/sandbox/tracebacks.test.ts and test/sandbox/fidelity.test.ts: for
# each program NAME.py in test/fixtures/tracebacks/ and test/fixtures/fidelity/ (the latter made
# from CPython's own doctests and Doc/library examples by scripts/gen-fidelity-programs.py), what a
# REAL native CPython 3.13 prints for `python3.13 -c "<program>"`:
# NAME.stdout, NAME.stderr and NAME.exit (the exit status as a shell sees it, so an uncaught
# KeyboardInterrupt, which makes CPython kill itself with SIGINT, records 130).
# Also writes STDLIB_PREFIX: the native interpreter's stdlib folder, which the test maps to the
# guest's /usr/local/lib/python3.13/ (tracebacks through stdlib modules name their files; only that
# prefix differs between the two interpreters).
#
# Usage: scripts/gen-traceback-fixtures.sh [path/to/python3.13]
# Default interpreter: the path in /work/build/plain/NATIVE_PYTHON (the build engineer's native build
# of the same CPython sources), else python3.13 on PATH. Refuses anything but CPython 3.13.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$here/test/fixtures/tracebacks"
native="${1:-}"
if [[ -z "$native" && -f /work/build/plain/NATIVE_PYTHON ]]; then native="$(cat /work/build/plain/NATIVE_PYTHON)"; fi
if [[ -z "$native" ]]; then native="$(command -v python3.13 || true)"; fi
if [[ -z "$native" || ! -x "$native" ]]; then
  echo "gen-traceback-fixtures: no native python3.13 (give its path as the argument)" >&2
  exit 1
fi

# The guest's environment (src/sandbox/pool.ts GUEST_ENV), minus what only the guest needs.
run_env=(env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 PYTHON_COLORS=0)

version="$("${run_env[@]}" "$native" -c 'import sys; print("%d.%d" % sys.version_info[:2], sys.implementation.name)')"
if [[ "$version" != "3.13 cpython" ]]; then
  echo "gen-traceback-fixtures: $native is '$version', not CPython 3.13" >&2
  exit 1
fi

"${run_env[@]}" "$native" -c 'import os; print(os.path.dirname(os.__file__) + "/")' > "$dir/STDLIB_PREFIX"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work" # an empty cwd: `-c` puts it first on sys.path
count=0
for py in "$dir"/*.py "$here/test/fixtures/fidelity"/*.py; do
  [ -f "$py" ] || continue
  name="${py%.py}"
  # $(...) drops trailing newlines; the test strips them from the program the same way.
  code="$(cat "$py")"
  set +e
  "${run_env[@]}" "$native" -c "$code" > "$name.stdout" 2> "$name.stderr" < /dev/null
  status=$?
  set -e
  echo "$status" > "$name.exit"
  count=$((count + 1))
done
echo "gen-traceback-fixtures: $count programs run under $native ($("$native" -V 2>&1))"
