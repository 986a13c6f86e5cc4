#!/usr/bin/env bash
# Expected outputs of the package-image integration test (test/packages/debian.test.ts), from
# native CPython: the Debian packages of test/fixtures/packages/debian-packages.txt are fetched
# (`apt-get download`, `dpkg -x` into a private folder, nothing installed) and each program of
# programs.json runs under `python3 -I -S` with that folder alone on sys.path (not the system's
# dist-packages). Writes test/fixtures/packages/expected.json with the python3 version and the
# package versions used. Native here is the machine's python3 (3.11 on Debian bookworm); the
# programs print nothing that differs between 3.11 and 3.13.
set -euo pipefail
cd "$(dirname "$0")/.."
FIX=test/fixtures/packages
work=$(mktemp -d "${TMPDIR:-/tmp}/wasi-py-native.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt-get download drops root to _apt, which must reach the folder
names=$(grep -v '^#' "$FIX/debian-packages.txt")
for n in $names; do
  (cd "$work" && apt-get download -q "python3-$n" >/dev/null) || { echo "apt-get download python3-$n failed" >&2; exit 1; }
done
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
python3 - "$work/x/usr/lib/python3/dist-packages" "$FIX" "$work" <<'PY'
import json, os, subprocess, sys
site, fix, work = sys.argv[1:4]
progs = json.load(open(os.path.join(fix, "programs.json")))
debs = sorted(f[:-4] for f in os.listdir(work) if f.endswith(".deb"))
out = {"python": sys.version.split()[0], "debs": debs, "results": []}
runner = "import sys; sys.path.append(%r); exec(compile(sys.argv[1], '<string>', 'exec'))" % site
for p in progs:
    r = subprocess.run([sys.executable, "-I", "-S", "-c", runner, p["code"]], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{p['name']}: native exit {r.returncode}: {r.stderr}")
    out["results"].append({"name": p["name"], "stdout": r.stdout})
with open(os.path.join(fix, "expected.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(f"wrote {fix}/expected.json ({len(progs)} programs, python {out['python']})")
PY
