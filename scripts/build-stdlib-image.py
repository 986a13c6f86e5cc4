"""Builds the deterministic stdlib image (an uncompressed USTAR tar) for wasi-py.

Run with the native build-Python of the SAME CPython version as the guest, so the .pyc magic
matches. Usage:
  python3.13 build-stdlib-image.py --lib <CPython Lib/> --sysconfig <_sysconfigdata*.py>
                                   --zoneinfo <usr/share/zoneinfo> --stage <scratch dir> --out <tar>

Paths in the tar are relative to the guest's `/`: usr/local/lib/python3.13/... and
usr/share/zoneinfo/.... Every entry has mtime 0, uid/gid 0, empty owner names, mode 0644/0755,
and entries are sorted, so the same inputs give the same bytes.
"""

import argparse
import compileall
import os
import py_compile
import shutil
import sys
import tarfile

GUEST_LIB = "usr/local/lib/python3.13"
GUEST_ZONEINFO = "usr/share/zoneinfo"

# Parts of Lib/ that cannot work or make no sense in the sandbox (no GUI, no subprocesses,
# no package installation, no terminal), dropped to keep the image small. _pyrepl stays:
# pydoc (help()) imports its pager. (lib2to3, distutils, msilib are gone from CPython 3.13.)
EXCLUDED = [
    "test",          # CPython's own test suite (33 MB)
    "idlelib",       # IDE, needs tkinter
    "tkinter",       # GUI, needs _tkinter
    "turtle.py",     # needs tkinter
    "turtledemo",    # needs tkinter
    "ensurepip",     # bundled pip wheel; no package installation in the sandbox
    "venv",          # creates environments with subprocesses
    "curses",        # needs _curses and a terminal
    "site-packages", # nothing is installed
]

# tzdata parts that duplicate the main tree or are unused by zoneinfo.
ZONEINFO_EXCLUDED = ["right", "posix", "posixrules"]


def copy_tree(src: str, dst: str, excluded: list[str]) -> None:
    """Copies src to dst, dereferencing symlinks, skipping top-level `excluded` names and caches."""
    for root, dirs, files in os.walk(src, followlinks=True):
        rel = os.path.relpath(root, src)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in excluded]
            files = [f for f in files if f not in excluded]
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            shutil.copyfile(os.path.join(root, name), os.path.join(dst, rel, name))


def compile_stdlib(lib_dir: str) -> None:
    """Precompiles every module; tracebacks name the guest path, pycs carry no mtime."""
    ok = compileall.compile_dir(
        lib_dir,
        ddir="/" + GUEST_LIB,
        quiet=1,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise SystemExit("build-stdlib-image: some stdlib files failed to compile")


def write_tar(stage: str, out: str) -> int:
    """Writes every file and folder under stage into a USTAR tar; returns the entry count."""
    entries: list[str] = []
    for root, dirs, files in os.walk(stage):
        dirs.sort()
        rel = os.path.relpath(root, stage)
        if rel != ".":
            entries.append(rel + "/")
        entries.extend(os.path.normpath(os.path.join(rel, f)) for f in files)
    entries.sort()
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name in entries:
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            path = os.path.join(stage, name)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.type = tarfile.REGTYPE
                info.mode = 0o644
                info.size = os.path.getsize(path)
                with open(path, "rb") as f:
                    tar.addfile(info, f)
    return len(entries)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--sysconfig", required=True)
    ap.add_argument("--zoneinfo", required=True)
    ap.add_argument("--stage", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if sys.version_info[:2] != (3, 13):
        raise SystemExit("build-stdlib-image: must run under Python 3.13 (pyc magic)")

    shutil.rmtree(a.stage, ignore_errors=True)
    lib = os.path.join(a.stage, GUEST_LIB)
    copy_tree(a.lib, lib, EXCLUDED)
    shutil.copyfile(a.sysconfig, os.path.join(lib, os.path.basename(a.sysconfig)))
    # getpath looks for lib-dynload to find the platform-dependent prefix.
    os.makedirs(os.path.join(lib, "lib-dynload"), exist_ok=True)
    compile_stdlib(lib)
    copy_tree(a.zoneinfo, os.path.join(a.stage, GUEST_ZONEINFO), ZONEINFO_EXCLUDED)
    n = write_tar(a.stage, a.out)
    print(f"    {n} entries, {os.path.getsize(a.out)} bytes -> {a.out}")


if __name__ == "__main__":
    main()
