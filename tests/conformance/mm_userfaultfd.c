/* userfaultfd in MISSING mode on private anonymous memory: the API handshake and its errors,
 * registering, a thread's fault read as a uffd_msg and resolved by UFFDIO_COPY or
 * UFFDIO_ZEROPAGE, EEXIST, UFFDIO_WAKE, unregistering and closing with a fault waiting,
 * poll readiness, and a signal interrupting a blocked fault. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PG 4096L

static int uffd_new(int flags) { return (int)syscall(SYS_userfaultfd, flags); }

/* A userfaultfd past its API handshake. */
static int uffd_ready(int flags) {
    int fd = uffd_new(flags);
    CHECK(fd >= 0);
    struct uffdio_api api = {.api = UFFD_API};
    CHECK_OK(ioctl(fd, UFFDIO_API, &api));
    return fd;
}

static int uffd_register(int fd, char *p, long len) {
    struct uffdio_register r = {.range = {(uintptr_t)p, len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    int ret = ioctl(fd, UFFDIO_REGISTER, &r);
    if (ret == 0) {
        uint64_t want = (1ULL << _UFFDIO_WAKE) | (1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_ZEROPAGE);
        CHECK((r.ioctls & want) == want);
    }
    return ret;
}

/* Waits (poll, up to 5 s) for one fault message and returns it. */
static struct uffd_msg next_msg(int fd) {
    struct uffd_msg m;
    memset(&m, 0, sizeof m);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 5000) == 1);
    CHECK(pfd.revents == POLLIN);
    CHECK(read(fd, &m, sizeof m) == sizeof m);
    return m;
}

struct toucher {
    volatile char *addr;
    int write;
    int seen;
};

static void *touch(void *arg) {
    struct toucher *t = arg;
    if (t->write) {
        t->addr[1] = 7;
        t->seen = t->addr[0] | (t->addr[1] << 8);
    } else {
        t->seen = t->addr[0];
    }
    return NULL;
}

static void start(pthread_t *th, struct toucher *t, char *addr, int write) {
    t->addr = addr;
    t->write = write;
    t->seen = -1;
    CHECK(pthread_create(th, NULL, touch, t) == 0);
}

static void errors(void) {
    CHECK_ERR(uffd_new(0x100), EINVAL);
    CHECK_ERR(uffd_new(O_RDWR), EINVAL);
    int fd = uffd_new(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    /* Nothing but UFFDIO_API before the handshake. */
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK_ERR(uffd_register(fd, p, PG), EINVAL);
    struct uffd_msg m;
    CHECK_ERR(read(fd, &m, sizeof m), EINVAL);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLERR);
    struct uffdio_api api = {.api = 0xAB};
    CHECK_ERR(ioctl(fd, UFFDIO_API, &api), EINVAL);
    CHECK(api.api == 0 && api.features == 0 && api.ioctls == 0);
    api = (struct uffdio_api){.api = UFFD_API, .features = 1ULL << 63};
    CHECK_ERR(ioctl(fd, UFFDIO_API, &api), EINVAL);
    api = (struct uffdio_api){.api = UFFD_API};
    CHECK_OK(ioctl(fd, UFFDIO_API, &api));
    CHECK(api.api == UFFD_API);
    uint64_t want = (1ULL << _UFFDIO_REGISTER) | (1ULL << _UFFDIO_UNREGISTER) | (1ULL << _UFFDIO_API);
    CHECK((api.ioctls & want) == want);
    api = (struct uffdio_api){.api = UFFD_API};
    CHECK_ERR(ioctl(fd, UFFDIO_API, &api), EINVAL);
    CHECK_ERR(ioctl(fd, _IO(0xAA, 0x30), 0), EINVAL);
    /* Opened read-only. */
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
    CHECK_ERR(write(fd, "12345678", 8), EBADF);
    /* Nothing pending: no readiness, EAGAIN, and a short buffer is EINVAL. */
    CHECK(poll(&pfd, 1, 0) == 0);
    CHECK_ERR(read(fd, &m, sizeof m), EAGAIN);
    CHECK_ERR(read(fd, &m, sizeof m - 1), EINVAL);
    /* Register: a mode, an aligned non-empty range, and a mapping in it. */
    struct uffdio_register r = {.range = {(uintptr_t)p, PG}, .mode = 0};
    CHECK_ERR(ioctl(fd, UFFDIO_REGISTER, &r), EINVAL);
    r.mode = 8;
    CHECK_ERR(ioctl(fd, UFFDIO_REGISTER, &r), EINVAL);
    CHECK_ERR(uffd_register(fd, p + 1, PG), EINVAL);
    CHECK_ERR(uffd_register(fd, p, 0), EINVAL);
    CHECK_ERR(uffd_register(fd, p, 100), EINVAL);
    char *q = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    CHECK_OK(munmap(q + PG, PG));
    CHECK_ERR(uffd_register(fd, q + PG, PG), EINVAL);
    /* Fills need a registered destination. */
    char src[PG];
    memset(src, 1, sizeof src);
    struct uffdio_copy c = {.dst = (uintptr_t)q, .src = (uintptr_t)src, .len = PG};
    CHECK_ERR(ioctl(fd, UFFDIO_COPY, &c), ENOENT);
    CHECK(c.copy == -ENOENT);
    c.mode = 4;
    CHECK_ERR(ioctl(fd, UFFDIO_COPY, &c), EINVAL);
    struct uffdio_zeropage z = {.range = {(uintptr_t)q + 1, PG}};
    CHECK_ERR(ioctl(fd, UFFDIO_ZEROPAGE, &z), EINVAL);
    struct uffdio_range w = {(uintptr_t)q, 0};
    CHECK_ERR(ioctl(fd, UFFDIO_WAKE, &w), EINVAL);
    CHECK_OK(close(fd));
    /* An answer that cannot be written enables nothing. */
    fd = uffd_new(0);
    struct uffdio_api *ro = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ro->api = UFFD_API;
    CHECK_OK(mprotect(ro, PG, PROT_READ));
    CHECK_ERR(ioctl(fd, UFFDIO_API, ro), EFAULT);
    CHECK_ERR(ioctl(fd, UFFDIO_API, NULL), EFAULT);
    api = (struct uffdio_api){.api = UFFD_API};
    CHECK_OK(ioctl(fd, UFFDIO_API, &api));
    CHECK_OK(close(fd));
    /* A blocking userfaultfd polls as an error: a fault may be woken before it is read. */
    fd = uffd_ready(0);
    pfd.fd = fd;
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLERR);
    CHECK_OK(close(fd));
}

