/* procfs: /proc/self/{stat,status,comm,cmdline,environ,exe,cwd,fd,fdinfo,maps,mounts}, other
 * processes' states, /proc/{meminfo,uptime,loadavg,cpuinfo,mounts}, /proc/sys/kernel
 * entries, and the link names of pipes, sockets and anonymous-inode fds. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_watchdog(int s) {
    (void)s;
    static const char m[] = "proc_files: watchdog: a call blocked for 20 s\n";
    if (write(1, m, sizeof m - 1) < 0) {
    }
    _exit(2);
}

/* Reads a whole (small) file; returns its length or -1. NUL-terminates. */
static long slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        buf[0] = 0;
        return -1;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            printf("read %s: %s\n", path, strerror(errno));
            close(fd);
            buf[n] = 0;
            return -1;
        }
        if (r == 0)
            break;
        n += r;
        if (n == cap - 1)
            break;
    }
    buf[n] = 0;
    close(fd);
    return (long)n;
}

/* The value after "key" at the start of a line ("Name:" etc.), up to the newline. */
static int field(const char *text, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0) {
            p += kl;
            while (*p == ' ' || *p == '\t')
                p++;
            size_t i = 0;
            while (p[i] && p[i] != '\n' && i + 1 < cap) {
                out[i] = p[i];
                i++;
            }
            out[i] = 0;
            return 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    out[0] = 0;
    return -1;
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The expected comm: the exec'd file's base name, cut to 15 characters. */
static void expected_comm(const char *argv0, char *out) {
    snprintf(out, 16, "%s", base(argv0));
}

/* State letter of /proc/<pid>/stat, or 0. */
static char proc_state(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (slurp(path, buf, sizeof buf) < 0)
        return 0;
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' ? rp[2] : 0;
}

static void test_stat(const char *argv0) {
    char buf[4096], comm[16], want[64];
    expected_comm(argv0, comm);
    CHECK(slurp("/proc/self/stat", buf, sizeof buf) > 0);
    int pid = -1;
    CHECK(sscanf(buf, "%d ", &pid) == 1 && pid == getpid());
    snprintf(want, sizeof want, "%d (%s) R ", (int)getpid(), comm);
    CHECK(strncmp(buf, want, strlen(want)) == 0);
    if (strncmp(buf, want, strlen(want)) != 0)
        printf("  /proc/self/stat starts \"%.40s\", expected \"%s\"\n", buf, want);
    CHECK(buf[strlen(buf) - 1] == '\n');
    /* Fields after the comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue
     * starttime vsize rss. */
    char *rp = strrchr(buf, ')');
    CHECK(rp != NULL);
    if (!rp)
        return;
    char state;
    int ppid, pgrp, session, tty, tpgid;
    unsigned flags;
    unsigned long minflt, cminflt, majflt, cmajflt, utime, stime;
    long cutime, cstime, prio, nice, threads, itreal;
    unsigned long long start;
    unsigned long vsize;
    long rss;
    int n = sscanf(rp + 2,
                   "%c %d %d %d %d %d %u %lu %lu %lu %lu %lu %lu %ld %ld %ld %ld %ld %ld %llu "
                   "%lu %ld",
                   &state, &ppid, &pgrp, &session, &tty, &tpgid, &flags, &minflt, &cminflt,
                   &majflt, &cmajflt, &utime, &stime, &cutime, &cstime, &prio, &nice, &threads,
                   &itreal, &start, &vsize, &rss);
    CHECK(n == 22);
    CHECK(state == 'R');
    CHECK(ppid == getppid());
    CHECK(pgrp == getpgrp());
    CHECK(session == getsid(0));
    CHECK(threads == 1);
    CHECK(vsize > 0 && rss >= 0);
    /* Field count: Linux has 52. */
    int fields = 0;
    for (char *p = buf; *p; p++)
        if (*p == ' ')
            fields++;
    CHECK(fields == 51);

    /* /proc/self/comm, and PR_SET_NAME changing it. */
    CHECK(slurp("/proc/self/comm", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "%s\n", comm);
    CHECK(strcmp(buf, want) == 0);
    CHECK_OK(prctl(PR_SET_NAME, "renamed-by-prctl-long"));
    CHECK(slurp("/proc/self/comm", buf, sizeof buf) > 0);
    CHECK(strcmp(buf, "renamed-by-prct\n") == 0);
    CHECK(slurp("/proc/self/stat", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "%d (renamed-by-prct) R", (int)getpid());
    CHECK(strncmp(buf, want, strlen(want)) == 0);
    CHECK_OK(prctl(PR_SET_NAME, comm));

    /* /proc/self is a link to the pid. */
    char link[64] = {0};
    CHECK(readlink("/proc/self", link, sizeof link - 1) > 0);
    snprintf(want, sizeof want, "%d", (int)getpid());
    CHECK(strcmp(link, want) == 0);
    /* /proc lists this pid. */
    DIR *d = opendir("/proc");
    CHECK(d != NULL);
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, want) == 0)
            found = 1;
    if (d)
        closedir(d);
    CHECK(found);
    CHECK_ERR(open("/proc/999999999/stat", O_RDONLY), ENOENT);
}

static void test_status(const char *argv0) {
    char buf[8192], v[256], want[128], comm[16];
    expected_comm(argv0, comm);
    CHECK(slurp("/proc/self/status", buf, sizeof buf) > 0);
    CHECK(field(buf, "Name:", v, sizeof v) == 0 && strcmp(v, comm) == 0);
    CHECK(field(buf, "State:", v, sizeof v) == 0 && strcmp(v, "R (running)") == 0);
    snprintf(want, sizeof want, "%d", (int)getpid());
    CHECK(field(buf, "Pid:", v, sizeof v) == 0 && strcmp(v, want) == 0);
    CHECK(field(buf, "Tgid:", v, sizeof v) == 0 && strcmp(v, want) == 0);
    snprintf(want, sizeof want, "%d", (int)getppid());
    CHECK(field(buf, "PPid:", v, sizeof v) == 0 && strcmp(v, want) == 0);
    CHECK(field(buf, "Threads:", v, sizeof v) == 0 && strcmp(v, "1") == 0);
    snprintf(want, sizeof want, "%d\t%d\t%d\t%d", (int)getuid(), (int)geteuid(), (int)getuid(),
             (int)geteuid());
    CHECK(field(buf, "Uid:", v, sizeof v) == 0 && strcmp(v, want) == 0);
    snprintf(want, sizeof want, "%d\t%d\t%d\t%d", (int)getgid(), (int)getegid(), (int)getgid(),
             (int)getegid());
    CHECK(field(buf, "Gid:", v, sizeof v) == 0 && strcmp(v, want) == 0);
    CHECK(field(buf, "VmRSS:", v, sizeof v) == 0 && strstr(v, " kB") != NULL);
    CHECK(field(buf, "SigBlk:", v, sizeof v) == 0 && strlen(v) == 16);

    /* A blocked signal shows in SigBlk; an ignored one in SigIgn. */
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    signal(SIGUSR2, SIG_IGN);
    CHECK(slurp("/proc/self/status", buf, sizeof buf) > 0);
    unsigned long long m = 0;
    CHECK(field(buf, "SigBlk:", v, sizeof v) == 0 && sscanf(v, "%llx", &m) == 1);
    CHECK(m & (1ULL << (SIGUSR1 - 1)));
    m = 0;
    CHECK(field(buf, "SigIgn:", v, sizeof v) == 0 && sscanf(v, "%llx", &m) == 1);
    CHECK(m & (1ULL << (SIGUSR2 - 1)));
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR2, SIG_DFL);
}

