/* Stress: several processes (two per CPU, at least four) create, rename and unlink files in
 * one directory at once, a fixed number of rounds each (on tmpfs, and on ext4 where the
 * harness then checks the disk with e2fsck).
 * - Own names ("pN.tK", "pN.fK"): only process N touches them, so every result is known:
 *   a create with O_EXCL succeeds, a rename over an older copy succeeds, an unlink finds the
 *   file exactly when the process's own record says it is there.
 * - Shared names ("sK"): everyone races on them. A create with O_EXCL succeeds or gives
 *   EEXIST, an unlink succeeds or gives ENOENT, a rename with RENAME_NOREPLACE succeeds or
 *   gives ENOENT/EEXIST; the successes are counted, and since no-replace renames keep the
 *   number of files, the shared files left must number creates minus unlinks.
 * At the end the listing must hold exactly the expected own files, no temporary names, the
 * right number of shared files, no name twice, and every file its creator's record. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

#define ROUNDS 200
#define OWN 8
#define SHARED 6
#define MAXP 16
#define DIRNAME "stress"
#define RECLEN 20

struct stats {
    atomic_long created, unlinked, renamed, bad;
    unsigned own_present[MAXP]; /* bit k: pN.fK exists */
};

static struct stats *st;
static int nprocs;

/* A RECLEN-byte record naming the writer and its round (both small). */
static void record(char *buf, size_t cap, int who, int k) {
    snprintf(buf, cap, "proc %4d rec %5d\n", who % 10000, k % 100000);
}

static int make(const char *name, int who, int k, int excl) {
    int fd = open(name, O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC), 0644);
    if (fd < 0) return -1;
    char buf[64];
    record(buf, sizeof buf, who, k);
    int ok = write(fd, buf, RECLEN) == RECLEN;
    close(fd);
    if (!ok) {
        printf("proc %d: short write to %s\n", who, name);
        atomic_fetch_add(&st->bad, 1);
    }
    return 0;
}

static void bad(int who, int round, const char *what, const char *name, int err) {
    printf("proc %d round %d: %s %s: errno %d (%s)\n", who, round, what, name, err, strerror(err));
    atomic_fetch_add(&st->bad, 1);
}

static void worker(int me) {
    if (chdir(DIRNAME) != 0) _exit(2);
    int cpus[MAXP];
    int ncpu = lt_cpus(cpus, MAXP);
    if (ncpu > 1) lt_pin(cpus[me % ncpu]);
    unsigned present = 0;
    char a[32], b[32];
    for (int r = 0; r < ROUNDS; r++) {
        int k = (r * 3 + me) % OWN;
        /* Own: write a temporary, rename it into place (over an older copy). */
        snprintf(a, sizeof a, "p%d.t%d", me, k);
        snprintf(b, sizeof b, "p%d.f%d", me, k);
        if (make(a, me, r, 1) != 0) bad(me, r, "create", a, errno);
        else if (rename(a, b) != 0) bad(me, r, "rename", a, errno);
        else present |= 1u << k;
        /* Own: unlink another, which exists exactly when the record says so. */
        int u = (k + 5) % OWN;
        snprintf(b, sizeof b, "p%d.f%d", me, u);
        int rc = unlink(b), e = errno;
        if (present & (1u << u)) {
            if (rc != 0) bad(me, r, "unlink of a present file", b, e);
            present &= ~(1u << u);
        } else if (rc == 0 || e != ENOENT) {
            bad(me, r, "unlink of an absent file", b, rc == 0 ? 0 : e);
        }
        /* Shared names: races with expected errors. */
        int j = (r + me) % SHARED;
        snprintf(a, sizeof a, "s%d", j);
        if (make(a, me, r, 1) == 0) atomic_fetch_add(&st->created, 1);
        else if (errno != EEXIST) bad(me, r, "create", a, errno);
        snprintf(b, sizeof b, "s%d", (j + 1 + me) % SHARED);
        if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) == 0)
            atomic_fetch_add(&st->renamed, 1);
        else if (errno != ENOENT && errno != EEXIST) bad(me, r, "renameat2", a, errno);
        snprintf(a, sizeof a, "s%d", (j + 3) % SHARED);
        if (r % 2 == 0) {
            if (unlink(a) == 0) atomic_fetch_add(&st->unlinked, 1);
            else if (errno != ENOENT) bad(me, r, "unlink", a, errno);
        }
    }
    st->own_present[me] = present;
    fflush(stdout);
    _exit(0);
}

