/* Users kept apart: a root process prepares files, then children that drop to uid/gid 1000
 * try every privileged action and must get Linux's EPERM/EACCES (mount, umount, sethostname,
 * settimeofday, clock_settime, reboot, raising a hard rlimit, nice below 0, SCHED_FIFO,
 * mlock past RLIMIT_MEMLOCK, kill of a root process, chown, chmod, open/create/rename/link/
 * truncate against the mode bits, sticky directories, setuid(0), setgroups, capset, binding
 * port 80, raw sockets, mknod, chroot, swapon, /proc/PID/environ, fd and exe of another
 * user). Also what an unprivileged user may do (own files: setgid directories, setgid
 * stripping by chmod, set-id bits cleared by write, signalling its own processes), and the
 * capability rules themselves: root with capabilities dropped by capset loses exactly those
 * powers, the bounding set limits what execve gives root, PR_SET_KEEPCAPS keeps the
 * permitted set across setuid, ambient capabilities survive execve, and a set-user-ID-root
 * copy of this program elevates (with AT_SECURE) unless no_new_privs is set, a set-group-ID
 * copy gives its group (neither on a MS_NOSUID mount), the secure bits lock and
 * SECBIT_NOROOT ends root's execve privilege, and root cannot execute a file without any
 * execute bit. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <grp.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_LOWER 3
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef PR_GET_SECUREBITS
#define PR_GET_SECUREBITS 27
#define PR_SET_SECUREBITS 28
#endif
#define SECBIT_NOROOT 1
#define SECBIT_KEEP_CAPS 16
#define SECBIT_KEEP_CAPS_LOCKED 32
#ifndef PR_SET_NO_NEW_PRIVS
#define PR_SET_NO_NEW_PRIVS 38
#endif

#define CAP_CHOWN 0
#define CAP_DAC_OVERRIDE 1
#define CAP_DAC_READ_SEARCH 2
#define CAP_KILL 5
#define CAP_SETUID 7
#define CAP_NET_BIND_SERVICE 10
#define CAP_SYS_ADMIN 21
#define V1 0x19980330u
#define V3 0x20080522u

struct cap_header {
    uint32_t version;
    int pid;
};
struct cap_data {
    uint32_t effective, permitted, inheritable;
};
struct caps {
    uint64_t eff, perm, inh;
};

static int cap_get(int pid, struct caps *c) {
    struct cap_header h = {V3, pid};
    struct cap_data d[2];
    if (syscall(SYS_capget, &h, d) != 0) return -1;
    c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
    c->perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    return 0;
}

static int cap_set(uint64_t eff, uint64_t perm, uint64_t inh) {
    struct cap_header h = {V3, 0};
    struct cap_data d[2] = {{(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
                            {(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)}};
    return (int)syscall(SYS_capset, &h, d);
}

#define BIT(c) ((uint64_t)1 << (c))

/* What a probe run reports in its exit status. */
#define P_EUID0 1
#define P_SECURE 2
#define P_EFF 4
#define P_PERM 8
#define P_AMB 16
#define P_EGID50 32

static int probe(int cap) {
    struct caps c;
    if (cap_get(0, &c) != 0) return 99;
    int r = 0;
    if (geteuid() == 0) r |= P_EUID0;
    if (getauxval(AT_SECURE)) r |= P_SECURE;
    if (c.eff & BIT(cap)) r |= P_EFF;
    if (c.perm & BIT(cap)) r |= P_PERM;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) r |= P_AMB;
    if (getegid() == 50) r |= P_EGID50;
    return r;
}

/* Runs `path probe CAP` in a child (with no_new_privs if asked) and returns its status. */
static int run_probe(const char *path, int cap, int nnp) {
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(98);
        char arg[16];
        snprintf(arg, sizeof arg, "%d", cap);
        execl(path, path, "probe", arg, (char *)NULL);
        _exit(97);
    }
    int st = 0;
    if (waitpid(k, &st, 0) != k || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static void drop_to_1000(void) {
    if (setgroups(0, NULL) != 0 || setresgid(1000, 1000, 1000) != 0 ||
        setresuid(1000, 1000, 1000) != 0) {
        printf("dropping to uid 1000 failed: %s\n", strerror(errno));
        _exit(1);
    }
}

static void put_file(const char *path, int mode, uid_t uid, gid_t gid) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, "data", 4) == 4);
    close(fd);
    CHECK_OK(chown(path, uid, gid));
    CHECK_OK(chmod(path, mode));
}

