/* Signals between processes: kill(pid, 0) existence checks (a zombie still exists, a reaped
 * child does not) and invalid signal numbers; kill(0, sig) and kill(-pgid, sig) reaching a
 * process group; SIGSTOP/SIGTSTP/SIGCONT seen through waitpid(WUNTRACED/WCONTINUED) and waitid;
 * the SA_SIGINFO SIGCHLD handler's si_code (CLD_STOPPED, CLD_CONTINUED, CLD_EXITED, CLD_KILLED),
 * si_pid and si_status; SA_NOCLDSTOP; auto-reaping with SIGCHLD ignored or SA_NOCLDWAIT;
 * SIGKILL ending children blocked in read(), pause() or with every signal blocked, or stopped;
 * default actions (terminate or ignore); what execve keeps (ignored dispositions, the mask,
 * pending signals) and resets (caught dispositions), checked by re-executing this program and
 * through /bin/sh; alarm() killing with SIGALRM. Each part runs in its own child with a time
 * limit, so one kernel bug shows as one failed part. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *self_path;

#define now_ms lt_now_ms

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Runs fn in a child; the child's failed checks print themselves and make it exit 1. */
#define sub(name, fn) lt_sub(name, fn, 5000)

/* waitpid(pid, flags | WNOHANG) polled for up to 2 s; returns what waitpid returned last
 * (0 on timeout, with a message). */
static pid_t wait_for(pid_t pid, int flags, int *st, int line) {
    long start = now_ms();
    for (;;) {
        pid_t r = waitpid(pid, st, flags | WNOHANG);
        if (r != 0 && !(r < 0 && errno == EINTR)) return r;
        if (now_ms() - start > 2000) {
            printf("%s:%d: waitpid(%d, 0x%x) timed out\n", __FILE__, line, pid, flags);
            lt_failures++;
            return 0;
        }
        sleep_ms(1);
    }
}
#define WAIT_FOR(pid, flags, st) wait_for(pid, flags, st, __LINE__)

/* Reaps pid (killing it first if it is still there after 2 s) and returns the status. */
static int reap(pid_t pid, int line) {
    int st = 0;
    if (wait_for(pid, 0, &st, line) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    return st;
}
#define REAP(pid) reap(pid, __LINE__)

static void set_handler(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
        lt_failures++;
    }
}

static void set_info_handler(int sig, void (*h)(int, siginfo_t *, void *), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
        lt_failures++;
    }
}

static void block(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
}

static void unblock(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(sigprocmask(SIG_UNBLOCK, &s, NULL) == 0);
}

/* A child that waits forever in pause(). */
static pid_t spawn_pauser(void) {
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) pause();
    }
    CHECK(pid > 0);
    return pid;
}

/* CHECK that also prints the wait status. */
#define CHECK_ST(cond, st)                                                                \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            printf("%s:%d: CHECK(%s) failed (wait status 0x%x)\n", __FILE__, __LINE__,     \
                   #cond, (unsigned)(st));                                                \
            lt_failures++;                                                                \
        }                                                                                 \
    } while (0)
/* A pause() child in a process group of its own. Its parent (us) is in another group of the
 * same session, so the group is not orphaned and SIGTSTP's default action stops it whatever
 * group and session the test was started in. */
static pid_t spawn_pauser_pg(void) {
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        for (;;) pause();
    }
    CHECK(pid > 0);
    CHECK(setpgid(pid, pid) == 0 || errno == EACCES);
    CHECK(getpgid(pid) == pid);
    return pid;
}

/* Waits up to 2 s for pid to be gone for kill(pid, 0). (An auto-reaped child can outlive the
 * waitpid that reported ECHILD by a moment: the kernel releases it just after.) */
static void check_gone(pid_t pid, int line) {
    long start = now_ms();
    while (kill(pid, 0) == 0 && now_ms() - start < 2000) sleep_ms(1);
    errno = 0;
    if (kill(pid, 0) != -1 || errno != ESRCH) {
        printf("%s:%d: pid %d still exists for kill(pid, 0) (errno %d)\n", __FILE__, line, pid,
               errno);
        lt_failures++;
    }
}
#define CHECK_GONE(pid) check_gone(pid, __LINE__)

