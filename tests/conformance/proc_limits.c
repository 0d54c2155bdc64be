/* Running out of per-process resources, and recovering: descriptors past RLIMIT_NOFILE
 * (EMFILE from every call that makes one, EBADF/EINVAL for explicit targets past the limit,
 * EPERM for raising the hard limit without privilege); fork past RLIMIT_NPROC (EAGAIN);
 * symbolic link chains and loops (ELOOP after 40 links, O_NOFOLLOW, loops in the middle of a
 * path); names and paths that are too long (ENAMETOOLONG); argument and environment sizes for
 * execve (E2BIG per string and in total, the total depending on RLIMIT_STACK); pipe buffer
 * sizes (EPERM above pipe-max-size without privilege) and a full non-blocking pipe (EAGAIN,
 * then drained). After each failure the same calls work again once the resource is given
 * back. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAILED(e) (100 + (e))
#define NOFILE 64

static char self_exe[PATH_MAX];
static char tmpdir[64];

/* ---- descriptors ---- */

static void fd_table(void) {
    struct rlimit rl = {NOFILE, NOFILE};
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    for (int fd = 3; fd < 1024; fd++) close(fd);

    /* A listening socket with a pending connection, for accept at the limit. */
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(ls >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sock", tmpdir);
    CHECK_OK(bind(ls, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(ls, 4));
    int cs = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(cs >= 0);
    CHECK_OK(connect(cs, (struct sockaddr *)&sa, sizeof sa));

    int last = -1, n = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) break;
        last = fd;
        n++;
    }
    CHECK(errno == EMFILE);
    CHECK(last == NOFILE - 1);
    int p[2];
    CHECK_ERR(open("/dev/null", O_RDONLY), EMFILE);
    CHECK_ERR(dup(0), EMFILE);
    CHECK_ERR(fcntl(0, F_DUPFD, 0), EMFILE);
    CHECK_ERR(fcntl(0, F_DUPFD_CLOEXEC, 3), EMFILE);
    CHECK_ERR(dup2(0, NOFILE), EBADF);
    CHECK_ERR(dup3(0, NOFILE + 5, 0), EBADF);
    CHECK_ERR(fcntl(0, F_DUPFD, NOFILE), EINVAL);
    CHECK_ERR(pipe(p), EMFILE);
    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, p), EMFILE);
    CHECK_ERR(socket(AF_UNIX, SOCK_DGRAM, 0), EMFILE);
    CHECK_ERR(eventfd(0, 0), EMFILE);
    CHECK_ERR(accept(ls, NULL, NULL), EMFILE);
    /* dup2 onto an open descriptor below the limit needs no new slot. */
    CHECK(dup2(0, last) == last);

    /* One free slot: calls that need two fail without leaking the one. */
    CHECK_OK(close(last));
    CHECK_ERR(pipe(p), EMFILE);
    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, p), EMFILE);
    int a = accept(ls, NULL, NULL);
    CHECK(a == last);
    CHECK_ERR(dup(0), EMFILE);
    CHECK_OK(close(a));
    CHECK(dup(0) == last);
    CHECK_OK(close(last));
    CHECK(fcntl(0, F_DUPFD, NOFILE - 1) == NOFILE - 1);

    /* Give back some: everything works again. */
    for (int fd = NOFILE - 10; fd < NOFILE; fd++) CHECK_OK(close(fd));
    CHECK_OK(pipe(p));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    int e = eventfd(0, 0);
    CHECK(e >= 0);
    CHECK_OK(close(e));
    CHECK(dup2(0, NOFILE - 1) == NOFILE - 1);
    CHECK_OK(close(NOFILE - 1));

    /* Lowering the limit below open descriptors keeps them; new ones obey the new limit. */
    rl.rlim_cur = 8;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    CHECK(fcntl(20, F_GETFD) >= 0);
    CHECK_ERR(dup(0), EMFILE);
    CHECK_ERR(dup2(0, 8), EBADF);
    rl.rlim_cur = NOFILE;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    CHECK(dup(0) >= 0);

    /* The soft limit may not exceed the hard one. */
    rl.rlim_cur = NOFILE + 1;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EINVAL);
    struct rlimit got;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
    CHECK(got.rlim_cur == NOFILE && got.rlim_max == NOFILE);
    unlink(sa.sun_path);
}

