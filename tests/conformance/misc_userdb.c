/* The user and group database a Debian system has: root, daemon, bin, sys and nobody in
 * /etc/passwd, root and nogroup in /etc/group, found by name and by id. */
#include "lintel_test.h"
#include <grp.h>
#include <pwd.h>

static void user(const char *name, unsigned uid, unsigned gid) {
    struct passwd *p = getpwnam(name);
    CHECK(p != NULL);
    if (!p) {
        printf("no user %s\n", name);
        return;
    }
    CHECK(p->pw_uid == uid);
    CHECK(p->pw_gid == gid);
    p = getpwuid(uid);
    CHECK(p != NULL && strcmp(p->pw_name, name) == 0);
}

static void group(const char *name, unsigned gid) {
    struct group *g = getgrnam(name);
    CHECK(g != NULL);
    if (!g) {
        printf("no group %s\n", name);
        return;
    }
    CHECK(g->gr_gid == gid);
    g = getgrgid(gid);
    CHECK(g != NULL && strcmp(g->gr_name, name) == 0);
}

int main(void) {
    user("root", 0, 0);
    user("daemon", 1, 1);
    user("bin", 2, 2);
    user("sys", 3, 3);
    user("nobody", 65534, 65534);
    group("root", 0);
    group("daemon", 1);
    group("tty", 5);
    group("nogroup", 65534);
    DONE();
}
