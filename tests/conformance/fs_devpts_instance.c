/* devpts instances (as root, on a private tmpfs, on the host too): since Linux 4.7 every
 * `mount -t devpts` is a new instance with its own `ptmx` node (mode ptmxmode=, owner root,
 * 5:2) opening ptys numbered from 0 in that instance alone; the slave nodes it makes take
 * uid=, gid= (else the opener's) and mode=; max= limits its ptys (ENOSPC); statfs gives
 * DEVPTS_SUPER_MAGIC; a remount's ptmxmode= reaches the ptmx node; a pty opened through
 * /dev/ptmx appears in neither instance. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DEVPTS_SUPER_MAGIC 0x1cd1

/* The pty number of master `fd` (-1 on error). */
static int ptn(int fd) {
    unsigned n;
    return ioctl(fd, TIOCGPTN, &n) == 0 ? (int)n : -1;
}

/* How many entries folder `path` has besides . and .. */
static int entries(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

/* Node `path` is a character device `ma:mi` with permission bits `mode`, owner `uid:gid`. */
static void check_node(const char *path, unsigned ma, unsigned mi, mode_t mode, uid_t uid,
                       gid_t gid) {
    struct stat st;
    CHECK_OK(stat(path, &st));
    int ok = S_ISCHR(st.st_mode) && (st.st_mode & 07777) == mode && major(st.st_rdev) == ma &&
             minor(st.st_rdev) == mi && st.st_uid == uid && st.st_gid == gid;
    CHECK(ok);
    if (!ok)
        printf("%s: mode %o rdev %u:%u owner %u:%u\n", path, st.st_mode, major(st.st_rdev),
               minor(st.st_rdev), st.st_uid, st.st_gid);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_ptsinst_XXXXXX", "size=1m");
    CHECK_OK(mkdir(at("p"), 0755));
    CHECK_OK(mkdir(at("q"), 0755));
    CHECK_OK(mount("devpts", at("p"), "devpts", 0,
                   "uid=1000,gid=5,mode=0640,ptmxmode=0666,max=2"));
    CHECK_OK(mount("devpts", at("q"), "devpts", 0, "ptmxmode=0600"));
    CHECK(strcmp(mounts_opts(at("p")), "rw,relatime,uid=1000,gid=5,mode=640,ptmxmode=666,max=2") ==
          0);

    struct statfs sf;
    CHECK_OK(statfs(at("p"), &sf));
    CHECK((unsigned long)sf.f_type == DEVPTS_SUPER_MAGIC);
    check_node(at("p/ptmx"), 5, 2, 0666, 0, 0);
    check_node(at("q/ptmx"), 5, 2, 0600, 0, 0);
    CHECK(entries(at("p")) == 1);

    /* Numbered in the instance, from 0; max=2. */
    int m0 = open(at("p/ptmx"), O_RDWR | O_NOCTTY);
    int m1 = open(at("p/ptmx"), O_RDWR | O_NOCTTY);
    CHECK(m0 >= 0 && m1 >= 0);
    CHECK(ptn(m0) == 0 && ptn(m1) == 1);
    CHECK_ERR(open(at("p/ptmx"), O_RDWR | O_NOCTTY), ENOSPC);
    check_node(at("p/0"), 136, 0, 0640, 1000, 5);
    check_node(at("p/1"), 136, 1, 0640, 1000, 5);

    /* The other instance numbers its own, with the opener as owner and mode 600. */
    int n0 = open(at("q/ptmx"), O_RDWR | O_NOCTTY);
    CHECK(n0 >= 0 && ptn(n0) == 0);
    check_node(at("q/0"), 136, 0, 0600, geteuid(), getegid());
    CHECK(entries(at("q")) == 2);
    CHECK(entries(at("p")) == 3);

    /* /dev/ptmx opens in the /dev/pts instance: nothing appears here. */
    int d = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    CHECK(d >= 0);
    CHECK(entries(at("p")) == 3 && entries(at("q")) == 2);
    if (d >= 0) close(d);

    /* The slave of the instance works. */
    int unlock = 0;
    CHECK_OK(ioctl(m0, TIOCSPTLCK, &unlock));
    int s = open(at("p/0"), O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    char c = 0;
    CHECK(write(s, "x", 1) == 1);
    CHECK(read(m0, &c, 1) == 1 && c == 'x');
    if (s >= 0) close(s);

    /* A remount's ptmxmode reaches the ptmx node. */
    CHECK_OK(mount(NULL, at("q"), NULL, MS_REMOUNT, "ptmxmode=0644"));
    check_node(at("q/ptmx"), 5, 2, 0644, 0, 0);

    /* Closing the master removes its slave node. */
    if (m0 >= 0) close(m0);
    CHECK_ERR(access(at("p/0"), F_OK), ENOENT);
    if (m1 >= 0) close(m1);
    if (n0 >= 0) close(n0);
    CHECK_OK(umount2(at("p"), 0));
    CHECK_OK(umount2(at("q"), 0));
    scratch_done();
    DONE();
}
