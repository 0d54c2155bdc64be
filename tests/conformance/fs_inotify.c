/* inotify: the events Linux reports, in Linux's order, for creating, writing, reading,
 * renaming (with matching cookies), linking, unlinking (IN_DELETE_SELF waiting for the last
 * close of an open file), removing directories, replacing a file by rename, truncating and
 * one-shot watches; merging of a repeated event; a watched directory renamed (also while
 * another process creates files in it); a file renamed while open; IN_EXCL_UNLINK; the
 * queue's overflow; IN_UNMOUNT; waiting in epoll, read and select; and the calls' errors
 * (init flags, masks, IN_ONLYDIR, IN_MASK_CREATE, rm_watch), non-blocking reads, short
 * buffers and FIONREAD. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif

static int ifd;

struct ev {
    int wd;
    unsigned mask;
    const char *name;
};

static unsigned last_cookie[8];

/* Reads every queued event and compares them with `want`; cookies of IN_MOVED_* events are
 * kept in last_cookie in order. */
static void expect(int line, const struct ev *want, int n) {
    char buf[4096] __attribute__((aligned(8)));
    int got = 0, nc = 0;
    ssize_t r = read(ifd, buf, sizeof buf);
    if (r < 0 && n > 0) {
        printf("%d: read: %s, expected %d events\n", line, strerror(errno), n);
        lt_failures++;
        return;
    }
    for (char *p = buf; r > 0 && p < buf + r; got++) {
        struct inotify_event *e = (void *)p;
        const char *name = e->len ? e->name : "";
        if (got >= n || e->wd != want[got].wd || e->mask != want[got].mask ||
            strcmp(name, want[got].name) != 0) {
            printf("%d: event %d: wd=%d mask=%#x name=%s, expected ", line, got, e->wd, e->mask,
                   name);
            if (got < n)
                printf("wd=%d mask=%#x name=%s\n", want[got].wd, want[got].mask, want[got].name);
            else
                printf("nothing\n");
            lt_failures++;
        }
        if (e->mask & (IN_MOVED_FROM | IN_MOVED_TO) && nc < 8)
            last_cookie[nc++] = e->cookie;
        p += sizeof *e + e->len;
    }
    if (got < n) {
        printf("%d: %d events, expected %d\n", line, got, n);
        lt_failures++;
    }
}
#define EXPECT(...)                                                   \
    do {                                                              \
        const struct ev w_[] = {__VA_ARGS__};                         \
        expect(__LINE__, w_, (int)(sizeof w_ / sizeof w_[0]));        \
    } while (0)

static void touch(const char *p) {
    int f = open(p, O_CREAT | O_WRONLY, 0644);
    CHECK(f >= 0);
    close(f);
}

static void errors(void) {
    CHECK_ERR(inotify_init1(IN_NONBLOCK << 1), EINVAL);
    int fd = inotify_init1(IN_CLOEXEC);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
    char link[64], target[64] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    CHECK(readlink(link, target, sizeof target - 1) > 0 && strcmp(target, "anon_inode:inotify") == 0);
    CHECK_ERR(inotify_add_watch(fd, ".", 0), EINVAL);
    CHECK_ERR(inotify_add_watch(fd, ".", IN_MASK_ADD | IN_MASK_CREATE | IN_OPEN), EINVAL);
    CHECK_ERR(inotify_add_watch(999, ".", IN_OPEN), EBADF);
    CHECK_ERR(inotify_add_watch(0 == fd ? 1 : 0, ".", IN_OPEN) == -1 && errno == EINVAL ? -1 : 0,
              EINVAL);
    CHECK_ERR(inotify_add_watch(fd, "missing", IN_OPEN), ENOENT);
    touch("plain");
    CHECK_ERR(inotify_add_watch(fd, "plain", IN_OPEN | IN_ONLYDIR), ENOTDIR);
    int wd = inotify_add_watch(fd, "plain", IN_OPEN);
    CHECK(wd >= 1);
    CHECK(inotify_add_watch(fd, "plain", IN_CLOSE) == wd);
    CHECK_ERR(inotify_add_watch(fd, "plain", IN_OPEN | IN_MASK_CREATE), EEXIST);
    CHECK_ERR(inotify_rm_watch(fd, wd + 100), EINVAL);
    CHECK_OK(inotify_rm_watch(fd, wd));
    CHECK_ERR(inotify_rm_watch(fd, wd), EINVAL);
    /* rm_watch queued IN_IGNORED; a buffer smaller than one event is EINVAL. */
    int avail = -1;
    CHECK_OK(ioctl(fd, FIONREAD, &avail));
    CHECK(avail == (int)sizeof(struct inotify_event));
    char small[8];
    CHECK_ERR(read(fd, small, sizeof small), EINVAL);
    struct inotify_event e;
    CHECK(read(fd, &e, sizeof e) == sizeof e && e.wd == wd && e.mask == IN_IGNORED);
    unlink("plain");
    close(fd);
}