#define CHECK_SIGNALED(st, sig) \
    CHECK_ST((st) != -1 && WIFSIGNALED(st) && WTERMSIG(st) == (sig), st)
#define CHECK_EXITED(st, code) \
    CHECK_ST((st) != -1 && WIFEXITED(st) && WEXITSTATUS(st) == (code), st)

/* ---- kill(pid, 0) and bad signal numbers ---- */

static void t_kill_basic(void) {
    pid_t me = getpid();
    CHECK(kill(me, 0) == 0);
    CHECK_ERR(kill(me, -1), EINVAL);
    CHECK_ERR(kill(me, 65), EINVAL);
    CHECK_ERR(kill(me, 1000), EINVAL);

    pid_t c = spawn_pauser();
    CHECK(kill(c, 0) == 0);
    CHECK_ERR(kill(c, 65), EINVAL);
    CHECK_ERR(kill(c, -5), EINVAL);
    CHECK(kill(c, 0) == 0); /* still alive after the failed kills */
    CHECK(kill(c, SIGKILL) == 0);

    /* A zombie still exists for kill(pid, 0). */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0);
    CHECK(si.si_pid == c);
    CHECK(si.si_code == CLD_KILLED);
    CHECK(si.si_status == SIGKILL);
    CHECK(kill(c, 0) == 0);
    int st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);
    CHECK_ERR(kill(c, 0), ESRCH);
    CHECK_ERR(kill(c, SIGTERM), ESRCH);
    CHECK_ERR(waitpid(c, &st, WNOHANG), ECHILD);
}

/* ---- process groups ---- */

static volatile int usr1_count;
static void usr1_handler(int sig) {
    (void)sig;
    usr1_count++;
}

static void t_pgrp(void) {
    /* Our own group, so that kill(0, ...) reaches nobody outside this test. */
    CHECK(setpgid(0, 0) == 0);
    pid_t me = getpid();
    CHECK(getpgrp() == me);

    /* kill(0, sig): the caller and both children (in the caller's group) get it. The children
     * inherit the handler and the blocked mask and wait in sigsuspend. */
    set_handler(SIGUSR1, usr1_handler, 0);
    block(SIGUSR1);
    pid_t c[2];
    for (int i = 0; i < 2; i++) {
        c[i] = fork();
        if (c[i] == 0) {
            sigset_t none;
            sigemptyset(&none);
            while (usr1_count == 0) sigsuspend(&none);
            _exit(40 + i);
        }
        CHECK(c[i] > 0);
    }
    CHECK(getpgid(c[0]) == me);
    CHECK(getpgid(c[1]) == me);
    CHECK(kill(0, SIGUSR1) == 0);
    for (int i = 0; i < 2; i++) {
        int st = REAP(c[i]);
        CHECK_EXITED(st, 40 + i);
    }
    CHECK(usr1_count == 0); /* still blocked here */
    unblock(SIGUSR1);
    CHECK(usr1_count == 1);

    /* kill(-pgid, sig): both members of another group, not the caller. */
    pid_t g[2];
    for (int i = 0; i < 2; i++) {
        g[i] = fork();
        if (g[i] == 0) {
            setpgid(0, i == 0 ? 0 : g[0]);
            for (;;) pause();
        }
        CHECK(g[i] > 0);
        CHECK(setpgid(g[i], g[0]) == 0 || errno == EACCES);
    }
    CHECK(getpgid(g[0]) == g[0]);
    CHECK(getpgid(g[1]) == g[0]);
    CHECK(kill(-g[0], SIGUSR2) == 0); /* SIGUSR2 is default here too: it would kill us */
    for (int i = 0; i < 2; i++) {
        int st = REAP(g[i]);
        CHECK_SIGNALED(st, SIGUSR2);
    }
    CHECK_ERR(kill(-g[0], 0), ESRCH); /* the group is gone */

    /* killpg is the same thing. */
    pid_t k = fork();
    if (k == 0) {
        setpgid(0, 0);
        for (;;) pause();
    }
    CHECK(setpgid(k, k) == 0 || errno == EACCES);
    CHECK(getpgid(k) == k);
    CHECK(killpg(k, SIGTERM) == 0);
    int st = REAP(k);
    CHECK_SIGNALED(st, SIGTERM);
    CHECK(kill(0, 0) == 0);
}

