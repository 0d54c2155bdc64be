/* capget/capset: version negotiation (EINVAL and the preferred version written back, a null
 * data pointer as a probe), pids (0 or one's own, ESRCH, EINVAL for negative ones, EPERM
 * for setting another's), setting the sets one has, no new capabilities, and what setuid
 * does to the sets (effective cleared with the effective uid, everything cleared when no
 * uid is 0 any more). setpriv and stress-ng's cap stressor failed on ENOSYS. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

static int capget_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d) {
    return syscall(SYS_capget, h, d);
}
static int capset_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d) {
    return syscall(SYS_capset, h, d);
}

static void get(pid_t pid, struct __user_cap_data_struct d[2]) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
    memset(d, 0xff, 2 * sizeof *d);
    CHECK_OK(capget_(&h, d));
}

static void test_versions_and_pids(void) {
    struct __user_cap_header_struct h = {0x12345678, 0};
    struct __user_cap_data_struct d[2];
    CHECK_ERR(capget_(&h, d), EINVAL);
    CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
    h.version = 0x12345678;
    CHECK(capget_(&h, NULL) == 0);
    CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
    h.version = 0x12345678;
    CHECK_ERR(capset_(&h, d), EINVAL);
    CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);

    struct __user_cap_data_struct own[2], byp[2];
    get(0, own);
    get(getpid(), byp);
    CHECK(memcmp(own, byp, sizeof own) == 0);
    CHECK(own[0].inheritable == 0 && own[1].inheritable == 0);
    CHECK((own[0].effective & ~own[0].permitted) == 0);
    get(getppid(), byp);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = -1;
    CHECK_ERR(capget_(&h, d), EINVAL);
    h.pid = 4000000;
    CHECK_ERR(capget_(&h, d), ESRCH);
    /* Version 1: one word per set. */
    struct __user_cap_data_struct v1[2];
    memset(v1, 0xaa, sizeof v1);
    h.version = _LINUX_CAPABILITY_VERSION_1;
    h.pid = 0;
    CHECK_OK(capget_(&h, v1));
    CHECK(v1[0].effective == own[0].effective && v1[0].permitted == own[0].permitted);
    CHECK(v1[1].effective == 0xaaaaaaaa);

    /* Setting what one has works; another process's sets cannot be set. */
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = 0;
    CHECK_OK(capset_(&h, own));
    h.pid = getppid();
    CHECK_ERR(capset_(&h, own), EPERM);
}

/* Run as root: seteuid away clears the effective set only; dropping every root uid clears
 * everything, and asking for capabilities back is EPERM. */
static void test_setuid(void) {
    if (getuid() != 0) return;
    struct __user_cap_data_struct before[2], d[2];
    get(0, before);
    CHECK(before[0].effective != 0 && before[0].effective == before[0].permitted);
    CHECK_OK(setresuid(0, 65534, 0));
    get(0, d);
    CHECK(d[0].effective == 0 && d[1].effective == 0);
    CHECK(d[0].permitted == before[0].permitted && d[1].permitted == before[1].permitted);
    CHECK_OK(setresuid(0, 0, 0));
    get(0, d);
    CHECK(memcmp(d, before, sizeof d) == 0);
    CHECK_OK(setresuid(65534, 65534, 65534));
    get(0, d);
    CHECK(d[0].effective == 0 && d[0].permitted == 0 && d[1].permitted == 0);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    CHECK_OK(capset_(&h, d));
    d[0].permitted = 1;
    d[0].effective = 1;
    CHECK_ERR(capset_(&h, d), EPERM);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    lt_sub("versions_and_pids", test_versions_and_pids, 10000);
    lt_sub("setuid", test_setuid, 10000);
    DONE();
}