static void faults(void) {
    int fd = uffd_ready(O_CLOEXEC | O_NONBLOCK);
    char *p = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK_OK(uffd_register(fd, p, 6 * PG));
    CHECK_OK(uffd_register(fd, p, 6 * PG)); /* again with the same file: fine */
    int other = uffd_ready(O_NONBLOCK);
    CHECK_ERR(uffd_register(other, p, PG), EBUSY);
    CHECK_OK(close(other));

    /* A read fault, resolved by UFFDIO_COPY. */
    pthread_t th;
    struct toucher t;
    start(&th, &t, p + 100, 0);
    struct uffd_msg m = next_msg(fd);
    CHECK(m.event == UFFD_EVENT_PAGEFAULT);
    CHECK(m.arg.pagefault.address == (uintptr_t)p);
    CHECK((m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) == 0);
    /* Read once: not reported again while it waits. */
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 0) == 0);
    static char src[PG];
    for (int i = 0; i < PG; i++) src[i] = (char)(i % 100 + 1);
    struct uffdio_copy c = {.dst = (uintptr_t)p, .src = (uintptr_t)src, .len = PG};
    CHECK_OK(ioctl(fd, UFFDIO_COPY, &c));
    CHECK(c.copy == PG);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(t.seen == src[100]);
    CHECK(memcmp(p, src, PG) == 0);

    /* The page is there now: EEXIST, reported in the struct as well. */
    c = (struct uffdio_copy){.dst = (uintptr_t)p, .src = (uintptr_t)src, .len = PG};
    CHECK_ERR(ioctl(fd, UFFDIO_COPY, &c), EEXIST);
    CHECK(c.copy == -EEXIST);
    struct uffdio_zeropage z = {.range = {(uintptr_t)p, PG}};
    CHECK_ERR(ioctl(fd, UFFDIO_ZEROPAGE, &z), EEXIST);
    CHECK(z.zeropage == -EEXIST);

    /* A write fault, resolved by UFFDIO_ZEROPAGE. */
    start(&th, &t, p + PG, 1);
    m = next_msg(fd);
    CHECK(m.event == UFFD_EVENT_PAGEFAULT);
    CHECK(m.arg.pagefault.address == (uintptr_t)(p + PG));
    CHECK((m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0);
    z = (struct uffdio_zeropage){.range = {(uintptr_t)(p + PG), PG}};
    CHECK_OK(ioctl(fd, UFFDIO_ZEROPAGE, &z));
    CHECK(z.zeropage == PG);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(t.seen == 7 << 8);

    /* UFFDIO_WAKE without a fill: the fault comes back, then a DONTWAKE copy needs a wake. */
    start(&th, &t, p + 2 * PG, 0);
    m = next_msg(fd);
    CHECK(m.arg.pagefault.address == (uintptr_t)(p + 2 * PG));
    struct uffdio_range w = {(uintptr_t)(p + 2 * PG), PG};
    CHECK_OK(ioctl(fd, UFFDIO_WAKE, &w));
    m = next_msg(fd);
    CHECK(m.arg.pagefault.address == (uintptr_t)(p + 2 * PG));
    c = (struct uffdio_copy){.dst = (uintptr_t)(p + 2 * PG), .src = (uintptr_t)src, .len = PG,
                             .mode = UFFDIO_COPY_MODE_DONTWAKE};
    CHECK_OK(ioctl(fd, UFFDIO_COPY, &c));
    CHECK(c.copy == PG);
    CHECK_OK(ioctl(fd, UFFDIO_WAKE, &w));
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(t.seen == src[0]);

    /* Unregistering wakes the waiting fault, which then gets a zero page. */
    start(&th, &t, p + 3 * PG, 0);
    m = next_msg(fd);
    CHECK(m.arg.pagefault.address == (uintptr_t)(p + 3 * PG));
    struct uffdio_range u = {(uintptr_t)(p + 3 * PG), PG};
    CHECK_OK(ioctl(fd, UFFDIO_UNREGISTER, &u));
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(t.seen == 0);
    /* No longer registered: fills fail. */
    c = (struct uffdio_copy){.dst = (uintptr_t)(p + 3 * PG), .src = (uintptr_t)src, .len = PG};
    CHECK_ERR(ioctl(fd, UFFDIO_COPY, &c), ENOENT);

    /* A multi-page copy over a present page stops there with a partial count (EAGAIN). */
    c = (struct uffdio_copy){.dst = (uintptr_t)(p + 4 * PG), .src = (uintptr_t)src, .len = PG};
    CHECK_OK(ioctl(fd, UFFDIO_COPY, &c));
    c = (struct uffdio_copy){.dst = (uintptr_t)(p + 4 * PG), .src = (uintptr_t)src, .len = 2 * PG};
    CHECK_ERR(ioctl(fd, UFFDIO_COPY, &c), EEXIST);
    CHECK(c.copy == -EEXIST);

    /* Closing with a fault waiting: it is retried as an ordinary fault. */
    start(&th, &t, p + 5 * PG, 0);
    m = next_msg(fd);
    CHECK(m.arg.pagefault.address == (uintptr_t)(p + 5 * PG));
    CHECK_OK(close(fd));
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(t.seen == 0);
}