/* ---- stop and continue through waitpid / waitid ---- */

static void t_stop_cont(void) {
    int st = 0;
    pid_t c = spawn_pauser_pg();

    CHECK(kill(c, SIGSTOP) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK_ST(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, st);
    CHECK_ST(!WIFEXITED(st) && !WIFSIGNALED(st) && !WIFCONTINUED(st), st);
    /* The stop is reported once. */
    CHECK(waitpid(c, &st, WUNTRACED | WNOHANG) == 0);

    CHECK(kill(c, SIGCONT) == 0);
    CHECK(WAIT_FOR(c, WCONTINUED, &st) == c);
    CHECK_ST(WIFCONTINUED(st), st);
    CHECK_ST(!WIFSTOPPED(st) && !WIFEXITED(st) && !WIFSIGNALED(st), st);
    CHECK(waitpid(c, &st, WCONTINUED | WNOHANG) == 0);

    /* Without WUNTRACED a stop is not reported. */
    CHECK(kill(c, SIGTSTP) == 0);
    sleep_ms(30);
    CHECK(waitpid(c, &st, WNOHANG) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK_ST(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP, st);

    /* waitid reports the continue and the stop with CLD_CONTINUED / CLD_STOPPED. */
    CHECK(kill(c, SIGCONT) == 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    long start = now_ms();
    while (waitid(P_PID, c, &si, WCONTINUED | WNOHANG) == 0 && si.si_pid == 0 &&
           now_ms() - start < 2000)
        sleep_ms(1);
    CHECK(si.si_pid == c);
    CHECK(si.si_signo == SIGCHLD);
    CHECK(si.si_code == CLD_CONTINUED);
    CHECK(si.si_status == SIGCONT);

    CHECK(kill(c, SIGSTOP) == 0);
    memset(&si, 0, sizeof si);
    start = now_ms();
    while (waitid(P_PID, c, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid == 0 &&
           now_ms() - start < 2000)
        sleep_ms(1);
    CHECK(si.si_pid == c);
    CHECK(si.si_code == CLD_STOPPED);
    CHECK(si.si_status == SIGSTOP);

    /* SIGTERM to a stopped child stays pending; SIGKILL ends it. */
    CHECK(kill(c, SIGTERM) == 0);
    sleep_ms(30);
    st = 0;
    CHECK_ST(waitpid(c, &st, WNOHANG) == 0, st);
    CHECK(kill(c, 0) == 0);
    CHECK(kill(c, SIGKILL) == 0);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);

    /* Stopped then killed without a continue in between, waited with WUNTRACED. */
    c = spawn_pauser();
    CHECK(kill(c, SIGSTOP) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK_ST(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, st);
    CHECK(kill(c, SIGKILL) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED | WCONTINUED, &st) == c);
    CHECK_ST(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, st);

    /* A stopped child continued by SIGCONT while SIGTERM was pending then dies of it. */
    c = spawn_pauser();
    CHECK(kill(c, SIGSTOP) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK(kill(c, SIGTERM) == 0);
    CHECK(kill(c, SIGCONT) == 0);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGTERM);

    /* In an orphaned process group (here: a new session) SIGTSTP's default stop is discarded;
     * SIGSTOP still stops. */
    int ready[2];
    CHECK(pipe(ready) == 0);
    c = fork();
    if (c == 0) {
        setsid();
        CHECK(write(ready[1], "r", 1) == 1);
        for (;;) pause();
    }
    char b;
    CHECK(read(ready[0], &b, 1) == 1);
    CHECK(kill(c, SIGTSTP) == 0);
    sleep_ms(30);
    pid_t r = waitpid(c, &st, WUNTRACED | WNOHANG);
    CHECK_ST(r == 0, st);
    if (r == c && WIFSTOPPED(st)) {
        /* It stopped anyway: continue it so that the SIGSTOP below is checked on its own. */
        kill(c, SIGCONT);
        WAIT_FOR(c, WCONTINUED, &st);
    }
    CHECK(kill(c, SIGSTOP) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK_ST(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, st);
    CHECK(kill(c, SIGKILL) == 0);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);
}

/* ---- the SIGCHLD handler's siginfo ---- */

#define MAXEV 16
static volatile int nev;
static struct {
    int signo, code, status;
    pid_t pid;
    uid_t uid;
} ev[MAXEV];

static void chld_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    int i = nev;
    if (i < MAXEV) {
        ev[i].signo = sig;
        ev[i].code = si->si_code;
        ev[i].status = si->si_status;
        ev[i].pid = si->si_pid;
        ev[i].uid = si->si_uid;
    }
    nev = i + 1;
}

/* Waits up to 2 s for the handler to have run n times. */
static int wait_events(int n, int line) {
    long start = now_ms();
    while (nev < n && now_ms() - start < 2000) sleep_ms(1);
    if (nev < n) {
        printf("%s:%d: expected %d SIGCHLD deliveries, got %d\n", __FILE__, line, n, nev);
        lt_failures++;
        return 0;
    }
    return 1;
}
#define WAIT_EVENTS(n) wait_events(n, __LINE__)

static void check_event(int i, int code, pid_t pid, int status, int line) {
    if (i >= nev || i >= MAXEV) return;
    if (ev[i].signo != SIGCHLD || ev[i].code != code || ev[i].pid != pid ||
        ev[i].status != status || ev[i].uid != getuid()) {
        printf("%s:%d: SIGCHLD event %d: signo %d code %d pid %d status %d uid %d, expected "
               "code %d pid %d status %d\n",
               __FILE__, line, i, ev[i].signo, ev[i].code, (int)ev[i].pid, ev[i].status,
               (int)ev[i].uid, code, (int)pid, status);
        lt_failures++;
    }
}
#define CHECK_EVENT(i, code, pid, status) check_event(i, code, pid, status, __LINE__)

static void t_sigchld_info(void) {
    int st = 0;
    nev = 0;
    set_info_handler(SIGCHLD, chld_handler, 0);
    pid_t c = spawn_pauser();

    CHECK(kill(c, SIGSTOP) == 0);
    if (WAIT_EVENTS(1)) CHECK_EVENT(0, CLD_STOPPED, c, SIGSTOP);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK_ST(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, st);

    CHECK(kill(c, SIGCONT) == 0);
    if (WAIT_EVENTS(2)) CHECK_EVENT(1, CLD_CONTINUED, c, SIGCONT);
    CHECK(WAIT_FOR(c, WCONTINUED, &st) == c);
    CHECK_ST(WIFCONTINUED(st), st);

    CHECK(kill(c, SIGTERM) == 0);
    if (WAIT_EVENTS(3)) CHECK_EVENT(2, CLD_KILLED, c, SIGTERM);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGTERM);

    pid_t e = fork();
    if (e == 0) _exit(7);
    if (WAIT_EVENTS(4)) CHECK_EVENT(3, CLD_EXITED, e, 7);
    st = REAP(e);
    CHECK_EXITED(st, 7);

    /* SIGKILL also gives CLD_KILLED. */
    c = spawn_pauser();
    CHECK(kill(c, SIGKILL) == 0);
    if (WAIT_EVENTS(5)) CHECK_EVENT(4, CLD_KILLED, c, SIGKILL);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);

    sleep_ms(20);
    CHECK(nev == 5);
}

