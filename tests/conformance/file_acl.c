/* Extended attributes in every namespace and POSIX ACLs, on the test directory's file system
 * (tmpfs, then ext4): trusted.* and security.* as root and what an unprivileged user sees of
 * them; ERANGE/E2BIG/EEXIST/ENODATA; EOPNOTSUPP on /proc; ACLs in the xattr format (version
 * 2) enforced for uid 1000 (named user, mask, chmod rewriting the mask), an ACL equal to the
 * mode becoming the mode, invalid ones refused, only the owner setting one, and default ACLs
 * inherited by new files and directories (the umask ignored then). Needs root (passes
 * trivially otherwise) and a file system with ACLs (Linux's tmpfs and ext4). A change is
 * an IN_ATTRIB event. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/xattr.h>

#define ACCESS "system.posix_acl_access"
#define DEFAULT "system.posix_acl_default"

enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };
struct ent {
    uint16_t tag, perm;
    uint32_t id;
};
struct acl {
    uint32_t version;
    struct ent e[8];
};
#define NOID 0xffffffffu

static int dirfd_;
static char buf[1024];

/* Builds an ACL from (tag, perm, id) triples; returns its size in bytes. */
static size_t make(struct acl *a, int n, const struct ent *e) {
    a->version = 2;
    memcpy(a->e, e, n * sizeof *e);
    return 4 + n * sizeof *e;
}

static int perm_of(const char *path, const char *name, int tag) {
    struct acl a;
    long n = getxattr(path, name, &a, sizeof a);
    if (n < 4) return -1;
    for (int i = 0; i < (n - 4) / 8; i++)
        if (a.e[i].tag == tag) return a.e[i].perm;
    return -1;
}

static void as_user(void) {
    CHECK_OK(fchdir(dirfd_));
    CHECK_OK(setresgid(1000, 1000, 1000));
    CHECK_OK(setgroups(0, NULL));
    CHECK_OK(setresuid(1000, 1000, 1000));
}

