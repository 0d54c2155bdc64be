/* aarch64 smoke test (docs/architecture.md, "aarch64"): printf, malloc, uname, auxv, a signal
 * handler returning through the vDSO's __kernel_rt_sigreturn with the FP/SIMD registers kept,
 * a SIGSEGV with its address and code (ESR decoding) left with siglongjmp, TLS in a second
 * thread, clock_gettime and clock_getres through the vDSO, fork and wait; exits 3. Built with
 * aarch64-linux-gnu-gcc -static, run with
 * cargo xtask run --arch aarch64 --add aarch64_smoke=/smoke -- /smoke */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void handler(int s) {
    /* Clobber the FP/SIMD registers: the interrupted code must not see it. */
    volatile double d = 3.0;
    for (int i = 0; i < 10; i++) d = d * 1.5 + s;
    got = s;
}

static sigjmp_buf jb;
static void *fault_addr;
static int fault_code;
static void on_segv(int s, siginfo_t *si, void *uc) {
    (void)s; (void)uc;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(jb, 1);
}

static __thread int tls_value = 5;
static void *thread_main(void *arg) {
    tls_value = 9;
    return (void *)(long)(tls_value + *(int *)arg);
}

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
    printf("hwcap %#lx vdso %s\n", getauxval(AT_HWCAP), getauxval(AT_SYSINFO_EHDR) ? "yes" : "no");
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, 0);
    volatile double f = 1.25;
    double before = f * 2.0;
    raise(SIGUSR1);
    double after = f * 2.0;
    printf("signal handler ran: %d\n", got);
    printf("fp kept: %s\n", before == after && after == 2.5 ? "yes" : "no");
    struct sigaction sv = {0};
    sv.sa_sigaction = on_segv;
    sv.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sv, 0);
    if (sigsetjmp(jb, 1) == 0) {
        *(volatile int *)0x1238 = 1;
        printf("no fault\n");
    }
    printf("segv at %p code %d\n", fault_addr, fault_code);
    int add = 30;
    pthread_t th;
    void *ret;
    pthread_create(&th, 0, thread_main, &add);
    pthread_join(th, &ret);
    printf("thread %ld tls %d\n", (long)ret, tls_value);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    double x = 1.0;
    for (int i = 0; i < 1000000; i++) x = x * 1.0000001;
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    printf("clock_gettime advanced: %s (x=%.3f)\n", ns > 0 ? "yes" : "no", x);
    struct timespec r;
    clock_getres(CLOCK_MONOTONIC, &r);
    printf("res %ld ns\n", r.tv_nsec);
    pid_t pid = fork();
    if (pid == 0) { printf("child %d\n", getpid() > 1); _exit(7); }
    int st;
    waitpid(pid, &st, 0);
    printf("child exited %d\n", WEXITSTATUS(st));
    return 3;
}