static void copy_self(const char *to, int mode) {
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0700);
    CHECK(in >= 0 && out >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) CHECK(write(out, buf, n) == n);
    close(in);
    close(out);
    CHECK_OK(chown(to, 0, 0));
    CHECK_OK(chmod(to, mode));
}

/* The status line `key` of /proc/self/status, or "" */
static void status_line(const char *key, char *out, size_t len) {
    out[0] = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
            char *v = line + strlen(key) + 1;
            while (*v == '\t' || *v == ' ') v++;
            v[strcspn(v, "\n")] = 0;
            snprintf(out, len, "%s", v);
            break;
        }
    }
    fclose(f);
}

static void setup(void) {
    umask(022);
    CHECK_OK(mkdir("d", 0755));
    put_file("d/secret", 0600, 0, 0);
    put_file("d/rootfile", 0644, 0, 0);
    CHECK_OK(mkdir("d2", 0755));
    put_file("d2/other_secret", 0600, 2000, 2000);
    CHECK_OK(mkdir("pub", 0777));
    CHECK_OK(chmod("pub", 0777));
    put_file("pub/shared", 0666, 0, 0);
    put_file("pub/g", 0644, 1000, 50);
    CHECK_OK(mkdir("sticky", 0777));
    CHECK_OK(chmod("sticky", 01777));
    put_file("sticky/theirs", 0666, 2000, 2000);
    put_file("sticky/mine", 0644, 1000, 1000);
    CHECK_OK(mkdir("sgid", 0777));
    CHECK_OK(chown("sgid", 0, 50));
    CHECK_OK(chmod("sgid", 02777));
    copy_self("self_copy", 0755);
    copy_self("suid_copy", 04755);
    copy_self("sgid_copy", 0755);
    CHECK_OK(chown("sgid_copy", 0, 50));
    CHECK_OK(chmod("sgid_copy", 02755));
    copy_self("noexec_copy", 0644);
    copy_self("others_copy", 0100);
    CHECK_OK(chown("others_copy", 2000, 2000));
    put_file("d2/nobody", 0, 2000, 2000);
    CHECK_OK(mkdir("nosuid", 0755));
    CHECK_OK(mount("none", "nosuid", "tmpfs", MS_NOSUID, NULL));
    copy_self("nosuid/suid_copy", 04755);
}

/* Root: CAP_DAC_OVERRIDE opens anything, but executes only what has an execute bit. */
static void root_exec(void) {
    int fd = open("d2/nobody", O_RDWR);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(execl("./noexec_copy", "./noexec_copy", "probe", "5", (char *)NULL), EACCES);
    CHECK_ERR(access("noexec_copy", X_OK), EACCES);
    CHECK_OK(access("others_copy", X_OK));
    CHECK(run_probe("./others_copy", CAP_KILL, 0) == (P_EUID0 | P_EFF | P_PERM));
}

