/* Memory protection keys as Linux answers without PKU (the host here and Lintel, whose
 * QEMU CPU it does not enable): pkey_alloc checks its flags and access rights (EINVAL),
 * then gives EINVAL once and ENOSPC after, in this process and in a forked child, afresh
 * after exec; pkey_free finds nothing to free; pkey_mprotect is mprotect for key -1 and
 * EINVAL for any other, after mprotect's own checks. A CPU with PKU would hand out keys:
 * the test then only checks the argument errors. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long pkey_alloc_(long flags, long init) { return syscall(SYS_pkey_alloc, flags, init); }
static long pkey_free_(long k) { return syscall(SYS_pkey_free, k); }
static long pkey_mprotect_(void *a, size_t n, int prot, long k) {
    return syscall(SYS_pkey_mprotect, a, n, prot, k);
}

static int has_pku(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    int yes = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5) && strstr(line, " ospke")) yes = 1;
    if (f) fclose(f);
    return yes;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        /* After exec: a fresh address space, so EINVAL once more. */
        CHECK_ERR(pkey_alloc_(0, 0), EINVAL);
        CHECK_ERR(pkey_alloc_(0, 0), ENOSPC);
        DONE();
    }
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_ERR(pkey_alloc_(1, 0), EINVAL);
    CHECK_ERR(pkey_alloc_(0, 4), EINVAL);
    CHECK_ERR(pkey_mprotect_(m + 1, 4096, PROT_READ, -1), EINVAL);
    CHECK_ERR(pkey_mprotect_(m, 4096, 0x1000, -1), EINVAL);
    CHECK_OK(pkey_mprotect_(m, 4096, PROT_READ, -1));
    CHECK_OK(pkey_mprotect_(m, 0, PROT_READ, 5));
    CHECK_OK(pkey_mprotect_(m, 4096, PROT_READ | PROT_WRITE, -1));
    m[0] = 1;
    if (has_pku()) {
        printf("PKU present: only argument errors checked\n");
        DONE();
    }
    CHECK_ERR(pkey_mprotect_(m, 4096, PROT_READ, 0), EINVAL);
    CHECK_ERR(pkey_mprotect_(m, 4096, PROT_READ, 1), EINVAL);
    CHECK_ERR(pkey_mprotect_(m, 4096, PROT_READ, -2), EINVAL);
    CHECK_ERR(pkey_free_(0), EINVAL);
    CHECK_ERR(pkey_free_(-1), EINVAL);
    CHECK_ERR(pkey_free_(1), EINVAL);
    CHECK_ERR(pkey_alloc_(0, 0), EINVAL);
    CHECK_ERR(pkey_alloc_(0, 0), ENOSPC);
    CHECK_ERR(pkey_alloc_(0, 3), ENOSPC);
    CHECK_ERR(pkey_free_(0), EINVAL);
    pid_t k = fork();
    if (k == 0) {
        /* The child's copy of the address space keeps the key taken. */
        _exit(pkey_alloc_(0, 0) == -1 && errno == ENOSPC ? 0 : 1);
    }
    int st;
    CHECK(waitpid(k, &st, 0) == k);
    CHECK_EXIT(st, 0);
    k = fork();
    if (k == 0) {
        execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
        _exit(99);
    }
    CHECK(waitpid(k, &st, 0) == k);
    CHECK_EXIT(st, 0);
    DONE();
}