/* Runs `fn` with an inotify instance of its own in ifd. */
static void with_instance(void (*fn)(void)) {
    int saved = ifd;
    ifd = inotify_init1(IN_NONBLOCK);
    CHECK(ifd >= 0);
    fn();
    close(ifd);
    ifd = saved;
}

/* A watched directory renamed, within its parent and into another directory, keeps its watch:
 * IN_MOVE_SELF each time, its children's events still come with the same wd, and adding a
 * watch by its new path finds it. A child process creating files in it (through a descriptor
 * of the directory) while it is renamed back and forth loses none of their events. */
static void renamed_dir(void) {
    CHECK_OK(mkdir("r1", 0755));
    CHECK_OK(mkdir("other", 0755));
    int w = inotify_add_watch(ifd, "r1", IN_ALL_EVENTS);
    CHECK(w >= 1);
    CHECK_OK(rename("r1", "r2"));
    EXPECT({w, IN_MOVE_SELF, ""});
    touch("r2/x");
    EXPECT({w, IN_CREATE, "x"}, {w, IN_OPEN, "x"}, {w, IN_CLOSE_WRITE, "x"});
    CHECK_OK(rename("r2", "other/r3"));
    EXPECT({w, IN_MOVE_SELF, ""});
    CHECK_OK(rename("other/r3/x", "other/r3/y"));
    EXPECT({w, IN_MOVED_FROM, "x"}, {w, IN_MOVED_TO, "y"});
    CHECK(last_cookie[0] != 0 && last_cookie[0] == last_cookie[1]);
    CHECK_OK(rename("other/r3/y", "y"));
    EXPECT({w, IN_MOVED_FROM, "y"});
    CHECK_OK(unlink("y"));
    CHECK(inotify_add_watch(ifd, "other/r3", IN_ALL_EVENTS) == w);

    enum { FILES = 200, RENAMES = 100 };
    int dfd = open("other/r3", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    EXPECT({w, IN_OPEN | IN_ISDIR, ""});
    pid_t c = fork();
    if (c == 0) {
        for (int i = 0; i < FILES; i++) {
            char n[16];
            snprintf(n, sizeof n, "f%d", i);
            int f = openat(dfd, n, O_CREAT | O_WRONLY, 0644);
            if (f < 0) _exit(1);
            close(f);
        }
        _exit(0);
    }
    for (int i = 0; i < RENAMES; i++)
        CHECK_OK(i % 2 ? rename("r4", "other/r3") : rename("other/r3", "r4"));
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    /* Every file's three events, in order per file; IN_MOVE_SELF in between (consecutive
     * ones may merge into one). */
    static unsigned char state[FILES];
    memset(state, 0, sizeof state);
    int moves = 0, other = 0;
    char buf[8192] __attribute__((aligned(8)));
    ssize_t r;
    while ((r = read(ifd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + r;) {
            struct inotify_event *e = (void *)p;
            p += sizeof *e + e->len;
            int i = -1;
            if (e->len && sscanf(e->name, "f%d", &i) != 1) i = -1;
            static const unsigned order[3] = {IN_CREATE, IN_OPEN, IN_CLOSE_WRITE};
            if (e->wd == w && e->mask == IN_MOVE_SELF && !e->len)
                moves++;
            else if (e->wd == w && i >= 0 && i < FILES && state[i] < 3 &&
                     e->mask == order[state[i]])
                state[i]++;
            else if (other++ < 3)
                printf("unexpected event wd=%d mask=%#x name=%s\n", e->wd, e->mask,
                       e->len ? e->name : "");
        }
    }
    CHECK(r == -1 && errno == EAGAIN);
    CHECK(other == 0);
    CHECK(moves >= 1 && moves <= RENAMES);
    int complete = 0;
    for (int i = 0; i < FILES; i++) complete += state[i] == 3;
    CHECK(complete == FILES);
    for (int i = 0; i < FILES; i++) {
        char n[16];
        snprintf(n, sizeof n, "f%d", i);
        CHECK_OK(unlinkat(dfd, n, 0));
    }
    close(dfd);
    CHECK_OK(rmdir("other/r3"));
    CHECK_OK(rmdir("other"));
    /* The deletions, then the directory's own end. */
    int deletes = 0, self = 0, ignored = 0;
    while ((r = read(ifd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + r;) {
            struct inotify_event *e = (void *)p;
            p += sizeof *e + e->len;
            if (e->wd != w) continue;
            if (e->mask == IN_DELETE) deletes++;
            if (e->mask == IN_DELETE_SELF) self = deletes == FILES;
            if (e->mask == IN_IGNORED) ignored = self;
        }
    }
    CHECK(deletes == FILES && self && ignored);
}

/* IN_EXCL_UNLINK: once a file is unlinked, what is done through an fd still open on it
 * (write, read, close) is not reported to watches with the flag, on its directory or on
 * itself; watches without it still get the events. The unlink's own events and the
 * file's end (IN_DELETE_SELF at the last close) still come. */
static void excl_unlink(void) {
    CHECK_OK(mkdir("xu", 0755));
    int wx = inotify_add_watch(ifd, "xu", IN_ALL_EVENTS | IN_EXCL_UNLINK);
    int wp = inotify_add_watch(ifd, "xu", IN_ALL_EVENTS | IN_MASK_ADD);
    CHECK(wx >= 1 && wp == wx);
    int plain = inotify_init1(IN_NONBLOCK);
    int wplain = inotify_add_watch(plain, "xu", IN_ALL_EVENTS);
    CHECK(wplain >= 1);
    int f = open("xu/f", O_CREAT | O_RDWR, 0644);
    CHECK(f >= 0);
    int wf = inotify_add_watch(ifd, "xu/f", IN_ALL_EVENTS | IN_EXCL_UNLINK);
    CHECK(wf > wx);
    EXPECT({wx, IN_CREATE, "f"}, {wx, IN_OPEN, "f"});
    CHECK_OK(unlink("xu/f"));
    EXPECT({wf, IN_ATTRIB, ""}, {wx, IN_DELETE, "f"});
    CHECK(write(f, "x", 1) == 1);
    CHECK(pread(f, &(char){0}, 1, 0) == 1);
    expect(__LINE__, NULL, 0);
    close(f);
    EXPECT({wf, IN_DELETE_SELF, ""}, {wf, IN_IGNORED, ""});
    /* The instance without the flag saw everything. */
    int saved2 = ifd;
    ifd = plain;
    EXPECT({wplain, IN_CREATE, "f"}, {wplain, IN_OPEN, "f"}, {wplain, IN_DELETE, "f"},
           {wplain, IN_MODIFY, "f"}, {wplain, IN_ACCESS, "f"}, {wplain, IN_CLOSE_WRITE, "f"});
    ifd = saved2;
    close(plain);
    CHECK_OK(rmdir("xu"));
}

/* A file renamed while open, within its directory and into another: what is done through the
 * fd afterwards is reported to its new directory with its new name (the dentry moved); a new
 * file under the old name is another file. */
static void renamed_open(void) {
    CHECK_OK(mkdir("ro", 0755));
    CHECK_OK(mkdir("ro/sub", 0755));
    int w1 = inotify_add_watch(ifd, "ro", IN_ALL_EVENTS);
    int w2 = inotify_add_watch(ifd, "ro/sub", IN_ALL_EVENTS);
    CHECK(w1 >= 1 && w2 > w1);
    int f = open("ro/a", O_CREAT | O_WRONLY, 0644);
    CHECK(f >= 0);
    EXPECT({w1, IN_CREATE, "a"}, {w1, IN_OPEN, "a"});
    CHECK_OK(rename("ro/a", "ro/b"));
    EXPECT({w1, IN_MOVED_FROM, "a"}, {w1, IN_MOVED_TO, "b"});
    CHECK(write(f, "x", 1) == 1);
    EXPECT({w1, IN_MODIFY, "b"});
    CHECK_OK(rename("ro/b", "ro/sub/c"));
    EXPECT({w1, IN_MOVED_FROM, "b"}, {w2, IN_MOVED_TO, "c"});
    CHECK_OK(fchmod(f, 0600));
    CHECK(write(f, "y", 1) == 1);
    EXPECT({w2, IN_ATTRIB, "c"}, {w2, IN_MODIFY, "c"});
    int g = open("ro/b", O_CREAT | O_WRONLY, 0644);
    CHECK(g >= 0 && write(g, "z", 1) == 1);
    EXPECT({w1, IN_CREATE, "b"}, {w1, IN_OPEN, "b"}, {w1, IN_MODIFY, "b"});
    close(f);
    close(g);
    EXPECT({w2, IN_CLOSE_WRITE, "c"}, {w1, IN_CLOSE_WRITE, "b"});
    /* Renamed back while open again. */
    f = open("ro/sub/c", O_RDONLY);
    CHECK_OK(rename("ro/sub/c", "ro/a"));
    CHECK(read(f, &(char){0}, 1) == 1);
    close(f);
    EXPECT({w2, IN_OPEN, "c"}, {w2, IN_MOVED_FROM, "c"}, {w1, IN_MOVED_TO, "a"},
           {w1, IN_ACCESS, "a"}, {w1, IN_CLOSE_NOWRITE, "a"});
    CHECK_OK(unlink("ro/a"));
    CHECK_OK(unlink("ro/b"));
    CHECK_OK(rmdir("ro/sub"));
    CHECK_OK(rmdir("ro"));
}

/* /proc/sys/fs/inotify/max_queued_events, read when an instance is made: past it one
 * IN_Q_OVERFLOW (wd -1) stands for everything lost, and the queue takes events again once
 * read. */
static void overflow(void) {
    const char *path = "/proc/sys/fs/inotify/max_queued_events";
    char old[32] = {0};
    int f = open(path, O_RDONLY);
    CHECK(f >= 0 && read(f, old, sizeof old - 1) > 0);
    close(f);
    f = open(path, O_WRONLY);
    CHECK(f >= 0 && write(f, "8\n", 2) == 2);
    close(f);
    int fd = inotify_init1(IN_NONBLOCK);
    f = open(path, O_WRONLY);
    CHECK(f >= 0 && write(f, old, strlen(old)) == (ssize_t)strlen(old));
    close(f);
    CHECK(fd >= 0);
    CHECK_OK(mkdir("ov", 0755));
    int w = inotify_add_watch(fd, "ov", IN_CREATE);
    char name[16];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "ov/f%d", i);
        touch(name);
    }
    int saved = ifd;
    ifd = fd;
    EXPECT({w, IN_CREATE, "f0"}, {w, IN_CREATE, "f1"}, {w, IN_CREATE, "f2"}, {w, IN_CREATE, "f3"},
           {w, IN_CREATE, "f4"}, {w, IN_CREATE, "f5"}, {w, IN_CREATE, "f6"}, {w, IN_CREATE, "f7"},
           {-1, IN_Q_OVERFLOW, ""});
    touch("ov/g");
    EXPECT({w, IN_CREATE, "g"});
    ifd = saved;
    close(fd);
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "ov/f%d", i);
        CHECK_OK(unlink(name));
    }
    CHECK_OK(unlink("ov/g"));
    CHECK_OK(rmdir("ov"));
}

