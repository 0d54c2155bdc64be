/* Smaller calls: the old getdents record format (type in the record's last byte) against
 * getdents64, membarrier (query, registration rules, registrations), sync_file_range's
 * argument rules, ioprio_set/ioprio_get, process_vm_readv/writev, syslog (read only: the host's log
 * is left alone). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/klog.h>
#include <unistd.h>

struct old_dirent {
    unsigned long d_ino, d_off;
    unsigned short d_reclen;
    char d_name[];
};

static void getdents_old(void) {
#ifdef SYS_getdents
    char dir[] = "/tmp/gdXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[64];
    snprintf(p, sizeof p, "%s/file", dir);
    close(open(p, O_CREAT | O_WRONLY, 0600));
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0700);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[1024] __attribute__((aligned(8)));
    long n = syscall(SYS_getdents, fd, buf, sizeof buf);
    CHECK(n > 0);
    int seen = 0;
    for (long at = 0; at < n;) {
        struct old_dirent *d = (void *)(buf + at);
        char type = buf[at + d->d_reclen - 1];
        CHECK(d->d_reclen % 8 == 0);
        if (strcmp(d->d_name, "file") == 0) {
            CHECK(type == DT_REG);
            seen |= 1;
        } else if (strcmp(d->d_name, "sub") == 0) {
            CHECK(type == DT_DIR);
            seen |= 2;
        } else {
            CHECK(type == DT_DIR);
        }
        at += d->d_reclen;
    }
    CHECK(seen == 3);
    CHECK(syscall(SYS_getdents, fd, buf, sizeof buf) == 0);
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR(syscall(SYS_getdents, fd, buf, 10), EINVAL);
    close(fd);
    CHECK_ERR(syscall(SYS_getdents, 0x7fff, buf, sizeof buf), EBADF);
    rmdir(p);
    snprintf(p, sizeof p, "%s/file", dir);
    unlink(p);
    rmdir(dir);
#else
    /* getdents is x86_64 only: the asm-generic table (riscv64, aarch64) has getdents64 */
#endif
}

enum {
    QUERY = 0,
    GLOBAL = 1,
    PRIVATE_EXPEDITED = 8,
    REGISTER_PRIVATE_EXPEDITED = 16,
    PRIVATE_EXPEDITED_SYNC_CORE = 32,
    REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64,
    GET_REGISTRATIONS = 512,
};

