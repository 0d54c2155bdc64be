/* Per-mount flags (as root, on a fresh private tmpfs, on the host too): MS_REMOUNT with
 * MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME, MS_NODIRATIME; each remount replacing
 * the flags; statfs's f_flags and statvfs's f_flag (ST_*), /proc/mounts' options; EROFS on a
 * read-only mount, EACCES from execve and EPERM from mmap(PROT_EXEC) on a noexec mount, set-id
 * bits ignored on a nosuid mount; EINVAL remounting what is not a mount point. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Whether the comma-separated `opts` holds `opt`. */
static int has_opt(const char *opts, const char *opt) {
    size_t n = strlen(opt);
    for (const char *p = opts; p && *p;) {
        if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == 0)) return 1;
        p = strchr(p, ',');
        if (p) p++;
    }
    return 0;
}

static unsigned long fflags(void) {
    struct statfs s;
    memset(&s, 0, sizeof s);
    CHECK_OK(statfs(base, &s));
    struct statvfs v;
    CHECK_OK(statvfs(base, &v));
    /* glibc's statvfs leaves out ST_VALID (0x20), musl's keeps it. */
    CHECK((v.f_flag & ~0x20ul) == ((unsigned long)s.f_flags & ~0x20ul));
    return s.f_flags;
}

/* Runs `prog euid` as user 65534: its exit status is 0 when it ran as euid 0. */
static int run_euid(const char *prog) {
    pid_t p = fork();
    if (p == 0) {
        if (setgid(65534) || setuid(65534)) _exit(100);
        execl(prog, prog, "euid", (char *)0);
        _exit(errno == EACCES ? 101 : 102);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "euid") == 0) return geteuid() == 0 ? 0 : 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_remount_XXXXXX", "size=8m,mode=0755");
    copy_self(at("prog"), 04755);
    unsigned long f = fflags();
    CHECK((f & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)) == 0);
    CHECK(f & ST_RELATIME);
    CHECK(has_opt(mounts_opts(base), "rw"));
    CHECK(has_opt(mounts_opts(base), "relatime"));
    /* The set-user-ID copy runs as root for user 65534. */
    CHECK(run_euid(at("prog")) == 0);

    /* nosuid: set-id bits ignored. */
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT | MS_NOSUID, "size=8m"));
    f = fflags();
    CHECK(f & ST_NOSUID);
    CHECK(!(f & (ST_NOEXEC | ST_RDONLY)));
    CHECK(has_opt(mounts_opts(base), "nosuid"));
    CHECK(run_euid(at("prog")) == 1);

    /* noexec (replacing nosuid): execve EACCES, mmap(PROT_EXEC) EPERM. */
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT | MS_NOEXEC | MS_NODEV, NULL));
    f = fflags();
    CHECK(f & ST_NOEXEC);
    CHECK(f & ST_NODEV);
    CHECK(!(f & ST_NOSUID));
    const char *o = mounts_opts(base);
    CHECK(has_opt(o, "noexec") && has_opt(o, "nodev") && !has_opt(o, "nosuid"));
    CHECK(run_euid(at("prog")) == 101);
    CHECK_ERR(execl(at("prog"), "prog", "euid", (char *)0), EACCES);
    int fd = open(at("prog"), O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED &&
              errno == EPERM);
        void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        CHECK(m != MAP_FAILED);
        if (m != MAP_FAILED) {
            CHECK_ERR(mprotect(m, 4096, PROT_READ | PROT_EXEC), EACCES);
            munmap(m, 4096);
        }
        close(fd);
    }

    /* noatime, nodiratime. */
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT | MS_NOATIME | MS_NODIRATIME, NULL));
    f = fflags();
    CHECK(f & ST_NOATIME);
    CHECK(f & ST_NODIRATIME);
    CHECK(!(f & (ST_NOEXEC | ST_NODEV | ST_RELATIME)));
    o = mounts_opts(base);
    CHECK(has_opt(o, "noatime") && has_opt(o, "nodiratime") && !has_opt(o, "relatime"));
    CHECK(run_euid(at("prog")) == 0);

    /* Read-only: EROFS, then writable again. */
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT | MS_RDONLY, NULL));
    f = fflags();
    CHECK(f & ST_RDONLY);
    CHECK(has_opt(mounts_opts(base), "ro"));
    CHECK_ERR(open(at("new"), O_WRONLY | O_CREAT, 0644), EROFS);
    CHECK_ERR(open(at("prog"), O_RDWR), EROFS);
    CHECK_ERR(mkdir(at("d"), 0755), EROFS);
    CHECK_ERR(unlink(at("prog")), EROFS);
    CHECK_ERR(chown(at("prog"), 1, 1), EROFS);
    CHECK_OK(access(at("prog"), R_OK));
    CHECK_ERR(access(at("prog"), W_OK), EROFS);
    fd = open(at("prog"), O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT, NULL));
    CHECK(!(fflags() & ST_RDONLY));
    CHECK(has_opt(mounts_opts(base), "rw"));
    fd = open(at("new"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);

    /* Only mount points can be remounted. */
    CHECK_OK(mkdir(at("d"), 0755));
    CHECK_ERR(mount(NULL, at("d"), NULL, MS_REMOUNT, NULL), EINVAL);
    CHECK_ERR(mount(NULL, at("d"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), EINVAL);
    CHECK_ERR(mount(NULL, at("nothing"), NULL, MS_REMOUNT, NULL), ENOENT);

    scratch_done();
    DONE();
}
