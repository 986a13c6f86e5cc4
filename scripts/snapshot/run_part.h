/* The driver's run part, done in C (run_part.c). */
#ifndef WASI_PY_RUN_PART_H
#define WASI_PY_RUN_PART_H

#include <Python.h>

/* The driver's prologue (its text before the `#:run` line), compiled as `-c` compiles; None if
 * the driver has no such line; NULL with an exception if it does not compile. */
PyObject *run_part_prologue(PyObject *driver);
/* After the prologue ran in `ns`: runs the program it compiled, frameless; `before` is
 * hidden_modules_names() taken before the prologue. Returns NULL with an exception (SystemExit
 * for the exit status of an uncaught exception, already reported). */
PyObject *run_part(PyObject *ns, PyObject *before);

#endif
