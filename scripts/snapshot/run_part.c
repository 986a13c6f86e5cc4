/*
 * The driver's run part, done in C so that no frame of ours is under the program (issue 24:
 * traceback.print_stack() shows the program's frames only, sys.getrecursionlimit() is 1000).
 *
 * The driver (src/sandbox/_driver.ts) has two parts split by the line `#:run`: the prologue
 * (argv, the fresh __main__, compiling the program, the last-expression rule, linecache) and the
 * run part (exec the program, print the last expression's repr, report an uncaught exception
 * through its `_fail`). The plain interpreter runs both in Python; the snapshot runs the
 * prologue, then does the run part here with the code objects the prologue left behind.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "hidden_modules.h"
#include "run_part.h"

#define RUN_MARKER "\n#:run\n"

PyObject *run_part_prologue(PyObject *driver) {
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(driver, &size);
    if (text == NULL) return NULL;
    const char *mark = strstr(text, RUN_MARKER);
    if (mark == NULL) return Py_NewRef(Py_None);
    PyObject *head = PyUnicode_FromStringAndSize(text, mark - text + 1);
    if (head == NULL) return NULL;
    /* As `python -c` compiles: PyCF_IGNORE_COOKIE, file name "<string>". */
    PyCompilerFlags cf = _PyCompilerFlags_INIT;
    cf.cf_flags |= PyCF_IGNORE_COOKIE;
    PyObject *code = Py_CompileStringExFlags(PyUnicode_AsUTF8(head), "<string>", Py_file_input, &cf, -1);
    Py_DECREF(head);
    return code;
}

/* sys.stdout.write(repr(value) + "\n"), as the driver's run part writes the last expression. */
static PyObject *write_repr(PyObject *value) {
    PyObject *text = PyObject_Repr(value);
    if (text == NULL) return NULL;
    PyObject *line = PyUnicode_FromFormat("%U\n", text);
    Py_DECREF(text);
    if (line == NULL) return NULL;
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    PyObject *r = NULL;
    if (out == NULL) PyErr_SetString(PyExc_AttributeError, "module 'sys' has no attribute 'stdout'");
    else r = PyObject_CallMethod(out, "write", "O", line);
    Py_DECREF(line);
    return r;
}

static PyObject *get(PyObject *ns, const char *name) {
    PyObject *v = PyDict_GetItemString(ns, name); /* borrowed */
    if (v == NULL) PyErr_Format(PyExc_RuntimeError, "wasi-py: the driver's prologue left no %s", name);
    return v;
}

PyObject *run_part(PyObject *ns, PyObject *before) {
    /* The prologue's imports are not the program's; `-c` itself imports linecache. */
    if (hidden_modules_rehide(before) < 0) return NULL;
    PyObject *linecache = PyImport_ImportModule("linecache");
    if (linecache == NULL) return NULL;
    Py_DECREF(linecache);
    PyObject *code = get(ns, "_c"), *eval = get(ns, "_e"), *globals = get(ns, "_g"), *fail = get(ns, "_fail");
    if (code == NULL || eval == NULL || globals == NULL || fail == NULL) return NULL;
    Py_INCREF(fail);
    PyObject *r = PyEval_EvalCode(code, globals, globals);
    if (r != NULL && eval != Py_None) {
        Py_DECREF(r);
        PyObject *value = PyEval_EvalCode(eval, globals, globals);
        r = value ? write_repr(value) : NULL;
        Py_XDECREF(value);
    }
    if (r == NULL && !PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *exc = PyErr_GetRaisedException();
        r = PyObject_CallOneArg(fail, exc); /* prints it, then raises SystemExit(1 or 130) */
        Py_DECREF(exc);
    }
    Py_DECREF(fail);
    return r;
}