static void stress(void) {
    int cpus[MAXP];
    nprocs = 2 * lt_cpus(cpus, MAXP);
    if (nprocs < 4) nprocs = 4;
    if (nprocs > MAXP) nprocs = MAXP;
    st = mmap(0, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(st != MAP_FAILED);
    if (st == MAP_FAILED) return;
    CHECK_OK(mkdir(DIRNAME, 0755));
    pid_t kids[MAXP];
    for (int i = 0; i < nprocs; i++) {
        fflush(stdout);
        kids[i] = fork();
        if (kids[i] == 0) worker(i);
        CHECK(kids[i] > 0);
    }
    for (int i = 0; i < nprocs; i++) {
        int w = 0;
        CHECK(waitpid(kids[i], &w, 0) == kids[i]);
        CHECK_EXIT(w, 0);
    }
    CHECK(atomic_load(&st->bad) == 0);

    /* The listing. */
    DIR *d = opendir(DIRNAME);
    CHECK(d != 0);
    if (!d) return;
    unsigned own_seen[MAXP] = {0};
    int shared_seen[SHARED] = {0}, shared = 0, strangers = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int p, k;
        char tail;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[300], buf[RECLEN + 2] = {0};
        snprintf(path, sizeof path, DIRNAME "/%s", e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size != RECLEN) {
            printf("%s: missing, not a file, or wrong size\n", e->d_name);
            lt_failures++;
            continue;
        }
        int fd = open(path, O_RDONLY);
        int who = -1, rec = -1;
        if (fd < 0 || read(fd, buf, sizeof buf) != RECLEN || sscanf(buf, "proc %d rec %d", &who, &rec) != 2 ||
            who < 0 || who >= nprocs || rec < 0 || rec >= ROUNDS) {
            printf("%s: bad contents '%s'\n", e->d_name, buf);
            lt_failures++;
        }
        if (fd >= 0) close(fd);
        if (sscanf(e->d_name, "p%d.f%d%c", &p, &k, &tail) == 2 && p >= 0 && p < nprocs && k >= 0 && k < OWN) {
            if (own_seen[p] & (1u << k)) {
                printf("%s listed twice\n", e->d_name);
                lt_failures++;
            }
            own_seen[p] |= 1u << k;
            if (who != p) {
                printf("%s holds process %d's record\n", e->d_name, who);
                lt_failures++;
            }
        } else if (sscanf(e->d_name, "s%d%c", &k, &tail) == 1 && k >= 0 && k < SHARED) {
            if (shared_seen[k]++) {
                printf("%s listed twice\n", e->d_name);
                lt_failures++;
            }
            shared++;
        } else {
            strangers++;
            printf("unexpected name %s\n", e->d_name);
        }
    }
    closedir(d);
    CHECK(strangers == 0);
    for (int i = 0; i < nprocs; i++) {
        if (own_seen[i] != st->own_present[i]) {
            printf("process %d: own files %#x listed, %#x expected\n", i, own_seen[i], st->own_present[i]);
            lt_failures++;
        }
    }
    long want = atomic_load(&st->created) - atomic_load(&st->unlinked);
    if (shared != want) {
        printf("%d shared files left, expected %ld (%ld created, %ld unlinked, %ld renamed)\n", shared,
               want, atomic_load(&st->created), atomic_load(&st->unlinked), atomic_load(&st->renamed));
        lt_failures++;
    }
    printf("%d processes: %ld shared creates, %ld renames, %ld unlinks; %d shared files left\n",
           nprocs, atomic_load(&st->created), atomic_load(&st->renamed), atomic_load(&st->unlinked),
           shared);
    /* Clean up, and the directory must then be empty and removable. */
    d = opendir(DIRNAME);
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[300];
        snprintf(path, sizeof path, DIRNAME "/%s", e->d_name);
        CHECK_OK(unlink(path));
    }
    if (d) closedir(d);
    CHECK_OK(rmdir(DIRNAME));
}

int main(void) {
    lt_sub("create/rename/unlink stress", stress, 45000);
    DONE();
}
