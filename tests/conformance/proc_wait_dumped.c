/* A child killed by a signal that dumps core (SIGQUIT, SIGABRT) is reported with si_code
 * CLD_DUMPED, by the parent's SIGCHLD siginfo and by waitid alike, when its death wrote a core
 * (the wait status's core bit, WCOREDUMP), and with CLD_KILLED when it did not (RLIMIT_CORE
 * 0); si_status is the signal either way. A dump is required only where core_pattern is
 * Linux's default "core" and the hard RLIMIT_CORE allows one; elsewhere (a core_pattern piping
 * to a program, a limited hard limit) the three reports need only agree with each other. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int must_dump;

/* The soft limit only: lowering the hard one could not be undone without CAP_SYS_RESOURCE. */
static void set_core_limit(rlim_t n) {
    struct rlimit r;
    CHECK(getrlimit(RLIMIT_CORE, &r) == 0);
    r.rlim_cur = n < r.rlim_max ? n : r.rlim_max;
    CHECK(setrlimit(RLIMIT_CORE, &r) == 0);
}

/* Kills a child with `sig` and checks what SIGCHLD, waitid and wait4 say of its death; `dump`
 * is 1 when it must have dumped core, 0 when it must not have, -1 when either may be. */
static void one(int sig, int dump) {
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    CHECK(sigprocmask(SIG_BLOCK, &chld, &old) == 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        raise(sig);
        _exit(99);
    }
    CHECK(c > 0);
    if (c <= 0) return;

    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct timespec limit = {20, 0};
    CHECK(sigtimedwait(&chld, &si, &limit) == SIGCHLD);
    CHECK(si.si_signo == SIGCHLD);
    CHECK(si.si_pid == c);
    CHECK(si.si_status == sig);

    siginfo_t wi;
    memset(&wi, 0, sizeof wi);
    CHECK(waitid(P_PID, c, &wi, WEXITED | WNOWAIT) == 0);
    CHECK(wi.si_signo == SIGCHLD);
    CHECK(wi.si_pid == c);
    CHECK(wi.si_status == sig);

    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sig);
    int cored = WCOREDUMP(st) != 0;

    /* The three agree: CLD_DUMPED exactly when the status has the core bit. */
    int want = cored ? CLD_DUMPED : CLD_KILLED;
    if (si.si_code != want || wi.si_code != want) {
        printf("signal %d: SIGCHLD si_code %d, waitid si_code %d, WCOREDUMP %d\n", sig,
               si.si_code, wi.si_code, cored);
        lt_failures++;
    }
    if (dump >= 0 && cored != dump) {
        printf("signal %d: WCOREDUMP %d, expected %d\n", sig, cored, dump);
        lt_failures++;
    }
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

/* Removes what the dumps left in the working directory. */
static void clean(void) {
    DIR *d = opendir(".");
    if (!d) return;
    struct dirent *e;
    /* Linux's "core" and "core.PID"; qemu-user (the ports' oracle) writes its own
     * qemu_PROG_DATE_PID.core beside them. */
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "core", 4) == 0 ||
            (n > 5 && strcmp(e->d_name + n - 5, ".core") == 0))
            unlink(e->d_name);
    }
    closedir(d);
}

static void dumped(void) {
    set_core_limit(RLIM_INFINITY);
    one(SIGQUIT, must_dump ? 1 : -1);
    clean();
    one(SIGABRT, must_dump ? 1 : -1);
    clean();
}

static void killed(void) {
    set_core_limit(0);
    one(SIGQUIT, 0);
    one(SIGABRT, 0);
    clean();
}

int main(void) {
    char pat[256] = "";
    int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, pat, sizeof pat - 1);
        pat[n > 0 ? n : 0] = 0;
        close(fd);
    }
    struct rlimit r;
    CHECK(getrlimit(RLIMIT_CORE, &r) == 0);
    must_dump = strcmp(pat, "core\n") == 0 && r.rlim_max == RLIM_INFINITY;
    if (!must_dump) printf("core_pattern %s or hard RLIMIT_CORE limited: dumps not required\n",
                           pat[0] ? pat : "unreadable");
    char dir[] = "/tmp/waitdumped.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(chdir(dir) == 0);
    lt_sub("dumped", dumped, 30000);
    lt_sub("killed", killed, 30000);
    clean();
    CHECK(chdir("/") == 0);
    CHECK(rmdir(dir) == 0);
    DONE();
}
