/* mount -t devpts and its options (as root, on a private tmpfs, on the host too): Linux's
 * uid=, gid=, mode=, ptmxmode= (octal, kept to 07777), newinstance and max= are taken and
 * shown in /proc/mounts as devpts_show_options prints them; anything else — unknown words,
 * per-mount ones like "nosuid", bad numbers, "newinstance=1", max below 0 — is EINVAL, on
 * mount and on MS_REMOUNT. Every remount starts from the defaults (mode=600, ptmxmode=000,
 * no uid/gid, no max); "ro" makes the mount read-only. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The /proc/mounts options of the devpts mount point `pt` are `want`. */
static void check_opts(const char *pt, const char *want) {
    const char *o = mounts_opts(pt);
    CHECK(strcmp(o, want) == 0);
    if (strcmp(o, want) != 0) printf("%s: options '%s', expected '%s'\n", pt, o, want);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_devpts_XXXXXX", "size=1m");
    CHECK_OK(mkdir(at("p"), 0755));
    const char *p = at("p");

    static const char *bad[] = {"bogus",    "mode=",        "mode=x",      "mode=8",
                                "gid=-1",   "uid=abc",      "uid=12abc",   "max=-1",
                                "max=1048577", "newinstance=1", "nosuid",  "defaults",
                                "size=1m",  "uid",          "rw,bogus"};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        int r = mount("devpts", p, "devpts", 0, bad[i]);
        CHECK(r == -1 && errno == EINVAL);
        if (r != -1 || errno != EINVAL) {
            printf("mount -o %s: %d errno %d\n", bad[i], r, errno);
            if (r == 0) umount2(p, 0);
        }
    }

    static const struct {
        const char *opts, *shown;
    } good[] = {
        {"", "rw,relatime,mode=600,ptmxmode=000"},
        {"newinstance", "rw,relatime,mode=600,ptmxmode=000"},
        {"mode=0777777", "rw,relatime,mode=7777,ptmxmode=000"},
        {"ptmxmode=1777", "rw,relatime,mode=600,ptmxmode=1777"},
        {"mode=620,gid=5", "rw,relatime,gid=5,mode=620,ptmxmode=000"},
        {"max=0", "rw,relatime,mode=600,ptmxmode=000,max=0"},
        {"uid=1000,gid=1000,mode=0600,ptmxmode=0666,max=2",
         "rw,relatime,uid=1000,gid=1000,mode=600,ptmxmode=666,max=2"},
        {"ro,mode=620", "ro,relatime,mode=620,ptmxmode=000"},
    };
    for (unsigned i = 0; i < sizeof good / sizeof *good; i++) {
        int r = mount("devpts", p, "devpts", 0, good[i].opts);
        CHECK(r == 0);
        if (r != 0) {
            printf("mount -o '%s': errno %d\n", good[i].opts, errno);
            continue;
        }
        check_opts(p, good[i].shown);
        struct stat st;
        CHECK_OK(stat(p, &st));
        CHECK(S_ISDIR(st.st_mode));
        CHECK_OK(umount2(p, 0));
    }

    /* Remounts: checked as mounts, each from the defaults. */
    CHECK_OK(mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,max=10"));
    check_opts(p, "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000,max=10");
    CHECK_ERR(mount(NULL, p, NULL, MS_REMOUNT | MS_NOSUID | MS_NOEXEC, "bogus"), EINVAL);
    CHECK_ERR(mount(NULL, p, NULL, MS_REMOUNT | MS_NOSUID | MS_NOEXEC, "max=-1"), EINVAL);
    check_opts(p, "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000,max=10");
    CHECK_OK(mount(NULL, p, NULL, MS_REMOUNT | MS_NOSUID | MS_NOEXEC, "mode=0644,ptmxmode=0600"));
    check_opts(p, "rw,nosuid,noexec,relatime,mode=644,ptmxmode=600");
    CHECK_OK(mount(NULL, p, NULL, MS_REMOUNT | MS_NOSUID | MS_NOEXEC, "ro"));
    check_opts(p, "ro,nosuid,noexec,relatime,mode=600,ptmxmode=000");
    CHECK_OK(mount(NULL, p, NULL, MS_REMOUNT | MS_NOSUID | MS_NOEXEC, "rw,uid=5"));
    check_opts(p, "rw,nosuid,noexec,relatime,uid=5,mode=600,ptmxmode=000");
    CHECK_OK(umount2(p, 0));

    scratch_done();
    DONE();
}
