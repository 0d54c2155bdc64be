/* The key retention service: add_key, request_key and keyctl with "user" keys and keyrings,
 * the special keyrings (thread, process, session, user), update in place, describe, read,
 * link/unlink/search, cycles, revoke, invalidate, clear, setperm, chown, possession and the
 * permission checks of another user, the per-user byte quota (EDQUOT), and what fork shares.
 * request_key finds no /sbin/request-key: ENOENT, then a negative key (ENOKEY). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEY_SPEC_THREAD_KEYRING -1
#define KEY_SPEC_PROCESS_KEYRING -2
#define KEY_SPEC_SESSION_KEYRING -3
#define KEY_SPEC_USER_KEYRING -4
enum {
    GET_KEYRING_ID, JOIN_SESSION_KEYRING, UPDATE, REVOKE, CHOWN, SETPERM, DESCRIBE, CLEAR,
    LINK, UNLINK, SEARCH, READ, SET_TIMEOUT = 15, INVALIDATE = 21, GET_PERSISTENT = 22,
    CAPABILITIES = 31,
};

static long add_key(const char *type, const char *desc, const void *p, size_t n, long ring) {
    return syscall(SYS_add_key, type, desc, p, n, ring);
}
static long request_key(const char *type, const char *desc, const char *info, long ring) {
    return syscall(SYS_request_key, type, desc, info, ring);
}
static long kc(int cmd, long a, long b, long c, long d) {
    return syscall(SYS_keyctl, cmd, a, b, c, d);
}
static long kc_ptr(int cmd, long a, const void *b, long c, long d) {
    return syscall(SYS_keyctl, cmd, a, b, c, d);
}

static char text[256];
static const char *describe(long id) {
    memset(text, 0, sizeof text);
    long n = syscall(SYS_keyctl, DESCRIBE, id, text, sizeof text - 1);
    return n > 0 ? text : "";
}

static long root_key;
static long maxbytes = 20000;

static void other_user(void) {
    uid_t u = 20000 + getpid() % 10000;
    CHECK_OK(setgid(u));
    CHECK_OK(setuid(u));
    CHECK_ERR(kc(GET_PERSISTENT, 0, KEY_SPEC_SESSION_KEYRING, 0, 0), EPERM);
    /* Still possessed through the inherited session keyring: the possessor bits apply,
     * but only the owner (or CAP_SYS_ADMIN) may change permissions or owners. */
    char buf[16];
    CHECK(kc_ptr(READ, root_key, buf, sizeof buf, 0) == 3);
    CHECK_ERR(kc(SETPERM, root_key, 0x3f3f3f3f, 0, 0), EACCES);
    CHECK_ERR(kc(CHOWN, root_key, u, -1, 0), EACCES);
    /* A session of its own: the key is no longer possessed, and others may not view it. */
    long s = kc(JOIN_SESSION_KEYRING, 0, 0, 0, 0);
    CHECK(s > 0);
    CHECK_ERR(kc_ptr(DESCRIBE, root_key, text, sizeof text, 0), EACCES);
    CHECK_ERR(kc_ptr(READ, root_key, buf, sizeof buf, 0), EACCES);
    /* The byte quota. */
    size_t n = maxbytes * 3 / 4;
    if (n > 32767) n = 32767;
    char *big = calloc(1, n);
    long a = add_key("user", "q1", big, n, KEY_SPEC_SESSION_KEYRING);
    CHECK(a > 0);
    CHECK_ERR(add_key("user", "q2", big, n, KEY_SPEC_SESSION_KEYRING), EDQUOT);
    snprintf(buf, sizeof buf, "user;%u;", u);
    CHECK(strncmp(describe(a), buf, strlen(buf)) == 0);
    CHECK_OK(kc(UNLINK, a, KEY_SPEC_SESSION_KEYRING, 0, 0));
}

