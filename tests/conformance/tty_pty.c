/* Pseudo-terminals: /dev/ptmx and /dev/pts numbering, termios defaults, canonical-mode line
 * editing and echo, EOF, raw mode with VMIN/VTIME, output post-processing, window sizes,
 * controlling terminals and job control (^C, ^Z, SIGTTIN, SIGWINCH), /dev/tty, hangup. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void on_watchdog(int s) {
    (void)s;
    static const char m[] = "tty_pty: watchdog: a call blocked for 20 s\n";
    if (write(1, m, sizeof m - 1) < 0) {
    }
    _exit(2);
}

/* Checks in forked children: printed, and the child's exit status becomes 1. */
static int child_failures;
#define CHILD_CHECK(cond)                                                       \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("%s:%d: child CHECK(%s) failed (errno %d %s)\n", __FILE__,  \
                   __LINE__, #cond, errno, strerror(errno));                    \
            child_failures++;                                                   \
        }                                                                       \
    } while (0)

static long ms_since(struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&d, &d) == -1 && errno == EINTR) {
    }
}

/* Reads until `want` bytes arrived or `ms` passed; returns the count (or -1 on an error
 * before any byte). */
static int rd(int fd, char *buf, int want, int ms) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int got = 0;
    while (got < want) {
        long left = ms - ms_since(&t0);
        if (left < 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r <= 0)
            break;
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0)
            return got ? got : -1;
        if (n == 0)
            break;
        got += n;
    }
    return got;
}

/* 1 when nothing becomes readable within `ms`. */
static int quiet(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 0;
}

/* Discards whatever is readable now (after a short settle). */
static void drain(int fd) {
    char buf[256];
    while (!quiet(fd, 20))
        if (read(fd, buf, sizeof buf) <= 0)
            break;
}

