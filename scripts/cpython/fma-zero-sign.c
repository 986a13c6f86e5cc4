/*
 * wasi-py: the sign of a zero result of fma(), fixed in front of wasi-libc's.
 *
 * wasi-libc's fma (musl's) returns `x*y + z` when z is a zero, so a product too small for a double,
 * which rounds to -0.0, plus +0.0 gives +0.0: math.fma(1e-300, -1e-300, 0.0) is 0.0 where native
 * CPython (and IEEE 754) give -0.0. With z zero and x, y finite and non-zero, the exact result is
 * the product itself, so its one rounding is the double product x*y, sign included. Every other
 * case is left to the library. Linked with -Wl,--wrap=fma (scripts/build-cpython.sh), so every
 * caller of fma in the interpreter gets it; CPython skips its own test of this on WASI (gh-131032).
 */
#include <math.h>

double __real_fma(double x, double y, double z);

double __wrap_fma(double x, double y, double z) {
    if (z == 0.0 && x != 0.0 && y != 0.0 && isfinite(x) && isfinite(y)) return x * y;
    return __real_fma(x, y, z);
}
