/* The snapshot's hidden pre-imported modules (hidden_modules.c, hidden_modules.py). */
#ifndef WASI_PY_HIDDEN_MODULES_H
#define WASI_PY_HIDDEN_MODULES_H

#include <Python.h>

/* Build time, before the pre-imports: runs hidden_modules.py (its source) and starts recording. */
void hidden_modules_start(PyObject *source);
/* Build time, after them: hides every module imported since start, installs _find_and_load. */
void hidden_modules_finish(void);
/* Run time: a copy of sys.modules, to give hidden_modules_rehide later (NULL on error). */
PyObject *hidden_modules_names(void);
/* Run time: hides again the modules imported since `before` was taken; -1 with an exception. */
int hidden_modules_rehide(PyObject *before);

#endif
