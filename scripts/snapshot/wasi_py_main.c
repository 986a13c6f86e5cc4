/*
 * wasi-py's own entry point for a pre-initialised CPython (built by scripts/build-snapshot.sh).
 *
 * Two exports, no `main`:
 *   wizer.initialize  run ONCE at build time by Wizer: start CPython with the sandbox's
 *                     configuration, compile the driver, import the common stdlib modules.
 *                     Wizer then stores the memory and globals as the module's initial state.
 *   wasi_py_run       run once per fresh instance (renamed to `_start` by the build script):
 *                     behaves like `python -c DRIVER_PY CODE`, then exits via proc_exit.
 *
 * Linked with -nostartfiles: there is no crt1, so nothing runs C constructors except our
 * initialiser, and the run export cannot re-run them by accident.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>
#include <wasi/libc.h>

#include "hidden_modules.h"
#include "run_part.h"

/* The guest environment the sandbox has always used; os.environ is fixed at build time to it. */
static const char *const GUEST_ENV[][2] = {
    {"PYTHONHOME", "/usr/local"},
    {"PYTHONHASHSEED", "0"},          /* deterministic hashing, hence deterministic fuel */
    {"PYTHONDONTWRITEBYTECODE", "1"},
    {"PYTHON_COLORS", "0"},
    {"HOME", "/tmp"},
    {"LANG", "C.UTF-8"},
};

/* Where the build script maps the driver source during initialisation only. */
#define DRIVER_PATH "/wasi-py-snapshot-inputs/driver.py"
/* The same driver with program arguments (src/sandbox/_program-args.ts; optional file). */
#define DRIVER_ARGS_PATH "/wasi-py-snapshot-inputs/driver-args.py"
/* Modules imported during initialisation, one per line (optional file). */
#define PRELOAD_PATH "/wasi-py-snapshot-inputs/preload.txt"
/* Keeps them out of sys.modules until imported (hidden_modules.c). */
#define HIDDEN_MODULES_PATH "/wasi-py-snapshot-inputs/hidden_modules.py"

void __wasm_call_ctors(void);
/* In wasi-libc's libc.a (preopens.c) but not in this release's <wasi/libc.h>. */
void __wasilibc_reset_preopens(void);
/* CPython internal (pythonrun.c): sets the exit code of a pending SystemExit, printing a non-int code. */
int _Py_HandleSystemExit(int *exitcode_p);
/* CPython internal (moduleobject.c): clears a module's dict the way interpreter shutdown does. */
void _PyModule_Clear(PyObject *m);
/* CPython internal (atexitmodule.c): runs the atexit callbacks, as Py_FinalizeEx does. */
void _PyAtExit_Call(PyInterpreterState *interp);

static PyObject *driver_source; /* str: the driver text compiled below */
static PyObject *driver_code;   /* code object, filename "<string>" like `python -c` */
static PyObject *driver_prologue;      /* its prologue (run_part.c), or None */
static PyObject *driver_args_source;   /* str: the variant taking program arguments, or NULL */
static PyObject *driver_args_prologue; /* its prologue, or None */
static int initialised;

/* ---- process clock ------------------------------------------------------------------------
 * libwasi-emulated-process-clocks records its start time in a constructor, which would run at
 * build time. Ours is reset at the start of every run, so time.process_time() counts from there.
 * Defining clock/__clock here keeps that library's clock.o out of the link. */
static __wasi_timestamp_t process_clock_start;

static __wasi_timestamp_t monotonic_now(void) {
    __wasi_timestamp_t now = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &now) != 0) return 0;
    return now;
}

clock_t __clock(void) { return (clock_t)(monotonic_now() - process_clock_start); }
clock_t clock(void) { return __clock(); }

/* Build-time determinism (clock, random and file metadata reads): build_determinism.c. */
extern int wasi_py_in_initialize;

/* ---- helpers ------------------------------------------------------------------------------ */

static void fatal(const char *what) {
    fprintf(stderr, "wasi-py snapshot: %s\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    fflush(stderr);
    __wasi_proc_exit(70);
}

/* Reads a whole file into a new bytes object, or NULL (no exception) if it does not exist. */
static PyObject *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, 0);
    char buf[16384];
    size_t n;
    while (out != NULL && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        PyObject *chunk = PyBytes_FromStringAndSize(buf, (Py_ssize_t)n);
        if (chunk == NULL) { Py_CLEAR(out); break; }
        PyBytes_ConcatAndDel(&out, chunk);
    }
    fclose(f);
    if (out == NULL) fatal("out of memory reading a build input");
    return out;
}

