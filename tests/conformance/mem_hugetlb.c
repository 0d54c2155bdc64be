/* Huge pages with an empty pool (vm.nr_hugepages 0, as on the host and always in Lintel):
 * mmap(MAP_HUGETLB) and shmget(SHM_HUGETLB) are ENOMEM, with EINVAL for a page size Linux has
 * no pool for (12, the base page), a MAP_FIXED address off the huge page size, a length of 0,
 * a file not on hugetlbfs (after EBADF) and a segment smaller than SHMMIN; the size bits mean
 * nothing without MAP_HUGETLB, and an existing segment's key ignores SHM_HUGETLB. The
 * NORESERVE forms, which reserve nothing, succeed: the mapping (or attach) covers whole huge
 * pages at a huge-page-aligned address, splits only at huge page boundaries (EINVAL), smaps
 * flags it "ht" with 2048 kB pages, and every touch raises SIGBUS (BUS_ADRERR) while a kernel access is
 * EFAULT, as no page comes from the empty pool. memfd_create(MFD_HUGETLB) makes a hugetlbfs
 * file: no write (EINVAL), sizes of whole huge pages, fallocate ENOSPC, reads of zeros, and
 * mappings as MAP_HUGETLB's (ENOMEM unless MAP_NORESERVE, then SIGBUS); a page size without
 * a pool is ENODEV there. /proc/meminfo's HugePages_Total and
 * /proc/sys/vm/nr_hugepages (if present) read 0.
 * Names: an anonymous huge mapping is an unlinked file of the hidden hugetlbfs mount, which
 * /proc/PID/maps shows as "/anon_hugepage (deleted)" with that mount's device, an inode of
 * its own and the file offset of each piece; a SHM_HUGETLB segment is "/SYSV<key> (deleted)"
 * on the same device with the segment id as inode. A MFD_HUGETLB memfd's stat has that
 * device and the huge page size as st_blksize, and fstatfs says hugetlbfs. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#define HUGE (2UL << 20)
#define SIZE_BITS(log2) ((log2) << 26)

static void *map(size_t len, int flags, int fd) {
    return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
}

static sigjmp_buf jb;
static volatile int sig, code;
static void *volatile sig_addr;

static void handler(int s, siginfo_t *si, void *u) {
    (void)u;
    sig = s;
    code = si->si_code;
    sig_addr = si->si_addr;
    siglongjmp(jb, 1);
}

/* Stores to (or loads from) `p`: 0, or the signal it raised. */
static int access_at(volatile char *p, int store) {
    sig = 0;
    if (!sigsetjmp(jb, 1)) {
        if (store)
            *p = 1;
        else
            (void)*p;
        return 0;
    }
    return sig;
}

/* Whether the smaps entry of the mapping holding `p` has a line starting `head` that holds
 * `want`. */
static int smaps_has(void *p, const char *head, const char *want) {
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0, yes = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, ':') > strchr(line, ' '))
            in = s <= (unsigned long)p && (unsigned long)p < e;
        else if (in && strncmp(line, head, strlen(head)) == 0)
            yes = strstr(line + strlen(head), want) != NULL;
    }
    if (f)
        fclose(f);
    return yes;
}

/* Whether the smaps entry of the mapping holding `p` has VmFlags `flag`. */
static int smaps_flag(void *p, const char *flag) {
    char want[8];
    snprintf(want, sizeof want, " %s ", flag);
    return smaps_has(p, "VmFlags:", want);
}

/* The /proc/self/maps line of the mapping holding `p`: its offset, device, inode and name
 * (0 when there is none). */
struct maps_line {
    unsigned long start, off, ino;
    unsigned maj, min;
    char name[256];
};