/* Everything root may do and uid 1000 may not. */
static void unprivileged(void) {
    pid_t parent = getppid();
    char buf[256];
    drop_to_1000();
    struct caps c;
    CHECK_OK(cap_get(0, &c));
    CHECK(c.eff == 0 && c.perm == 0 && c.inh == 0);

    /* A file this open creates is opened as asked whatever its mode (Linux's do_open checks
     * no access on a new file); opening it again is checked. */
    int nf = open("pub/ro-new", O_CREAT | O_EXCL | O_WRONLY, 0444);
    CHECK(nf >= 0 && write(nf, "x", 1) == 1);
    close(nf);
    CHECK_ERR(open("pub/ro-new", O_WRONLY), EACCES);
    CHECK_OK(unlink("pub/ro-new"));

    CHECK_ERR(mount("none", "pub", "tmpfs", 0, NULL), EPERM);
    CHECK_ERR(umount("d"), EPERM);
    CHECK_ERR(sethostname("x", 1), EPERM);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    CHECK_ERR(settimeofday(&tv, NULL), EPERM);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    CHECK_ERR(clock_settime(CLOCK_REALTIME, &ts), EPERM);
    CHECK_ERR(reboot(RB_ENABLE_CAD), EPERM);
    CHECK_ERR(swapon("d/rootfile", 0), EPERM);

    struct rlimit r;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &r));
    r.rlim_max = r.rlim_cur;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &r));
    r.rlim_max = r.rlim_cur + 1;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &r), EPERM);
    int nice_now = getpriority(PRIO_PROCESS, 0); /* the suite may run under nice */
    CHECK_ERR(setpriority(PRIO_PROCESS, 0, nice_now - 1), EACCES);
    CHECK_OK(setpriority(PRIO_PROCESS, 0, nice_now < 19 ? nice_now + 1 : 19));
    struct sched_param sp = {1};
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp), EPERM); /* musl: ENOSYS stub */
    struct rlimit ml = {65536, 65536};
    CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &ml));
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_ERR(mlock(m, 1 << 20), ENOMEM);

    /* Signals: not to root's processes, yes to one's own. */
    CHECK_ERR(kill(parent, 0), EPERM);
    CHECK_ERR(kill(1, 0), EPERM);
    /* kill(-1) succeeds while any other process exists, signalled or not. */
    CHECK_OK(kill(-1, 0));
    pid_t mine = fork();
    if (mine == 0) {
        pause();
        _exit(0);
    }
    CHECK_OK(kill(mine, SIGKILL));
    int st;
    CHECK(waitpid(mine, &st, 0) == mine && WIFSIGNALED(st));

    /* Identity. */
    CHECK_ERR(setuid(0), EPERM);
    CHECK_ERR(setresuid(-1, 0, -1), EPERM);
    CHECK_ERR(setgid(0), EPERM);
    CHECK_ERR(setgroups(0, NULL), EPERM);
    CHECK(setfsuid(0) == 1000);
    CHECK(setfsuid(-1) == 1000);
    CHECK_ERR(cap_set(BIT(CAP_SYS_ADMIN), BIT(CAP_SYS_ADMIN), 0), EPERM);
    CHECK_ERR(cap_set(0, 0, BIT(CAP_KILL)), EPERM);
    CHECK_ERR(prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0), EPERM);
    CHECK(prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0) == 1);
    CHECK_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), EPERM);

    /* Files of others: the mode bits decide. */
    CHECK_ERR(open("d/secret", O_RDONLY), EACCES);
    CHECK_ERR(access("d/secret", R_OK), EACCES);
    CHECK_OK(access("d/rootfile", R_OK));
    CHECK_ERR(access("d/rootfile", W_OK), EACCES);
    CHECK_ERR(open("d/rootfile", O_WRONLY), EACCES);
    CHECK_ERR(open("d/rootfile", O_RDONLY | O_NOATIME), EPERM);
    int ro = open("d/rootfile", O_RDONLY);
    CHECK(ro >= 0);
    CHECK_ERR(fcntl(ro, F_SETFL, O_NOATIME), EPERM); /* nor later, by fcntl */
    CHECK_OK(fcntl(ro, F_SETFL, O_NONBLOCK));
    close(ro);
    CHECK_ERR(truncate("d/rootfile", 0), EACCES);
    CHECK_ERR(open("d/new", O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERR(mkdir("d/newdir", 0755), EACCES);
    CHECK_ERR(unlink("d/rootfile"), EACCES);
    CHECK_ERR(rename("d/rootfile", "d/moved"), EACCES);
    CHECK_ERR(rename("d/rootfile", "pub/moved"), EACCES);
    CHECK_ERR(link("pub/shared", "d/link"), EACCES);
    CHECK_ERR(open("d2/other_secret", O_RDONLY), EACCES);
    CHECK_ERR(chown("d/rootfile", 1000, -1), EPERM);
    CHECK_ERR(chown("d/rootfile", -1, 1000), EPERM);
    CHECK_ERR(chmod("d/rootfile", 0777), EPERM);
    struct timespec times[2] = {{1, 0}, {1, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, "d/rootfile", times, 0), EPERM);
    CHECK_ERR(utimensat(AT_FDCWD, "d/rootfile", NULL, 0), EACCES);
    CHECK_ERR(utimensat(AT_FDCWD, "pub/shared", times, 0), EPERM);
    CHECK_OK(utimensat(AT_FDCWD, "pub/shared", NULL, 0));
    CHECK_ERR(mknod("pub/null", S_IFCHR | 0600, makedev(1, 3)), EPERM);
    CHECK_OK(mknod("pub/fifo", S_IFIFO | 0600, 0));
    CHECK_ERR(chroot("pub"), EPERM);
    CHECK_ERR(setxattr("pub/g", "security.lintel", "1", 1, 0), EPERM);
    CHECK_ERR(setxattr("pub/g", "trusted.lintel", "1", 1, 0), EPERM);
    CHECK_ERR(getxattr("pub/g", "trusted.lintel", buf, sizeof buf), ENODATA);

    /* A sticky directory: only one's own entries go. */
    CHECK_ERR(unlink("sticky/theirs"), EPERM);
    CHECK_ERR(rename("sticky/theirs", "sticky/moved"), EPERM);
    CHECK_ERR(rename("sticky/mine", "sticky/theirs"), EPERM);
    CHECK_OK(rename("sticky/mine", "sticky/mine2"));
    CHECK_OK(unlink("sticky/mine2"));

    /* Own files. */
    CHECK_OK(chown("pub/g", -1, 1000));
    CHECK_ERR(chown("pub/g", -1, 50), EPERM);
    CHECK_OK(chown("pub/g", 1000, -1));
    struct stat sb;
    int fd = open("pub/mine", O_CREAT | O_WRONLY, 0755);
    CHECK(fd >= 0);
    CHECK_OK(fchmod(fd, 06755));
    CHECK(fstat(fd, &sb) == 0 && (sb.st_mode & 07777) == 06755);
    CHECK(write(fd, "x", 1) == 1);
    CHECK(fstat(fd, &sb) == 0 && (sb.st_mode & 07777) == 0755);
    CHECK_OK(fchmod(fd, 04755));
    CHECK_OK(fallocate(fd, 0, 0, 4096));
    CHECK(fstat(fd, &sb) == 0 && (sb.st_mode & 07777) == 0755);
    CHECK_OK(fchmod(fd, 04755));
    CHECK_OK(ftruncate(fd, 1));
    CHECK(fstat(fd, &sb) == 0 && (sb.st_mode & 07777) == 0755);
    close(fd);
    /* setgid on a file of a group one is not in is dropped by chmod. */
    CHECK_OK(chown("pub/mine", -1, 1000));
    CHECK_OK(chmod("pub/mine", 02755));
    CHECK(stat("pub/mine", &sb) == 0 && (sb.st_mode & 07777) == 02755);
    /* A setgid directory hands down its group (and setgid to new directories). */
    fd = open("sgid/f", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(fstat(fd, &sb) == 0 && sb.st_gid == 50 && sb.st_uid == 1000);
    close(fd);
    CHECK_OK(mkdir("sgid/sub", 0755));
    CHECK(stat("sgid/sub", &sb) == 0 && sb.st_gid == 50 && (sb.st_mode & S_ISGID));
    CHECK_OK(chmod("sgid/f", 02755));
    CHECK(stat("sgid/f", &sb) == 0 && (sb.st_mode & 07777) == 0755);

    /* Network. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof a), EACCES);
    a.sin_port = 0;
    CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    close(s);
    CHECK_ERR(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
    CHECK_ERR(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
    CHECK_ERR(socket(AF_PACKET, SOCK_RAW, 0), EPERM);

    /* /proc of a root process: status yes; environ, fd, exe no. */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)parent);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    snprintf(path, sizeof path, "/proc/%d/environ", (int)parent);
    CHECK_ERR(open(path, O_RDONLY), EACCES);
    snprintf(path, sizeof path, "/proc/%d/fd", (int)parent);
    CHECK_ERR(open(path, O_RDONLY | O_DIRECTORY), EACCES);
    snprintf(path, sizeof path, "/proc/%d/fdinfo", (int)parent);
    CHECK_ERR(open(path, O_RDONLY | O_DIRECTORY), EACCES);
    snprintf(path, sizeof path, "/proc/%d/maps", (int)parent);
    fd = open(path, O_RDONLY); /* EACCES at open on Linux, or at the first read */
    CHECK(fd < 0 ? errno == EACCES : read(fd, buf, sizeof buf) < 0 && errno == EACCES);
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)parent);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) > 0);
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "/proc/%d/exe", (int)parent);
    CHECK_ERR(readlink(path, buf, sizeof buf), EACCES);
    /* One's own fd directory stays open to one even though setuid made it non-dumpable. */
    DIR *dir = opendir("/proc/self/fd");
    CHECK(dir != NULL);
    if (dir) closedir(dir);
    dir = opendir("/proc/self/fdinfo");
    CHECK(dir != NULL);
    if (dir) closedir(dir);
    status_line("CapEff", buf, sizeof buf);
    CHECK(strcmp(buf, "0000000000000000") == 0);
}

