/* Reads of an execute-only mapping (PROT_EXEC alone). Where the page tables can hold such a
 * page unreadable (riscv64: X without R) Linux refuses the read: a user load is SIGSEGV with
 * SEGV_ACCERR, a system call copying from it EFAULT (riscv's access_error: a load fault needs
 * VM_READ or VM_WRITE). Where they cannot (x86_64 without protection keys, arm64 before 6.2)
 * the page reads as usual. Both for a page written before the mprotect (present: Lintel's
 * riscv64 kernel took its fault as spurious and looped for ever) and a fresh one. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __riscv
#define READABLE 0
#else
#define READABLE 1
#endif

/* A child loads p[0]: its exit status 7 if it read `want`, else death by SIGSEGV. */
static void user_load(volatile char *p, char want) {
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        signal(SIGSEGV, SIG_DFL);
        _exit(p[0] == want ? 7 : 1);
    }
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    if (READABLE)
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    else
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

/* write() from p to a pipe: the byte, or EFAULT. */
static void syscall_read(char *p, char want) {
    int fd[2];
    CHECK_OK(pipe(fd));
    ssize_t n = write(fd[1], p, 1);
    if (READABLE) {
        char c = 0;
        CHECK(n == 1);
        CHECK(read(fd[0], &c, 1) == 1 && c == want);
    } else {
        CHECK_ERR(write(fd[1], p, 1), EFAULT);
    }
    close(fd[0]);
    close(fd[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    /* Present: written, then execute-only. */
    char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    p[0] = 42;
    CHECK_OK(mprotect(p, pg, PROT_EXEC));
    syscall_read(p, 42);
    user_load(p, 42);
    /* Never touched. */
    char *q = mmap(NULL, pg, PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    syscall_read(q, 0);
    user_load(q, 0);
    /* Readable again: the data is still there. */
    CHECK_OK(mprotect(p, pg, PROT_READ));
    CHECK(p[0] == 42);
    printf("execute-only pages %s\n", READABLE ? "readable" : "refused");
    DONE();
}