static void forked_child(void) {
    long s = kc(GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
    CHECK(s == root_key - root_key + s);
    CHECK_ERR(kc(GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0), ENOKEY);
    CHECK_ERR(kc(GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0, 0, 0), ENOKEY);
}

static long *shared;
static void new_session(void) {
    long ns = kc(JOIN_SESSION_KEYRING, 0, 0, 0, 0);
    CHECK(ns > 0);
    CHECK_OK(kc(18 /* SESSION_TO_PARENT */, 0, 0, 0, 0));
    *shared = ns;
}

int main(void) {
    FILE *f = fopen("/proc/sys/kernel/keys/maxbytes", "r");
    CHECK(f != NULL);
    if (f) {
        CHECK(fscanf(f, "%ld", &maxbytes) == 1);
        fclose(f);
    }
    long s = kc(JOIN_SESSION_KEYRING, 0, 0, 0, 0);
    CHECK(s > 0);
    CHECK(kc(GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) == s);
    CHECK(strcmp(describe(s), "keyring;0;0;3f030000;_ses") == 0);
    CHECK_ERR(kc(GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0, 0, 0), ENOKEY);
    CHECK_ERR(kc(GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0), ENOKEY);
    long t = kc(GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1, 0, 0);
    long p = kc(GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1, 0, 0);
    CHECK(t > 0 && p > 0 && t != p);
    CHECK(strcmp(describe(t), "keyring;0;0;3f010000;_tid") == 0);
    CHECK(strcmp(describe(p), "keyring;0;0;3f010000;_pid") == 0);
    long u = kc(GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0, 0, 0);
    CHECK(u > 0 && strncmp(describe(u), "keyring;0;", 10) == 0);
    CHECK(strstr(describe(u), ";_uid.0") != NULL);
    CHECK_ERR(kc(GET_KEYRING_ID, 0, 0, 0, 0), EINVAL);
    CHECK_ERR(kc(GET_KEYRING_ID, 0x7ffffff0, 0, 0, 0), ENOKEY);

    /* user keys: add, read, describe, update in place. */
    long k = add_key("user", "k1", "secret", 6, KEY_SPEC_SESSION_KEYRING);
    CHECK(k > 0);
    char buf[64] = {0};
    CHECK(kc_ptr(READ, k, buf, sizeof buf, 0) == 6 && memcmp(buf, "secret", 6) == 0);
    CHECK(kc_ptr(READ, k, NULL, 0, 0) == 6);
    CHECK(strcmp(describe(k), "user;0;0;3f010000;k1") == 0);
    CHECK(kc_ptr(DESCRIBE, k, NULL, 0, 0) == (long)strlen("user;0;0;3f010000;k1") + 1);
    CHECK(add_key("user", "k1", "again", 5, KEY_SPEC_SESSION_KEYRING) == k);
    CHECK(kc_ptr(READ, k, buf, sizeof buf, 0) == 5 && memcmp(buf, "again", 5) == 0);
    CHECK_OK(kc_ptr(UPDATE, k, "third", 5, 0));
    CHECK(kc_ptr(READ, k, buf, sizeof buf, 0) == 5 && memcmp(buf, "third", 5) == 0);
    CHECK_ERR(kc_ptr(UPDATE, s, "x", 1, 0), EOPNOTSUPP);
    CHECK_ERR(kc_ptr(UPDATE, k, "", 0, 0), EINVAL);
    int32_t ids[8];
    CHECK(kc_ptr(READ, s, ids, sizeof ids, 0) == 4 && ids[0] == k);

    /* add_key errors. */
    CHECK_ERR(add_key(".x", "d", "p", 1, KEY_SPEC_SESSION_KEYRING), EPERM);
    CHECK_ERR(add_key("nosuch", "d", "p", 1, KEY_SPEC_SESSION_KEYRING), ENODEV);
    CHECK_ERR(add_key("user", "d", NULL, 0, KEY_SPEC_SESSION_KEYRING), EINVAL);
    CHECK_ERR(add_key("user", NULL, "p", 1, KEY_SPEC_SESSION_KEYRING), EINVAL);
    CHECK_ERR(add_key("user", "d", "p", 1, k), ENOTDIR);
    CHECK_ERR(add_key("keyring", "r", "p", 1, KEY_SPEC_SESSION_KEYRING), EINVAL);
    CHECK_ERR(add_key("keyring", ".r", NULL, 0, KEY_SPEC_SESSION_KEYRING), EPERM);
    CHECK_ERR(add_key("user", "d", "p", 1, 0x7ffffff0), ENOKEY);
    CHECK_ERR(add_key("user", "d", (void *)8, 1, KEY_SPEC_SESSION_KEYRING), EFAULT);

    /* Nested keyrings, search, request_key, links. */
    long r1 = add_key("keyring", "r1", NULL, 0, KEY_SPEC_SESSION_KEYRING);
    long r2 = add_key("keyring", "r2", NULL, 0, r1);
    long k2 = add_key("user", "k2", "v2", 2, r2);
    CHECK(r1 > 0 && r2 > 0 && k2 > 0);
    CHECK(kc_ptr(SEARCH, s, "user", (long)"k2", 0) == k2);
    CHECK(kc_ptr(SEARCH, KEY_SPEC_SESSION_KEYRING, "keyring", (long)"r2", 0) == r2);
    CHECK_ERR(kc_ptr(SEARCH, s, "user", (long)"none", 0), ENOKEY);
    CHECK_ERR(kc_ptr(SEARCH, s, "nosuch", (long)"k2", 0), ENOKEY);
    CHECK_ERR(kc_ptr(SEARCH, s, ".x", (long)"k2", 0), EPERM);
    CHECK(kc_ptr(SEARCH, s, "user", (long)"k2", t) == k2);
    CHECK(kc_ptr(READ, t, ids, sizeof ids, 0) == 4 && ids[0] == k2);
    CHECK(request_key("user", "k2", NULL, 0) == k2);
    CHECK(request_key("user", "k2", NULL, p) == k2);
    CHECK(kc_ptr(READ, p, ids, sizeof ids, 0) == 4 && ids[0] == k2);
    CHECK_ERR(request_key("user", "none", NULL, 0), ENOKEY);
    CHECK_ERR(request_key(".x", "none", NULL, 0), EPERM);
    CHECK_ERR(kc(LINK, r1, r2, 0, 0), EDEADLK);
    CHECK_ERR(kc(LINK, r1, r1, 0, 0), EDEADLK);
    CHECK_ERR(kc(LINK, r1, k, 0, 0), ENOTDIR);
    CHECK_OK(kc(LINK, k2, r1, 0, 0));
    CHECK_OK(kc(UNLINK, k2, r1, 0, 0));
    CHECK_ERR(kc(UNLINK, k2, r1, 0, 0), ENOENT);

    /* Permissions and owners. */
    CHECK_ERR(kc(SETPERM, k, 0x40000000, 0, 0), EINVAL);
    CHECK_OK(kc(SETPERM, k, 0x3f3f0303, 0, 0));
    CHECK(strcmp(describe(k), "user;0;0;3f3f0303;k1") == 0);
    CHECK_OK(kc(CHOWN, k, -1, -1, 0));
    CHECK_OK(kc(CHOWN, k, -1, 4321, 0));
    CHECK(strcmp(describe(k), "user;0;4321;3f3f0303;k1") == 0);
    CHECK_OK(kc(CHOWN, k, -1, 0, 0));
    root_key = add_key("user", "rootkey", "abc", 3, KEY_SPEC_SESSION_KEYRING);
    lt_sub("other_user", other_user, 10000);

    /* fork: the session keyring is shared, process and thread keyrings are not. */
    lt_sub("forked_child", forked_child, 10000);

    /* Revoke, invalidate, clear. */
    CHECK_OK(kc(REVOKE, k2, 0, 0, 0));
    CHECK_ERR(kc_ptr(READ, k2, buf, sizeof buf, 0), EKEYREVOKED);
    CHECK_ERR(kc_ptr(DESCRIBE, k2, buf, sizeof buf, 0), EKEYREVOKED);
    CHECK_ERR(kc(REVOKE, k2, 0, 0, 0), EKEYREVOKED);
    long k3 = add_key("user", "k3", "v3", 2, r1);
    CHECK_OK(kc(LINK, k3, r2, 0, 0));
    CHECK_OK(kc(INVALIDATE, k3, 0, 0, 0));
    /* ENOKEY while the key is still linked (possessed through r1); Linux's asynchronous
     * garbage collector may unlink it first, and a key no longer possessed is EACCES to
     * read (its user permissions allow only view) before its state is looked at. */
    errno = 0;
    CHECK(kc_ptr(READ, k3, buf, sizeof buf, 0) == -1 && (errno == ENOKEY || errno == EACCES));
    /* Invalidation takes the key out of its keyrings (asynchronously on Linux). */
    for (int i = 0; i < 100 && kc_ptr(READ, r1, ids, sizeof ids, 0) != 4; i++)
        lt_sleep_ms(10);
    CHECK(kc_ptr(READ, r1, ids, sizeof ids, 0) == 4 && ids[0] == r2);
    CHECK_OK(kc(CLEAR, r1, 0, 0, 0));
    CHECK(kc_ptr(READ, r1, ids, sizeof ids, 0) == 0);
    CHECK_ERR(kc(CLEAR, k, 0, 0, 0), ENOTDIR);

    /* Timeouts: expired keys give EKEYEXPIRED, to lookups and to searches. */
    long tk = add_key("user", "tk", "v", 1, KEY_SPEC_SESSION_KEYRING);
    CHECK_OK(kc(SET_TIMEOUT, tk, 1, 0, 0));
    CHECK(kc_ptr(READ, tk, buf, sizeof buf, 0) == 1 || errno == EKEYEXPIRED);
    lt_sleep_ms(2100);
    CHECK_ERR(kc_ptr(READ, tk, buf, sizeof buf, 0), EKEYEXPIRED);
    CHECK_ERR(kc_ptr(SEARCH, KEY_SPEC_SESSION_KEYRING, "user", (long)"tk", 0), EKEYEXPIRED);
    long tk2 = add_key("user", "tk2", "v", 1, KEY_SPEC_SESSION_KEYRING);
    CHECK_OK(kc(SET_TIMEOUT, tk2, 1, 0, 0));
    CHECK_OK(kc(SET_TIMEOUT, tk2, 0, 0, 0));
    lt_sleep_ms(1100);
    CHECK(kc_ptr(READ, tk2, buf, sizeof buf, 0) == 1);

    /* Persistent keyrings: one per user, linked into the destination. */
    long pk = kc(GET_PERSISTENT, -1, KEY_SPEC_SESSION_KEYRING, 0, 0);
    CHECK(pk > 0 && strcmp(describe(pk), "keyring;0;65534;1f030000;_persistent.0") == 0);
    CHECK(kc(GET_PERSISTENT, 0, r1, 0, 0) == pk);
    CHECK(kc_ptr(READ, r1, ids, sizeof ids, 0) == 4 && ids[0] == pk);
    CHECK_ERR(kc(GET_PERSISTENT, -1, 0, 0, 0), EINVAL);
    CHECK_ERR(kc(GET_PERSISTENT, -1, k, 0, 0), ENOTDIR);
    CHECK_OK(kc(UNLINK, pk, r1, 0, 0));

    unsigned char caps[4] = {0};
    CHECK(kc_ptr(CAPABILITIES, (long)caps, (void *)sizeof caps, 0, 0) == 2 || errno == 0);
    CHECK(caps[0] & 1);
    CHECK_ERR(kc(999, 0, 0, 0, 0), EOPNOTSUPP);
    /* Where request_key puts the keys it makes. */
    CHECK(kc(14, -1, 0, 0, 0) == 0);
    CHECK_ERR(kc(14, 6, 0, 0, 0), EINVAL);
    CHECK_ERR(kc(14, 8, 0, 0, 0), EINVAL);
    CHECK(kc(14, 3, 0, 0, 0) == 0);
    CHECK(kc(14, -1, 0, 0, 0) == 3);
    long before = kc_ptr(READ, s, NULL, 0, 0);
    CHECK_ERR(request_key("user", "neg-session", "callout", 0), ENOENT);
    CHECK(kc_ptr(READ, s, NULL, 0, 0) == before + 4);
    CHECK(kc(14, 0, 0, 0, 0) == 3);
    /* No /sbin/request-key: the upcall fails (ENOENT) and leaves a negative key in the
     * default keyring (the thread keyring here), which later requests find: ENOKEY. */
    CHECK_ERR(request_key("user", "none", "callout", 0), ENOENT);
    CHECK_ERR(request_key("user", "none", "callout", 0), ENOKEY);
    CHECK_ERR(request_key("user", "none", NULL, 0), ENOKEY);
    CHECK_ERR(kc_ptr(SEARCH, t, "user", (long)"none", 0), ENOKEY);
    CHECK_ERR(request_key("keyring", "nonering", "callout", 0), EPERM);
    /* KEYCTL_SESSION_TO_PARENT: a child's new session keyring becomes ours. */
    shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    lt_sub("new_session", new_session, 5000);
    CHECK(*shared > 0 && kc(GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) == *shared);
    DONE();
}