static int maps_of(void *p, struct maps_line *l) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (!found && f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        int n = 0;
        l->name[0] = 0;
        if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu %n", &s, &e, &l->off, &l->maj, &l->min,
                   &l->ino, &n) >= 6 &&
            s <= (unsigned long)p && (unsigned long)p < e) {
            l->start = s;
            snprintf(l->name, sizeof l->name, "%s", line + n);
            l->name[strcspn(l->name, "\n")] = 0;
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* The device of the hidden hugetlbfs mount of 2 MiB pages (a MFD_HUGETLB memfd's). */
static dev_t hugetlbfs_dev(void) {
    struct stat st = {0};
    int fd = memfd_create("dev", MFD_HUGETLB);
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    if (fd >= 0)
        close(fd);
    return st.st_dev;
}

/* The mapping holding `p` is an anonymous huge mapping's piece at file offset `off`;
 * returns its inode. */
static unsigned long anon_huge(void *p, unsigned long off) {
    struct maps_line l;
    dev_t dev = hugetlbfs_dev();
    CHECK(maps_of(p, &l));
    CHECK(strcmp(l.name, "/anon_hugepage (deleted)") == 0);
    CHECK(l.off == off);
    CHECK(l.maj == major(dev) && l.min == minor(dev));
    CHECK(l.ino != 0);
    return l.ino;
}

static void names(void) {
    int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE;
    char *p = map(HUGE, anon, -1);
    char *q = map(3 * HUGE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1);
    CHECK(p != MAP_FAILED && q != MAP_FAILED);
    if (p == MAP_FAILED || q == MAP_FAILED)
        return;
    unsigned long ip = anon_huge(p, 0), iq = anon_huge(q, 0);
    CHECK(ip != iq);
    /* Each piece keeps its file offset. */
    CHECK_OK(munmap(q + HUGE, HUGE));
    CHECK(anon_huge(q + 2 * HUGE, 2 * HUGE) == iq);
    CHECK(anon_huge(q, 0) == iq);
    CHECK_OK(mprotect(p, HUGE, PROT_READ));
    CHECK(anon_huge(p, 0) == ip);
    CHECK_OK(munmap(p, HUGE));
    CHECK_OK(munmap(q, 3 * HUGE));
    /* Two private ones side by side stay two mappings (two files). */
    char *area = map(4 * HUGE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    CHECK(area != MAP_FAILED);
    char *a = (char *)(((unsigned long)area + HUGE - 1) & ~(HUGE - 1));
    CHECK_OK(munmap(area, 4 * HUGE));
    p = mmap(a, HUGE, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0);
    q = mmap(a + HUGE, HUGE, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0);
    CHECK(p == a && q == a + HUGE);
    struct maps_line l;
    CHECK(maps_of(q, &l) && l.start == (unsigned long)q);
    CHECK(anon_huge(p, 0) != anon_huge(q, 0));
    CHECK_OK(munmap(a, 2 * HUGE));

    /* SHM_HUGETLB: the segment's file on hugetlbfs, its id as inode. */
    key_t key = 0x4b1e18 ^ getpid();
    int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | SHM_HUGETLB | SHM_NORESERVE | 0600);
    CHECK(id >= 0);
    if (id < 0)
        return;
    char *s = shmat(id, NULL, 0);
    CHECK(s != (void *)-1);
    if (s != (void *)-1) {
        char want[64];
        snprintf(want, sizeof want, "/SYSV%08x (deleted)", (unsigned)key);
        dev_t dev = hugetlbfs_dev();
        CHECK(maps_of(s, &l));
        CHECK(strcmp(l.name, want) == 0);
        CHECK(l.maj == major(dev) && l.min == minor(dev));
        CHECK(l.ino == (unsigned long)id && l.off == 0);
        CHECK_OK(shmdt(s));
    }
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

/* A MFD_HUGETLB memfd's stat and statfs: hugetlbfs's. */
static void memfd_stat(void) {
    int fd = memfd_create("huge", MFD_HUGETLB);
    int plain = memfd_create("plain", 0);
    CHECK(fd >= 0 && plain >= 0);
    if (fd < 0 || plain < 0)
        return;
    CHECK_OK(ftruncate(fd, 2 * HUGE));
    struct stat st, ps;
    CHECK_OK(fstat(fd, &st));
    CHECK_OK(fstat(plain, &ps));
    CHECK(st.st_blksize == (blksize_t)HUGE);
    CHECK(ps.st_blksize == 4096);
    CHECK(st.st_dev != ps.st_dev && major(st.st_dev) == 0);
    CHECK(st.st_blocks == 0);
    CHECK(st.st_nlink == 0);
    CHECK((st.st_mode & 07777) == 0777 && S_ISREG(st.st_mode));
    char path[64];
    struct stat via;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    CHECK_OK(stat(path, &via));
    CHECK(via.st_blksize == (blksize_t)HUGE && via.st_dev == st.st_dev && via.st_ino == st.st_ino);
    struct statfs sf;
    CHECK_OK(fstatfs(fd, &sf));
    CHECK(sf.f_type == 0x958458f6);
    CHECK(sf.f_bsize == (long)HUGE && sf.f_frsize == (long)HUGE);
    CHECK(sf.f_blocks == 0 && sf.f_files == 0);
    /* statx: hugetlbfs keeps no birth time. (musl has no struct statx.) */
    struct {
        uint32_t mask, blksize;
        uint64_t pad[15];
        uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
        uint64_t spare[14];
    } sx;
    CHECK_OK(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0xfff, &sx));
    CHECK(sx.blksize == HUGE);
    CHECK(!(sx.mask & 0x800));
    CHECK(sx.dev_major == major(st.st_dev) && sx.dev_minor == minor(st.st_dev));
    close(fd);
    close(plain);
}

/* A touch of the NORESERVE mapping (or attach) at `p`: SIGBUS at the address. */
static void touch_bus(char *p, size_t len) {
    CHECK(((unsigned long)p & (HUGE - 1)) == 0);
    CHECK(access_at(p, 1) == SIGBUS && code == BUS_ADRERR && sig_addr == p);
    CHECK(access_at(p + len - 1, 0) == SIGBUS && code == BUS_ADRERR);
    CHECK(smaps_flag(p, "ht"));
    CHECK(smaps_has(p, "KernelPageSize:", " 2048 kB"));
    CHECK(smaps_has(p, "MMUPageSize:", " 2048 kB"));
    /* The kernel finds no page either. */
    int fd[2];
    CHECK_OK(pipe(fd));
    CHECK(write(fd[1], "abcd", 4) == 4);
    CHECK_ERR(read(fd[0], p + 8, 4), EFAULT);
    CHECK_ERR(write(fd[1], p, 4), EFAULT);
    close(fd[0]);
    close(fd[1]);
}

static void noreserve(void) {
    int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE;
    char *p = map(HUGE, anon, -1);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        touch_bus(p, HUGE);
        CHECK(smaps_flag(p, "nr"));
        CHECK_OK(munmap(p, HUGE));
    }
    /* A page's worth maps a whole huge page, split only at its boundaries. */
    p = map(4096, anon, -1);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        touch_bus(p, HUGE);
        CHECK_ERR(munmap(p, 4096), EINVAL);
        CHECK_ERR(munmap(p + 4096, 4096), EINVAL);
        CHECK_ERR(mprotect(p, 4096, PROT_READ), EINVAL);
        CHECK_OK(mprotect(p, HUGE, PROT_READ));
        CHECK(access_at(p, 0) == SIGBUS);
        CHECK(access_at(p, 1) == SIGSEGV && code == SEGV_ACCERR);
        CHECK_OK(munmap(p, HUGE));
    }
    p = map(3 * HUGE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        touch_bus(p + HUGE, HUGE);
        CHECK_OK(munmap(p + HUGE, HUGE));
        CHECK(access_at(p, 1) == SIGBUS);
        CHECK(access_at(p + HUGE, 1) == SIGSEGV && code == SEGV_MAPERR);
        CHECK_OK(munmap(p, 3 * HUGE));
    }
    /* The size bits still choose the page size. */
    CHECK(map(HUGE, anon | SIZE_BITS(12), -1) == MAP_FAILED && errno == EINVAL);

    /* SHM_HUGETLB | SHM_NORESERVE: a segment of the size asked, attached as huge pages. */
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | SHM_HUGETLB | SHM_NORESERVE | 0600);
    CHECK(id >= 0);
    if (id < 0)
        return;
    struct shmid_ds ds;
    CHECK_OK(shmctl(id, IPC_STAT, &ds));
    CHECK(ds.shm_segsz == 4096);
    char *a = shmat(id, NULL, 0);
    CHECK(a != (void *)-1);
    if (a != (void *)-1) {
        CHECK_OK(shmctl(id, IPC_STAT, &ds));
        CHECK(ds.shm_nattch == 1);
        touch_bus(a, HUGE);
        CHECK(!smaps_flag(a, "nr"));
        CHECK_OK(shmdt(a));
        /* An attach address off the huge page size. */
        CHECK(shmat(id, a + 4096, 0) == (void *)-1 && errno == EINVAL);
        CHECK(shmat(id, a, 0) == a);
        CHECK_OK(shmdt(a));
    }
    CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