static PyObject *compile_driver(PyObject *source) {
    /* `python -c` compiles with PyCF_IGNORE_COOKIE under the name "<string>". */
    PyCompilerFlags cf = _PyCompilerFlags_INIT;
    cf.cf_flags |= PyCF_IGNORE_COOKIE;
    const char *utf8 = PyUnicode_AsUTF8(source);
    if (utf8 == NULL) return NULL;
    return Py_CompileStringExFlags(utf8, "<string>", Py_file_input, &cf, -1);
}

/* Imports every module the driver imports (at any depth), so a run finds them in sys.modules.
 * Uses the builtin _ast and __import__ only, so the scan itself adds no modules. */
static void preload_driver_imports(PyObject *source) {
    static const char script[] =
        "def _wasi_py_driver_imports(src):\n"
        "    import _ast\n"
        "    todo = [compile(src, '<string>', 'exec', _ast.PyCF_ONLY_AST, True)]\n"
        "    while todo:\n"
        "        node = todo.pop()\n"
        "        if type(node) is _ast.Import:\n"
        "            for alias in node.names:\n"
        "                __import__(alias.name)\n"
        "        elif type(node) is _ast.ImportFrom and node.level == 0 and node.module:\n"
        "            __import__(node.module)\n"
        "        for field in node._fields:\n"
        "            value = getattr(node, field, None)\n"
        "            if type(value) is list:\n"
        "                todo.extend(v for v in value if isinstance(v, _ast.AST))\n"
        "            elif isinstance(value, _ast.AST):\n"
        "                todo.append(value)\n";
    PyObject *ns = PyDict_New();
    if (ns == NULL) fatal("out of memory");
    if (PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) fatal("out of memory");
    PyObject *r = PyRun_String(script, Py_file_input, ns, ns);
    if (r == NULL) fatal("could not define the import scanner");
    Py_DECREF(r);
    PyObject *fn = PyDict_GetItemString(ns, "_wasi_py_driver_imports");
    r = PyObject_CallOneArg(fn, source);
    if (r == NULL) fatal("could not import the driver's modules");
    Py_DECREF(r);
    PyDict_Clear(ns);
    Py_DECREF(ns);
}

/* Imports the modules listed in preload.txt (blank lines and # comments ignored). */
static void preload_listed_modules(void) {
    PyObject *raw = read_file(PRELOAD_PATH);
    if (raw == NULL) return;
    PyObject *text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), "strict");
    Py_DECREF(raw);
    if (text == NULL) fatal("preload list is not UTF-8");
    PyObject *lines = PyUnicode_Splitlines(text, 0);
    Py_DECREF(text);
    if (lines == NULL) fatal("out of memory");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        PyObject *line = PyObject_CallMethod(PyList_GET_ITEM(lines, i), "strip", NULL);
        if (line == NULL) fatal("out of memory");
        if (PyUnicode_GET_LENGTH(line) > 0 && PyUnicode_READ_CHAR(line, 0) != '#') {
            PyObject *mod = PyImport_Import(line);
            if (mod == NULL) {
                fprintf(stderr, "wasi-py snapshot: cannot preload %s\n", PyUnicode_AsUTF8(line));
                fatal("preload failed");
            }
            Py_DECREF(mod);
        }
        Py_DECREF(line);
    }
    Py_DECREF(lines);
}

/* Stack bytes below the current frame are garbage from earlier calls; some come from clock
 * readings. Zeroed before the snapshot so they are neither stored nor different per build. */
extern unsigned char __stack_low;

__attribute__((noinline))
static void zero_unused_stack(void) {
    unsigned char here;
    unsigned char *end = &here - 512; /* below this frame and memset's */
    if (end > &__stack_low) memset(&__stack_low, 0, (size_t)(end - &__stack_low));
}