/* Unmounting a file system ends the watches on it: IN_UNMOUNT, then IN_IGNORED. */
static void unmounted(void) {
    CHECK_OK(mkdir("mnt", 0755));
    CHECK_OK(mount("none", "mnt", "tmpfs", 0, "size=1m"));
    touch("mnt/f");
    int wr = inotify_add_watch(ifd, "mnt", IN_CREATE);
    CHECK(wr >= 1);
    CHECK_OK(umount("mnt"));
    EXPECT({wr, IN_UNMOUNT | IN_ISDIR, ""}, {wr, IN_IGNORED, ""});
    CHECK_OK(rmdir("mnt"));
}

/* Waiting for events made by another process: in epoll (ready until read), in a blocking
 * read, and in select. */
static void wakeups(void) {
    CHECK_OK(mkdir("wk", 0755));
    int w = inotify_add_watch(ifd, "wk", IN_CREATE);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ifd, &ev));
    /* The child makes one file per byte it reads, a little after (so the parent waits). */
    int go[2];
    CHECK_OK(pipe(go));
    pid_t c = fork();
    if (c == 0) {
        const char *names[] = {"wk/a", "wk/b", "wk/c"};
        char x;
        for (int i = 0; i < 3 && read(go[0], &x, 1) == 1; i++) {
            lt_sleep_ms(50);
            touch(names[i]);
        }
        _exit(0);
    }
    close(go[0]);
    CHECK(write(go[1], "a", 1) == 1);
    struct epoll_event got;
    CHECK(epoll_wait(ep, &got, 1, 5000) == 1 && got.data.u32 == 7 && (got.events & EPOLLIN));
    CHECK(epoll_wait(ep, &got, 1, 0) == 1);
    EXPECT({w, IN_CREATE, "a"});
    /* Read: no longer ready. */
    CHECK(epoll_wait(ep, &got, 1, 0) == 0);
    /* A blocking read. */
    int fl = fcntl(ifd, F_GETFL);
    CHECK_OK(fcntl(ifd, F_SETFL, fl & ~O_NONBLOCK));
    CHECK(write(go[1], "b", 1) == 1);
    char buf[256] __attribute__((aligned(8)));
    struct inotify_event *e = (void *)buf;
    CHECK(read(ifd, buf, sizeof buf) > 0 && e->wd == w && strcmp(e->name, "b") == 0);
    CHECK_OK(fcntl(ifd, F_SETFL, fl));
    CHECK(write(go[1], "c", 1) == 1);
    close(go[1]);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(ifd, &rd);
    struct timeval tv = {5, 0};
    CHECK(select(ifd + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(ifd, &rd));
    EXPECT({w, IN_CREATE, "c"});
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    close(ep);
    CHECK_OK(unlink("wk/a"));
    CHECK_OK(unlink("wk/b"));
    CHECK_OK(unlink("wk/c"));
    CHECK_OK(rmdir("wk"));
}