static void memfd_huge(void) {
    int fd = memfd_create("huge", MFD_HUGETLB);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL);
    CHECK_ERR(ftruncate(fd, 4096), EINVAL);
    CHECK_OK(ftruncate(fd, 2 * HUGE));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == (off_t)(2 * HUGE));
    CHECK_ERR(write(fd, "x", 1), EINVAL);
    CHECK_ERR(pwrite(fd, "x", 1, 0), EINVAL);
    char b = 9;
    CHECK(pread(fd, &b, 1, 5) == 1 && b == 0);
    CHECK_ERR(fallocate(fd, 0, 0, HUGE), ENOSPC);
    CHECK(map(HUGE, MAP_SHARED, fd) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(HUGE, MAP_PRIVATE, fd) == MAP_FAILED && errno == ENOMEM);
    CHECK(mmap(NULL, HUGE, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 4096) == MAP_FAILED &&
          errno == EINVAL);
    char *p = map(HUGE, MAP_SHARED | MAP_NORESERVE, fd);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        touch_bus(p, HUGE);
        CHECK_OK(munmap(p, HUGE));
    }
    p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_NORESERVE | MAP_HUGETLB, fd, HUGE);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        CHECK(access_at(p + HUGE - 1, 0) == SIGBUS);
        CHECK_ERR(munmap(p, 4096), EINVAL);
        CHECK_OK(munmap(p, HUGE));
    }
    close(fd);
    CHECK_ERR(memfd_create("huge", MFD_HUGETLB | SIZE_BITS(12)), ENODEV);
    CHECK_ERR(memfd_create("huge", SIZE_BITS(21)), EINVAL);
    fd = memfd_create("huge", MFD_HUGETLB | MFD_ALLOW_SEALING | SIZE_BITS(21));
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(fcntl(fd, F_GET_SEALS) == 0);
        close(fd);
    }
}