/* capget/capset's header: the version probe, other pids, pid rules. */
static void header_rules(void) {
    struct cap_header h = {0, 0};
    CHECK(syscall(SYS_capget, &h, NULL) == 0);
    CHECK(h.version == V3);
    struct cap_data d[2];
    h.version = 0x1234;
    CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
    CHECK(h.version == V3);
    h.pid = getppid();
    CHECK(syscall(SYS_capget, &h, d) == 0);
    h.pid = -1;
    CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
    /* Version 1 has one word per set. */
    struct cap_header h1 = {V1, 0};
    struct cap_data d1[2] = {{0, 0, 0}, {7, 7, 7}};
    CHECK(syscall(SYS_capget, &h1, d1) == 0);
    CHECK(d1[0].permitted != 0 && d1[1].permitted == 7);
    struct cap_header hp = {V3, getppid()};
    CHECK_ERR(syscall(SYS_capset, &hp, d), EPERM);
    hp.pid = getpid();
    CHECK(syscall(SYS_capget, &hp, d) == 0);
    CHECK(syscall(SYS_capset, &hp, d) == 0);
}

/* Root with some capabilities out of its effective set loses exactly those powers, and
 * gets them back while they stay permitted. */
static void root_dropped(void) {
    struct caps c;
    CHECK_OK(cap_get(0, &c));
    uint64_t drop = BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_CHOWN) |
                    BIT(CAP_SYS_ADMIN);
    CHECK_OK(cap_set(c.eff & ~drop, c.perm, c.inh));
    CHECK_ERR(open("d2/other_secret", O_RDONLY), EACCES);
    int fd = open("d/secret", O_RDONLY); /* its owner */
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(chown("pub/shared", 2000, -1), EPERM);
    struct utsname u;
    uname(&u);
    CHECK_ERR(sethostname(u.nodename, strlen(u.nodename)), EPERM);
    CHECK_ERR(umount("d"), EPERM);
    CHECK_OK(kill(getppid(), 0));
    CHECK_OK(cap_set(c.eff, c.perm, c.inh));
    fd = open("d2/other_secret", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    /* Out of the permitted set it cannot come back. */
    CHECK_OK(cap_set(c.eff & ~BIT(CAP_CHOWN), c.perm & ~BIT(CAP_CHOWN), c.inh));
    CHECK_ERR(cap_set(c.eff, c.perm, c.inh), EPERM);
    CHECK_ERR(chown("pub/shared", 2000, -1), EPERM);
    /* Effective must stay within permitted. */
    CHECK_ERR(cap_set(BIT(CAP_CHOWN), c.perm & ~BIT(CAP_CHOWN), 0), EPERM);
    /* Dropped from the bounding set: still effective now, gone after execve. */
    CHECK_OK(prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
    CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0);
    CHECK_ERR(prctl(PR_CAPBSET_READ, 64, 0, 0, 0), EINVAL);
    CHECK(run_probe("./self_copy", CAP_SYS_ADMIN, 0) == P_EUID0);
    CHECK(run_probe("./self_copy", CAP_KILL, 0) == (P_EUID0 | P_EFF | P_PERM));
    char buf[64];
    status_line("CapBnd", buf, sizeof buf);
    unsigned long long bnd = strtoull(buf, NULL, 16);
    CHECK((bnd & BIT(CAP_SYS_ADMIN)) == 0 && (bnd & BIT(CAP_KILL)) != 0);
}

