/* riscv64 smoke test (docs/architecture.md, "riscv64"): printf, malloc, uname, auxv, a signal
 * handler returning through the vDSO, clock_gettime and clock_getres through the vDSO, fork and
 * wait; exits 3. Built with riscv64-linux-gnu-gcc -static, run with
 * cargo xtask run --arch riscv64 --add riscv64_smoke=/smoke -- /smoke */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <sys/auxv.h>

static volatile sig_atomic_t got;
static void handler(int s) { got = s; }

int main(int argc, char **argv) {
    printf("argc=%d argv[0]=%s\n", argc, argv[0]);
    char *p = malloc(1 << 20);
    if (!p) return 1;
    memset(p, 7, 1 << 20);
    printf("malloc ok %d\n", p[12345]);
    free(p);
    struct utsname u;
    uname(&u);
    printf("uname -m: %s\n", u.machine);
    printf("hwcap %#lx vdso %#lx\n", getauxval(AT_HWCAP), getauxval(AT_SYSINFO_EHDR));
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("signal handler ran: %d\n", got);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    double x = 1.0;
    for (int i = 0; i < 1000000; i++) x = x * 1.0000001;
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    printf("clock_gettime advanced: %s (x=%.3f)\n", ns > 0 ? "yes" : "no", x);
    struct timespec r; clock_getres(CLOCK_MONOTONIC, &r);
    printf("res %ld ns\n", r.tv_nsec);
    pid_t pid = fork();
    if (pid == 0) { printf("child %d\n", getpid() > 1); _exit(7); }
    int st;
    waitpid(pid, &st, 0);
    printf("child exited %d\n", WEXITSTATUS(st));
    return 3;
}
