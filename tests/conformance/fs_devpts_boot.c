/* /dev/pts is a devpts mount, as on every Linux system (systemd and Debian's initramfs mount
 * it; Lintel's kernel does at boot): statfs gives DEVPTS_SUPER_MAGIC, /proc/self/mountinfo
 * shows it as devpts, its ptmx is a 5:2 node, and a pty opened through /dev/ptmx has its
 * slave node in it. /dev/ptmx opens in the devpts mounted on the `pts` beside it, the top
 * one when two are stacked there (Linux's devpts_ptmx_path since 4.7): checked on a private
 * tmpfs with a ptmx node of its own, so the system's /dev/pts is left alone. As root, on the
 * host too. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <dirent.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#define DEVPTS_SUPER_MAGIC 0x1cd1

/* The file system type /proc/self/mountinfo gives the last mount at `point` ("" if none). */
static const char *mountinfo_type(const char *point) {
    static char buf[65536], type[64];
    type[0] = 0;
    read_all("/proc/self/mountinfo", buf, sizeof buf);
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        char pt[256];
        char *sep = strstr(p, " - ");
        if (sep && sscanf(p, "%*s %*s %*s %*s %255s", pt) == 1 && strcmp(pt, point) == 0)
            sscanf(sep + 3, "%63s", type);
    }
    return type;
}

/* The pty number of master `fd` (-1 on error). */
static int ptn(int fd) {
    unsigned n;
    return ioctl(fd, TIOCGPTN, &n) == 0 ? (int)n : -1;
}

/* Whether folder `dir` has an entry `name`. */
static int has(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, name) == 0) found = 1;
    if (d) closedir(d);
    return found;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    /* The system's /dev/pts. */
    struct statfs sf;
    CHECK_OK(statfs("/dev/pts", &sf));
    CHECK((unsigned long)sf.f_type == DEVPTS_SUPER_MAGIC);
    CHECK(strcmp(mountinfo_type("/dev/pts"), "devpts") == 0);
    struct stat st, pts;
    CHECK_OK(stat("/dev/pts", &pts));
    CHECK_OK(stat("/dev/pts/ptmx", &st));
    CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 2);
    CHECK(st.st_dev == pts.st_dev);
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    char name[64];
    CHECK_OK(ptsname_r(m, name, sizeof name));
    CHECK(strncmp(name, "/dev/pts/", 9) == 0);
    CHECK_OK(stat(name, &st));
    CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 && st.st_dev == pts.st_dev);
    if (m >= 0) close(m);

    /* ptmx opens in the devpts on the `pts` beside it; with two stacked, in the top one. */
    scratch_tmpfs("/tmp/lt_ptsboot_XXXXXX", "size=1m");
    CHECK_OK(mknod(at("ptmx"), S_IFCHR | 0666, makedev(5, 2)));
    CHECK_OK(mkdir(at("pts"), 0755));
    CHECK_OK(mount("devpts", at("pts"), "devpts", 0, "mode=600"));
    int a = open(at("ptmx"), O_RDWR | O_NOCTTY);
    CHECK(a >= 0 && ptn(a) == 0);
    CHECK(has(at("pts"), "0"));
    CHECK_OK(mount("devpts", at("pts"), "devpts", 0, "mode=600"));
    CHECK(!has(at("pts"), "0"));
    int b = open(at("ptmx"), O_RDWR | O_NOCTTY);
    CHECK(b >= 0 && ptn(b) == 0);
    CHECK(has(at("pts"), "0"));
    if (b >= 0) close(b);
    CHECK(!has(at("pts"), "0"));
    CHECK_OK(umount2(at("pts"), 0));
    /* The first instance again, its pty still there. */
    CHECK(has(at("pts"), "0"));
    if (a >= 0) close(a);
    CHECK_OK(umount2(at("pts"), 0));
    scratch_done();
    DONE();
}