/* Runs in the re-exec'd copy: checks cmdline and environ, returns the failure count. */
static int child_mode(int argc, char **argv) {
    char buf[4096];
    long n = slurp("/proc/self/cmdline", buf, sizeof buf);
    char want[4096];
    size_t wl = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        memcpy(want + wl, argv[i], l);
        wl += l;
    }
    CHECK(n == (long)wl && memcmp(buf, want, wl) == 0);
    if (n != (long)wl || memcmp(buf, want, wl) != 0)
        printf("  /proc/self/cmdline: %ld bytes, expected %zu\n", n, wl);
    CHECK(argc == 4 && strcmp(argv[2], "arg two") == 0 && strcmp(argv[3], "") == 0);
    static const char env[] = "LINTEL_PROC_VAR=hello world\0SECOND=2";
    n = slurp("/proc/self/environ", buf, sizeof buf);
    CHECK(n == (long)sizeof env && memcmp(buf, env, sizeof env) == 0);
    if (n != (long)sizeof env || memcmp(buf, env, sizeof env) != 0)
        printf("  /proc/self/environ: %ld bytes, expected %zu\n", n, sizeof env);
    CHECK(getenv("LINTEL_PROC_VAR") && strcmp(getenv("LINTEL_PROC_VAR"), "hello world") == 0);
    /* The parent can read them too: /proc/<pid>/ works for our own processes. */
    return lt_failures;
}