static void fd_limits_unprivileged(void) {
    struct rlimit rl = {NOFILE, NOFILE};
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    CHECK_OK(setgid(65534));
    CHECK_OK(setuid(65534));
    rl.rlim_max = NOFILE + 1;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    rl.rlim_cur = NOFILE + 1;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    rl.rlim_max = NOFILE;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EINVAL);
    /* Lowering is allowed, and is for good. */
    rl.rlim_cur = 16;
    rl.rlim_max = 32;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_max = NOFILE;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    struct rlimit got;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
    CHECK(got.rlim_cur == 16 && got.rlim_max == 32);
}

/* ---- processes ---- */

/* RLIMIT_NPROC counts the user's processes (this one included) for fork, not for root. */
static void nproc_unprivileged(void) {
    struct rlimit rl = {1, 1000};
    CHECK_OK(setrlimit(RLIMIT_NPROC, &rl));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(0);
    CHECK(waitpid(pid, NULL, 0) == pid);
    CHECK_OK(setgid(65534));
    CHECK_OK(setuid(65534));
    CHECK_ERR(fork(), EAGAIN);
    CHECK_ERR(fork(), EAGAIN);
    rl.rlim_cur = 1000;
    CHECK_OK(setrlimit(RLIMIT_NPROC, &rl));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(7);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* ---- symbolic links ---- */

static void symlinks(void) {
    char name[32], target[32];
    CHECK_OK(chdir(tmpdir));
    int fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK_OK(close(fd));
    CHECK_OK(mkdir("d", 0755));
    CHECK_OK(close(open("d/g", O_WRONLY | O_CREAT, 0644)));
    /* lN -> l(N-1) -> ... -> l0 -> f: opening lN follows N+1 links. kN -> k(N-1)/. -> ... ->
     * k0 -> d: the same with the links in the middle of the path, nested. */
    CHECK_OK(symlink("f", "l0"));
    CHECK_OK(symlink("d", "k0"));
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof name, "l%d", i);
        snprintf(target, sizeof target, "l%d", i - 1);
        CHECK_OK(symlink(target, name));
        snprintf(name, sizeof name, "k%d", i);
        snprintf(target, sizeof target, "k%d/.", i - 1);
        CHECK_OK(symlink(target, name));
    }
    struct stat st;
    for (int round = 0; round < 2; round++) {
        fd = open("l39", O_RDONLY);
        CHECK(fd >= 0);
        if (fd >= 0) close(fd);
        CHECK_ERR(open("l40", O_RDONLY), ELOOP);
        CHECK_OK(stat("l39", &st));
        CHECK_ERR(stat("l40", &st), ELOOP);
        CHECK_OK(lstat("l40", &st));
        CHECK(S_ISLNK(st.st_mode));
        CHECK_OK(access("l39", F_OK));
        CHECK_ERR(access("l40", F_OK), ELOOP);
        fd = open("k39/g", O_RDONLY);
        CHECK(fd >= 0);
        if (fd >= 0) close(fd);
        CHECK_ERR(open("k40/g", O_RDONLY), ELOOP);
        CHECK_OK(stat("k39", &st));
        CHECK_ERR(stat("k40", &st), ELOOP);
        CHECK_ERR(open("k40/g", O_RDONLY | O_NOFOLLOW), ELOOP);
        CHECK_ERR(chdir("k40"), ELOOP);
        CHECK_ERR(mkdir("k40/new", 0755), ELOOP);
        CHECK_ERR(execve("l40", (char *[]){"x", NULL}, (char *[]){NULL}), ELOOP);
    }

    /* A link to itself, and a pair pointing at each other. */
    CHECK_OK(symlink("self", "self"));
    CHECK_OK(symlink("pong", "ping"));
    CHECK_OK(symlink("ping", "pong"));
    CHECK_ERR(open("self", O_RDONLY), ELOOP);
    CHECK_ERR(open("ping", O_RDONLY), ELOOP);
    CHECK_ERR(stat("self", &st), ELOOP);
    CHECK_OK(lstat("self", &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_ERR(open("self/x", O_RDONLY), ELOOP);
    CHECK_ERR(open("d/../ping/x", O_RDONLY), ELOOP);
    CHECK_ERR(open("self", O_WRONLY | O_CREAT, 0644), ELOOP);
    CHECK_ERR(truncate("self", 0), ELOOP);
    char buf[16];
    CHECK(readlink("self", buf, sizeof buf) == 4);

    /* O_NOFOLLOW on a link in the last component; fine on links earlier in the path. */
    CHECK_ERR(open("l0", O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK_ERR(open("self", O_RDONLY | O_NOFOLLOW), ELOOP);
    fd = open("k0/g", O_RDONLY | O_NOFOLLOW);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    fd = open("l0", O_PATH | O_NOFOLLOW);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_OK(fstat(fd, &st));
        CHECK(S_ISLNK(st.st_mode));
        close(fd);
    }

    /* A long walk that goes down and up again many times. */
    char path[4000];
    size_t len = 0;
    while (len + 32 < sizeof path) len += (size_t)snprintf(path + len, sizeof path - len, "d/../");
    snprintf(path + len, sizeof path - len, "l30");
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);

    /* Recovered: the links still work and can be removed. */
    CHECK_OK(unlink("self"));
    CHECK_OK(unlink("ping"));
    CHECK_OK(unlink("pong"));
    for (int i = 0; i <= 40; i++) {
        snprintf(name, sizeof name, "l%d", i);
        CHECK_OK(unlink(name));
        snprintf(name, sizeof name, "k%d", i);
        CHECK_OK(unlink(name));
    }
    CHECK_OK(unlink("d/g"));
    CHECK_OK(rmdir("d"));
    CHECK_OK(unlink("f"));
}

/* ---- long names ---- */

static void long_names(void) {
    CHECK_OK(chdir(tmpdir));
    char name[300];
    memset(name, 'n', 256);
    name[256] = 0;
    struct stat st;
    CHECK_ERR(open(name, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
    CHECK_ERR(mkdir(name, 0755), ENAMETOOLONG);
    CHECK_ERR(stat(name, &st), ENAMETOOLONG);
    CHECK_ERR(symlink("x", name), ENAMETOOLONG);
    name[255] = 0;
    int fd = open(name, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(stat(name, &st));
    CHECK_OK(unlink(name));

    /* PATH_MAX counts the terminating NUL: 4095 bytes resolve, 4096 do not. */
    static char path[PATH_MAX + 64];
    CHECK_OK(close(open("f", O_WRONLY | O_CREAT, 0644)));
    memset(path, 0, sizeof path);
    for (size_t i = 0; i < PATH_MAX - 3; i += 2) memcpy(path + i, "./", 2);
    strcpy(path + PATH_MAX - 3, "/f"); /* ".//f" at the end: 4095 bytes */
    CHECK(strlen(path) == PATH_MAX - 1);
    CHECK_OK(stat(path, &st));
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    memmove(path + 1, path, strlen(path) + 1);
    path[0] = '.';
    path[1] = '/';
    CHECK(strlen(path) == PATH_MAX);
    CHECK_ERR(stat(path, &st), ENAMETOOLONG);
    CHECK_ERR(open(path, O_RDONLY), ENAMETOOLONG);
    CHECK_ERR(symlink(path, "toolong"), ENAMETOOLONG);
    CHECK_ERR(execve(path, (char *[]){"x", NULL}, (char *[]){NULL}), ENAMETOOLONG);
    CHECK_OK(unlink("f"));
}

/* ---- execve sizes ---- */

/* Forks, sets RLIMIT_STACK, execs this program with `--exit0`, `nargs` arguments of `arglen`
 * bytes and an environment of `nenv` strings of `envlen` bytes; returns the wait status. */
static int spawn_sized(rlim_t stack, int nargs, size_t arglen, int nenv, size_t envlen) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        struct rlimit rl = {stack, stack};
        if (setrlimit(RLIMIT_STACK, &rl) != 0) _exit(99);
        char **av = calloc((size_t)nargs + 3, sizeof *av);
        char **ev = calloc((size_t)nenv + 1, sizeof *ev);
        char *arg = malloc(arglen + 1), *env = malloc(envlen + 3);
        if (!av || !ev || !arg || !env) _exit(98);
        memset(arg, 'a', arglen);
        arg[arglen] = 0;
        memset(env, 'e', envlen);
        if (envlen >= 2) env[1] = '=';
        env[envlen] = 0;
        av[0] = self_exe;
        av[1] = "--exit0";
        for (int i = 0; i < nargs; i++) av[2 + i] = arg;
        for (int i = 0; i < nenv; i++) ev[i] = env;
        syscall(SYS_execve, self_exe, av, ev);
        int e = errno;
        /* The failed exec left this process intact. */
        if (getpid() <= 0 || strcmp(av[1], "--exit0") != 0) _exit(97);
        _exit(FAILED(e));
    }
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

#define KiB 1024
#define MiB (1024 * 1024)
#define MAX_ARG_STRLEN (32 * 4096)

static void exec_sizes(void) {
    rlim_t stk = 8 * MiB;
    CHECK_EXIT(spawn_sized(stk, 1, 100 * KiB, 0, 0), 0);
    /* One string: MAX_ARG_STRLEN including its NUL, in argv or in envp. */
    CHECK_EXIT(spawn_sized(stk, 1, MAX_ARG_STRLEN - 1, 0, 0), 0);
    CHECK_EXIT(spawn_sized(stk, 1, MAX_ARG_STRLEN, 0, 0), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(stk, 1, 200 * KiB, 0, 0), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(stk, 0, 0, 1, MAX_ARG_STRLEN - 1), 0);
    CHECK_EXIT(spawn_sized(stk, 0, 0, 1, MAX_ARG_STRLEN), FAILED(E2BIG));
    /* In total a quarter of RLIMIT_STACK: 2 MiB of 8 MiB. */
    CHECK_EXIT(spawn_sized(stk, 15, 100 * KiB, 0, 0), 0);
    CHECK_EXIT(spawn_sized(stk, 8, 100 * KiB, 8, 100 * KiB), 0);
    CHECK_EXIT(spawn_sized(stk, 30, 100 * KiB, 0, 0), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(stk, 15, 100 * KiB, 15, 100 * KiB), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(stk, 22, 100 * KiB, 0, 0), FAILED(E2BIG));
    /* Many small strings count their pointers too. */
    CHECK_EXIT(spawn_sized(stk, 300000, 0, 0, 0), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(stk, 1000, 0, 1000, 2), 0);
    /* A larger stack limit allows more, up to 6 MiB (3/4 of 8 MiB) however large it is. */
    CHECK_EXIT(spawn_sized(16 * MiB, 30, 100 * KiB, 0, 0), 0);
    CHECK_EXIT(spawn_sized(16 * MiB, 45, 100 * KiB, 0, 0), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(RLIM_INFINITY, 60, 100 * KiB, 0, 0), 0);
    CHECK_EXIT(spawn_sized(RLIM_INFINITY, 65, 100 * KiB, 0, 0), FAILED(E2BIG));
    /* A small stack limit still allows ARG_MAX (128 KiB) in total. */
    CHECK_EXIT(spawn_sized(256 * KiB, 1, 100 * KiB, 0, 0), 0);
    CHECK_EXIT(spawn_sized(256 * KiB, 2, 100 * KiB, 0, 0), FAILED(E2BIG));
    CHECK_EXIT(spawn_sized(1 * MiB, 2, 100 * KiB, 0, 0), 0);
    CHECK_EXIT(spawn_sized(1 * MiB, 3, 100 * KiB, 0, 0), FAILED(E2BIG));
    /* Recovered: an ordinary exec still works. */
    CHECK_EXIT(spawn_sized(stk, 1, 10, 1, 10), 0);
}

/* ---- pipe buffers ---- */

static long pipe_max(void) {
    long v = 1048576;
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = 1048576;
        fclose(f);
    }
    return v;
}

static void pipe_sizes_unprivileged(void) {
    long max = pipe_max();
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(setgid(65534));
    CHECK_OK(setuid(65534));
    CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, (int)max + 1), EPERM);
    CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, (int)max * 2), EPERM);
    CHECK(fcntl(p[1], F_GETPIPE_SZ) == 65536);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, (int)max) == max);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == max);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
}

