/* Conformance test helpers. A test is a main() that exits 0 when every check holds; each
 * failed check prints file:line and what was expected, and the test exits 1 at the end.
 * Tests must pass natively on Linux (the oracle) and in Lintel. */
#ifndef LINTEL_TEST_H
#define LINTEL_TEST_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lt_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("%s:%d: CHECK(%s) failed (errno %d %s)\n", __FILE__, __LINE__, #cond, \
                   errno, strerror(errno));                                          \
            lt_failures++;                                                           \
        }                                                                            \
    } while (0)

/* Expects `expr` to return -1 with errno `err`. */
#define CHECK_ERR(expr, err)                                                          \
    do {                                                                              \
        errno = 0;                                                                    \
        long lt_r = (long)(expr);                                                     \
        int lt_e = errno;                                                             \
        if (lt_r != -1 || lt_e != (err)) {                                            \
            printf("%s:%d: %s = %ld errno %d (%s), expected -1 errno %d (%s)\n", __FILE__, \
                   __LINE__, #expr, lt_r, lt_e, strerror(lt_e), err, strerror(err));  \
            lt_failures++;                                                            \
        }                                                                             \
    } while (0)

/* Expects `expr` to succeed (not return -1). */
#define CHECK_OK(expr)                                                                   \
    do {                                                                                 \
        errno = 0;                                                                       \
        long lt_r = (long)(expr);                                                        \
        if (lt_r == -1) {                                                                \
            printf("%s:%d: %s failed: errno %d (%s)\n", __FILE__, __LINE__, #expr, errno, \
                   strerror(errno));                                                     \
            lt_failures++;                                                               \
        }                                                                                \
    } while (0)

#define DONE() return lt_failures ? 1 : 0

#endif
