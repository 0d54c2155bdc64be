/* Races of two CPUs in the kernel at once that the big kernel lock hid, a fixed count each.
 * - O_CREAT without O_EXCL at once: a thread on each CPU opens one new name with
 *   O_CREAT | O_RDWR at the same moment; every open must succeed (one creates the file, the
 *   others open it: never EEXIST, which only O_EXCL may give), and all of them must have
 *   the same file (one inode).
 * - threads created at once on every CPU: each CPU's thread starts many threads together,
 *   all alive at once, so the kernel maps many new kernel stacks on several CPUs at the same
 *   time (the page tables of the kernel stack area grow then); every thread must run and
 *   report back.
 * - chown and chmod of one file at once: a set-user-ID file gets fchown(fd, -1, -1) (which
 *   clears the set-user-ID bit of a regular file) on one CPU and fchmod(fd, 0600) on
 *   another at the same moment; either order leaves 0600, never the mode chown read before
 *   chmod changed it (attribute changes are one step each, as under Linux's inode lock).
 * - an ACL and chmod of one file at once: a 0644 file gets an access ACL equal to mode 0640
 *   (which becomes the mode, keeping its set-id bits) on one CPU and fchmod(fd, 04600) on
 *   another; either order leaves the set-user-ID bit (04600 or 04640), never the mode the
 *   ACL's change read before chmod changed it. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

/* <linux/futex.h> values (musl-gcc has no kernel headers). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define CREAT_ROUNDS 200
#define OPENERS 4
#define SPAWNERS 4
#define SPAWN_EACH 48
#define SPAWN_ROUNDS 3

/* ---- O_CREAT at once ---- */

static int openers;
static atomic_int arrived;
static atomic_int phase;
static int creat_fd[OPENERS];
static int creat_err[OPENERS];
static int creat_bad;

/* All openers meet here (a spin barrier: each runs on a CPU of its own). */
static void meet(void) {
    int p = atomic_load(&phase);
    if (atomic_fetch_add(&arrived, 1) == openers - 1) {
        atomic_store(&arrived, 0);
        atomic_store(&phase, p + 1);
    } else {
        while (atomic_load(&phase) == p) lt_relax();
    }
}

