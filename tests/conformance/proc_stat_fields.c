/* /proc/PID/stat's fields beyond the counters, as Linux's do_task_stat fills them: tty_nr and
 * tpgid of the controlling terminal (0 and -1 without one), startcode/endcode around the
 * program's code, startstack at argc, the signal sets (pending, blocked, ignored, caught),
 * start_data/end_data/start_brk, the argument and environment strings where argv[0] and
 * environ[0] point, the exit code of a zombie, and the addresses hidden (text bounds 1, the
 * rest 0) from an observer that may not trace the process. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static char **saved_argv;
static char **start_environ;
static int initialized_data = 42;

/* Field `n` (1-based, proc(5)) of the stat file `path`; -1 with a message if unreadable. */
static long long field(const char *path, int n) {
    char buf[4096];
    if (lt_slurp(path, buf, sizeof buf) <= 0)
        return -1;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p += 2;
    for (int i = 3; i < n; i++) {
        p = strchr(p, ' ');
        if (!p) {
            printf("%s: no field %d\n", path, n);
            return -1;
        }
        p++;
    }
    return strtoll(p, NULL, 10);
}

static long long self(int n) { return field("/proc/self/stat", n); }

static int count_fields(const char *path) {
    char buf[4096];
    if (lt_slurp(path, buf, sizeof buf) <= 0)
        return -1;
    char *p = strrchr(buf, ')');
    int n = 2;
    for (; p && *p && *p != '\n'; p++)
        if (*p == ' ')
            n++;
    return n;
}

static void layout(void) {
    CHECK(count_fields("/proc/self/stat") == 52);
    uintptr_t code = (uintptr_t)&layout;
    CHECK((uintptr_t)self(26) <= code && code < (uintptr_t)self(27));
    int local;
    uintptr_t stack = (uintptr_t)self(28);
    CHECK((uintptr_t)&local < stack);
    CHECK(stack < (uintptr_t)self(48));
    /* argc is where the program started; argv follows it. */
    CHECK(*(long *)stack >= 1);
    CHECK(((char **)stack)[1] == saved_argv[0]);
    uintptr_t data = (uintptr_t)&initialized_data;
    CHECK((uintptr_t)self(45) <= data && data < (uintptr_t)self(46));
    /* The heap starts past the data, or, for a program run as its own loader (static PIE),
     * elsewhere: either way where brk started. */
    CHECK(self(47) > 0 && (uintptr_t)self(47) <= (uintptr_t)sbrk(0));
    /* The strings cmdline and environ are read from. */
    CHECK((uintptr_t)self(48) == (uintptr_t)saved_argv[0]);
    char cmd[4096];
    long n = lt_slurp("/proc/self/cmdline", cmd, sizeof cmd);
    CHECK(n > 0 && self(49) - self(48) == n);
    CHECK(self(50) == self(49));
    if (start_environ[0])
        CHECK((uintptr_t)self(50) == (uintptr_t)start_environ[0]);
    size_t env = 0;
    for (char **e = start_environ; *e; e++)
        env += strlen(*e) + 1;
    CHECK((size_t)(self(51) - self(50)) == env);
    CHECK(self(52) == 0);
}

static void signal_sets(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    signal(SIGUSR2, SIG_IGN);
    signal(SIGHUP, SIG_DFL);
    struct sigaction sa = {.sa_handler = SIG_IGN};
    sigaction(SIGWINCH, &sa, NULL);
    CHECK_OK(raise(SIGUSR1));
    unsigned long long bit = 1ULL << (SIGUSR1 - 1);
    CHECK((self(31) & bit) != 0);
    CHECK((self(32) & bit) != 0);
    CHECK((self(33) & (1ULL << (SIGUSR2 - 1))) != 0);
    CHECK((self(34) & (1ULL << (SIGUSR2 - 1))) == 0);
    CHECK((self(33) & (1ULL << (SIGHUP - 1))) == 0);
    signal(SIGUSR2, SIG_DFL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGWINCH, &sa, NULL);
}

static void on_hup(int s) { (void)s; }

static void caught(void) {
    signal(SIGHUP, on_hup);
    CHECK((self(34) & (1ULL << (SIGHUP - 1))) != 0);
    CHECK((self(33) & (1ULL << (SIGHUP - 1))) == 0);
    CHECK((self(31) & (1ULL << (SIGHUP - 1))) == 0);
}

/* A new session has no terminal; opening a pty's slave makes it the controlling one, with
 * the session's group in the foreground. */
static void terminal(void) {
    CHECK(setsid() == getpid());
    CHECK(self(7) == 0);
    CHECK(self(8) == -1);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    CHECK_OK(grantpt(m));
    CHECK_OK(unlockpt(m));
    char *name = ptsname(m);
    CHECK(name != NULL);
    int s = open(name, O_RDWR);
    CHECK(s >= 0);
    struct stat st;
    CHECK_OK(fstat(s, &st));
    unsigned long long maj = major(st.st_rdev), min = minor(st.st_rdev);
    long long nr = (long long)((min & 0xff) | (maj << 8) | ((min & ~0xffULL) << 12));
    CHECK(self(7) == nr);
    CHECK(self(8) == getpgrp());
    CHECK(tcgetpgrp(s) == getpgrp());
}

/* A zombie shows its wait status and no addresses. */
static void zombie(void) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    siginfo_t si;
    CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    CHECK(field(path, 52) == 3 << 8);
    CHECK(field(path, 26) == 0);
    CHECK(field(path, 28) == 0);
    CHECK(field(path, 48) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
}

/* Another user who may not trace the process reads 1 for the text bounds and 0 for the
 * other addresses. */
static void hidden(void) {
    if (geteuid() != 0) {
        printf("not root: hidden part skipped\n");
        return;
    }
    pid_t parent = getpid();
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", parent);
    CHECK(field(path, 26) > 1);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
            _exit(2);
        int bad = field(path, 26) != 1 || field(path, 27) != 1 || field(path, 28) != 0 ||
                  field(path, 45) != 0 || field(path, 48) != 0 || field(path, 51) != 0 ||
                  field(path, 7) < 0;
        _exit(bad);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
}

int main(int argc, char **argv) {
    (void)argc;
    saved_argv = argv;
    start_environ = environ;
    lt_sub("layout", layout, 20000);
    lt_sub("signal sets", signal_sets, 20000);
    lt_sub("caught", caught, 20000);
    lt_sub("terminal", terminal, 20000);
    lt_sub("zombie", zombie, 20000);
    lt_sub("hidden", hidden, 20000);
    DONE();
}