/* uid 1000 may read "af" (named user r) but not write it. */
static void user_reads(void) {
    as_user();
    int fd = open("af", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(open("af", O_WRONLY), EACCES);
    CHECK_OK(access("af", R_OK));
    CHECK_ERR(access("af", W_OK), EACCES);
    /* Not the owner: no setting ACLs, no trusted.* */
    struct acl a;
    size_t n = make(&a, 3, (struct ent[]){{USER_OBJ, 7, NOID}, {GROUP_OBJ, 7, NOID}, {OTHER, 7, NOID}});
    CHECK_ERR(setxattr("af", ACCESS, &a, n, 0), EPERM);
    CHECK_ERR(getxattr("af", "trusted.t", buf, sizeof buf), ENODATA);
    CHECK_ERR(setxattr("af", "trusted.t", "x", 1, 0), EPERM);
    CHECK_ERR(setxattr("af", "security.s", "x", 1, 0), EPERM);
    long len = listxattr("af", buf, sizeof buf);
    CHECK(len > 0);
    for (long i = 0; i < len; i += strlen(buf + i) + 1) CHECK(strncmp(buf + i, "trusted.", 8) != 0);
    /* The ACL can be read by anyone who can reach the file. */
    CHECK(getxattr("af", ACCESS, buf, sizeof buf) > 0);
}

/* After chmod 0600 the mask is empty: uid 1000 reads nothing. */
static void user_denied(void) {
    as_user();
    CHECK_ERR(open("af", O_RDONLY), EACCES);
}

/* uid 1000 creates in the directory its named entry lets it write to. */
static void user_creates(void) {
    as_user();
    int fd = open("dd/byuser", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
}

static void test_namespaces(void) {
    int fd = open("xf", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK_OK(fsetxattr(fd, "trusted.t", "T", 1, 0));
    CHECK_OK(fsetxattr(fd, "security.s", "S", 1, 0));
    /* A change is an IN_ATTRIB event. */
    int in = inotify_init1(IN_NONBLOCK);
    CHECK(in >= 0 && inotify_add_watch(in, "xf", IN_ATTRIB) >= 0);
    CHECK_OK(fsetxattr(fd, "user.u", "U", 1, XATTR_CREATE));
    struct inotify_event ev;
    CHECK(read(in, &ev, sizeof ev) == sizeof ev && (ev.mask & IN_ATTRIB));
    close(in);
    CHECK_ERR(fsetxattr(fd, "user.u", "U", 1, XATTR_CREATE), EEXIST);
    CHECK_ERR(fsetxattr(fd, "user.v", "V", 1, XATTR_REPLACE), ENODATA);
    CHECK(fgetxattr(fd, "trusted.t", buf, sizeof buf) == 1 && buf[0] == 'T');
    CHECK(fgetxattr(fd, "security.s", buf, sizeof buf) == 1 && buf[0] == 'S');
    CHECK(fgetxattr(fd, "user.u", NULL, 0) == 1);
    long n = flistxattr(fd, NULL, 0);
    CHECK(n == (long)(sizeof "trusted.t" + sizeof "security.s" + sizeof "user.u"));
    CHECK_ERR(flistxattr(fd, buf, n - 1), ERANGE);
    CHECK(flistxattr(fd, buf, sizeof buf) == n);
    int seen = 0;
    for (long i = 0; i < n; i += strlen(buf + i) + 1)
        seen |= (strcmp(buf + i, "trusted.t") == 0) | (strcmp(buf + i, "security.s") == 0) << 1 |
                (strcmp(buf + i, "user.u") == 0) << 2;
    CHECK(seen == 7);
    /* A value of a few KiB is fine on ext4's 4 KiB blocks and tmpfs; one over 64 KiB never. */
    static char big[65537];
    memset(big, 'b', sizeof big);
    CHECK_OK(fsetxattr(fd, "user.big", big, 3000, 0));
    CHECK(fgetxattr(fd, "user.big", big, sizeof big) == 3000);
    CHECK_ERR(fgetxattr(fd, "user.big", buf, 100), ERANGE);
    CHECK_ERR(fsetxattr(fd, "user.big", big, sizeof big, 0), E2BIG);
    CHECK_OK(fremovexattr(fd, "user.big"));
    CHECK_OK(fremovexattr(fd, "trusted.t"));
    CHECK_ERR(fremovexattr(fd, "trusted.t"), ENODATA);
    CHECK_ERR(fsetxattr(fd, "user.", "x", 1, 0), EINVAL);
    CHECK_ERR(fsetxattr(fd, "system.other", "x", 1, 0), EOPNOTSUPP);
    close(fd);
    unlink("xf");
    /* procfs keeps none. */
    CHECK_ERR(getxattr("/proc/self/status", "user.x", buf, sizeof buf), EOPNOTSUPP);
    CHECK_ERR(setxattr("/proc/self/status", "user.x", "x", 1, 0), EOPNOTSUPP);
}

static void test_access_acl(void) {
    int fd = open("af", O_CREAT | O_RDWR, 0640);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(chmod("af", 0640));
    CHECK_OK(setxattr("af", "trusted.t", "T", 1, 0));
    CHECK_ERR(getxattr("af", ACCESS, buf, sizeof buf), ENODATA);
    /* Invalid ACLs: out of order, no mask beside a named user, a bad version. */
    struct acl a;
    size_t n = make(&a, 3, (struct ent[]){{GROUP_OBJ, 4, NOID}, {USER_OBJ, 6, NOID}, {OTHER, 0, NOID}});
    CHECK_ERR(setxattr("af", ACCESS, &a, n, 0), EINVAL);
    n = make(&a, 4, (struct ent[]){{USER_OBJ, 6, NOID}, {USER, 4, 1000}, {GROUP_OBJ, 4, NOID}, {OTHER, 0, NOID}});
    CHECK_ERR(setxattr("af", ACCESS, &a, n, 0), EINVAL);
    n = make(&a, 5, (struct ent[]){{USER_OBJ, 6, NOID}, {USER, 4, 1000}, {GROUP_OBJ, 0, NOID}, {MASK, 4, NOID}, {OTHER, 0, NOID}});
    a.version = 1;
    CHECK_ERR(setxattr("af", ACCESS, &a, n, 0), EOPNOTSUPP);
    a.version = 2;
    CHECK_ERR(setxattr("af", ACCESS, &a, n - 1, 0), EINVAL);
    /* A default ACL on a file: EACCES. */
    CHECK_ERR(setxattr("af", DEFAULT, &a, n, 0), EACCES);
    /* owner rw, user 1000 r, group none, mask r, other none: the mode's group bits are the
     * mask. */
    CHECK_OK(setxattr("af", ACCESS, &a, n, 0));
    struct stat st;
    CHECK_OK(stat("af", &st));
    CHECK((st.st_mode & 0777) == 0640);
    CHECK(getxattr("af", ACCESS, buf, sizeof buf) == (long)n && !memcmp(buf, &a, n));
    CHECK(getxattr("af", ACCESS, NULL, 0) == (long)n);
    CHECK_ERR(getxattr("af", ACCESS, buf, n - 1), ERANGE);
    lt_sub("user_reads", user_reads, 10000);
    /* chmod rewrites the mask. */
    CHECK_OK(chmod("af", 0600));
    CHECK(perm_of("af", ACCESS, MASK) == 0);
    CHECK(perm_of("af", ACCESS, USER) == 4);
    lt_sub("user_denied", user_denied, 10000);
    CHECK_OK(chmod("af", 0640));
    CHECK(perm_of("af", ACCESS, MASK) == 4);
    /* An ACL the mode says all of is not kept: it becomes the mode. */
    n = make(&a, 3, (struct ent[]){{USER_OBJ, 7, NOID}, {GROUP_OBJ, 5, NOID}, {OTHER, 1, NOID}});
    CHECK_OK(setxattr("af", ACCESS, &a, n, 0));
    CHECK_OK(stat("af", &st));
    CHECK((st.st_mode & 0777) == 0751);
    CHECK_ERR(getxattr("af", ACCESS, buf, sizeof buf), ENODATA);
    /* Removing an ACL that is not there succeeds. */
    CHECK_OK(removexattr("af", ACCESS));
    unlink("af");
}

static void test_default_acl(void) {
    CHECK_OK(mkdir("dd", 0755));
    struct acl a;
    size_t n = make(&a, 5, (struct ent[]){{USER_OBJ, 7, NOID}, {USER, 7, 1000}, {GROUP_OBJ, 5, NOID}, {MASK, 7, NOID}, {OTHER, 5, NOID}});
    CHECK_OK(setxattr("dd", DEFAULT, &a, n, 0));
    CHECK(getxattr("dd", DEFAULT, buf, sizeof buf) == (long)n);
    CHECK_ERR(getxattr("dd", ACCESS, buf, sizeof buf), ENODATA);
    /* uid 1000 cannot write to dd by its mode; an access ACL lets it. */
    n = make(&a, 5, (struct ent[]){{USER_OBJ, 7, NOID}, {USER, 7, 1000}, {GROUP_OBJ, 5, NOID}, {MASK, 7, NOID}, {OTHER, 5, NOID}});
    CHECK_OK(setxattr("dd", ACCESS, &a, n, 0));
    mode_t old = umask(077);
    /* A file: the ACL's bits limited by the mode asked for; the umask plays no part. */
    int fd = open("dd/f", O_CREAT | O_WRONLY, 0666);
    CHECK(fd >= 0);
    close(fd);
    struct stat st;
    CHECK_OK(stat("dd/f", &st));
    CHECK((st.st_mode & 0777) == 0664);
    CHECK(perm_of("dd/f", ACCESS, USER) == 7);
    CHECK(perm_of("dd/f", ACCESS, MASK) == 6);
    CHECK_ERR(getxattr("dd/f", DEFAULT, buf, sizeof buf), ENODATA);
    /* A directory also inherits the default ACL itself. */
    CHECK_OK(mkdir("dd/sub", 0777));
    CHECK_OK(stat("dd/sub", &st));
    CHECK((st.st_mode & 0777) == 0775);
    CHECK(getxattr("dd/sub", DEFAULT, buf, sizeof buf) == (long)n);
    CHECK(perm_of("dd/sub", ACCESS, USER) == 7);
    /* Without a default ACL the umask applies again. */
    CHECK_OK(removexattr("dd", DEFAULT));
    fd = open("dd/g", O_CREAT | O_WRONLY, 0666);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(stat("dd/g", &st));
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_ERR(getxattr("dd/g", ACCESS, buf, sizeof buf), ENODATA);
    umask(old);
    lt_sub("user_creates", user_creates, 10000);
    CHECK_OK(stat("dd/byuser", &st));
    CHECK(st.st_uid == 1000);
    unlink("dd/byuser");
    unlink("dd/f");
    unlink("dd/g");
    rmdir("dd/sub");
    rmdir("dd");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (getuid() != 0) DONE();
    CHECK_OK(mkdir("acl.d", 0777));
    CHECK_OK(chmod("acl.d", 0777));
    dirfd_ = open("acl.d", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd_ >= 0);
    CHECK_OK(fchdir(dirfd_));
    test_namespaces();
    test_access_acl();
    test_default_acl();
    CHECK_OK(chdir(".."));
    CHECK_OK(rmdir("acl.d"));
    DONE();
}
