/**
 * The guest-side Python driver. The sandbox starts the interpreter as
 * `python -c DRIVER_PY <user code>`; the driver then runs the user's code the way
 * `python3.13 -c '<code>'` would, plus one addition, the last-expression rule:
 *
 *   if the program calls `print` nowhere (any call whose callee is the bare name `print`,
 *   comprehensions and nested functions included) and its last top-level statement is an
 *   expression, `repr()` of that expression's value is written to stdout with a newline
 *   (also when it is None).
 *
 * How it stays indistinguishable from `-c`:
 * - The user's code runs in a FRESH `__main__` module (same dunder entries as `-c` gives:
 *   __name__, __doc__, __package__, __loader__, __spec__, __annotations__, __builtins__);
 *   the driver's own names live in the old, now unreachable `__main__` dict.
 * - sys.argv becomes ['-c'], sys.orig_argv [exe, '-c', code].
 * - Parsing uses the builtin `_ast` (cheaper than importing `ast.py`); the rewrite compiles the
 *   module body minus the last Expr in exec mode and that Expr in eval mode, from the same tree,
 *   so line and column numbers (and therefore the `~~~^^^` markers) are the original ones.
 * - Code objects are registered in linecache exactly as CPython 3.13 registers `-c` code
 *   (`linecache._register_code`), so tracebacks show the user's original source.
 * - Uncaught exceptions: the driver's frame is cut from the traceback, then `sys.excepthook`
 *   prints it (as CPython's PyErr_Print does) and the exit status is 1 (130 for an uncaught
 *   KeyboardInterrupt, as CPython without kill() returns). SystemExit is re-raised so
 *   CPython itself applies its exit-code and message rules.
 * - CPython 3.13's StackSummary.format() formats every frame, even the ones it then folds into
 *   "[Previous line repeated N more times]": a RecursionError traceback (1000 frames, each with
 *   its caret markers found by compiling the line) cost ~0.9e9 fuel, nearly the whole default
 *   budget, so a runaway recursion often ended "Out of fuel" instead of RecursionError. The
 *   driver memoises format_frame_summary per (file, position, name, code) for the one traceback
 *   it prints: the same text, a fraction of the fuel.
 * - Two parts, split by the line `#:run`: the prologue (everything above: argv, the fresh
 *   `__main__`, compiling, linecache) and the run part (exec, the last expression, `_fail` for an
 *   uncaught exception). The snapshot (scripts/snapshot/run_part.c) runs the prologue, then does
 *   the run part itself in C with the prologue's `_c`, `_e`, `_g` and `_fail`: no frame of the
 *   driver is under the program, the recursion limit stays 1000, and the modules the prologue
 *   imported are hidden again (scripts/snapshot/hidden_modules.py), so `sys.modules` at start is
 *   `-c`'s. The plain interpreter runs both parts in Python; its run part raises the recursion
 *   limit by one to pay for the driver's frame.
 *
 * - The program starts in its writable home, `/home` (cwd and HOME, as under snekbox; the
 *   snapshot's os.environ was frozen with HOME=/tmp): the two `os.` lines after the imports. As
 *   under `python3 -c`, `sys.path[0]` is `''` (the working folder), so a module the program writes
 *   there can be imported.
 *
 * - stdout is line-buffered (as on a terminal), so what a program printed before it runs out
 *   of fuel or time is not lost in CPython's buffer when the sandbox stops it mid-run.
 *
 * Known differences, on the plain (non-snapshot) interpreter only: `sys._getframe().f_back` /
 * `traceback.print_stack()` from top-level code see the driver's frame, and programs find
 * `_ast` in sys.modules.
 *
 * Keep it small: it is parsed and compiled on every run (and that costs fuel). No backticks
 * or `${` in the Python source below (it is a template literal).
 */
export const DRIVER_PY = String.raw`_i = dict(globals())
import sys, _ast, linecache, os
os.chdir('/home')
os.environ['HOME'] = '/home'
sys.path.insert(0, '')
if os.path.isdir('/usr/local/lib/python3.13/site-packages'):
    import site
    site.addsitedir('/usr/local/lib/python3.13/site-packages')
sys.stdout.reconfigure(line_buffering=True)
_f = sys._getframe()
_m = type(sys)('__main__')
_m.__dict__.update(_i)
_m.__annotations__ = {}
_g = _m.__dict__
_s = sys.argv[1]
sys.argv[:] = ['-c']
sys.orig_argv[1:] = ['-c', _s]
def _fail(_z):
    _b = _z.__traceback__
    while _b is not None and _b.tb_frame is _f:
        _b = _b.tb_next
    _z.__traceback__ = _b
    sys.last_exc = sys.last_value = _z
    sys.last_type = type(_z)
    sys.last_traceback = _b
    import traceback
    _o = traceback.StackSummary.format_frame_summary
    _d = {}
    def _h(self, s, **k):
        if s.locals is not None:
            return _o(self, s, **k)
        _y = (s.filename, s.lineno, s.end_lineno, s.colno, s.end_colno, s.name, id(s._code), tuple(k.items()))
        if _y not in _d:
            _d[_y] = _o(self, s, **k)
        return _d[_y]
    traceback.StackSummary.format_frame_summary = _h
    sys.excepthook(type(_z), _z, _b)
    raise SystemExit(130 if type(_z) is KeyboardInterrupt else 1)
try:
    _t = compile(_s, '<string>', 'exec', _ast.PyCF_ONLY_AST, True)
    _x = None
    if _t.body and type(_t.body[-1]) is _ast.Expr:
        _w = [_t]
        while _w:
            _n = _w.pop()
            if not isinstance(_n, _ast.AST):
                continue
            if type(_n) is _ast.Call and type(_n.func) is _ast.Name and _n.func.id == 'print':
                break
            for _k in _n._fields:
                _v = getattr(_n, _k, None)
                if type(_v) is list:
                    _w.extend(_v)
                elif isinstance(_v, _ast.AST):
                    _w.append(_v)
        else:
            _x = _ast.Expression(_t.body.pop().value)
    _c = compile(_t, '<string>', 'exec', 0, True)
    _e = _x and compile(_x, '<string>', 'eval', 0, True)
    _r = getattr(linecache, '_register_code', None)
    if _r:
        _r(_c, _s, '<string>')
        if _e:
            _r(_e, _s, '<string>')
    else:
        linecache.cache['<string>'] = (len(_s), None, [_l + '\n' for _l in _s.splitlines()], '<string>')
except BaseException as _y:
    _fail(_y)
sys.modules['__main__'] = _m
#:run
sys.setrecursionlimit(sys.getrecursionlimit() + 1)
try:
    exec(_c, _g)
    if _e:
        _v = eval(_e, _g)
        sys.stdout.write(repr(_v) + '\n')
        del _v
except SystemExit:
    raise
except BaseException as _y:
    _fail(_y)
`;