static void membarrier_rules(void) {
    long q = syscall(SYS_membarrier, QUERY, 0, 0);
    CHECK(q >= 0);
    CHECK((q & (PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED)) ==
          (PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED));
    CHECK_ERR(syscall(SYS_membarrier, QUERY, 1, 0), EINVAL);
    CHECK_ERR(syscall(SYS_membarrier, 1 << 20, 0, 0), EINVAL);
    /* In a child, so the registrations start empty. */
    pid_t k = fork();
    if (k == 0) {
        int bad = 0;
        if (syscall(SYS_membarrier, PRIVATE_EXPEDITED, 0, 0) != -1 || errno != EPERM)
            bad |= 1;
        if (syscall(SYS_membarrier, REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0)
            bad |= 2;
        if (syscall(SYS_membarrier, PRIVATE_EXPEDITED, 0, 0) != 0)
            bad |= 4;
        if (syscall(SYS_membarrier, PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) != -1 || errno != EPERM)
            bad |= 8;
        if (syscall(SYS_membarrier, GET_REGISTRATIONS, 0, 0) != REGISTER_PRIVATE_EXPEDITED)
            bad |= 16;
        _exit(bad);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
}

static void sync_range(void) {
    char path[] = "/tmp/sfrXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    CHECK(write(fd, "data", 4) == 4);
    CHECK_OK(syscall(SYS_sync_file_range, fd, 0, 0, 7));
    CHECK_OK(syscall(SYS_sync_file_range, fd, 0, 4, 2));
    CHECK_ERR(syscall(SYS_sync_file_range, fd, 0, 0, 8), EINVAL);
    CHECK_ERR(syscall(SYS_sync_file_range, fd, -1L, 0L, 0), EINVAL);
    CHECK_ERR(syscall(SYS_sync_file_range, fd, 0L, -1L, 0), EINVAL);
    CHECK_ERR(syscall(SYS_sync_file_range, fd, INT64_MAX, 2, 0), EINVAL);
    CHECK_ERR(syscall(SYS_sync_file_range, 0x7fff, 0, 0, 0), EBADF);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(syscall(SYS_sync_file_range, p[0], 0, 0, 2), ESPIPE);
    close(fd);
}

static long ioset(int which, int who, int prio) { return syscall(SYS_ioprio_set, which, who, prio); }
static long ioget(int which, int who) { return syscall(SYS_ioprio_get, which, who); }

static void ioprio(void) {
    /* In a child in its own process group: the values are its own. */
    pid_t k = fork();
    if (k == 0) {
        setpgid(0, 0);
        int bad = 0;
        if (ioget(1, 0) != 0)
            bad |= 1;
        if (ioset(1, 0, 2 << 13 | 7) != 0 || ioget(1, 0) != (2 << 13 | 7))
            bad |= 2;
        if (ioset(1, 0, 1) != -1 || errno != EINVAL) /* class "none" takes no data */
            bad |= 4;
        if (ioset(1, 0, 5 << 13) != -1 || errno != EINVAL)
            bad |= 8;
        if (ioset(1, 0, 3 << 13 | 5) != 0 || ioget(1, 0) != (3 << 13 | 5))
            bad |= 16;
        if (ioget(9, 0) != -1 || errno != EINVAL || ioget(1, 0x3ffffff0) != -1 || errno != ESRCH)
            bad |= 32;
        /* A process group's value is the best of its members'. */
        if (ioset(2, 0, 2 << 13 | 2) != 0 || ioget(2, 0) != (2 << 13 | 2))
            bad |= 64;
        /* Children inherit it. */
        pid_t g = fork();
        if (g == 0)
            _exit(ioget(1, 0) == (2 << 13 | 2) ? 0 : 1);
        int st;
        waitpid(g, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad |= 128;
        _exit(bad);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
}

static char shared_buf[64] = "parent";

static void vm_copy(void) {
    int go[2], done[2];
    CHECK_OK(pipe(go));
    CHECK_OK(pipe(done));
    pid_t k = fork();
    if (k == 0) {
        strcpy(shared_buf, "written by the child");
        char c;
        write(done[1], "r", 1);
        read(go[0], &c, 1); /* the parent has written into us */
        _exit(strcmp(shared_buf, "from the parent") == 0 ? 0 : 1);
    }
    char c;
    read(done[0], &c, 1);
    char got[64] = {0}, got2[4] = {0};
    struct iovec local[2] = {{got, 8}, {got2, 4}}, remote = {shared_buf, 12};
    CHECK(process_vm_readv(k, local, 2, &remote, 1, 0) == 12);
    CHECK(memcmp(got, "written ", 8) == 0 && memcmp(got2, "by t", 4) == 0);
    /* A remote range that becomes unreadable ends the copy short; none at all is EFAULT. */
    struct iovec bad[2] = {{shared_buf, 4}, {(void *)8, 4}};
    struct iovec one = {got, 16};
    CHECK(process_vm_readv(k, &one, 1, bad, 2, 0) == 4);
    CHECK_ERR(process_vm_readv(k, &one, 1, &bad[1], 1, 0), EFAULT);
    CHECK_ERR(process_vm_readv(k, &one, 1, &remote, 1, 1), EINVAL);
    CHECK_ERR(process_vm_readv(0x3ffffff0, &one, 1, &remote, 1, 0), ESRCH);
    CHECK_ERR(process_vm_readv(k, &one, 1025, &remote, 1, 0), EINVAL);
    struct iovec src = {"from the parent", 16}, dst = {shared_buf, 16};
    CHECK(process_vm_writev(k, &src, 1, &dst, 1, 0) == 16);
    write(go[1], "g", 1);
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
    /* Itself too. */
    struct iovec me = {shared_buf, 6};
    CHECK(process_vm_readv(getpid(), &one, 1, &me, 1, 0) == 6 && memcmp(got, "parent", 6) == 0);
}

static void kernel_log(void) {
    int size = klogctl(10, NULL, 0);
    CHECK(size > 0);
    char *buf = malloc(size);
    int n = klogctl(3, buf, size);
    CHECK(n >= 0 && n <= size);
    CHECK(n == 0 || buf[0] == '<');
    CHECK(klogctl(9, NULL, 0) >= 0);
    CHECK_ERR(klogctl(3, NULL, 10), EINVAL);
    CHECK_ERR(klogctl(3, buf, -1), EINVAL);
    CHECK(klogctl(3, buf, 0) == 0);
    CHECK_ERR(klogctl(8, NULL, 0), EINVAL);
    CHECK_ERR(klogctl(99, NULL, 0), EINVAL);
    free(buf);
    /* With dmesg_restrict (Debian's default), an unprivileged user may not read it. */
    pid_t k = fork();
    if (k == 0) {
        if (setuid(65534) != 0)
            _exit(2);
        char b[64];
        _exit(klogctl(3, b, sizeof b) == -1 && errno == EPERM ? 0 : 1);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
}

/* sysfs(2): file system types by name and index, consistent with each other. */
static void fs_types(void) {
#ifdef SYS_sysfs
    long n = syscall(SYS_sysfs, 3);
    CHECK(n > 0);
    long i = syscall(SYS_sysfs, 1, "proc");
    CHECK(i >= 0 && i < n);
    char name[64] = {0};
    CHECK_OK(syscall(SYS_sysfs, 2, i, name));
    CHECK(strcmp(name, "proc") == 0);
    CHECK_ERR(syscall(SYS_sysfs, 1, "no-such-fs"), EINVAL);
    CHECK_ERR(syscall(SYS_sysfs, 2, n, name), EINVAL);
    CHECK_ERR(syscall(SYS_sysfs, 4), EINVAL);
    CHECK_ERR(syscall(SYS_sysfs, 1, (char *)8), EFAULT);
#else
    /* sysfs(2) is not in the asm-generic table (riscv64, aarch64) */
#endif
}

/* ustat: a mounted file system's free counts by device number. */
static void ustat_calls(void) {
#ifdef SYS_ustat
    struct stat st;
    CHECK_OK(stat("/proc", &st));
    struct {
        int tfree;
        unsigned long tinode;
        char fname[6], fpack[6];
    } u;
    memset(&u, 0x55, sizeof u);
    CHECK_OK(syscall(SYS_ustat, (unsigned)st.st_dev, &u));
    CHECK(u.tfree == 0 && u.fname[0] == 0 && u.fpack[0] == 0);
    CHECK_ERR(syscall(SYS_ustat, 0xfffffu, &u), EINVAL);
    CHECK_ERR(syscall(SYS_ustat, (unsigned)st.st_dev, (void *)8), EFAULT);
#else
    /* ustat is not in the asm-generic table (riscv64, aarch64) */
#endif
}

/* vmsplice: user memory into a pipe and back out. */
static void vmsplice_calls(void) {
    int p[2];
    CHECK_OK(pipe(p));
    struct iovec in[2] = {{"hello ", 6}, {"world", 5}};
    CHECK(vmsplice(p[1], in, 2, 0) == 11);
    char a[4] = {0}, b[16] = {0};
    struct iovec out[2] = {{a, 4}, {b, 16}};
    CHECK(vmsplice(p[0], out, 2, 0) == 11);
    CHECK(memcmp(a, "hell", 4) == 0 && memcmp(b, "o world", 7) == 0);
    CHECK_ERR(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK), EAGAIN);
    CHECK_ERR(vmsplice(p[1], in, 2, 0x100), EINVAL);
    int fd = open("/proc/self/stat", O_RDONLY);
    CHECK_ERR(vmsplice(fd, out, 1, 0), EBADF);
    close(fd);
    close(p[0]);
    close(p[1]);
}

int main(void) {
    vmsplice_calls();
    ustat_calls();
    fs_types();
    kernel_log();
    vm_copy();
    ioprio();
    getdents_old();
    membarrier_rules();
    sync_range();
    DONE();
}
