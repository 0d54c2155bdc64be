/* File capabilities (security.capability) at execve: a copy of this program with
 * CAP_NET_RAW permitted and effective, run by uid 1000 without capabilities, starts with
 * CAP_NET_RAW effective and AT_SECURE set; without the effective bit it is only permitted;
 * with CAP_NET_RAW out of the bounding set execve fails with EPERM. setxattr refuses a
 * malformed value (EINVAL); chown removes them. Needs root (passes trivially otherwise). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

static int dirfd_;

static uint64_t caps(int which) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) return ~0ull;
    if (which == 0) return d[0].effective | (uint64_t)d[1].effective << 32;
    return d[0].permitted | (uint64_t)d[1].permitted << 32;
}

static void set_caps(const char *path, int effective) {
    uint32_t v[5] = {0x02000000u | (effective ? 1 : 0), 1u << CAP_NET_RAW, 0, 0, 0};
    CHECK_OK(setxattr(path, "security.capability", v, sizeof v, 0));
}

static void run_as_user(const char *mode, int drop_bset, int expect_errno) {
    pid_t pid = fork();
    if (pid == 0) {
        if (fchdir(dirfd_) != 0) _exit(20);
        if (drop_bset && prctl(PR_CAPBSET_DROP, CAP_NET_RAW) != 0) _exit(21);
        if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) _exit(22);
        if (caps(1) != 0) _exit(23);
        char *argv[] = {"capprog", (char *)mode, NULL};
        char *envp[] = {NULL};
        execve("capprog", argv, envp);
        _exit(errno == expect_errno ? 0 : 24);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_EXIT(st, 0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    uint64_t raw = 1ull << CAP_NET_RAW;
    if (argc > 1 && !strcmp(argv[1], "eff")) {
        /* The copy with file capabilities, run by uid 1000. */
        CHECK(getuid() == 1000 && geteuid() == 1000);
        CHECK(caps(0) == raw && caps(1) == raw);
        CHECK(getauxval(AT_SECURE) == 1);
        DONE();
    }
    if (argc > 1 && !strcmp(argv[1], "perm")) {
        CHECK(caps(0) == 0 && caps(1) == raw);
        DONE();
    }
    if (getuid() != 0) DONE();
    CHECK_OK(mkdir("caps.d", 0777));
    CHECK_OK(chmod("caps.d", 0777));
    dirfd_ = open("caps.d", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd_ >= 0);
    /* A copy of this program. */
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open("caps.d/capprog", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    CHECK(in >= 0 && out >= 0);
    static char buf[65536];
    long n;
    while ((n = read(in, buf, sizeof buf)) > 0) CHECK(write(out, buf, n) == n);
    close(in);
    close(out);
    CHECK_OK(chmod("caps.d/capprog", 0755));
    /* Malformed values. */
    uint32_t v1[3] = {0x01000000u, 1, 0};
    CHECK_ERR(setxattr("caps.d/capprog", "security.capability", v1, sizeof v1, 0), EINVAL);
    CHECK_ERR(setxattr("caps.d/capprog", "security.capability", v1, 7, 0), EINVAL);
    set_caps("caps.d/capprog", 1);
    CHECK(getxattr("caps.d/capprog", "security.capability", buf, sizeof buf) == 20);
    run_as_user("eff", 0, 0);
    run_as_user("eff", 1, EPERM);
    set_caps("caps.d/capprog", 0);
    run_as_user("perm", 0, 0);
    /* chown removes them, even a chown to the same owner by root. */
    CHECK_OK(chown("caps.d/capprog", 0, 0));
    CHECK_ERR(getxattr("caps.d/capprog", "security.capability", buf, sizeof buf), ENODATA);
    set_caps("caps.d/capprog", 1);
    CHECK_OK(removexattr("caps.d/capprog", "security.capability"));
    CHECK_ERR(getxattr("caps.d/capprog", "security.capability", buf, sizeof buf), ENODATA);
    unlink("caps.d/capprog");
    close(dirfd_);
    CHECK_OK(rmdir("caps.d"));
    DONE();
}