/* Formats two tracebacks (a ZeroDivisionError through a function, a NameError with its
 * suggestion) without printing them, so the lazy imports, regex compilations and bytecode
 * specialisation of CPython's traceback printing are paid at build time, not by every program
 * that ends in an error (measured: 9.5 M -> 2 M fuel for `1/0`). Only caches are left behind;
 * linecache's are emptied again. */
static void warm_up_tracebacks(void) {
    static const char script[] =
        "def _wasi_py_warm_up():\n"
        "    import linecache, traceback\n"
        "    for src in ('def f():\\n    return 1/0\\nf()\\n', 'prnt = print\\nprin(1)\\n'):\n"
        "        code = compile(src, '<string>', 'exec')\n"
        "        linecache._register_code(code, src, '<string>')\n"
        "        try:\n"
        "            exec(code, {'__name__': '__main__'})\n"
        "        except Exception as e:\n"
        "            ''.join(traceback.format_exception(e))\n"
        "    linecache.clearcache()\n"
        "    linecache._interactive_cache.clear()\n";
    PyObject *ns = PyDict_New();
    if (ns == NULL) fatal("out of memory");
    if (PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) fatal("out of memory");
    PyObject *r = PyRun_String(script, Py_file_input, ns, ns);
    if (r == NULL) fatal("could not define the warm-up");
    Py_DECREF(r);
    r = PyObject_CallNoArgs(PyDict_GetItemString(ns, "_wasi_py_warm_up"));
    if (r == NULL) fatal("traceback warm-up failed");
    Py_DECREF(r);
    PyDict_Clear(ns);
    Py_DECREF(ns);
}

/* ---- build time ---------------------------------------------------------------------------- */

__attribute__((export_name("wizer.initialize")))
void wasi_py_initialize(void) {
    if (initialised) return;
    initialised = 1;
    wasi_py_in_initialize = 1;
    __wasm_call_ctors();
    process_clock_start = monotonic_now();

    for (size_t i = 0; i < sizeof GUEST_ENV / sizeof GUEST_ENV[0]; i++) {
        if (setenv(GUEST_ENV[i][0], GUEST_ENV[i][1], 1) != 0) fatal("setenv failed");
    }

    /* Exactly what `python -c ...` reads from that environment, plus two options: no '' on
     * sys.path (safe_path) and no user site-packages (there is no user in the sandbox). */
    PyStatus status;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.safe_path = 1;
    config.user_site_directory = 0;
    char *argv[] = {"python", "-c", "pass", NULL};
    status = PyConfig_SetBytesArgv(&config, 3, argv);
    if (PyStatus_Exception(status)) goto config_error;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) goto config_error;
    PyConfig_Clear(&config);

    PyObject *raw = read_file(HIDDEN_MODULES_PATH);
    if (raw == NULL) fatal("no " HIDDEN_MODULES_PATH);
    PyObject *hider = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), "strict");
    Py_DECREF(raw);
    if (hider == NULL) fatal("hidden_modules.py is not UTF-8");
    hidden_modules_start(hider);
    Py_DECREF(hider);

    raw = read_file(DRIVER_PATH);
    if (raw == NULL) fatal("no driver at " DRIVER_PATH);
    driver_source = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), "strict");
    Py_DECREF(raw);
    if (driver_source == NULL) fatal("driver is not UTF-8");
    driver_code = compile_driver(driver_source);
    if (driver_code == NULL) fatal("driver does not compile");
    driver_prologue = run_part_prologue(driver_source);
    if (driver_prologue == NULL) fatal("driver prologue does not compile");
    raw = read_file(DRIVER_ARGS_PATH);
    if (raw != NULL) {
        driver_args_source = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), "strict");
        Py_DECREF(raw);
        if (driver_args_source == NULL) fatal("driver-args.py is not UTF-8");
        driver_args_prologue = run_part_prologue(driver_args_source);
        if (driver_args_prologue == NULL) fatal("driver-args.py prologue does not compile");
    }

    preload_driver_imports(driver_source);
    preload_listed_modules();
    warm_up_tracebacks();

    /* Same bytes from every build: nothing random or clock-derived stays in memory (random is
     * reseeded from os.urandom when a program imports it: hidden_modules.py). */
    PyObject *random_name = PyUnicode_FromString("random");
    PyObject *random = random_name ? PyImport_GetModule(random_name) : NULL;
    Py_XDECREF(random_name);
    if (random != NULL) {
        PyObject *r0 = PyObject_CallMethod(random, "seed", "i", 0);
        if (r0 == NULL) fatal("random.seed(0) failed");
        Py_DECREF(r0);
        Py_DECREF(random);
    } else {
        PyErr_Clear();
    }

    /* Everything created so far lives as long as the instance: move it out of the GC's way so
     * user programs do not pay (in fuel) for scanning it in full collections. */
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL) fatal("no gc module");
    hidden_modules_finish();
    PyObject *r = PyObject_CallMethod(gc, "collect", NULL);
    if (r == NULL) fatal("gc.collect failed");
    Py_DECREF(r);
    r = PyObject_CallMethod(gc, "freeze", NULL);
    if (r == NULL) fatal("gc.freeze failed");
    Py_DECREF(r);
    Py_DECREF(gc);
    process_clock_start = 0;
    wasi_py_in_initialize = 0;
    zero_unused_stack();
    return;