static void test_exec_views(const char *argv0) {
    char exe[4096] = {0};
    CHECK(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    CHECK(exe[0] == '/');
    struct stat a, b;
    CHECK_OK(stat(exe, &a));
    CHECK_OK(stat("/proc/self/exe", &b));
    CHECK(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    CHECK(strcmp(base(exe), base(argv0)) == 0);

    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        char *args[] = {exe, "--proc-files-child", "arg two", "", NULL};
        char *envp[] = {"LINTEL_PROC_VAR=hello world", "SECOND=2", NULL};
        close(p[0]);
        fcntl(p[1], F_SETFD, FD_CLOEXEC);
        execve(exe, args, envp);
        printf("execve %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 0); /* closed at exec */
    close(p[0]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_cwd_fds(void) {
    char cwd[4096], link[4096], want[4200];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    memset(link, 0, sizeof link);
    CHECK(readlink("/proc/self/cwd", link, sizeof link - 1) > 0);
    CHECK(strcmp(link, cwd) == 0);
    CHECK_OK(mkdir("subdir", 0755));
    CHECK_OK(chdir("subdir"));
    memset(link, 0, sizeof link);
    CHECK(readlink("/proc/self/cwd", link, sizeof link - 1) > 0);
    snprintf(want, sizeof want, "%s/subdir", strcmp(cwd, "/") ? cwd : "");
    CHECK(strcmp(link, want) == 0);
    CHECK_OK(chdir(".."));

    int fd = open("somefile", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "0123456789", 10) == 10);
    CHECK(lseek(fd, 5, SEEK_SET) == 5);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    memset(link, 0, sizeof link);
    CHECK(readlink(path, link, sizeof link - 1) > 0);
    snprintf(want, sizeof want, "%s/somefile", cwd);
    CHECK(strcmp(link, want) == 0);
    /* Opening the link opens the file itself (a new description, position 0). */
    int fd2 = open(path, O_RDONLY);
    CHECK(fd2 >= 0);
    char b[4] = {0};
    CHECK(read(fd2, b, 3) == 3 && memcmp(b, "012", 3) == 0);
    close(fd2);

    /* /proc/self/fd lists 0, 1, 2 and this fd. */
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int seen[3] = {0}, seen_fd = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, "0") == 0)
            seen[0] = 1;
        if (strcmp(e->d_name, "1") == 0)
            seen[1] = 1;
        if (strcmp(e->d_name, "2") == 0)
            seen[2] = 1;
        if (atoi(e->d_name) == fd && isdigit((unsigned char)e->d_name[0]))
            seen_fd = 1;
    }
    if (d)
        closedir(d);
    CHECK(seen[0] && seen[1] && seen[2] && seen_fd);
    /* stdin is /dev/null. */
    memset(link, 0, sizeof link);
    CHECK(readlink("/proc/self/fd/0", link, sizeof link - 1) > 0);
    CHECK(strcmp(link, "/dev/null") == 0);

    /* fdinfo: position and flags (octal; O_CLOEXEC shows as 02000000). */
    char buf[1024], v[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    CHECK(slurp(path, buf, sizeof buf) > 0);
    CHECK(field(buf, "pos:", v, sizeof v) == 0 && strcmp(v, "5") == 0);
    unsigned long fl = 0;
    CHECK(field(buf, "flags:", v, sizeof v) == 0 && v[0] == '0' && sscanf(v, "%lo", &fl) == 1);
    CHECK((fl & O_ACCMODE) == O_RDWR);
    CHECK(fl & O_APPEND);
    CHECK(fl & 02000000);
    CHECK(lseek(fd, 0, SEEK_END) == 10);
    CHECK(slurp(path, buf, sizeof buf) > 0);
    CHECK(field(buf, "pos:", v, sizeof v) == 0 && strcmp(v, "10") == 0);
    CHECK_ERR(open("/proc/self/fdinfo/999", O_RDONLY), ENOENT);

    /* A removed file is marked. */
    CHECK_OK(unlink("somefile"));
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    memset(link, 0, sizeof link);
    CHECK(readlink(path, link, sizeof link - 1) > 0);
    snprintf(want, sizeof want, "%s/somefile (deleted)", cwd);
    CHECK(strcmp(link, want) == 0);
    close(fd);
    CHECK_ERR(readlink(path, link, sizeof link), ENOENT);
    rmdir("subdir");
}

static void test_maps(void) {
    char exe[4096] = {0};
    CHECK(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    static char buf[1 << 16], copy[1 << 16];
    CHECK(slurp("/proc/self/maps", buf, sizeof buf) > 0);
    memcpy(copy, buf, sizeof buf);
    uintptr_t local = (uintptr_t)&exe;
    uintptr_t code = (uintptr_t)&test_maps;
    int stack_ok = 0, exe_seen = 0, code_ok = 0, lines = 0, bad = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        unsigned long lo, hi, off, ino;
        char perms[8];
        unsigned maj, min;
        int pos = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu%n", &lo, &hi, perms, &off, &maj, &min, &ino,
                   &pos) != 7 ||
            strlen(perms) != 4 || lo >= hi) {
            bad++;
        } else {
            lines++;
            const char *name = line + pos;
            while (*name == ' ')
                name++;
            if (strcmp(name, "[stack]") == 0 && local >= lo && local < hi &&
                perms[0] == 'r' && perms[1] == 'w')
                stack_ok = 1;
            if (strcmp(name, exe) == 0) {
                exe_seen = 1;
                if (code >= lo && code < hi && perms[2] == 'x')
                    code_ok = 1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    CHECK(bad == 0);
    CHECK(lines >= 3);
    CHECK(stack_ok);
    CHECK(exe_seen);
    CHECK(code_ok);
    if (!exe_seen || !code_ok || !stack_ok || bad)
        printf("  /proc/self/maps (executable %s):\n%s", exe, copy);
}

static void test_system_files(void) {
    static char buf[1 << 16];
    char v[128];

    CHECK(slurp("/proc/meminfo", buf, sizeof buf) > 0);
    unsigned long total = 0, free_ = 0;
    CHECK(field(buf, "MemTotal:", v, sizeof v) == 0 && sscanf(v, "%lu kB", &total) == 1);
    CHECK(field(buf, "MemFree:", v, sizeof v) == 0 && sscanf(v, "%lu kB", &free_) == 1);
    CHECK(strstr(v, " kB") != NULL);
    CHECK(total > 0 && free_ > 0 && free_ <= total);
    CHECK(strncmp(buf, "MemTotal:", 9) == 0);

    CHECK(slurp("/proc/uptime", buf, sizeof buf) > 0);
    double up = -1, idle = -1;
    char nl = 0;
    CHECK(sscanf(buf, "%lf %lf%c", &up, &idle, &nl) == 3 && nl == '\n');
    CHECK(up > 0 && idle >= 0);
    CHECK(strchr(buf, '.') != NULL);

    CHECK(slurp("/proc/loadavg", buf, sizeof buf) > 0);
    double l1, l5, l15;
    int running = 0, total_tasks = 0, last = 0;
    CHECK(sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total_tasks, &last) ==
          6);
    CHECK(l1 >= 0 && l5 >= 0 && l15 >= 0);
    CHECK(running >= 1 && total_tasks >= running && last > 0);
    CHECK(buf[strlen(buf) - 1] == '\n');

    CHECK(slurp("/proc/cpuinfo", buf, sizeof buf) > 0);
    CHECK(strncmp(buf, "processor", 9) == 0);
    /* The CPU's features: x86's "flags", riscv's "isa" letters, arm64's "Features". */
#if defined(__riscv)
    CHECK(strstr(buf, "\nisa\t") != NULL);
#elif defined(__aarch64__)
    CHECK(strstr(buf, "\nFeatures\t") != NULL);
#else
    CHECK(strstr(buf, "\nflags") != NULL || strstr(buf, "flags\t") != NULL);
#endif

    const char *mounts[2] = {"/proc/mounts", "/proc/self/mounts"};
    for (int i = 0; i < 2; i++) {
        CHECK(slurp(mounts[i], buf, sizeof buf) > 0);
        int root = 0, proc = 0;
        for (char *line = buf; line && *line;) {
            char dev[256], dir[256], type[64];
            if (sscanf(line, "%255s %255s %63s", dev, dir, type) == 3) {
                if (strcmp(dir, "/") == 0)
                    root = 1;
                if (strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0)
                    proc = 1;
            }
            line = strchr(line, '\n');
            if (line)
                line++;
        }
        CHECK(root);
        CHECK(proc);
    }

    CHECK(slurp("/proc/sys/kernel/ostype", buf, sizeof buf) > 0);
    CHECK(strcmp(buf, "Linux\n") == 0);
    struct utsname u;
    CHECK_OK(uname(&u));
    char want[256];
    CHECK(slurp("/proc/sys/kernel/osrelease", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "%s\n", u.release);
    CHECK(strcmp(buf, want) == 0);
    CHECK(slurp("/proc/sys/kernel/hostname", buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "%s\n", u.nodename);
    CHECK(strcmp(buf, want) == 0);
    CHECK(slurp("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0);
    CHECK(atoi(buf) > getpid());

    char u1[64], u2[64];
    CHECK(slurp("/proc/sys/kernel/random/uuid", u1, sizeof u1) == 37);
    CHECK(slurp("/proc/sys/kernel/random/uuid", u2, sizeof u2) == 37);
    CHECK(strcmp(u1, u2) != 0);
    int ok = u1[36] == '\n';
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ok &= u1[i] == '-';
        else
            ok &= isxdigit((unsigned char)u1[i]) && !isupper((unsigned char)u1[i]);
    }
    CHECK(ok);
    CHECK(u1[14] == '4');                          /* version 4 */
    CHECK(strchr("89ab", u1[19]) != NULL);         /* RFC 4122 variant */
    CHECK(slurp("/proc/sys/kernel/random/boot_id", u2, sizeof u2) == 37);
}

static void test_fd_names(void) {
    char link[256], want[64], path[64];
    int p[2];
    CHECK_OK(pipe(p));
    struct stat sb;
    CHECK_OK(fstat(p[0], &sb));
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[i]);
        memset(link, 0, sizeof link);
        CHECK(readlink(path, link, sizeof link - 1) > 0);
        snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)sb.st_ino);
        CHECK(strcmp(link, want) == 0);
        if (strcmp(link, want) != 0)
            printf("  pipe fd link: \"%s\", expected \"%s\"\n", link, want);
    }
    close(p[0]);
    close(p[1]);

    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(fstat(sv[0], &sb));
    CHECK(S_ISSOCK(sb.st_mode));
    snprintf(path, sizeof path, "/proc/self/fd/%d", sv[0]);
    memset(link, 0, sizeof link);
    CHECK(readlink(path, link, sizeof link - 1) > 0);
    snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)sb.st_ino);
    CHECK(strcmp(link, want) == 0);
    if (strcmp(link, want) != 0)
        printf("  socket fd link: \"%s\", expected \"%s\"\n", link, want);
    close(sv[0]);
    close(sv[1]);

    struct {
        int fd;
        const char *name;
    } anon[3] = {{eventfd(0, 0), "anon_inode:[eventfd]"},
                 {epoll_create1(0), "anon_inode:[eventpoll]"},
                 {timerfd_create(CLOCK_MONOTONIC, 0), "anon_inode:[timerfd]"}};
    for (int i = 0; i < 3; i++) {
        CHECK(anon[i].fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", anon[i].fd);
        memset(link, 0, sizeof link);
        CHECK(readlink(path, link, sizeof link - 1) > 0);
        CHECK(strcmp(link, anon[i].name) == 0);
        if (strcmp(link, anon[i].name) != 0)
            printf("  fd link: \"%s\", expected \"%s\"\n", link, anon[i].name);
        close(anon[i].fd);
    }
}