/* Several faults at once, seen by epoll and read together. */
static void batch(void) {
    int fd = uffd_ready(O_NONBLOCK);
    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK_OK(uffd_register(fd, p, 2 * PG));
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    CHECK(epoll_wait(ep, &ev, 1, 0) == 0);
    pthread_t th[2];
    struct toucher t[2];
    start(&th[0], &t[0], p, 0);
    CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.events == EPOLLIN);
    start(&th[1], &t[1], p + PG, 1);
    struct uffd_msg m[4];
    int got = 0;
    long t0 = lt_now_ms();
    while (got < 2 && lt_now_ms() - t0 < 5000) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, 100);
        ssize_t n = read(fd, &m[got], sizeof m - got * sizeof m[0]);
        if (n > 0) {
            CHECK(n % sizeof m[0] == 0);
            got += (int)(n / sizeof m[0]);
        }
    }
    CHECK(got == 2);
    CHECK(epoll_wait(ep, &ev, 1, 0) == 0);
    CHECK_OK(close(ep));
    /* One fill resolves both. */
    struct uffdio_zeropage z = {.range = {(uintptr_t)p, 2 * PG}};
    CHECK_OK(ioctl(fd, UFFDIO_ZEROPAGE, &z));
    CHECK(z.zeropage == 2 * PG);
    CHECK(pthread_join(th[0], NULL) == 0 && pthread_join(th[1], NULL) == 0);
    CHECK(t[0].seen == 0 && t[1].seen == 7 << 8);
    CHECK_OK(close(fd));
}

static int sig_fd;
static char *sig_page;
static volatile int sig_seen;

static void on_usr1(int s) {
    (void)s;
    sig_seen = 1;
    struct uffdio_zeropage z = {.range = {(uintptr_t)sig_page, PG}};
    ioctl(sig_fd, UFFDIO_ZEROPAGE, &z);
}

/* A signal interrupts a blocked fault: its handler runs, then the access retries. SIGKILL
 * ends a process blocked with nobody to handle the fault. */