/* Opens a master and its unlocked slave; the slave's number goes to *num. */
static int open_pair(int *m, int *s, int *num, int slave_flags) {
    *m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (*m < 0)
        return -1;
    int zero = 0;
    if (ioctl(*m, TIOCGPTN, num) != 0 || ioctl(*m, TIOCSPTLCK, &zero) != 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", *num);
    *s = open(path, O_RDWR | slave_flags);
    return *s < 0 ? -1 : 0;
}

static void test_numbering(void) {
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    int n = -1;
    CHECK_OK(ioctl(m, TIOCGPTN, &n));
    CHECK(n >= 0);
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", n);
    struct stat sb;
    CHECK_OK(stat(path, &sb));
    CHECK(S_ISCHR(sb.st_mode));
    /* Locked until TIOCSPTLCK 0 (or unlockpt). */
    CHECK_ERR(open(path, O_RDWR | O_NOCTTY), EIO);
    int zero = 0, lock = -1;
    CHECK_OK(ioctl(m, TIOCGPTLCK, &lock));
    CHECK(lock == 1);
    CHECK_OK(ioctl(m, TIOCSPTLCK, &zero));
    CHECK_OK(ioctl(m, TIOCGPTLCK, &lock));
    CHECK(lock == 0);
    int s = open(path, O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    CHECK(isatty(s) && isatty(m));
    char *name = ttyname(s);
    CHECK(name && strcmp(name, path) == 0);
    /* The libc way gives the same name. */
    CHECK(ptsname(m) && strcmp(ptsname(m), path) == 0);
    /* The master side's ioctls are not the slave's. */
    int k;
    CHECK_ERR(ioctl(s, TIOCGPTN, &k), ENOTTY);

    /* A second pair gets a different number, and its own node. */
    int m2 = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m2 >= 0);
    CHECK_OK(grantpt(m2));
    CHECK_OK(unlockpt(m2));
    int n2 = -1;
    CHECK_OK(ioctl(m2, TIOCGPTN, &n2));
    CHECK(n2 >= 0 && n2 != n);
    char path2[64];
    snprintf(path2, sizeof path2, "/dev/pts/%d", n2);
    CHECK(ptsname(m2) && strcmp(ptsname(m2), path2) == 0);
    CHECK_OK(access(path2, F_OK));
    /* Closing the master removes the node. */
    close(m2);
    CHECK_ERR(access(path2, F_OK), ENOENT);

    /* A regular file is not a terminal. */
    int f = open("notatty", O_RDWR | O_CREAT, 0644);
    errno = 0;
    CHECK(!isatty(f) && errno == ENOTTY);
    struct termios t;
    CHECK_ERR(tcgetattr(f, &t), ENOTTY);
    close(f);
    unlink("notatty");
    close(s);
    close(m);
}

static void test_defaults(int s) {
    struct termios t;
    CHECK_OK(tcgetattr(s, &t));
    CHECK(t.c_lflag & ICANON);
    CHECK(t.c_lflag & ECHO);
    CHECK(t.c_lflag & ISIG);
    CHECK(t.c_lflag & ECHOE);
    CHECK(t.c_lflag & IEXTEN);
    CHECK(t.c_iflag & ICRNL);
    CHECK(t.c_oflag & OPOST);
    CHECK(t.c_oflag & ONLCR);
    CHECK((t.c_cflag & CSIZE) == CS8);
    CHECK(t.c_cflag & CREAD);
    CHECK(t.c_cc[VINTR] == 3);
    CHECK(t.c_cc[VQUIT] == 034);
    CHECK(t.c_cc[VERASE] == 0177);
    CHECK(t.c_cc[VKILL] == 025);
    CHECK(t.c_cc[VEOF] == 4);
    CHECK(t.c_cc[VSUSP] == 032);
    CHECK(t.c_cc[VMIN] == 1);
    CHECK(t.c_cc[VTIME] == 0);
}

static void test_canonical(int m, int s) {
    char buf[64];
    /* Erase: "ab<DEL>c\n" reads as "ac\n"; the echo erases visually. */
    CHECK(write(m, "ab\x7f" "c\n", 5) == 5);
    memset(buf, 0, sizeof buf);
    CHECK(read(s, buf, sizeof buf) == 3);
    CHECK(memcmp(buf, "ac\n", 3) == 0);
    memset(buf, 0, sizeof buf);
    int n = rd(m, buf, 8, 1000);
    CHECK(n == 8 && memcmp(buf, "ab\b \bc\r\n", 8) == 0);
    CHECK(quiet(m, 20));
    if (n != 8 || memcmp(buf, "ab\b \bc\r\n", 8) != 0)
        printf("  echo: %d bytes \"%.*s\"\n", n, n > 0 ? n : 0, buf);

    /* Nothing is readable before the end of the line. */
    CHECK(write(m, "xy", 2) == 2);
    CHECK(quiet(s, 50));
    CHECK(write(m, "\n", 1) == 1);
    memset(buf, 0, sizeof buf);
    CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "xy\n", 3) == 0);
    /* A read takes at most one line; a short buffer leaves the rest of it. */
    CHECK(write(m, "one\ntwo\n", 8) == 8);
    CHECK(rd(s, buf, 2, 1000) == 2 && memcmp(buf, "on", 2) == 0);
    CHECK(read(s, buf, sizeof buf) == 2 && memcmp(buf, "e\n", 2) == 0);
    CHECK(read(s, buf, sizeof buf) == 4 && memcmp(buf, "two\n", 4) == 0);
    /* CR becomes NL (ICRNL); the kill character drops the line. */
    CHECK(write(m, "abc\x15" "d\r", 6) == 6);
    memset(buf, 0, sizeof buf);
    CHECK(read(s, buf, sizeof buf) == 2 && memcmp(buf, "d\n", 2) == 0);
    /* FIONREAD counts a complete line. */
    CHECK(write(m, "abc\n", 4) == 4);
    sleep_ms(20);
    int avail = -1;
    CHECK_OK(ioctl(s, FIONREAD, &avail));
    CHECK(avail == 4);
    CHECK(read(s, buf, sizeof buf) == 4);
    /* ^D: on an empty line a read returns 0; after text it ends the line without a newline. */
    CHECK(write(m, "\x04", 1) == 1);
    CHECK(read(s, buf, sizeof buf) == 0);
    CHECK(write(m, "ab\x04", 3) == 3);
    memset(buf, 0, sizeof buf);
    CHECK(read(s, buf, sizeof buf) == 2 && memcmp(buf, "ab", 2) == 0);
    drain(m);

    /* Output: ONLCR turns "\n" into "\r\n"; without OPOST bytes pass as they are. */
    CHECK(write(s, "x\n", 2) == 2);
    memset(buf, 0, sizeof buf);
    CHECK(rd(m, buf, 3, 1000) == 3 && memcmp(buf, "x\r\n", 3) == 0);
    struct termios t, saved;
    CHECK_OK(tcgetattr(s, &saved));
    t = saved;
    t.c_oflag &= ~OPOST;
    CHECK_OK(tcsetattr(s, TCSANOW, &t));
    CHECK(write(s, "y\n", 2) == 2);
    memset(buf, 0, sizeof buf);
    CHECK(rd(m, buf, 2, 1000) == 2 && memcmp(buf, "y\n", 2) == 0);
    CHECK(quiet(m, 20));

    /* No echo with ECHO off. */
    t = saved;
    t.c_lflag &= ~ECHO;
    CHECK_OK(tcsetattr(s, TCSANOW, &t));
    CHECK(write(m, "hidden\n", 7) == 7);
    CHECK(read(s, buf, sizeof buf) == 7);
    CHECK(quiet(m, 50));
    /* tcflush drops pending input. */
    CHECK(write(m, "junk\n", 5) == 5);
    sleep_ms(20);
    CHECK_OK(tcflush(s, TCIFLUSH));
    CHECK(quiet(s, 30));
    CHECK_OK(tcsetattr(s, TCSANOW, &saved));
    drain(m);
}

