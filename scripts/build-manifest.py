"""Writes assets/manifest.json: versions, build date and the sha256/size of every asset.

Usage: python3 build-manifest.py <assets dir> <versions.json> <expanded dir>
  versions.json  {"python": ..., "sourceDateEpoch": ..., "sources": {...}, "toolchain": {...}}
  expanded dir   holds the uncompressed form of each `X.br` asset under the name X

Every file under <assets dir> except manifest.json is listed under "files" (path relative to
assets/, "/" separators); a `.br` file also gets "expanded" (name, size and sha256 of X).
Output is sorted, indented JSON with a final newline, so equal inputs give equal bytes.
"""

import datetime
import hashlib
import json
import os
import sys


def digest(path: str) -> tuple[int, str]:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return os.path.getsize(path), h.hexdigest()


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit("usage: build-manifest.py <assets dir> <versions.json> <expanded dir>")
    assets, versions_path, expanded = sys.argv[1:]
    with open(versions_path, encoding="utf-8") as f:
        manifest = json.load(f)
    epoch = int(manifest["sourceDateEpoch"])
    manifest["buildDate"] = datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    files = {}
    for root, dirs, names in os.walk(assets):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, assets).replace(os.sep, "/")
            if rel == "manifest.json":
                continue
            size, sha = digest(path)
            entry: dict = {"size": size, "sha256": sha}
            if rel.endswith(".br"):
                plain = rel[: -len(".br")]
                esize, esha = digest(os.path.join(expanded, plain))
                entry["expanded"] = {"name": plain, "size": esize, "sha256": esha}
            files[rel] = entry
    manifest["files"] = files
    with open(os.path.join(assets, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