static void signals(void) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sig_fd = uffd_ready(O_NONBLOCK);
        sig_page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (uffd_register(sig_fd, sig_page, PG) != 0) _exit(2);
        signal(SIGUSR1, on_usr1);
        int v = *(volatile char *)sig_page;
        _exit(sig_seen && v == 0 ? 0 : 3);
    }
    lt_sleep_ms(100);
    CHECK_OK(kill(pid, SIGUSR1));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);

    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = uffd_ready(0);
        char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (uffd_register(fd, p, PG) != 0) _exit(2);
        *(volatile char *)p = 1;
        _exit(4);
    }
    lt_sleep_ms(100);
    CHECK_OK(kill(pid, SIGKILL));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* A forked child's copy of the memory is not registered: its faults are ordinary. */
static void forked(void) {
    int fd = uffd_ready(O_NONBLOCK);
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_OK(uffd_register(fd, p, PG));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(*(volatile char *)p == 0 ? 0 : 1);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    CHECK_OK(close(fd));
}

/* Closing a userfaultfd unregisters its ranges: another may take them, and fills through
 * it fail until it does. */
static void reuse(void) {
    int a = uffd_ready(O_NONBLOCK);
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_OK(uffd_register(a, p, PG));
    int b = uffd_ready(O_NONBLOCK);
    CHECK_ERR(uffd_register(b, p, PG), EBUSY);
    CHECK_OK(close(a));
    static char src[PG] = {5};
    struct uffdio_copy c = {.dst = (uintptr_t)p, .src = (uintptr_t)src, .len = PG};
    CHECK_ERR(ioctl(b, UFFDIO_COPY, &c), ENOENT);
    CHECK_OK(uffd_register(b, p, PG));
    c = (struct uffdio_copy){.dst = (uintptr_t)p, .src = (uintptr_t)src, .len = PG};
    CHECK_OK(ioctl(b, UFFDIO_COPY, &c));
    CHECK(p[0] == 5);
    CHECK_OK(close(b));
}

/* UFFD_FEATURE_SIGBUS: a fault raises SIGBUS instead of waiting. UFFD_FEATURE_THREAD_ID and
 * UFFD_FEATURE_EXACT_ADDRESS: the message names the thread and the byte. */
static void features(void) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = uffd_new(O_NONBLOCK);
        struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_SIGBUS};
        if (ioctl(fd, UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_SIGBUS)) _exit(2);
        char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (uffd_register(fd, p, PG) != 0) _exit(3);
        /* Kernel accesses fail instead. */
        if (write(1, p, 1) != -1 || errno != EFAULT) _exit(4);
        *(volatile char *)p = 1;
        _exit(5);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);

    int fd = uffd_new(O_NONBLOCK);
    struct uffdio_api api = {.api = UFFD_API,
                             .features = UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS};
    CHECK_OK(ioctl(fd, UFFDIO_API, &api));
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_OK(uffd_register(fd, p, PG));
    pthread_t th;
    struct toucher t;
    start(&th, &t, p + 123, 0);
    struct uffd_msg m = next_msg(fd);
    CHECK(m.arg.pagefault.address == (uintptr_t)(p + 123));
    CHECK(m.arg.pagefault.feat.ptid > 0 && m.arg.pagefault.feat.ptid != (uint32_t)getpid());
    struct uffdio_zeropage z = {.range = {(uintptr_t)p, PG}};
    CHECK_OK(ioctl(fd, UFFDIO_ZEROPAGE, &z));
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(t.seen == 0);
    CHECK_OK(close(fd));
}

/* A mapping moved by mremap leaves its userfaultfd. */
static void moved(void) {
    int fd = uffd_ready(O_NONBLOCK);
    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_OK(uffd_register(fd, p, 2 * PG));
    char *to = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(to != MAP_FAILED);
    char *q = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    CHECK(q == to);
    if (q != to) return;
    CHECK(q[0] == 0 && q[PG] == 0);
    struct uffdio_zeropage z = {.range = {(uintptr_t)q + PG, PG}};
    CHECK_ERR(ioctl(fd, UFFDIO_ZEROPAGE, &z), ENOENT);
    /* So does one moved by MREMAP_DONTUNMAP. */
    p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_OK(uffd_register(fd, p, PG));
    q = mremap(p, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(q != MAP_FAILED && q != p);
    if (q == MAP_FAILED) return;
    CHECK(q[0] == 0);
    z = (struct uffdio_zeropage){.range = {(uintptr_t)q, PG}};
    CHECK_ERR(ioctl(fd, UFFDIO_ZEROPAGE, &z), ENOENT);
    CHECK_OK(close(fd));
}

int main(void) {
    lt_sub("errors", errors, 10000);
    lt_sub("faults", faults, 20000);
    lt_sub("batch", batch, 10000);
    lt_sub("signals", signals, 10000);
    lt_sub("forked", forked, 10000);
    lt_sub("reuse", reuse, 10000);
    lt_sub("features", features, 10000);
    lt_sub("moved", moved, 10000);
    DONE();
}
