/*
 * The snapshot's pre-imported modules, kept out of sys.modules until a program imports them
 * (issue 24: `sys.modules` at start is what `python3.13 -c` has, so code that looks at it, like
 * inspect.getmodule or doctest, behaves as natively). The bookkeeping is Python
 * (hidden_modules.py, run at build time in a namespace of its own); this file installs it and
 * replaces importlib's `_find_and_load` with a C function that hands a hidden module over and
 * passes every other import to the original. Being C, it adds no frame to any stack or traceback.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "hidden_modules.h"

static PyObject *ns;                /* hidden_modules.py's namespace */
static PyObject *hidden;            /* its HIDDEN dict: name -> module */
static PyObject *handover;          /* its handover(name) */
static PyObject *real_find_and_load; /* importlib._bootstrap._find_and_load */

static void die(const char *what) {
    fprintf(stderr, "wasi-py snapshot: %s\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    fflush(stderr);
    exit(70);
}

static PyObject *call(const char *fn, PyObject *arg) {
    PyObject *f = PyDict_GetItemString(ns, fn);
    if (f == NULL) die("hidden_modules.py lacks a function");
    return arg ? PyObject_CallOneArg(f, arg) : PyObject_CallNoArgs(f);
}

/* _find_and_load(name, import_): a hidden module not in sys.modules is handed over; anything
 * else goes to importlib's own. */
static PyObject *find_and_load(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs >= 1 && PyDict_GET_SIZE(hidden) > 0) {
        int known = PyDict_Contains(hidden, args[0]);
        if (known < 0) return NULL;
        if (known) {
            PyObject *current = PyImport_GetModule(args[0]);
            if (current == NULL && PyErr_Occurred()) return NULL;
            if (current == NULL) return PyObject_CallOneArg(handover, args[0]);
            Py_DECREF(current);
        }
    }
    return PyObject_Vectorcall(real_find_and_load, args, (size_t)nargs, NULL);
}

static PyMethodDef find_and_load_def = {"_find_and_load", (PyCFunction)(void (*)(void))find_and_load,
                                        METH_FASTCALL, "Find and load the module."};

void hidden_modules_start(PyObject *source) {
    ns = PyDict_New();
    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) die("out of memory");
    if (PyDict_SetItemString(ns, "__name__", Py_None) < 0) die("out of memory");
    const char *text = PyUnicode_AsUTF8(source);
    if (text == NULL) die("hidden_modules.py is not text");
    PyObject *r = PyRun_String(text, Py_file_input, ns, ns);
    if (r == NULL) die("hidden_modules.py failed");
    Py_DECREF(r);
    hidden = PyDict_GetItemString(ns, "HIDDEN");
    handover = PyDict_GetItemString(ns, "handover");
    if (hidden == NULL || handover == NULL) die("hidden_modules.py lacks HIDDEN or handover");
    r = call("start", NULL);
    if (r == NULL) die("hidden_modules.start() failed");
    Py_DECREF(r);
}

void hidden_modules_finish(void) {
    PyObject *r = call("hide", NULL);
    if (r == NULL) die("hidden_modules.hide() failed");
    Py_DECREF(r);
    PyObject *bootstrap = PyImport_ImportModule("_frozen_importlib");
    if (bootstrap == NULL) die("no _frozen_importlib");
    real_find_and_load = PyObject_GetAttrString(bootstrap, "_find_and_load");
    PyObject *name = PyUnicode_FromString("importlib._bootstrap");
    PyObject *ours = name ? PyCFunction_NewEx(&find_and_load_def, NULL, name) : NULL;
    Py_XDECREF(name);
    if (real_find_and_load == NULL || ours == NULL
        || PyObject_SetAttrString(bootstrap, "_find_and_load", ours) < 0) {
        die("cannot install _find_and_load");
    }
    Py_DECREF(ours);
    Py_DECREF(bootstrap);
}

PyObject *hidden_modules_names(void) {
    PyObject *modules = PyImport_GetModuleDict();
    return modules ? PyDict_Copy(modules) : NULL;
}

int hidden_modules_rehide(PyObject *before) {
    PyObject *r = call("rehide", before);
    if (r == NULL) return -1;
    Py_DECREF(r);
    return 0;
}