/* ---- SA_NOCLDSTOP ---- */

static void t_nocldstop(void) {
    int st = 0;
    nev = 0;
    set_info_handler(SIGCHLD, chld_handler, SA_NOCLDSTOP);
    pid_t c = spawn_pauser();

    CHECK(kill(c, SIGSTOP) == 0);
    CHECK(WAIT_FOR(c, WUNTRACED, &st) == c);
    CHECK_ST(WIFSTOPPED(st), st);
    CHECK(kill(c, SIGCONT) == 0);
    CHECK(WAIT_FOR(c, WCONTINUED, &st) == c);
    CHECK_ST(WIFCONTINUED(st), st);
    sleep_ms(30);
    CHECK(nev == 0);

    /* Termination is still reported. */
    CHECK(kill(c, SIGKILL) == 0);
    if (WAIT_EVENTS(1)) CHECK_EVENT(0, CLD_KILLED, c, SIGKILL);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);
}

/* ---- auto-reaping: SIGCHLD ignored, SA_NOCLDWAIT ---- */

static void t_autoreap_ign(void) {
    int st = 0;
    set_handler(SIGCHLD, SIG_IGN, 0);
    pid_t c = fork();
    if (c == 0) _exit(3);
    CHECK(c > 0);
    /* waitpid blocks until the child is gone, then finds no child to report. */
    CHECK_ERR(waitpid(c, &st, 0), ECHILD);
    CHECK_GONE(c);
    CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);

    /* A killed child is reaped as well. */
    c = spawn_pauser();
    CHECK(kill(c, SIGKILL) == 0);
    CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
    CHECK_GONE(c);

    /* Back to SIG_DFL: zombies again. */
    set_handler(SIGCHLD, SIG_DFL, 0);
    c = fork();
    if (c == 0) _exit(4);
    st = REAP(c);
    CHECK_EXITED(st, 4);
}