config_error:
    PyConfig_Clear(&config);
    if (PyStatus_IsExit(status)) __wasi_proc_exit(status.exitcode);
    fprintf(stderr, "wasi-py snapshot: Python initialisation failed: %s%s%s\n",
            status.func ? status.func : "", status.func ? ": " : "", status.err_msg ? status.err_msg : "");
    fflush(stderr);
    __wasi_proc_exit(70);
}

/* ---- run time ------------------------------------------------------------------------------ */

/* The WASI argv as a list of str, decoded as CPython decodes its command line. */
static PyObject *wasi_argv(void) {
    __wasi_size_t argc = 0, size = 0;
    if (__wasi_args_sizes_get(&argc, &size) != 0) fatal("args_sizes_get failed");
    char **argv = malloc((argc + 1) * sizeof *argv);
    char *buf = malloc(size ? size : 1);
    if (argv == NULL || buf == NULL) fatal("out of memory");
    if (__wasi_args_get((uint8_t **)argv, (uint8_t *)buf) != 0) fatal("args_get failed");
    PyObject *list = PyList_New(argc);
    if (list == NULL) fatal("out of memory");
    for (__wasi_size_t i = 0; i < argc; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(argv[i]);
        if (s == NULL) fatal("cannot decode argv");
        PyList_SET_ITEM(list, i, s);
    }
    free(argv);
    free(buf);
    return list;
}

/* Flushes sys.stdout and sys.stderr as Py_FinalizeEx does; -1 if stdout could not be flushed. */
static int flush_std_streams(void) {
    int status = 0;
    const char *names[] = {"stdout", "stderr"};
    for (int i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(names[i]);
        if (f == NULL || f == Py_None) continue;
        PyObject *r = PyObject_CallMethod(f, "flush", NULL);
        if (r == NULL) {
            if (i == 0) { PyErr_WriteUnraisable(NULL); status = -1; }
            else PyErr_Clear();
        } else {
            Py_DECREF(r);
        }
    }
    return status;
}

/* How a run ends (returns only for status 0). Full interpreter finalisation (Py_FinalizeEx) costs ~10 M fuel with the
 * preloaded modules, and the instance is thrown away anyway, so only its user-visible steps are
 * kept, in its order: atexit callbacks, flush, then the user's __main__ namespace is cleared and
 * cycles collected (so __del__ methods run and print as at a normal exit), flush again. */
static void finish(int exitcode) {
    /* The interpreter's own call, as Py_FinalizeEx makes it: importing `atexit` to call its
     * _run_exitfuncs ran the whole import system on every run that had not imported it (~170 k
     * fuel, a fifth of a warm print(1)); this runs the registered callbacks and nothing else. */
    _PyAtExit_Call(PyInterpreterState_Get());
    if (flush_std_streams() < 0) exitcode = 120;

    PyObject *modules = PyImport_GetModuleDict();
    PyObject *main_module = modules ? PyDict_GetItemString(modules, "__main__") : NULL;
    if (main_module != NULL && PyModule_Check(main_module)) {
        Py_INCREF(main_module);
        /* As finalize_modules does: drop the module from sys.modules, then clear its dict. */
        PySys_SetObject("last_exc", Py_None);
        PySys_SetObject("last_value", Py_None);
        PySys_SetObject("last_type", Py_None);
        PySys_SetObject("last_traceback", Py_None);
        PyDict_DelItemString(modules, "__main__");
        _PyModule_Clear(main_module);
        Py_DECREF(main_module);
    }
    PyErr_Clear();
    PyGC_Collect();
    if (flush_std_streams() < 0) exitcode = 120;
    fflush(stdout);
    fflush(stderr);
    /* Status 0 returns from the run export, which WASI reads as exit 0: proc_exit ends a run by
     * throwing through the engine (~40 us of a warm print(1)). Any other status never returns. */
    if (exitcode != 0) __wasi_proc_exit((__wasi_exitcode_t)exitcode);
}