static void test_other_process(void) {
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        char c = 'r';
        if (write(p[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    close(p[0]);
    /* Sleeping in pause(): S (poll a little while it gets there). */
    char st = 0;
    for (int i = 0; i < 200 && (st = proc_state(pid)) != 'S'; i++) {
        struct timespec d = {0, 5 * 1000000};
        nanosleep(&d, NULL);
    }
    CHECK(st == 'S');
    char path[64], buf[4096], v[64], want[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    CHECK(slurp(path, buf, sizeof buf) > 0);
    snprintf(want, sizeof want, "%d", (int)getpid());
    CHECK(field(buf, "PPid:", v, sizeof v) == 0 && strcmp(v, want) == 0);
    CHECK(field(buf, "State:", v, sizeof v) == 0 && strcmp(v, "S (sleeping)") == 0);
    /* Stopped: T. */
    CHECK_OK(kill(pid, SIGSTOP));
    int ws;
    CHECK(waitpid(pid, &ws, WUNTRACED) == pid && WIFSTOPPED(ws));
    CHECK(proc_state(pid) == 'T');
    CHECK(slurp(path, buf, sizeof buf) > 0);
    CHECK(field(buf, "State:", v, sizeof v) == 0 && strcmp(v, "T (stopped)") == 0);
    /* Dead but not reaped: Z. */
    CHECK_OK(kill(pid, SIGKILL));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    CHECK(proc_state(pid) == 'Z');
    CHECK(waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws));
    /* Reaped: gone. */
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    CHECK_ERR(open(path, O_RDONLY), ENOENT);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "--proc-files-child") == 0)
        return child_mode(argc, argv) ? 1 : 0;
    signal(SIGALRM, on_watchdog);
    alarm(20);
    test_stat(argv[0]);
    test_status(argv[0]);
    test_exec_views(argv[0]);
    test_cwd_fds();
    test_maps();
    test_system_files();
    test_fd_names();
    test_other_process();
    DONE();
}