static void *opener(void *arg) {
    int me = (int)(long)arg;
    lt_pin_nth(me);
    for (int r = 0; r < CREAT_ROUNDS; r++) {
        char name[32];
        snprintf(name, sizeof name, "vfsrace.%d", r);
        meet();
        int fd = open(name, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        creat_fd[me] = fd;
        creat_err[me] = fd < 0 ? errno : 0;
        meet();
        if (me == 0) {
            struct stat first = {0};
            for (int i = 0; i < openers; i++) {
                if (creat_fd[i] < 0) {
                    if (creat_bad++ < 5) printf("round %d: opener %d: %s\n", r, i, strerror(creat_err[i]));
                    continue;
                }
                struct stat st;
                CHECK_OK(fstat(creat_fd[i], &st));
                if (first.st_ino == 0) first = st;
                else if (st.st_ino != first.st_ino || st.st_dev != first.st_dev) {
                    if (creat_bad++ < 5) printf("round %d: opener %d has another file\n", r, i);
                }
                close(creat_fd[i]);
            }
            CHECK_OK(unlink(name));
        }
    }
    return NULL;
}

static void creat_at_once(void) {
    openers = lt_ncpu < 2 ? 2 : lt_ncpu > OPENERS ? OPENERS : lt_ncpu;
    pthread_t t[OPENERS];
    for (int i = 0; i < openers; i++) CHECK_OK(pthread_create(&t[i], NULL, opener, (void *)(long)i));
    for (int i = 0; i < openers; i++) pthread_join(t[i], NULL);
    if (creat_bad) {
        printf("%d opens failed or disagreed in %d rounds\n", creat_bad, CREAT_ROUNDS);
        lt_failures++;
    }
}

/* ---- threads created at once ---- */

static atomic_int spawn_go;
static atomic_int spawned_ran;
static atomic_int spawned_left;

static void *child(void *arg) {
    (void)arg;
    atomic_fetch_add(&spawned_ran, 1);
    /* Stay alive until every spawner has started all of its threads: asleep on spawn_go (1
     * while the spawners run) until the main thread makes it 2 and wakes them all. Not a
     * usleep poll: ~200 threads waking every millisecond filled an emulated CPU on a busy
     * host with wake-ups alone (Lintel and a Linux guest alike: 20-30 s of the 60 s limit
     * at host load ~15-20), and the spawners' share shrank with every child they made. */
    while (atomic_load(&spawn_go) < 2)
        syscall(SYS_futex, &spawn_go, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    atomic_fetch_add(&spawned_left, 1);
    return NULL;
}

static void *spawner(void *arg) {
    int me = (int)(long)arg;
    lt_pin_nth(me);
    while (atomic_load(&spawn_go) < 1) sched_yield();
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int n = 0;
    for (int i = 0; i < SPAWN_EACH; i++) {
        pthread_t t;
        int e = pthread_create(&t, &a, child, NULL);
        if (e) {
            printf("spawner %d: pthread_create: %s\n", me, strerror(e));
            break;
        }
        n++;
    }
    pthread_attr_destroy(&a);
    return (void *)(long)n;
}

static void threads_at_once(void) {
    for (int r = 0; r < SPAWN_ROUNDS; r++) {
        atomic_store(&spawn_go, 0);
        atomic_store(&spawned_ran, 0);
        atomic_store(&spawned_left, 0);
        pthread_t s[SPAWNERS];
        for (int i = 0; i < SPAWNERS; i++) CHECK_OK(pthread_create(&s[i], NULL, spawner, (void *)(long)i));
        atomic_store(&spawn_go, 1);
        /* The spawners return once their threads exist; the children wait for go == 2. */
        long total = 0;
        void *ret;
        for (int i = 0; i < SPAWNERS; i++) {
            pthread_join(s[i], &ret);
            total += (long)ret;
        }
        while (atomic_load(&spawned_ran) < total) usleep(1000);
        atomic_store(&spawn_go, 2);
        CHECK_OK(syscall(SYS_futex, &spawn_go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
        if (total != SPAWNERS * SPAWN_EACH) {
            printf("round %d: %ld threads of %d started\n", r, total, SPAWNERS * SPAWN_EACH);
            lt_failures++;
        }
        /* The children are detached: wait until each is on its way out. */
        while (atomic_load(&spawned_left) < total) usleep(1000);
        usleep(20000);
    }
}

/* ---- chown and chmod at once ---- */

#define ATTR_ROUNDS 300

static int attr_fd;
static int attr_bad;

static void *attr_changer(void *arg) {
    int me = (int)(long)arg;
    lt_pin_nth(me);
    for (int r = 0; r < ATTR_ROUNDS; r++) {
        if (me == 0) CHECK_OK(fchmod(attr_fd, 04755));
        meet();
        if (me == 0) CHECK_OK(fchown(attr_fd, (uid_t)-1, (gid_t)-1));
        else CHECK_OK(fchmod(attr_fd, 0600));
        meet();
        if (me == 0) {
            struct stat st;
            CHECK_OK(fstat(attr_fd, &st));
            if ((st.st_mode & 07777) != 0600 && attr_bad++ < 5)
                printf("round %d: mode %o after chown and chmod 600\n", r, st.st_mode & 07777);
        }
    }
    return NULL;
}

static void chown_chmod_at_once(void) {
    openers = 2;
    atomic_store(&arrived, 0);
    attr_fd = open("vfsrace.attr", O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    CHECK(attr_fd >= 0);
    if (attr_fd < 0) return;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK_OK(pthread_create(&t[i], NULL, attr_changer, (void *)(long)i));
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    close(attr_fd);
    CHECK_OK(unlink("vfsrace.attr"));
    if (attr_bad) {
        printf("%d of %d rounds ended with another mode\n", attr_bad, ATTR_ROUNDS);
        lt_failures++;
    }
}

/* ---- an ACL and chmod at once ---- */

static int acl_skip;

/* The access ACL u::rw-,g::r--,o::--- (mode 0640) in the xattr format (version 2). */
static void acl_0640(unsigned char out[28]) {
    uint32_t version = 2;
    memcpy(out, &version, 4);
    const uint16_t tags[3][2] = {{0x01, 6}, {0x04, 4}, {0x20, 0}};
    for (int i = 0; i < 3; i++) {
        uint32_t id = (uint32_t)-1;
        memcpy(out + 4 + i * 8, &tags[i][0], 2);
        memcpy(out + 6 + i * 8, &tags[i][1], 2);
        memcpy(out + 8 + i * 8, &id, 4);
    }
}

static void *acl_changer(void *arg) {
    int me = (int)(long)arg;
    lt_pin_nth(me);
    unsigned char acl[28];
    acl_0640(acl);
    for (int r = 0; r < ATTR_ROUNDS; r++) {
        if (me == 0) CHECK_OK(fchmod(attr_fd, 0644));
        meet();
        if (me == 0) {
            if (fsetxattr(attr_fd, "system.posix_acl_access", acl, sizeof acl, 0) < 0) {
                if (errno == EOPNOTSUPP) acl_skip = 1;
                else CHECK_OK(-1);
            }
        } else {
            CHECK_OK(fchmod(attr_fd, 04600));
        }
        meet();
        if (acl_skip) break;
        if (me == 0) {
            struct stat st;
            CHECK_OK(fstat(attr_fd, &st));
            unsigned m = st.st_mode & 07777;
            if (m != 04600 && m != 04640 && attr_bad++ < 5)
                printf("round %d: mode %o after an 0640 ACL and chmod 4600\n", r, m);
        }
    }
    return NULL;
}

static void acl_chmod_at_once(void) {
    openers = 2;
    attr_bad = 0;
    atomic_store(&arrived, 0);
    attr_fd = open("vfsrace.acl", O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    CHECK(attr_fd >= 0);
    if (attr_fd < 0) return;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK_OK(pthread_create(&t[i], NULL, acl_changer, (void *)(long)i));
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    close(attr_fd);
    CHECK_OK(unlink("vfsrace.acl"));
    if (acl_skip) printf("no ACLs on this file system: skipped\n");
    if (attr_bad) {
        printf("%d of %d rounds ended with another mode\n", attr_bad, ATTR_ROUNDS);
        lt_failures++;
    }
}

int main(void) {
    lt_smp_init();
    lt_sub("O_CREAT without O_EXCL at once", creat_at_once, 60000);
    lt_sub("threads created at once", threads_at_once, 60000);
    lt_sub("chown and chmod at once", chown_chmod_at_once, 60000);
    lt_sub("an ACL and chmod at once", acl_chmod_at_once, 60000);
    DONE();
}
