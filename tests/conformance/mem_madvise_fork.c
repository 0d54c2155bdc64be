/* madvise's fork advice: MADV_DONTFORK leaves a range out of a forked child (the child finds
 * nothing mapped there), MADV_WIPEONFORK gives the child zeros there and a grandchild too
 * (private anonymous memory only: EINVAL at the first shared or file mapping, after the ones
 * before it changed), MADV_DOFORK and MADV_KEEPONFORK undo them; the parent's memory is never
 * touched; /proc/self/smaps shows the "dc" and "wf" VmFlags on VMAs split at the range's
 * edges, and holes in the range are ENOMEM after the mapped part was advised. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#define MADV_KEEPONFORK 19
#endif

#define PAGE 4096UL

static char smaps[1 << 20];

/* The VmFlags line of the smaps entry starting at `addr`, or "" if there is none. */
static const char *vmflags_of(void *addr, char *out, size_t cap) {
    char head[32];
    snprintf(head, sizeof head, "%lx-", (unsigned long)addr);
    lt_slurp("/proc/self/smaps", smaps, sizeof smaps);
    out[0] = 0;
    for (char *p = smaps; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, head, strlen(head)) != 0)
            continue;
        char *f = strstr(p, "VmFlags:");
        if (f) {
            size_t n = strcspn(f, "\n");
            if (n >= cap) n = cap - 1;
            memcpy(out, f, n);
            out[n] = 0;
        }
        break;
    }
    return out;
}

/* Whether `addr` is mapped: madvise(MADV_NORMAL) fails with ENOMEM on an unmapped page. */
static int mapped(void *addr) {
    return madvise(addr, PAGE, MADV_NORMAL) == 0;
}

static int all_bytes(const unsigned char *p, size_t len, unsigned char b) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != b) return 0;
    return 1;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned char *m = mmap(0, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    for (int i = 0; i < 6; i++) memset(m + i * PAGE, 'a' + i, PAGE);

    /* Page 1 wiped in children, pages 3-4 left out of them; 0, 2 and 5 copied. */
    CHECK_OK(madvise(m + PAGE, PAGE, MADV_WIPEONFORK));
    CHECK_OK(madvise(m + 3 * PAGE, 2 * PAGE, MADV_DONTFORK));
    char fl[256];
    CHECK(strstr(vmflags_of(m + PAGE, fl, sizeof fl), " wf") != NULL);
    CHECK(strstr(fl, " dc") == NULL);
    CHECK(strstr(vmflags_of(m + 3 * PAGE, fl, sizeof fl), " dc") != NULL);
    CHECK(strstr(fl, " wf") == NULL);
    CHECK(strstr(vmflags_of(m + 2 * PAGE, fl, sizeof fl), " dc") == NULL);
    CHECK(strstr(fl, " wf") == NULL);

    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        bad |= !all_bytes(m, PAGE, 'a');
        bad |= !all_bytes(m + PAGE, PAGE, 0) << 1;
        bad |= !all_bytes(m + 2 * PAGE, PAGE, 'c') << 2;
        bad |= mapped(m + 3 * PAGE) << 3;
        bad |= mapped(m + 4 * PAGE) << 4;
        bad |= !all_bytes(m + 5 * PAGE, PAGE, 'f') << 5;
        /* The advice stays with the child's copy: a grandchild gets zeros again. */
        m[PAGE] = 'x';
        pid_t g = fork();
        if (g == 0) _exit(m[PAGE] == 0 ? 0 : 1);
        int gs;
        waitpid(g, &gs, 0);
        bad |= !(WIFEXITED(gs) && WEXITSTATUS(gs) == 0) << 6;
        _exit(bad);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    /* The parent keeps everything. */
    for (int i = 0; i < 6; i++) CHECK(all_bytes(m + i * PAGE, PAGE, 'a' + i));

    /* Undone: the next child sees the parent's bytes everywhere. */
    CHECK_OK(madvise(m + PAGE, PAGE, MADV_KEEPONFORK));
    CHECK_OK(madvise(m + 3 * PAGE, 2 * PAGE, MADV_DOFORK));
    CHECK(strstr(vmflags_of(m + 3 * PAGE, fl, sizeof fl), " dc") == NULL);
    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 6; i++)
            if (!all_bytes(m + i * PAGE, PAGE, 'a' + i)) _exit(1 + i);
        _exit(0);
    }
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);

    /* MADV_WIPEONFORK is for private anonymous memory only. */
    unsigned char *sh = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);
    CHECK_ERR(madvise(sh, PAGE, MADV_WIPEONFORK), EINVAL);
    CHECK_OK(madvise(sh, PAGE, MADV_DONTFORK));
    char path[] = "/tmp/madvise_fork_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, PAGE));
    void *fm = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(fm != MAP_FAILED);
    CHECK_ERR(madvise(fm, PAGE, MADV_WIPEONFORK), EINVAL);
    CHECK_ERR(madvise(fm, PAGE, 12345), EINVAL);
    unlink(path);
    close(fd);

    /* A hole in the range: the mapped parts are advised, then ENOMEM. */
    unsigned char *h = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(h != MAP_FAILED);
    CHECK_OK(munmap(h + PAGE, PAGE));
    CHECK_ERR(madvise(h, 3 * PAGE, MADV_DONTFORK), ENOMEM);
    CHECK(strstr(vmflags_of(h, fl, sizeof fl), " dc") != NULL);
    CHECK(strstr(vmflags_of(h + 2 * PAGE, fl, sizeof fl), " dc") != NULL);
    CHECK_ERR(madvise(h, PAGE, MADV_DONTFORK + 1000), EINVAL);

    /* A shared page after a private one: the walk advises the private VMA, then stops at
     * the shared one with EINVAL (the change before it stays, as Linux's walk leaves it). */
    unsigned char *p2 = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
    CHECK(p2 != MAP_FAILED);
    CHECK(mmap(p2 + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0) == p2 + PAGE);
    CHECK_ERR(madvise(p2, 2 * PAGE, MADV_WIPEONFORK), EINVAL);
    CHECK(strstr(vmflags_of(p2, fl, sizeof fl), " wf") != NULL);
    CHECK(strstr(vmflags_of(p2 + PAGE, fl, sizeof fl), " wf") == NULL);
    DONE();
}