static void mmap_calls(void) {
    int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
    CHECK(map(HUGE, anon, -1) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(4096, anon, -1) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(HUGE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1) == MAP_FAILED &&
          errno == ENOMEM);
    CHECK(map(HUGE, anon | SIZE_BITS(21), -1) == MAP_FAILED && errno == ENOMEM);
    /* The fd of an anonymous mapping is not looked at. */
    CHECK(map(HUGE, anon, 99) == MAP_FAILED && errno == ENOMEM);
    CHECK(mmap(NULL, HUGE, PROT_NONE, anon, -1, 0) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(HUGE, anon | SIZE_BITS(12), -1) == MAP_FAILED && errno == EINVAL);
    CHECK(map(0, anon, -1) == MAP_FAILED && errno == EINVAL);

    /* A free, huge-page-aligned place for the MAP_FIXED calls. */
    char *area = map(4 * HUGE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    CHECK(area != MAP_FAILED);
    char *aligned = (char *)(((unsigned long)area + HUGE - 1) & ~(HUGE - 1));
    CHECK(munmap(area, 4 * HUGE) == 0);
    CHECK(mmap(aligned + 4096, HUGE, PROT_READ, anon | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == EINVAL);
    CHECK(mmap(aligned, HUGE, PROT_READ, anon | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == ENOMEM);
    /* A hint off the huge page size is only a hint. */
    CHECK(mmap(aligned + 4096, HUGE, PROT_READ, anon, -1, 0) == MAP_FAILED && errno == ENOMEM);

    /* Without MAP_HUGETLB the size bits are ignored. */
    void *p = map(HUGE, MAP_PRIVATE | MAP_ANONYMOUS | SIZE_BITS(21), -1);
    CHECK(p != MAP_FAILED);
    CHECK(p == MAP_FAILED || munmap(p, HUGE) == 0);
    p = map(HUGE, MAP_PRIVATE | MAP_ANONYMOUS | SIZE_BITS(12), -1);
    CHECK(p != MAP_FAILED);
    CHECK(p == MAP_FAILED || munmap(p, HUGE) == 0);

    /* Files: EBADF for a bad fd, then EINVAL for any file not on hugetlbfs. */
    CHECK(map(HUGE, MAP_PRIVATE | MAP_HUGETLB, 99) == MAP_FAILED && errno == EBADF);
    int fd = memfd_create("hugetlb", 0);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, HUGE));
    CHECK(map(HUGE, MAP_PRIVATE | MAP_HUGETLB, fd) == MAP_FAILED && errno == EINVAL);
    CHECK(map(HUGE, MAP_SHARED | MAP_HUGETLB, fd) == MAP_FAILED && errno == EINVAL);
    CHECK(map(HUGE, MAP_SHARED_VALIDATE | MAP_HUGETLB, fd) == MAP_FAILED && errno == EINVAL);
    close(fd);
}

static void shm_calls(void) {
    CHECK_ERR(shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | 0600), ENOMEM);
    CHECK_ERR(shmget(IPC_PRIVATE, 4096, IPC_CREAT | SHM_HUGETLB | 0600), ENOMEM);
    CHECK_ERR(shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | SIZE_BITS(21) | 0600), ENOMEM);
    CHECK_ERR(shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | SIZE_BITS(12) | 0600), EINVAL);
    CHECK_ERR(shmget(IPC_PRIVATE, 0, IPC_CREAT | SHM_HUGETLB | 0600), EINVAL);
    /* Without SHM_HUGETLB the size bits are ignored. */
    int id = shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SIZE_BITS(21) | 0600);
    CHECK(id >= 0);
    if (id >= 0)
        CHECK_OK(shmctl(id, IPC_RMID, NULL));
    /* An existing segment is found whatever the flags say of huge pages. */
    key_t key = 0x4b1d18 ^ getpid();
    int made = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(made >= 0);
    if (made >= 0) {
        CHECK(shmget(key, 4096, SHM_HUGETLB | 0600) == made);
        CHECK_OK(shmctl(made, IPC_RMID, NULL));
    }
    CHECK_ERR(shmget(key, HUGE, SHM_HUGETLB | 0600), ENOENT);
}

static void pool_is_empty(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    CHECK(f != NULL);
    char line[256];
    int seen = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long n;
        if (sscanf(line, "HugePages_Total: %lu", &n) == 1) {
            CHECK(n == 0);
            seen = 1;
        }
    }
    if (f)
        fclose(f);
    CHECK(seen);
    f = fopen("/proc/sys/vm/nr_hugepages", "r");
    if (f) {
        unsigned long n = 99;
        CHECK(fscanf(f, "%lu", &n) == 1 && n == 0);
        fclose(f);
    }
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    pool_is_empty();
    mmap_calls();
    shm_calls();
    noreserve();
    memfd_huge();
    names();
    memfd_stat();
    DONE();
}