static void t_autoreap_nocldwait(void) {
    int st = 0;
    /* SA_NOCLDWAIT with the default action. */
    set_handler(SIGCHLD, SIG_DFL, SA_NOCLDWAIT);
    pid_t c = fork();
    if (c == 0) _exit(3);
    CHECK(c > 0);
    CHECK_ERR(waitpid(c, &st, 0), ECHILD);
    CHECK_GONE(c);

    /* SA_NOCLDWAIT with a handler: still reaped, and Linux still sends SIGCHLD. */
    nev = 0;
    set_info_handler(SIGCHLD, chld_handler, SA_NOCLDWAIT);
    c = fork();
    if (c == 0) _exit(9);
    CHECK(c > 0);
    if (WAIT_EVENTS(1)) CHECK_EVENT(0, CLD_EXITED, c, 9);
    CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
    CHECK_GONE(c);
}

/* ---- SIGKILL against blocked children ---- */

static void t_sigkill(void) {
    int st = 0;
    int p[2], ready[2];
    CHECK(pipe(p) == 0);
    CHECK(pipe(ready) == 0);

    /* Blocked in read() on an empty pipe (the write end stays open in the parent). */
    pid_t c = fork();
    if (c == 0) {
        char b;
        close(ready[0]);
        CHECK(write(ready[1], "r", 1) == 1);
        read(p[0], &b, 1);
        _exit(50);
    }
    char b;
    CHECK(read(ready[0], &b, 1) == 1);
    sleep_ms(20);
    CHECK(waitpid(c, &st, WNOHANG) == 0);
    CHECK(kill(c, SIGKILL) == 0);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);

    /* In pause(). */
    c = fork();
    if (c == 0) {
        CHECK(write(ready[1], "r", 1) == 1);
        pause();
        _exit(51);
    }
    CHECK(read(ready[0], &b, 1) == 1);
    sleep_ms(20);
    CHECK(kill(c, SIGKILL) == 0);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);

    /* With every signal blocked and SIGTERM ignored: SIGTERM does nothing, SIGKILL still ends
     * it. */
    c = fork();
    if (c == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        signal(SIGTERM, SIG_IGN);
        CHECK(write(ready[1], "r", 1) == 1);
        for (;;) pause();
    }
    CHECK(read(ready[0], &b, 1) == 1);
    CHECK(kill(c, SIGTERM) == 0);
    sleep_ms(20);
    CHECK(waitpid(c, &st, WNOHANG) == 0);
    CHECK(kill(c, SIGKILL) == 0);
    st = REAP(c);
    CHECK_SIGNALED(st, SIGKILL);

    /* Its handler cannot be changed, nor can it be ignored. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
}

/* ---- default actions ---- */

