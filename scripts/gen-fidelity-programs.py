"""Writes fidelity programs from CPython's own material (issue 24), one self-contained Python
program per file, to run both natively and in wasi-py and compare (scripts/gen-traceback-fixtures.sh
records the native output; test/sandbox/fidelity.test.ts compares).

Two kinds, from the CPython source tree the build fetched ($WASI_PY_WORK/src/Python-3.13.15):
  doctest-<module>.py  doctest.testmod() of a stdlib module (its docstring examples)
  doc-<page>.py        the >>> examples of Doc/library/<page>.rst, the page's text embedded

Usage (with the native build-Python, so module discovery sees the same stdlib):
  python3.13 gen-fidelity-programs.py --src <CPython tree> --out <dir> NAME...
  python3.13 gen-fidelity-programs.py --src <CPython tree> --out <dir> --all
NAME is doctest-<module> or doc-<page>. --all writes every stdlib module that has docstring
examples and every Doc/library page that has >>> examples (for measuring; not committed).
"""

import argparse
import doctest
import importlib
import os
import pkgutil
import sys
import warnings

DOCTEST = """\
# doctest.testmod of the stdlib module {module} (CPython's own docstring examples).
import doctest, importlib
print(doctest.testmod(importlib.import_module({module!r}), optionflags=doctest.ELLIPSIS))
"""

DOC = """\
# The >>> examples of CPython's Doc/library/{page}.rst (3.13), run as doctest runs a text file.
import doctest
TEXT = {text!r}
test = doctest.DocTestParser().get_doctest(TEXT, {{'__name__': '__main__'}}, {name!r}, {name!r}, 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
runner.run(test)
print(runner.summarize(verbose=False))
"""

# Never candidates: interactive, GUI, process-spawning or test-suite modules, and antigravity.
SKIP = ("test", "idlelib", "tkinter", "turtle", "turtledemo", "ensurepip", "venv", "curses",
        "antigravity", "this", "__main__", "pydoc_data", "lib2to3", "_pyrepl", "pdb", "multiprocessing")


def modules_with_examples():
    names = sorted({m.name for m in pkgutil.walk_packages(onerror=lambda n: None)
                    if not m.name.startswith(SKIP) and ".test" not in m.name and "__main__" not in m.name})
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            try:
                module = importlib.import_module(name)
                if any(t.examples for t in doctest.DocTestFinder().find(module)):
                    found.append(name)
            except BaseException:
                pass
    return found


def pages_with_examples(src):
    library = os.path.join(src, "Doc", "library")
    return sorted(f[:-4] for f in os.listdir(library)
                  if f.endswith(".rst") and ">>> " in open(os.path.join(library, f), encoding="utf-8").read())


def program(src, name):
    if name.startswith("doctest-"):
        return DOCTEST.format(module=name[len("doctest-"):])
    if name.startswith("doc-"):
        page = name[len("doc-"):]
        with open(os.path.join(src, "Doc", "library", page + ".rst"), encoding="utf-8") as f:
            return DOC.format(page=page, text=f.read(), name=page + ".rst")
    raise SystemExit(f"gen-fidelity-programs: {name}: expected doctest-<module> or doc-<page>")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = a.names
    if a.all:
        names = ["doctest-" + m for m in modules_with_examples()] + ["doc-" + p for p in pages_with_examples(a.src)]
    os.makedirs(a.out, exist_ok=True)
    for name in names:
        with open(os.path.join(a.out, name + ".py"), "w", encoding="utf-8") as f:
            f.write(program(a.src, name))
    print(f"gen-fidelity-programs: {len(names)} programs in {a.out}", file=sys.stderr)


main()
