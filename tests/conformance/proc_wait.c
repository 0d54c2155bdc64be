/* Waiting for children: wait4/waitpid statuses (exit codes, truncation, death by signal,
 * stop and continue), waitpid(-1), waitpid(0) and waitpid(-pgid) with process groups,
 * WNOHANG, ECHILD and EINVAL; waitid (P_PID, P_PGID, P_ALL, siginfo contents, WNOWAIT,
 * WNOHANG, option errors, NULL infop, rusage); SIGCHLD ignored; orphans reparented (and a
 * child subreaper reaping them); rusage of children; zombies in /proc/<pid>/stat; and the
 * errors of setsid, getsid, getpgid and setpgid. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define NOPID 0x7ffffff0 /* above any pid_max */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A child that exits with `code` right away. */
static pid_t spawn_exit(int code) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(code);
    return pid;
}

/* A child that sleeps until killed. */
static pid_t spawn_sleeper(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) pause();
    }
    return pid;
}

/* A child that exits with `code` once the write end of `fds` is closed everywhere. */
static pid_t spawn_gated(int fds[2], int code, int own_group) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        if (own_group) setpgid(0, 0);
        char c;
        while (read(fds[0], &c, 1) != 0) {
        }
        _exit(code);
    }
    return pid;
}

/* The state letter of /proc/<pid>/stat, or 0 if unreadable. */
static char proc_state(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Waits (polling /proc) until the child is a zombie; returns its state letter. */
static char wait_zombie(pid_t pid) {
    char s = 0;
    for (int i = 0; i < 2000; i++) {
        s = proc_state(pid);
        if (s == 'Z' || s == 0) break;
        sleep_ms(1);
    }
    return s;
}

#define CHECK_STATUS(st, cond)                                                             \
    do {                                                                                   \
        int s_ = (st);                                                                     \
        if (!(cond)) {                                                                     \
            printf("%s:%d: status 0x%x fails %s\n", __FILE__, __LINE__, s_, #cond);        \
            lt_failures++;                                                                 \
        }                                                                                  \
    } while (0)

/* In a child: start counting its own failures; exit 1 if any check failed. */
#define CHILD_BEGIN() (lt_failures = 0)
#define CHILD_END() _exit(lt_failures ? 1 : 0)

static long tv_us(struct timeval tv) { return tv.tv_sec * 1000000L + tv.tv_usec; }

static int tv_ok(struct timeval tv) {
    return tv.tv_sec >= 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* The deaths by signal below need default dispositions, whatever the test was started
     * with (nohup ignores SIGHUP, and ignored signals survive exec). */
    int defaults[] = {SIGHUP, SIGPIPE, SIGUSR1, SIGTERM};
    for (int i = 0; i < 4; i++) signal(defaults[i], SIG_DFL);
    pid_t me = getpid();
    int st;
    siginfo_t si;

    /* ---- No children ---- */
    CHECK_ERR(wait4(-1, &st, 0, NULL), ECHILD);
    CHECK_ERR(wait4(-1, &st, WNOHANG, NULL), ECHILD);
    CHECK_ERR(waitpid(0, &st, 0), ECHILD);
    CHECK_ERR(waitpid(NOPID, &st, 0), ECHILD);
    CHECK_ERR(wait4(INT_MIN, &st, 0, NULL), ESRCH); /* -INT_MIN is not a group */
    CHECK_ERR(waitpid(-NOPID, &st, 0), ECHILD);
    CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED), ECHILD);
    CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), ECHILD);
    CHECK_ERR(waitid(P_PID, NOPID, &si, WEXITED), ECHILD);
    /* Option errors come before ECHILD. */
    CHECK_ERR(wait4(-1, &st, 0x10, NULL), EINVAL);
    CHECK_ERR(wait4(-1, &st, WEXITED, NULL), EINVAL);  /* waitid-only flag */
    CHECK_ERR(wait4(-1, &st, WNOWAIT, NULL), EINVAL);  /* waitid-only flag */
    CHECK_ERR(waitpid(-1, &st, 0x00800000), EINVAL);
    CHECK_ERR(waitid(P_ALL, 0, &si, 0), EINVAL);
    CHECK_ERR(waitid(P_ALL, 0, &si, WNOHANG), EINVAL);
    CHECK_ERR(waitid(P_ALL, 0, &si, WNOWAIT), EINVAL);
    CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED | 0x10), EINVAL);
    CHECK_ERR(waitid((idtype_t)42, 0, &si, WEXITED), EINVAL);
    CHECK_ERR(waitid(P_PID, 0, &si, WEXITED), EINVAL);
    CHECK_ERR(syscall(SYS_waitid, P_PID, -5, &si, WEXITED, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_waitid, P_PGID, -5, &si, WEXITED, NULL), EINVAL);
    /* A process is not its own child, nor is its parent. */
    CHECK_ERR(waitpid(me, &st, WNOHANG), ECHILD);
    CHECK_ERR(waitpid(getppid(), &st, WNOHANG), ECHILD);

    /* ---- Exit codes ---- */
    int codes[] = {0, 1, 255, 256, 300, -1};
    int want[] = {0, 1, 255, 0, 44, 255};
    for (int i = 0; i < 6; i++) {
        pid_t pid = spawn_exit(codes[i]);
        CHECK(pid > 0);
        st = -1;
        CHECK(wait4(pid, &st, 0, NULL) == pid);
        CHECK_STATUS(st, WIFEXITED(s_) && WEXITSTATUS(s_) == want[i] && !WIFSIGNALED(s_));
        CHECK(st == want[i] << 8);
        CHECK_ERR(wait4(pid, &st, WNOHANG, NULL), ECHILD); /* reaped */
    }
    /* Option errors with a child present. */
    {
        pid_t pid = spawn_exit(0);
        CHECK_ERR(wait4(pid, &st, 0x10, NULL), EINVAL);
        CHECK_ERR(waitid(P_PID, pid, &si, 0), EINVAL);
        CHECK(waitpid(pid, &st, 0) == pid);
    }
    /* A NULL status pointer is allowed. */
    {
        pid_t pid = spawn_exit(4);
        CHECK(waitpid(pid, NULL, 0) == pid);
    }

    /* ---- Death by signal ---- */
    int sigs[] = {SIGKILL, SIGTERM, SIGUSR1, SIGHUP, SIGPIPE};
    for (int i = 0; i < 5; i++) {
        pid_t pid = spawn_sleeper();
        CHECK(pid > 0);
        st = 0;
        CHECK(waitpid(pid, &st, WNOHANG) == 0); /* still running */
        CHECK(kill(pid, sigs[i]) == 0);
        st = -1;
        CHECK(wait4(pid, &st, 0, NULL) == pid);
        CHECK_STATUS(st, WIFSIGNALED(s_) && WTERMSIG(s_) == sigs[i] && !WIFEXITED(s_));
        CHECK_STATUS(st, !WCOREDUMP(s_));
        CHECK(st == sigs[i]);
    }
    /* Killing itself. */
    {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            raise(SIGTERM);
            _exit(1);
        }
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_STATUS(st, WIFSIGNALED(s_) && WTERMSIG(s_) == SIGTERM);
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            kill(getpid(), SIGKILL);
            _exit(1);
        }
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_STATUS(st, WIFSIGNALED(s_) && WTERMSIG(s_) == SIGKILL);
    }

    /* ---- Stop and continue ---- */
    {
        pid_t pid = spawn_sleeper();
        CHECK(kill(pid, SIGSTOP) == 0);
        st = -1;
        CHECK(waitpid(pid, &st, WUNTRACED) == pid);
        CHECK_STATUS(st, WIFSTOPPED(s_) && WSTOPSIG(s_) == SIGSTOP);
        CHECK(st == 0x137f);
        /* Reported once. */
        CHECK(waitpid(pid, &st, WUNTRACED | WNOHANG) == 0);
        CHECK(proc_state(pid) == 'T');
        CHECK(kill(pid, SIGCONT) == 0);
        st = -1;
        CHECK(waitpid(pid, &st, WCONTINUED) == pid);
        CHECK_STATUS(st, WIFCONTINUED(s_));
        CHECK(st == 0xffff);
        /* waitid sees stops and continues too. */
        CHECK(kill(pid, SIGSTOP) == 0);
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_PID, pid, &si, WSTOPPED) == 0);
        CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP);
        CHECK(si.si_pid == pid);
        CHECK(kill(pid, SIGCONT) == 0);
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_PID, pid, &si, WCONTINUED) == 0);
        CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_CONTINUED && si.si_status == SIGCONT);
        /* A stopped child killed by SIGKILL. */
        CHECK(kill(pid, SIGSTOP) == 0);
        CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
        CHECK(kill(pid, SIGKILL) == 0);
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_STATUS(st, WIFSIGNALED(s_) && WTERMSIG(s_) == SIGKILL);
        /* Without WUNTRACED a stop is not reported. */
        pid = spawn_sleeper();
        CHECK(kill(pid, SIGSTOP) == 0);
        for (int i = 0; i < 2000 && proc_state(pid) != 'T'; i++) sleep_ms(1);
        CHECK(waitpid(pid, &st, WNOHANG) == 0);
        CHECK(kill(pid, SIGKILL) == 0);
        CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }

    /* ---- waitpid(-1) reaps any child ---- */
    {
        pid_t pids[3];
        for (int i = 0; i < 3; i++) pids[i] = spawn_exit(10 + i);
        int seen = 0;
        for (int i = 0; i < 3; i++) {
            st = -1;
            pid_t r = waitpid(-1, &st, 0);
            int k = -1;
            for (int j = 0; j < 3; j++)
                if (r == pids[j]) k = j;
            CHECK(k >= 0);
            if (k >= 0) {
                CHECK(!(seen & (1 << k)));
                seen |= 1 << k;
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 10 + k);
            }
        }
        CHECK(seen == 7);
        CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
    }

    /* ---- WNOHANG with a running child; wait4 fills rusage ---- */
    {
        pid_t pid = spawn_sleeper();
        st = 12345;
        CHECK(waitpid(pid, &st, WNOHANG) == 0);
        CHECK(waitpid(-1, &st, WNOHANG) == 0);
        CHECK(waitpid(0, &st, WNOHANG) == 0);
        /* An ordinary child (exit signal SIGCHLD) is not a "clone" child. */
        CHECK_ERR(waitpid(-1, &st, WNOHANG | __WCLONE), ECHILD);
        CHECK(waitpid(-1, &st, WNOHANG | __WALL) == 0);
        CHECK(waitpid(pid, &st, WNOHANG | __WALL | __WNOTHREAD) == 0);
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == 0);
        CHECK(si.si_pid == 0);
        CHECK(si.si_signo == 0);
        CHECK(kill(pid, SIGKILL) == 0);
        struct rusage ru;
        memset(&ru, 0xff, sizeof ru);
        CHECK(wait4(pid, &st, 0, &ru) == pid);
        CHECK(tv_ok(ru.ru_utime) && tv_ok(ru.ru_stime));
        CHECK(tv_us(ru.ru_utime) + tv_us(ru.ru_stime) >= 0);
        CHECK(ru.ru_maxrss >= 0);
        CHECK(ru.ru_minflt >= 0 && ru.ru_nvcsw >= 0);
    }

    /* ---- waitid(P_PID) siginfo ---- */
    {
        pid_t pid = spawn_exit(77);
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_PID, pid, &si, WEXITED) == 0);
        CHECK(si.si_signo == SIGCHLD);
        CHECK(si.si_errno == 0);
        CHECK(si.si_code == CLD_EXITED);
        CHECK(si.si_pid == pid);
        CHECK(si.si_uid == getuid());
        CHECK(si.si_status == 77);
        CHECK_ERR(waitpid(pid, &st, WNOHANG), ECHILD);

        pid = spawn_sleeper();
        CHECK(kill(pid, SIGTERM) == 0);
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_PID, pid, &si, WEXITED) == 0);
        CHECK(si.si_signo == SIGCHLD);
        CHECK(si.si_code == CLD_KILLED);
        CHECK(si.si_pid == pid);
        CHECK(si.si_status == SIGTERM);

        /* The raw system call with a rusage pointer, and a NULL infop. */
        pid = spawn_exit(3);
        struct rusage ru;
        memset(&ru, 0xff, sizeof ru);
        memset(&si, 0x5a, sizeof si);
        CHECK(syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru) == 0);
        CHECK(si.si_pid == pid && si.si_status == 3 && si.si_code == CLD_EXITED);
        CHECK(tv_ok(ru.ru_utime) && tv_ok(ru.ru_stime));
        pid = spawn_exit(3);
        CHECK(syscall(SYS_waitid, P_PID, pid, NULL, WEXITED, NULL) == 0);
        CHECK_ERR(waitpid(pid, &st, WNOHANG), ECHILD);
    }

    /* ---- WNOWAIT leaves the zombie ---- */
    {
        pid_t pid = spawn_exit(9);
        CHECK(wait_zombie(pid) == 'Z');
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
        CHECK(si.si_pid == pid && si.si_status == 9 && si.si_code == CLD_EXITED);
        CHECK(proc_state(pid) == 'Z');
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == 0);
        CHECK(si.si_pid == pid && si.si_status == 9);
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
        CHECK_ERR(waitid(P_PID, pid, &si, WEXITED), ECHILD);
        /* Gone from /proc once reaped. */
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        CHECK_ERR(open(path, O_RDONLY), ENOENT);
    }

    /* ---- Process groups: waitpid(0), waitpid(-pgid), waitid(P_PGID) ---- */
    {
        int g[2];
        CHECK(pipe(g) == 0);
        pid_t a = spawn_gated(g, 5, 0); /* in our group */
        pid_t b = spawn_gated(g, 7, 1); /* in a group of its own */
        CHECK(setpgid(b, b) == 0);      /* also from here, so there is no race */
        CHECK(getpgid(b) == b);
        CHECK(getpgid(a) == getpgrp());
        CHECK(waitpid(0, &st, WNOHANG) == 0);
        CHECK(waitpid(-b, &st, WNOHANG) == 0);
        close(g[0]);
        close(g[1]);
        st = -1;
        CHECK(waitpid(0, &st, 0) == a);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
        /* Only b is left, and it is not in our group. */
        CHECK_ERR(waitpid(0, &st, WNOHANG), ECHILD);
        if (getpgrp() != 1) /* waitpid(-1) would mean any child */
            CHECK_ERR(waitpid(-getpgrp(), &st, WNOHANG), ECHILD);
        st = -1;
        CHECK(waitpid(-b, &st, 0) == b);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);

        CHECK(pipe(g) == 0);
        a = spawn_gated(g, 6, 1);
        CHECK(setpgid(a, a) == 0);
        b = spawn_gated(g, 8, 0);
        CHECK(setpgid(b, a) == 0); /* b joins a's group */
        CHECK(getpgid(b) == a);
        pid_t c = spawn_gated(g, 9, 0);
        close(g[0]);
        close(g[1]);
        memset(&si, 0x5a, sizeof si);
        int got = 0;
        for (int i = 0; i < 2; i++) {
            memset(&si, 0x5a, sizeof si);
            CHECK(waitid(P_PGID, a, &si, WEXITED) == 0);
            if (si.si_pid == a) {
                CHECK(si.si_status == 6);
                got |= 1;
            } else if (si.si_pid == b) {
                CHECK(si.si_status == 8);
                got |= 2;
            } else {
                CHECK(!"waitid(P_PGID) returned a child outside the group");
            }
        }
        CHECK(got == 3);
        CHECK_ERR(waitid(P_PGID, a, &si, WEXITED | WNOHANG), ECHILD);
        /* P_PGID with 0 means the caller's group. */
        memset(&si, 0x5a, sizeof si);
        CHECK(waitid(P_PGID, 0, &si, WEXITED) == 0);
        CHECK(si.si_pid == c && si.si_status == 9);
    }

    /* ---- Zombies ---- */
    {
        pid_t pid = spawn_exit(0);
        CHECK(wait_zombie(pid) == 'Z');
        CHECK(getpgid(pid) == getpgrp()); /* a zombie still has its ids */
        CHECK(kill(pid, 0) == 0);         /* and can still be signalled */
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_ERR(kill(pid, 0), ESRCH);
    }

    /* ---- Children's rusage ---- */
    {
        struct rusage r0, r1, r2;
        CHECK(getrusage(RUSAGE_CHILDREN, &r0) == 0);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            volatile unsigned long x = 0;
            for (unsigned long i = 0; i < 2000000; i++) x += i;
            _exit(0);
        }
        CHECK(getrusage(RUSAGE_CHILDREN, &r1) == 0);
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(getrusage(RUSAGE_CHILDREN, &r2) == 0);
        CHECK(tv_ok(r0.ru_utime) && tv_ok(r2.ru_utime) && tv_ok(r2.ru_stime));
        CHECK(tv_us(r1.ru_utime) >= tv_us(r0.ru_utime));
        CHECK(tv_us(r2.ru_utime) >= tv_us(r1.ru_utime));
        CHECK(tv_us(r2.ru_stime) >= tv_us(r1.ru_stime));
        CHECK(tv_us(r2.ru_utime) + tv_us(r2.ru_stime) >= tv_us(r0.ru_utime) + tv_us(r0.ru_stime));
        struct rusage rs;
        CHECK(getrusage(RUSAGE_SELF, &rs) == 0);
        CHECK(tv_ok(rs.ru_utime) && tv_ok(rs.ru_stime));
        CHECK_ERR(getrusage(5, &rs), EINVAL);
        CHECK_ERR(getrusage(-3, &rs), EINVAL);
    }

    /* ---- SIGCHLD ignored: children are reaped automatically ---- */
    {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            CHILD_BEGIN();
            signal(SIGCHLD, SIG_IGN);
            pid_t k = fork();
            if (k == 0) _exit(3);
            int s2;
            /* wait blocks until the child is gone, then reports ECHILD. */
            CHECK_ERR(waitpid(k, &s2, 0), ECHILD);
            /* Linux can report ECHILD a moment before the auto-reaped child's pid is freed
             * (the exiting child releases itself after waking the parent), so give it up to
             * a second. */
            for (int i = 0; i < 100 && kill(k, 0) == 0; i++) {
                struct timespec d = {0, 10000000};
                nanosleep(&d, NULL);
            }
            CHECK_ERR(kill(k, 0), ESRCH);
            CHILD_END();
        }
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_STATUS(st, WIFEXITED(s_) && WEXITSTATUS(s_) == 0);
    }

    /* ---- Orphans are reparented ---- */
    {
        int p[2], q[2];
        CHECK(pipe(p) == 0 && pipe(q) == 0);
        fflush(stdout);
        pid_t mid = fork();
        if (mid == 0) {
            pid_t gc = fork();
            if (gc == 0) {
                pid_t orig = getppid();
                char ok = 'n';
                write(p[1], &orig, sizeof orig);
                write(q[1], "r", 1); /* lets the middle process exit */
                /* Wait for the parent to die, then see the new parent. */
                for (int i = 0; i < 2000; i++) {
                    if (getppid() != orig) {
                        ok = 'y';
                        break;
                    }
                    sleep_ms(1);
                }
                write(p[1], &ok, 1);
                _exit(0);
            }
            char c;
            read(q[0], &c, 1);
            _exit(gc > 0 ? 0 : 1);
        }
        close(q[0]);
        close(q[1]);
        close(p[1]);
        pid_t orig = 0;
        CHECK(read(p[0], &orig, sizeof orig) == sizeof orig);
        CHECK(orig == mid);
        st = -1;
        CHECK(waitpid(mid, &st, 0) == mid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        char ok = 0;
        CHECK(read(p[0], &ok, 1) == 1);
        CHECK(ok == 'y');
        close(p[0]);
        /* The grandchild was never our child. */
        CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
    }

    /* ---- A child subreaper inherits its orphaned descendants and can reap them ---- */
    {
        fflush(stdout);
        pid_t sub = fork();
        if (sub == 0) {
            CHILD_BEGIN();
            CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
            int p[2], g[2];
            CHECK(pipe(p) == 0 && pipe(g) == 0);
            pid_t mid = fork();
            if (mid == 0) {
                pid_t gc = fork();
                if (gc == 0) {
                    close(g[1]);
                    char c;
                    while (read(g[0], &c, 1) != 0) {
                    }
                    _exit(21);
                }
                write(p[1], &gc, sizeof gc);
                _exit(0);
            }
            close(g[0]);
            pid_t gc = 0;
            CHECK(read(p[0], &gc, sizeof gc) == sizeof gc);
            int s2 = -1;
            CHECK(waitpid(mid, &s2, 0) == mid && WIFEXITED(s2));
            /* gc's parent is now this process: it can be waited for. */
            s2 = 0;
            CHECK(waitpid(gc, &s2, WNOHANG) == 0);
            close(g[1]);
            s2 = -1;
            CHECK(waitpid(gc, &s2, 0) == gc);
            CHECK(WIFEXITED(s2) && WEXITSTATUS(s2) == 21);
            CHECK_ERR(waitpid(-1, &s2, WNOHANG), ECHILD);
            CHILD_END();
        }
        st = -1;
        CHECK(waitpid(sub, &st, 0) == sub);
        CHECK_STATUS(st, WIFEXITED(s_) && WEXITSTATUS(s_) == 0);
    }

    /* ---- Sessions and process groups ---- */
    CHECK(getsid(0) == getsid(me));
    /* 0 when the session leader lives in another pid namespace (a container). */
    CHECK(getsid(0) >= 0);
    CHECK(getpgid(0) == getpgrp());
    CHECK(getpgid(me) == getpgrp());
    CHECK_ERR(getsid(NOPID), ESRCH);
    CHECK_ERR(getsid(-1), ESRCH);
    CHECK_ERR(getpgid(NOPID), ESRCH);
    CHECK_ERR(getpgid(-1), ESRCH);
    CHECK_ERR(setpgid(0, -1), EINVAL);
    CHECK_ERR(setpgid(me, -5), EINVAL);
    CHECK_ERR(setpgid(NOPID, 0), ESRCH);
    CHECK_ERR(setpgid(getppid(), 0), ESRCH); /* not a child */
    {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            CHILD_BEGIN();
            pid_t self = getpid();
            /* A fresh child is not a group leader: setsid works. */
            CHECK(getpgrp() != self);
            pid_t old_pgrp = getpgrp();
            CHECK(setsid() == self);
            CHECK(getsid(0) == self && getpgrp() == self);
            /* Now a session (and group) leader: setsid fails. */
            CHECK_ERR(setsid(), EPERM);
            /* A session leader cannot change its group, not even to its own pid. */
            CHECK_ERR(setpgid(0, 0), EPERM);
            CHECK_ERR(setpgid(0, self), EPERM);
            /* A group in another session cannot be joined. */
            CHECK_ERR(setpgid(0, old_pgrp), EPERM);
            CHILD_END();
        }
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_STATUS(st, WIFEXITED(s_) && WEXITSTATUS(s_) == 0);

        /* A group leader (not a session leader) cannot setsid. */
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            CHILD_BEGIN();
            pid_t old_pgrp = getpgrp();
            CHECK(setpgid(0, 0) == 0);
            CHECK(getpgrp() == getpid());
            CHECK_ERR(setsid(), EPERM);
            /* A group that does not exist cannot be joined; an existing one in the same
             * session can (back to the parent's). */
            CHECK_ERR(setpgid(0, NOPID), EPERM);
            /* (A group whose leader is outside our pid namespace shows as 0 and cannot be
             * named, as in a container.) */
            if (old_pgrp > 0) {
                CHECK(setpgid(0, old_pgrp) == 0);
                CHECK(getpgrp() == old_pgrp);
            }
            CHILD_END();
        }
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_STATUS(st, WIFEXITED(s_) && WEXITSTATUS(s_) == 0);

        /* A group whose only member is a zombie still exists: another child can join it
         * (a task stays in its group until it is reaped, as a shell's pipeline leader that
         * exited first). Once the zombie is reaped, the group is gone. */
        {
            fflush(stdout);
            pid_t lead = fork();
            if (lead == 0) {
                setpgid(0, 0);
                _exit(0);
            }
            CHECK(setpgid(lead, lead) == 0 || errno == EACCES || errno == ESRCH);
            siginfo_t si;
            /* Exited, not reaped. */
            CHECK(waitid(P_PID, lead, &si, WEXITED | WNOWAIT) == 0);
            CHECK(getpgid(lead) == lead);
            fflush(stdout);
            pid_t join = fork();
            if (join == 0) {
                for (;;) pause();
            }
            CHECK(setpgid(join, lead) == 0);
            CHECK(getpgid(join) == lead);
            CHECK(waitpid(lead, &st, 0) == lead);
            /* The joiner alone keeps the group now; once it moves to a group of its own,
             * no member is left and the group cannot be joined. */
            CHECK(setpgid(join, join) == 0);
            pid_t late = fork();
            if (late == 0) {
                for (;;) pause();
            }
            CHECK_ERR(setpgid(late, lead), EPERM);
            kill(join, SIGKILL);
            kill(late, SIGKILL);
            CHECK(waitpid(join, &st, 0) == join);
            CHECK(waitpid(late, &st, 0) == late);
        }

        /* The parent cannot move a child that is in another session. */
        int g[2];
        CHECK(pipe(g) == 0);
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            close(g[0]);
            setsid();
            write(g[1], "s", 1);
            close(g[1]);
            for (;;) pause();
        }
        close(g[1]);
        char c = 0;
        CHECK(read(g[0], &c, 1) == 1);
        close(g[0]);
        CHECK(getsid(pid) == pid);
        CHECK(getpgid(pid) == pid);
        CHECK_ERR(setpgid(pid, pid), EPERM);
        CHECK_ERR(setpgid(pid, getpgrp()), EPERM);
        CHECK(kill(pid, SIGKILL) == 0);
        CHECK(waitpid(pid, &st, 0) == pid);
    }

    CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
    DONE();
}