static void test_raw(int m, int s) {
    struct termios saved, t;
    char buf[64];
    CHECK_OK(tcgetattr(s, &saved));
    t = saved;
    cfmakeraw(&t);
    CHECK_OK(tcsetattr(s, TCSANOW, &t));
    struct termios chk;
    CHECK_OK(tcgetattr(s, &chk));
    CHECK(!(chk.c_lflag & (ICANON | ECHO | ISIG)));
    CHECK(!(chk.c_oflag & OPOST));

    /* Bytes pass through unchanged: no editing, no signals, no CR translation, no echo. */
    CHECK(write(m, "a\x7f\x03\r\n\x04", 6) == 6);
    memset(buf, 0, sizeof buf);
    CHECK(rd(s, buf, 6, 1000) == 6);
    CHECK(memcmp(buf, "a\x7f\x03\r\n\x04", 6) == 0);
    CHECK(quiet(m, 30));
    CHECK(write(s, "o\n", 2) == 2);
    CHECK(rd(m, buf, 2, 1000) == 2 && memcmp(buf, "o\n", 2) == 0);

    /* VMIN=0, VTIME=0: a read with nothing there returns 0 at once. */
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    CHECK_OK(tcsetattr(s, TCSANOW, &t));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(read(s, buf, sizeof buf) == 0);
    CHECK(ms_since(&t0) < 100);
    CHECK(write(m, "q", 1) == 1);
    CHECK(rd(s, buf, 1, 1000) == 1 && buf[0] == 'q');

    /* VMIN=0, VTIME=2: waits up to 0.2 s, then returns 0; data ends the wait. */
    t.c_cc[VTIME] = 2;
    CHECK_OK(tcsetattr(s, TCSANOW, &t));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(read(s, buf, sizeof buf) == 0);
    long el = ms_since(&t0);
    CHECK(el >= 150 && el < 1500);
    CHECK(write(m, "zz", 2) == 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n = read(s, buf, sizeof buf);
    CHECK(n >= 1 && buf[0] == 'z');
    CHECK(ms_since(&t0) < 150);
    if (n == 1)
        CHECK(rd(s, buf, 1, 1000) == 1);

    /* VMIN=3, VTIME=0: a read waits for 3 bytes. */
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 0;
    CHECK_OK(tcsetattr(s, TCSANOW, &t));
    CHECK(write(m, "ab", 2) == 2);
    CHECK(quiet(s, 50)); /* poll honours VMIN too */
    CHECK(write(m, "cd", 2) == 2);
    memset(buf, 0, sizeof buf);
    CHECK(read(s, buf, sizeof buf) == 4 && memcmp(buf, "abcd", 4) == 0);

    CHECK_OK(tcsetattr(s, TCSANOW, &saved));
    drain(m);
}

static void test_winsize(int m, int s) {
    struct winsize w = {40, 100, 640, 480}, r;
    CHECK_OK(ioctl(m, TIOCSWINSZ, &w));
    memset(&r, 0, sizeof r);
    CHECK_OK(ioctl(s, TIOCGWINSZ, &r));
    CHECK(r.ws_row == 40 && r.ws_col == 100 && r.ws_xpixel == 640 && r.ws_ypixel == 480);
    w.ws_row = 25;
    w.ws_col = 80;
    CHECK_OK(ioctl(s, TIOCSWINSZ, &w));
    memset(&r, 0, sizeof r);
    CHECK_OK(ioctl(m, TIOCGWINSZ, &r));
    CHECK(r.ws_row == 25 && r.ws_col == 80);
}

static volatile sig_atomic_t got_sig;
static void on_sig(int sig) {
    got_sig = sig;
}

/* Waits (up to ~2 s) for the handler to run. */
static int wait_sig(void) {
    for (int i = 0; i < 400 && !got_sig; i++)
        sleep_ms(5);
    return got_sig;
}

static void put(int fd) {
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        printf("handshake write failed\n");
}
static int get(int fd) {
    char c;
    return read(fd, &c, 1) == 1;
}

/* Forks a member of a new process group in this session, made the foreground group. It runs
 * `fn`, which reports through its exit status. */
static pid_t fg_child(int s, void (*fn)(int, int), int ready_w) {
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        fn(s, ready_w);
        _exit(child_failures != 0);
    }
    setpgid(pid, pid);
    if (tcsetpgrp(s, pid) != 0)
        printf("tcsetpgrp: %s\n", strerror(errno));
    return pid;
}