static void pipe_fill(void) {
    long max = pipe_max();
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK(fcntl(p[1], F_GETPIPE_SZ) == 65536);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, (int)max) == max);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 5000) == 8192);
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    long total = 0;
    for (;;) {
        ssize_t n = write(p[1], buf, 4096);
        if (n < 0) break;
        total += n;
        if (total > 1 << 20) break;
    }
    CHECK(errno == EAGAIN);
    CHECK(total == 8192);
    CHECK_ERR(write(p[1], buf, 1), EAGAIN);
    /* Shrinking below what it holds is refused. */
    CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    CHECK(read(p[0], buf, 4096) == 4096);
    CHECK(write(p[1], buf, 4096) == 4096);
    CHECK_ERR(write(p[1], buf, 1), EAGAIN);
    CHECK(read(p[0], buf, sizeof buf) == 8192);
    CHECK_ERR(read(p[0], buf, 1), EAGAIN);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 65536) == 65536);

    /* A blocking writer of 1 MiB into a 64 KiB pipe finishes as the reader drains. */
    fflush(stdout);
    pid_t w = fork();
    if (w == 0) {
        int fl = fcntl(p[1], F_GETFL);
        fcntl(p[1], F_SETFL, fl & ~O_NONBLOCK);
        close(p[0]);
        for (int i = 0; i < 16; i++)
            if (write(p[1], buf, sizeof buf) != (ssize_t)sizeof buf) _exit(1);
        _exit(0);
    }
    CHECK(w > 0);
    close(p[1]);
    CHECK_OK(fcntl(p[0], F_SETFL, 0));
    long got = 0;
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n <= 0) break;
        got += n;
    }
    CHECK(got == 16 * 65536);
    int st = 0;
    CHECK(waitpid(w, &st, 0) == w && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(p[0]);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--exit0") == 0) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    CHECK(n > 0);
    if (n <= 0) DONE();
    self_exe[n] = 0;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/proc_limits.XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    CHECK_OK(chmod(tmpdir, 0777));

    lt_sub("fd_table", fd_table, 20000);
    lt_sub("fd_limits_unprivileged", fd_limits_unprivileged, 20000);
    lt_sub("nproc_unprivileged", nproc_unprivileged, 20000);
    lt_sub("symlinks", symlinks, 60000);
    lt_sub("long_names", long_names, 20000);
    lt_sub("exec_sizes", exec_sizes, 120000);
    lt_sub("pipe_sizes_unprivileged", pipe_sizes_unprivileged, 20000);
    lt_sub("pipe_fill", pipe_fill, 60000);

    /* Whatever a part left behind goes. */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s/sock", tmpdir);
    unlink(cmd);
    CHECK_OK(rmdir(tmpdir));
    DONE();
}