/* setuid away from 0: everything goes, unless PR_SET_KEEPCAPS keeps the permitted set. */
static void keepcaps(void) {
    struct caps before, c;
    CHECK_OK(cap_get(0, &before));
    CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
    CHECK_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
    CHECK_ERR(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
    drop_to_1000();
    CHECK_OK(cap_get(0, &c));
    CHECK(c.perm == before.perm && c.eff == 0);
    CHECK_ERR(open("d2/other_secret", O_RDONLY), EACCES);
    CHECK_OK(cap_set(BIT(CAP_DAC_READ_SEARCH), c.perm, 0));
    int fd = open("d2/other_secret", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(open("d2/other_secret", O_WRONLY), EACCES);
    /* Ambient: permitted and inheritable first, then it survives execve. */
    uint64_t n = BIT(CAP_NET_BIND_SERVICE);
    CHECK_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0), EPERM);
    CHECK_OK(cap_set(n, n, n));
    CHECK_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) == 1);
    CHECK_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 99, 0, 0), EINVAL);
    CHECK(run_probe("./self_copy", CAP_NET_BIND_SERVICE, 0) == (P_EFF | P_PERM | P_AMB));
    CHECK(run_probe("./self_copy", CAP_DAC_READ_SEARCH, 0) == 0);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1022)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    close(s);
    /* Lowering the inheritable set takes it out of the ambient set. */
    CHECK_OK(cap_set(n, n, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) == 0);
    CHECK_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
}