static void t_defaults(void) {
    static const int terminate[] = {SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGPIPE, SIGALRM};
    for (unsigned i = 0; i < sizeof terminate / sizeof terminate[0]; i++) {
        pid_t c = spawn_pauser();
        CHECK(kill(c, terminate[i]) == 0);
        int st = REAP(c);
        if (!(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == terminate[i])) {
            printf("%s:%d: signal %d: status 0x%x, expected termination by it\n", __FILE__,
                   __LINE__, terminate[i], st);
            lt_failures++;
        }
        CHECK_ST(!WCOREDUMP(st), st);
    }

    /* Ignored by default: sent to itself (delivered at once), then from the parent. */
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t c = fork();
    if (c == 0) {
        kill(getpid(), SIGCHLD);
        kill(getpid(), SIGURG);
        kill(getpid(), SIGWINCH);
        kill(getpid(), SIGCONT);
        raise(SIGCHLD);
        raise(SIGURG);
        raise(SIGWINCH);
        char b = 0;
        close(ready[1]);
        read(ready[0], &b, 1); /* the parent's signals arrive while we wait here */
        _exit(b == 'x' ? 33 : 34);
    }
    close(ready[0]);
    sleep_ms(20);
    CHECK(kill(c, SIGCHLD) == 0);
    CHECK(kill(c, SIGURG) == 0);
    CHECK(kill(c, SIGWINCH) == 0);
    CHECK(kill(c, SIGCONT) == 0);
    sleep_ms(20);
    CHECK(waitpid(c, NULL, WNOHANG) == 0);
    CHECK(write(ready[1], "x", 1) == 1);
    int st = REAP(c);
    CHECK_EXITED(st, 33);
    close(ready[1]);
}

/* ---- execve ---- */

static void dummy_handler(int sig) { (void)sig; }

/* Reads a hex mask line ("SigIgn:\t0000000000000800") from /proc/self/status. */
static int status_mask(const char *buf, const char *key, unsigned long long *out) {
    const char *p = strstr(buf, key);
    if (!p) return 0;
    p += strlen(key);
    while (*p == ':' || *p == '\t' || *p == ' ') p++;
    char *end;
    *out = strtoull(p, &end, 16);
    return end != p;
}

#define BIT(sig) (1ULL << ((sig)-1))

/* The re-executed program: SIGUSR1 was caught (now default), SIGUSR2 ignored (still is),
 * SIGTERM blocked (still is) and pending (still is). Once every check passed it unblocks
 * SIGTERM and so dies of it. */
static int after_exec(void) {
    struct sigaction sa;
    CHECK(sigaction(SIGUSR1, NULL, &sa) == 0);
    CHECK(sa.sa_handler == SIG_DFL);
    CHECK(sigaction(SIGUSR2, NULL, &sa) == 0);
    CHECK(sa.sa_handler == SIG_IGN);
    CHECK(sigaction(SIGHUP, NULL, &sa) == 0);
    CHECK(sa.sa_handler == SIG_DFL);
    sigset_t cur;
    CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
    CHECK(sigismember(&cur, SIGTERM) == 1);
    CHECK(sigismember(&cur, SIGUSR1) == 0);
    sigset_t pend;
    sigemptyset(&pend);
    CHECK(sigpending(&pend) == 0);
    CHECK(sigismember(&pend, SIGTERM) == 1);

    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) {
        size_t n = 0;
        ssize_t r;
        while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
        buf[n] = 0;
        close(fd);
        unsigned long long ign = 0, cgt = 0, blk = 0, pnd = 0;
        CHECK(status_mask(buf, "\nSigIgn", &ign));
        CHECK(status_mask(buf, "\nSigCgt", &cgt));
        CHECK(status_mask(buf, "\nSigBlk", &blk));
        CHECK(status_mask(buf, "\nShdPnd", &pnd));
        CHECK(ign & BIT(SIGUSR2));
        CHECK(!(ign & BIT(SIGUSR1)));
        CHECK(!(cgt & BIT(SIGUSR1)));
        CHECK(!(cgt & BIT(SIGUSR2)));
        CHECK(blk & BIT(SIGTERM));
        CHECK(pnd & BIT(SIGTERM));
    }
    if (lt_failures) return 1;
    unblock(SIGTERM);
    return 2; /* SIGTERM should have killed us */
}