int main(void) {
    char dir[] = "/tmp/inotify-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_OK(chdir(dir));
    errors();

    ifd = inotify_init1(IN_NONBLOCK);
    CHECK(ifd >= 0);
    int wd = inotify_add_watch(ifd, ".", IN_ALL_EVENTS);
    CHECK(wd >= 1);
    char c;
    CHECK_ERR(read(ifd, &c, 1) == -1 && errno == EAGAIN ? -1 : 0, EAGAIN);
    struct pollfd p = {ifd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0);

    /* Two writes in a row are one IN_MODIFY. */
    int f = open("a", O_CREAT | O_WRONLY, 0644);
    CHECK(write(f, "x", 1) == 1 && write(f, "y", 1) == 1);
    close(f);
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
    EXPECT({wd, IN_CREATE, "a"}, {wd, IN_OPEN, "a"}, {wd, IN_MODIFY, "a"},
           {wd, IN_CLOSE_WRITE, "a"});

    int wf = inotify_add_watch(ifd, "a", IN_ALL_EVENTS);
    CHECK(wf > wd);
    CHECK_OK(rename("a", "b"));
    EXPECT({wd, IN_MOVED_FROM, "a"}, {wd, IN_MOVED_TO, "b"}, {wf, IN_MOVE_SELF, ""});
    CHECK(last_cookie[0] != 0 && last_cookie[0] == last_cookie[1]);

    CHECK_OK(chmod("b", 0600));
    EXPECT({wd, IN_ATTRIB, "b"}, {wf, IN_ATTRIB, ""});

    f = open("b", O_RDONLY);
    CHECK(read(f, &c, 1) == 1);
    close(f);
    EXPECT({wd, IN_OPEN, "b"}, {wf, IN_OPEN, ""}, {wd, IN_ACCESS, "b"}, {wf, IN_ACCESS, ""},
           {wd, IN_CLOSE_NOWRITE, "b"}, {wf, IN_CLOSE_NOWRITE, ""});

    CHECK_OK(link("b", "c"));
    EXPECT({wf, IN_ATTRIB, ""}, {wd, IN_CREATE, "c"});
    CHECK_OK(unlink("c"));
    EXPECT({wf, IN_ATTRIB, ""}, {wd, IN_DELETE, "c"});

    /* Unlinked while open: IN_DELETE_SELF and IN_IGNORED come at the last close. */
    f = open("b", O_RDONLY);
    CHECK_OK(unlink("b"));
    EXPECT({wd, IN_OPEN, "b"}, {wf, IN_OPEN, ""}, {wf, IN_ATTRIB, ""}, {wd, IN_DELETE, "b"});
    close(f);
    EXPECT({wd, IN_CLOSE_NOWRITE, "b"}, {wf, IN_CLOSE_NOWRITE, ""}, {wf, IN_DELETE_SELF, ""},
           {wf, IN_IGNORED, ""});

    /* Directories. */
    CHECK_OK(mkdir("d", 0755));
    int wdd = inotify_add_watch(ifd, "d", IN_ALL_EVENTS);
    CHECK_OK(rename("d", "e"));
    EXPECT({wd, IN_CREATE | IN_ISDIR, "d"}, {wd, IN_MOVED_FROM | IN_ISDIR, "d"},
           {wd, IN_MOVED_TO | IN_ISDIR, "e"}, {wdd, IN_MOVE_SELF, ""});
    CHECK_OK(rmdir("e"));
    EXPECT({wdd, IN_DELETE_SELF, ""}, {wdd, IN_IGNORED, ""}, {wd, IN_DELETE | IN_ISDIR, "e"});

    /* A rename that replaces a watched file. */
    touch("g");
    touch("h");
    EXPECT({wd, IN_CREATE, "g"}, {wd, IN_OPEN, "g"}, {wd, IN_CLOSE_WRITE, "g"},
           {wd, IN_CREATE, "h"}, {wd, IN_OPEN, "h"}, {wd, IN_CLOSE_WRITE, "h"});
    int wg = inotify_add_watch(ifd, "g", IN_ALL_EVENTS);
    int wh = inotify_add_watch(ifd, "h", IN_ALL_EVENTS);
    CHECK_OK(rename("g", "h"));
    EXPECT({wd, IN_MOVED_FROM, "g"}, {wd, IN_MOVED_TO, "h"}, {wh, IN_ATTRIB, ""},
           {wg, IN_MOVE_SELF, ""}, {wh, IN_DELETE_SELF, ""}, {wh, IN_IGNORED, ""});
    CHECK_OK(truncate("h", 0));
    EXPECT({wd, IN_MODIFY, "h"}, {wg, IN_MODIFY, ""});

    /* One-shot: the same inode keeps its wd; the watch ends after one event. */
    CHECK(inotify_add_watch(ifd, "h", IN_MODIFY | IN_ONESHOT) == wg);
    f = open("h", O_WRONLY);
    CHECK(write(f, "1", 1) == 1 && write(f, "1", 1) == 1);
    close(f);
    EXPECT({wd, IN_OPEN, "h"}, {wd, IN_MODIFY, "h"}, {wg, IN_MODIFY, ""}, {wg, IN_IGNORED, ""},
           {wd, IN_MODIFY, "h"}, {wd, IN_CLOSE_WRITE, "h"});

    CHECK_OK(unlink("h"));
    EXPECT({wd, IN_DELETE, "h"});
    CHECK_OK(inotify_rm_watch(ifd, wd));
    EXPECT({wd, IN_IGNORED, ""});
    with_instance(renamed_dir);
    with_instance(excl_unlink);
    with_instance(renamed_open);
    overflow();
    with_instance(unmounted);
    with_instance(wakeups);
    close(ifd);
    CHECK_OK(chdir("/"));
    CHECK_OK(rmdir(dir));
    DONE();
}