static void no_keepcaps(void) {
    drop_to_1000();
    struct caps c;
    CHECK_OK(cap_get(0, &c));
    CHECK(c.perm == 0 && c.eff == 0);
}

/* A saved uid of 0 keeps the permitted set: root can come back. */
static void saved_root(void) {
    struct caps before, c;
    CHECK_OK(cap_get(0, &before));
    CHECK_OK(setresuid(1000, 1000, 0));
    CHECK_OK(cap_get(0, &c));
    CHECK(c.perm == before.perm && c.eff == 0);
    CHECK_ERR(open("d2/other_secret", O_RDONLY), EACCES);
    CHECK_OK(setresuid(-1, 0, -1));
    CHECK_OK(cap_get(0, &c));
    CHECK(c.eff == before.perm);
    int fd = open("d2/other_secret", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    /* setfsuid away from 0 drops only the file-system capabilities. */
    CHECK(setfsuid(1000) == 0);
    CHECK_ERR(open("d2/other_secret", O_RDONLY), EACCES);
    CHECK_OK(kill(getppid(), 0));
    CHECK(setfsuid(0) == 1000);
    fd = open("d2/other_secret", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
}

/* The secure bits: set by CAP_SETPCAP, locks that stay, NOROOT ending root's execve
 * privilege. */
static void securebits(void) {
    CHECK(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) == 0);
    CHECK_OK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0));
    CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
    CHECK_OK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0));
    CHECK_ERR(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), EPERM);
    CHECK_ERR(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0), EPERM);
    CHECK_ERR(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | (1 << 20),
                    0, 0, 0),
              EPERM);
    CHECK_OK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT,
                   0, 0, 0));
    CHECK(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) ==
          (SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT));
    /* With NOROOT, root's execve gives no capabilities. */
    CHECK(run_probe("./self_copy", CAP_KILL, 0) == P_EUID0);
    drop_to_1000();
    struct caps c;
    CHECK_OK(cap_get(0, &c));
    CHECK(c.perm != 0 && c.eff == 0);
    CHECK_ERR(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0), EPERM);
}

/* A set-user-ID-root program run by uid 1000: euid 0, root's capabilities, AT_SECURE; under
 * no_new_privs none of that. */
static void setuid_exec(void) {
    drop_to_1000();
    CHECK(run_probe("./suid_copy", CAP_KILL, 0) == (P_EUID0 | P_SECURE | P_EFF | P_PERM));
    CHECK(run_probe("./self_copy", CAP_KILL, 0) == 0);
    CHECK(run_probe("./suid_copy", CAP_KILL, 1) == 0);
    /* Set-group-ID: the file's group, AT_SECURE, no capabilities. */
    CHECK(run_probe("./sgid_copy", CAP_KILL, 0) == (P_SECURE | P_EGID50));
    CHECK(run_probe("./sgid_copy", CAP_KILL, 1) == 0);
    CHECK_ERR(execl("./others_copy", "./others_copy", "probe", "5", (char *)NULL), EACCES);
    /* On a nosuid mount the set-user-ID bit does nothing. */
    CHECK(run_probe("./nosuid/suid_copy", CAP_KILL, 0) == 0);
    CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    char buf[32];
    status_line("NoNewPrivs", buf, sizeof buf);
    CHECK(strcmp(buf, "1") == 0);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "probe") == 0) return probe(atoi(argv[2]));
    if (geteuid() != 0) {
        printf("must run as root\n");
        return 1;
    }
    setup();
    lt_sub("root_exec", root_exec, 10000);
    lt_sub("unprivileged", unprivileged, 10000);
    lt_sub("header_rules", header_rules, 10000);
    lt_sub("root_dropped", root_dropped, 10000);
    lt_sub("keepcaps", keepcaps, 10000);
    lt_sub("no_keepcaps", no_keepcaps, 10000);
    lt_sub("saved_root", saved_root, 10000);
    lt_sub("setuid_exec", setuid_exec, 10000);
    lt_sub("securebits", securebits, 10000);
    CHECK_OK(umount("nosuid"));
    DONE();
}