static void t_exec(void) {
    /* Re-executing this program. */
    pid_t c = fork();
    if (c == 0) {
        set_handler(SIGUSR1, dummy_handler, 0);
        set_handler(SIGHUP, dummy_handler, SA_RESTART);
        set_handler(SIGUSR2, SIG_IGN, 0);
        block(SIGTERM);
        kill(getpid(), SIGTERM); /* pending for the process: ShdPnd */
        char *av[] = {self_path, "--after-exec", NULL};
        execv(self_path, av);
        printf("execv %s: %s\n", self_path, strerror(errno));
        _exit(120);
    }
    int st = REAP(c);
    CHECK_SIGNALED(st, SIGTERM);

    /* Through /bin/sh: a caught signal is default in the shell (kill -USR1 $$ kills it), an
     * ignored one stays ignored (kill -USR2 $$ does nothing). */
    c = fork();
    if (c == 0) {
        set_handler(SIGUSR1, dummy_handler, 0);
        execl("/bin/sh", "sh", "-c", "kill -USR1 $$; exit 3", (char *)NULL);
        _exit(120);
    }
    st = REAP(c);
    CHECK_SIGNALED(st, SIGUSR1);

    c = fork();
    if (c == 0) {
        set_handler(SIGUSR2, SIG_IGN, 0);
        execl("/bin/sh", "sh", "-c", "kill -USR2 $$; exit 3", (char *)NULL);
        _exit(120);
    }
    st = REAP(c);
    CHECK_EXITED(st, 3);

    /* The shell's view of /proc/self/status: grep exits 0 only when the line matches
     * SigIgn with bit 11 (SIGUSR2, mask 0x800) set; use awk-free matching on the last hex
     * digits. SIGUSR2 ignored alone gives ...0800; SigCgt of the exec'd cat has no bit 9. */
    int p[2];
    CHECK(pipe(p) == 0);
    c = fork();
    if (c == 0) {
        set_handler(SIGUSR1, dummy_handler, 0);
        set_handler(SIGUSR2, SIG_IGN, 0);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl("/bin/sh", "sh", "-c", "exec grep -E '^Sig(Ign|Cgt)' /proc/self/status",
              (char *)NULL);
        _exit(120);
    }
    close(p[1]);
    char buf[512];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
    buf[n] = 0;
    close(p[0]);
    st = REAP(c);
    CHECK_EXITED(st, 0);
    unsigned long long ign = 0, cgt = 0;
    CHECK(status_mask(buf, "SigIgn", &ign));
    CHECK(status_mask(buf, "SigCgt", &cgt));
    CHECK(ign & BIT(SIGUSR2));
    CHECK(!(cgt & BIT(SIGUSR1)));
    CHECK(!(ign & BIT(SIGUSR1)));
    if (lt_failures) printf("grep output: %s\n", buf);
}

/* ---- alarm ---- */

/* Started first and reaped last, so its one-second alarm overlaps the other parts. */
static pid_t start_alarm_child(void) {
    pid_t c = fork();
    if (c == 0) {
        if (alarm(5) != 0) _exit(1);
        if (alarm(1) != 5) _exit(2); /* the old alarm's remaining seconds, rounded */
        for (;;) pause();
    }
    CHECK(c > 0);
    return c;
}

static void finish_alarm_child(pid_t c) {
    int st = 0;
    long start = now_ms();
    for (;;) {
        pid_t r = waitpid(c, &st, WNOHANG);
        if (r == c) break;
        if (now_ms() - start > 3000) {
            kill(c, SIGKILL);
            waitpid(c, &st, 0);
            printf("alarm: child not killed by its alarm\n");
            lt_failures++;
            return;
        }
        sleep_ms(5);
    }
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)) {
        printf("alarm: status 0x%x, expected termination by SIGALRM\n", st);
        lt_failures++;
    }
}

static void t_alarm_cancel(void) {
    CHECK(alarm(10) == 0);
    unsigned left = alarm(0);
    CHECK(left == 10 || left == 9);
    CHECK(alarm(0) == 0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    self_path = argv[0];
    if (argc > 1 && strcmp(argv[1], "--after-exec") == 0) return after_exec();
    /* Start from default dispositions and an empty mask whatever started us (a shell's
     * background job ignores SIGINT, for one). */
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    pid_t ac = start_alarm_child();
    sub("kill_basic", t_kill_basic);
    sub("pgrp", t_pgrp);
    sub("stop_cont", t_stop_cont);
    sub("sigchld_info", t_sigchld_info);
    sub("nocldstop", t_nocldstop);
    sub("autoreap_ign", t_autoreap_ign);
    sub("autoreap_nocldwait", t_autoreap_nocldwait);
    sub("sigkill", t_sigkill);
    sub("defaults", t_defaults);
    sub("exec", t_exec);
    sub("alarm_cancel", t_alarm_cancel);
    finish_alarm_child(ac);
    DONE();
}