/* The compiled prologue for the driver a run was given: the snapshot's own (or its variant with
 * program arguments), else compiled now; None when the driver has no run part. */
static PyObject *prologue_for(PyObject *given) {
    if (PyUnicode_Compare(given, driver_source) == 0) return Py_NewRef(driver_prologue);
    if (driver_args_source != NULL && PyUnicode_Compare(given, driver_args_source) == 0) {
        return Py_NewRef(driver_args_prologue);
    }
    return run_part_prologue(given);
}

__attribute__((export_name("wasi_py_run")))
void wasi_py_run(void) {
    if (!initialised || driver_code == NULL) fatal("module was not pre-initialised");
    process_clock_start = monotonic_now();
    /* The preopened directories of this instance's host, not those seen at build time. */
    __wasilibc_reset_preopens();

    /* argv: [prog, CODE] or [prog, "-c", DRIVER_PY, CODE] (the plain interpreter's argv). */
    PyObject *args = wasi_argv();
    Py_ssize_t n = PyList_GET_SIZE(args);
    if (n != 2 && !(n == 4 && PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(args, 1), "-c") == 0)) {
        fprintf(stderr, "wasi-py snapshot: argv must be [prog, code] or [prog, '-c', driver, code]\n");
        fflush(stderr);
        __wasi_proc_exit(2);
    }
    PyObject *given = n == 4 ? PyList_GET_ITEM(args, 2) : driver_source;
    /* The prologue, then the run part in C (run_part.c); a driver without one runs whole. A driver
     * other than the snapshot's is honoured, at the cost of compiling it now. */
    PyObject *code_obj = prologue_for(given);
    int frameless = code_obj != NULL && code_obj != Py_None;
    if (code_obj == Py_None) {
        Py_SETREF(code_obj, PyUnicode_Compare(given, driver_source) == 0 ? Py_NewRef(driver_code)
                                                                         : compile_driver(given));
    }
    if (code_obj == NULL) {
        PyErr_Print();
        finish(1);
    }
    PyObject *user_code = PyList_GET_ITEM(args, n - 1);

    /* sys.argv and sys.orig_argv as `python -c DRIVER CODE` would have them. */
    PyObject *sys_argv = Py_BuildValue("[sO]", "-c", user_code);
    if (sys_argv == NULL || PySys_SetObject("argv", sys_argv) < 0) fatal("cannot set sys.argv");
    Py_DECREF(sys_argv);
    PyObject *orig = n == 4 ? Py_NewRef(args)
                            : Py_BuildValue("[OsOO]", PyList_GET_ITEM(args, 0), "-c", driver_source, user_code);
    if (orig == NULL || PySys_SetObject("orig_argv", orig) < 0) fatal("cannot set sys.orig_argv");
    Py_DECREF(orig);

    PyObject *main_module = PyImport_AddModuleRef("__main__");
    if (main_module == NULL) fatal("no __main__");
    PyObject *globals = PyModule_GetDict(main_module);
    PyObject *before = hidden_modules_names();
    if (before == NULL) fatal("out of memory");
    PyObject *res = PyEval_EvalCode(code_obj, globals, globals);
    if (res != NULL && frameless) {
        Py_DECREF(res);
        res = run_part(globals, before);
    }
    Py_DECREF(before);
    Py_DECREF(code_obj);
    Py_DECREF(args);
    int exitcode = 0;
    if (res == NULL) {
        if (!_Py_HandleSystemExit(&exitcode)) {
            PyErr_Print();
            exitcode = 1;
        }
    } else {
        Py_DECREF(res);
    }
    Py_DECREF(main_module);
    finish(exitcode);
}