static void fg_handler_body(int s, int ready_w) {
    (void)s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGWINCH, &sa, NULL);
    /* Wait until this group is in the foreground. */
    for (int i = 0; i < 400 && tcgetpgrp(s) != getpgrp(); i++)
        sleep_ms(5);
    put(ready_w);
    CHILD_CHECK(wait_sig() == SIGINT);
    got_sig = 0;
    put(ready_w);
    CHILD_CHECK(wait_sig() == SIGWINCH);
}

static void fg_pause_body(int s, int ready_w) {
    for (int i = 0; i < 400 && tcgetpgrp(s) != getpgrp(); i++)
        sleep_ms(5);
    put(ready_w);
    for (;;)
        pause();
}

static void bg_read_body(int s, int ready_w) {
    (void)ready_w;
    char c;
    /* A background group reading its controlling terminal: SIGTTIN stops it. */
    ssize_t r = read(s, &c, 1);
    printf("background read returned %zd (errno %s)\n", r, strerror(errno));
    child_failures++;
}

/* The session leader: runs the job-control checks on its controlling terminal. */
static void session_leader(int m, const char *slave_path) {
    CHILD_CHECK(setsid() == getpid());
    /* No controlling terminal yet. */
    CHILD_CHECK(open("/dev/tty", O_RDWR) == -1 && errno == ENXIO);
    /* Opening the slave without O_NOCTTY makes it the controlling terminal. */
    int s = open(slave_path, O_RDWR);
    CHILD_CHECK(s >= 0);
    CHILD_CHECK(tcgetpgrp(s) == getpgrp());
    CHILD_CHECK(tcgetsid(s) == getsid(0));
    int t = open("/dev/tty", O_RDWR);
    CHILD_CHECK(t >= 0);
    if (t >= 0) {
        /* /dev/tty is the same terminal. */
        CHILD_CHECK(write(t, "T", 1) == 1);
        char c = 0;
        CHILD_CHECK(rd(m, &c, 1, 1000) == 1 && c == 'T');
        close(t);
    }
    /* Stay able to change the foreground group from the background. */
    signal(SIGTTOU, SIG_IGN);
    int p[2];
    CHILD_CHECK(pipe(p) == 0);
    int st;

    /* ^C with a handler, then SIGWINCH on a size change. */
    pid_t pid = fg_child(s, fg_handler_body, p[1]);
    CHILD_CHECK(tcgetpgrp(s) == pid);
    CHILD_CHECK(get(p[0]));
    CHILD_CHECK(write(m, "\x03", 1) == 1);
    CHILD_CHECK(get(p[0]));
    struct winsize w = {33, 77, 0, 0};
    CHILD_CHECK(ioctl(m, TIOCSWINSZ, &w) == 0);
    CHILD_CHECK(waitpid(pid, &st, 0) == pid);
    CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    drain(m);

    /* ^C with the default action kills. */
    pid = fg_child(s, fg_pause_body, p[1]);
    CHILD_CHECK(get(p[0]));
    CHILD_CHECK(write(m, "\x03", 1) == 1);
    CHILD_CHECK(waitpid(pid, &st, 0) == pid);
    CHILD_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
    /* The echo of ^C is "^C". */
    char buf[16] = {0};
    CHILD_CHECK(rd(m, buf, 2, 1000) == 2 && memcmp(buf, "^C", 2) == 0);
    drain(m);

    /* ^Z stops; SIGCONT resumes; ^\ (SIGQUIT) ends it. */
    pid = fg_child(s, fg_pause_body, p[1]);
    CHILD_CHECK(get(p[0]));
    CHILD_CHECK(write(m, "\x1a", 1) == 1);
    CHILD_CHECK(waitpid(pid, &st, WUNTRACED) == pid);
    CHILD_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
    CHILD_CHECK(kill(pid, SIGCONT) == 0);
    CHILD_CHECK(waitpid(pid, &st, WCONTINUED) == pid);
    CHILD_CHECK(WIFCONTINUED(st));
    CHILD_CHECK(write(m, "\x1c", 1) == 1);
    CHILD_CHECK(waitpid(pid, &st, 0) == pid);
    CHILD_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT);
    drain(m);

    /* A background group reading the terminal gets SIGTTIN and stops. */
    CHILD_CHECK(tcsetpgrp(s, getpgrp()) == 0);
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        bg_read_body(s, -1);
        _exit(child_failures != 0);
    }
    setpgid(pid, pid);
    CHILD_CHECK(waitpid(pid, &st, WUNTRACED) == pid);
    CHILD_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    /* With SIGTTIN ignored, the read fails with EIO instead. */
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGTTIN, SIG_IGN);
        char c;
        CHILD_CHECK(read(s, &c, 1) == -1 && errno == EIO);
        _exit(child_failures != 0);
    }
    setpgid(pid, pid);
    CHILD_CHECK(waitpid(pid, &st, 0) == pid);
    CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* A background write is allowed without TOSTOP. */
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        CHILD_CHECK(write(s, "B", 1) == 1);
        _exit(child_failures != 0);
    }
    setpgid(pid, pid);
    CHILD_CHECK(waitpid(pid, &st, 0) == pid);
    CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    drain(m);
    close(s);
}

static void test_job_control(int m, const char *slave_path) {
    pid_t pid = fork();
    if (pid == 0) {
        session_leader(m, slave_path);
        _exit(child_failures != 0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st))
        printf("  session leader: signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);

    /* TIOCSCTTY: a new session takes a terminal opened with O_NOCTTY (a fresh pair, not
     * the controlling terminal of another session). */
    int m2, s2, n2;
    CHECK_OK(open_pair(&m2, &s2, &n2, O_NOCTTY));
    pid = fork();
    if (pid == 0) {
        CHILD_CHECK(setsid() == getpid());
        CHILD_CHECK(open("/dev/tty", O_RDWR) == -1 && errno == ENXIO);
        CHILD_CHECK(tcgetpgrp(s2) == -1 && errno == ENOTTY);
        CHILD_CHECK(ioctl(s2, TIOCSCTTY, 0) == 0);
        CHILD_CHECK(tcgetpgrp(s2) == getpgrp());
        CHILD_CHECK(tcgetsid(s2) == getpid());
        int t = open("/dev/tty", O_RDWR);
        CHILD_CHECK(t >= 0);
        /* Giving it up: TIOCNOTTY; /dev/tty is gone again. */
        signal(SIGHUP, SIG_IGN);
        CHILD_CHECK(ioctl(s2, TIOCNOTTY) == 0);
        CHILD_CHECK(open("/dev/tty", O_RDWR) == -1 && errno == ENXIO);
        _exit(child_failures != 0);
    }
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(s2);
    close(m2);
}

static void test_hangup(void) {
    int m, s, n;
    char buf[8];
    CHECK_OK(open_pair(&m, &s, &n, O_NOCTTY));
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", n);
    /* Slave closed: the master reads EIO and polls POLLHUP. */
    close(s);
    CHECK_ERR(read(m, buf, sizeof buf), EIO);
    struct pollfd p = {m, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));
    /* Reopened, then the master closes: the slave reads end of file (0) or EIO, writes fail
     * with EIO, poll reports POLLHUP; the /dev/pts node is gone. */
    s = open(path, O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    close(m);
    errno = 0;
    ssize_t r = read(s, buf, sizeof buf);
    CHECK(r == 0 || (r == -1 && errno == EIO));
    CHECK_ERR(write(s, "x", 1), EIO);
    p.fd = s;
    p.events = POLLIN;
    p.revents = 0;
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));
    CHECK_ERR(access(path, F_OK), ENOENT);
    close(s);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_watchdog);
    alarm(20);
    if (access("/dev/ptmx", F_OK) != 0) {
        printf("SKIP: no /dev/ptmx here (%s)\n", strerror(errno));
        return 0;
    }
    int m, s, n;
    if (open_pair(&m, &s, &n, O_NOCTTY) != 0) {
        printf("cannot open a pty pair: %s\n", strerror(errno));
        return 1;
    }
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", n);
    test_numbering();
    test_defaults(s);
    test_canonical(m, s);
    test_raw(m, s);
    test_winsize(m, s);
    close(s);
    test_job_control(m, path);
    close(m);
    test_hangup();
    DONE();
}
