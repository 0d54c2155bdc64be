/* sendfile and copy_file_range from page-cache files (tmpfs in /dev/shm, the cwd's file
 * system, /tmp) as Linux answers them: large copies at unaligned offsets reaching the
 * destination byte for byte (a Unix socket read by a child, a pipe, another file), file
 * positions moved only when no offset is given, partial copies at the end of file and none
 * past it, holes read as zeros, a source truncated before and while it is sent (only bytes
 * of the file or zeros arrive, never an error), O_APPEND destinations (sendfile EINVAL,
 * copy_file_range EBADF), copy_file_range between two file systems (EXDEV, as Linux since
 * 5.19 for file systems without a copy_file_range of their own) and within one file; splice
 * from a pipe into a socket, whose unsent bytes stay in the pipe. The sockets: Unix stream
 * pairs and loopback TCP connections (a non-blocking one filled by sendfile and splice). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#define BIG (300 * 1024 + 123)

static unsigned char pat(long i) { return (unsigned char)(i * 7 + (i >> 12) + 1); }

static int make_file(const char *path, long size) {
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0) return -1;
    static unsigned char b[65536];
    for (long off = 0; off < size;) {
        long n = size - off < (long)sizeof b ? size - off : (long)sizeof b;
        for (long i = 0; i < n; i++) b[i] = pat(off + i);
        if (pwrite(fd, b, n, off) != n) return -1;
        off += n;
    }
    return fd;
}

/* Whether fd holds pat(from + i) for i in [0, len) at offset at. */
static int holds(int fd, off_t at, long from, long len) {
    static unsigned char b[65536];
    for (long done = 0; done < len;) {
        long n = len - done < (long)sizeof b ? len - done : (long)sizeof b;
        if (pread(fd, b, n, at + done) != n) return 0;
        for (long i = 0; i < n; i++)
            if (b[i] != pat(from + done + i)) {
                printf("byte %ld: %d, expected %d\n", done + i, b[i], pat(from + done + i));
                return 0;
            }
        done += n;
    }
    return 1;
}

/* sendfile of [from, from + len) of `in` into a Unix stream socket, read by a child that
 * checks every byte: 0 when all arrived as they should. */
/* A connected TCP pair on 127.0.0.1: sv[0] the client, sv[1] the accepted end. */
static int tcp_pair(int sv[2]) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return -1;
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof a)) return -1;
    sv[1] = accept(l, NULL, NULL);
    close(l);
    return sv[1] < 0 ? -1 : 0;
}

/* A Unix stream pair, or with `tcp` a loopback TCP connection. */
static int stream_pair(int sv[2], int tcp) {
    return tcp ? tcp_pair(sv) : socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static void sendfile_socket(int in, long from, long len, int use_pos, int tcp) {
    int sv[2];
    CHECK(stream_pair(sv, tcp) == 0);
    pid_t p = fork();
    if (p == 0) {
        close(sv[0]);
        static unsigned char b[65536];
        long got = 0, bad = 0;
        ssize_t r;
        while ((r = read(sv[1], b, sizeof b)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                if (b[i] != pat(from + got + i)) bad++;
            got += r;
        }
        _exit(got == len && bad == 0 ? 0 : 1);
    }
    close(sv[1]);
    long sent = 0;
    off_t off = from;
    if (use_pos) CHECK(lseek(in, from, SEEK_SET) == from);
    while (sent < len) {
        ssize_t w = use_pos ? sendfile(sv[0], in, NULL, len - sent)
                            : sendfile(sv[0], in, &off, len - sent);
        if (w <= 0) break;
        sent += w;
    }
    CHECK(sent == len);
    if (use_pos) CHECK(lseek(in, 0, SEEK_CUR) == from + len);
    else CHECK(off == from + len);
    close(sv[0]);
    int st;
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* sendfile into a non-blocking TCP socket nobody reads until it is full (a short count,
 * then EAGAIN): what it reported sent arrives, byte for byte. */
static void sendfile_full_socket(int in) {
    int sv[2];
    CHECK(tcp_pair(sv) == 0);
    CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0 && fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    /* The file from offset 3 over and over (up to 64 times) until the socket refuses. */
    const long span = BIG - 3;
    off_t off = 3;
    long sent = 0;
    int eagain = 0;
    for (int round = 0; round < 100000 && sent < 64 * span; round++) {
        if (off == BIG) off = 3;
        ssize_t w = sendfile(sv[0], in, &off, BIG - off);
        if (w < 0) {
            CHECK(errno == EAGAIN);
            eagain = 1;
            break;
        }
        CHECK(w > 0);
        sent += w;
    }
    CHECK(off == 3 + (sent - 1) % span + 1);
    CHECK(eagain);
    static unsigned char b[65536];
    long got = 0, bad = 0;
    for (int idle = 0; got < sent && idle < 1000;) {
        ssize_t r = read(sv[1], b, sizeof b);
        if (r <= 0) {
            usleep(1000);
            idle++;
            continue;
        }
        for (ssize_t i = 0; i < r; i++)
            if (b[i] != pat(3 + (got + i) % span)) bad++;
        got += r;
    }
    CHECK(got == sent && bad == 0);
    printf("sendfile filled a TCP socket with %ld bytes%s\n", sent, eagain ? ", then EAGAIN" : "");
    close(sv[0]);
    close(sv[1]);
}

static void test_dir(const char *dir) {
    char src[256], dst[256];
    snprintf(src, sizeof src, "%s/lt_sendfile_src.%d", dir, getpid());
    snprintf(dst, sizeof dst, "%s/lt_sendfile_dst.%d", dir, getpid());
    printf("in %s\n", dir);
    int in = make_file(src, BIG);
    CHECK(in >= 0);
    if (in < 0) return;

    /* Into a socket: explicit offsets leave the position alone; without, it moves. */
    CHECK(lseek(in, 5, SEEK_SET) == 5);
    for (int tcp = 0; tcp < 2; tcp++) {
        CHECK(lseek(in, 5, SEEK_SET) == 5);
        sendfile_socket(in, 4097, BIG - 4097, 0, tcp);
        CHECK(lseek(in, 0, SEEK_CUR) == 5);
        sendfile_socket(in, 1, 200000, 1, tcp);
    }
    sendfile_full_socket(in);

    /* Into a pipe, partial at the end of file, nothing past it. */
    int pp[2];
    CHECK(pipe(pp) == 0);
    off_t off = BIG - 10;
    CHECK(sendfile(pp[1], in, &off, 4096) == 10);
    CHECK(off == BIG);
    unsigned char b[16];
    CHECK(read(pp[0], b, sizeof b) == 10);
    int ok = 1;
    for (int i = 0; i < 10; i++) ok &= b[i] == pat(BIG - 10 + i);
    CHECK(ok);
    CHECK(sendfile(pp[1], in, &off, 4096) == 0);
    off = BIG + 5000;
    CHECK(sendfile(pp[1], in, &off, 4096) == 0);
    CHECK(off == BIG + 5000);

    /* Into a file: all of it, at an offset of the destination's, whose position moves. */
    int out = open(dst, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(out >= 0);
    CHECK(lseek(out, 3, SEEK_SET) == 3);
    off = 100;
    long sent = 0;
    while (sent < BIG - 100) {
        ssize_t w = sendfile(out, in, &off, BIG - 100 - sent);
        if (w <= 0) break;
        sent += w;
    }
    CHECK(sent == BIG - 100);
    CHECK(lseek(out, 0, SEEK_CUR) == 3 + BIG - 100);
    CHECK(holds(out, 3, 100, BIG - 100));

    /* O_APPEND destinations. */
    int app = open(dst, O_WRONLY | O_APPEND);
    CHECK(app >= 0);
    off = 0;
    CHECK_ERR(sendfile(app, in, &off, 10), EINVAL);
    loff_t io = 0;
    CHECK_ERR(copy_file_range(in, &io, app, NULL, 10, 0), EBADF);
    close(app);

    /* copy_file_range: explicit offsets (positions unmoved), unaligned, then partial at
     * the end of file and nothing past it. */
    CHECK(ftruncate(out, 0) == 0);
    CHECK(lseek(in, 7, SEEK_SET) == 7 && lseek(out, 9, SEEK_SET) == 9);
    loff_t oi = 333, oo = 4095;
    long copied = 0;
    while (copied < BIG - 333) {
        ssize_t w = copy_file_range(in, &oi, out, &oo, BIG - 333 - copied, 0);
        if (w <= 0) break;
        copied += w;
    }
    CHECK(copied == BIG - 333);
    CHECK(oi == BIG && oo == 4095 + BIG - 333);
    CHECK(lseek(in, 0, SEEK_CUR) == 7 && lseek(out, 0, SEEK_CUR) == 9);
    CHECK(holds(out, 4095, 333, BIG - 333));
    oi = BIG - 3;
    oo = 0;
    CHECK(copy_file_range(in, &oi, out, &oo, 100, 0) == 3);
    CHECK(oi == BIG && oo == 3);
    CHECK(copy_file_range(in, &oi, out, &oo, 100, 0) == 0);
    oi = BIG + 1;
    CHECK(copy_file_range(in, &oi, out, &oo, 100, 0) == 0);
    /* With the positions. */
    CHECK(lseek(in, 4096, SEEK_SET) == 4096 && lseek(out, 0, SEEK_SET) == 0);
    CHECK(copy_file_range(in, NULL, out, NULL, 8192, 0) == 8192);
    CHECK(lseek(in, 0, SEEK_CUR) == 4096 + 8192 && lseek(out, 0, SEEK_CUR) == 8192);
    CHECK(holds(out, 0, 4096, 8192));
    /* Within one file: disjoint ranges copy, overlapping ones are EINVAL. */
    oi = 0;
    oo = BIG;
    CHECK(copy_file_range(in, &oi, in, &oo, 5000, 0) == 5000);
    CHECK(holds(in, BIG, 0, 5000));
    oi = 0;
    oo = 100;
    CHECK_ERR(copy_file_range(in, &oi, in, &oo, 5000, 0), EINVAL);

    /* Holes read as zeros. */
    CHECK(ftruncate(in, 3 * 4096) == 0);
    CHECK(ftruncate(in, 4096) == 0 && ftruncate(in, 5 * 4096) == 0);
    CHECK(ftruncate(out, 0) == 0);
    oi = 100;
    oo = 0;
    CHECK(copy_file_range(in, &oi, out, &oo, 5 * 4096, 0) == 5 * 4096 - 100);
    CHECK(holds(out, 0, 100, 4096 - 100));
    static unsigned char z[4 * 4096];
    CHECK(pread(out, z, sizeof z, 4096 - 100) == sizeof z);
    ok = 1;
    for (size_t i = 0; i < sizeof z; i++) ok &= z[i] == 0;
    CHECK(ok);

    /* Truncated before: the sent bytes end at the new end of file. */
    close(in);
    in = make_file(src, BIG);
    int t = open(src, O_RDWR);
    CHECK(t >= 0 && ftruncate(t, 10000) == 0);
    off = 8000;
    CHECK(sendfile(pp[1], in, &off, 50000) == 2000);
    CHECK(off == 10000);
    static unsigned char pb[65536];
    CHECK(read(pp[0], pb, sizeof pb) == 2000);
    off = 20000;
    CHECK(sendfile(pp[1], in, &off, 100) == 0);

    /* Truncated while it is sent: short counts, bytes of the file or zeros, no error. */
    close(in);
    in = make_file(src, BIG);
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < 200; i++) {
            if (ftruncate(t, (i % 7) * 40000) != 0) _exit(1);
            if (ftruncate(t, BIG) != 0) _exit(1);
        }
        _exit(0);
    }
    close(out);
    out = open(dst, O_CREAT | O_RDWR | O_TRUNC, 0644);
    int bad = 0, errors = 0;
    for (int round = 0; round < 50; round++) {
        off = 0;
        CHECK(ftruncate(out, 0) == 0 && lseek(out, 0, SEEK_SET) == 0);
        off_t wo = 0;
        for (;;) {
            ssize_t w = sendfile(out, in, &off, BIG);
            if (w < 0) errors++;
            if (w <= 0) break;
            wo += w;
        }
        for (off_t at = 0; at < wo; at += sizeof pb) {
            ssize_t n = pread(out, pb, sizeof pb, at);
            for (ssize_t i = 0; i < n; i++)
                if (pb[i] != 0 && pb[i] != pat(at + i)) bad++;
        }
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(errors == 0);
    CHECK(bad == 0);
    close(t);
    close(pp[0]);
    close(pp[1]);
    close(in);
    close(out);
    unlink(src);
    unlink(dst);
}

/* splice from a pipe into a non-blocking Unix socket until the socket is full: what was
 * spliced arrives, what was not stays in the pipe, in order. */
static void splice_pipe_socket(int tcp) {
    int pp[2], sv[2];
    CHECK(pipe(pp) == 0 && stream_pair(sv, tcp) == 0);
    CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
    static unsigned char b[65536];
    long in_pipe = 0, spliced = 0, arrived = 0, bad = 0;
    for (int round = 0; round < 64; round++) {
        for (long i = 0; i < 4096; i++) b[i] = pat(in_pipe + spliced + i);
        /* Keep the pipe topped up with the next bytes of the pattern. */
        ssize_t w = write(pp[1], b, 4096);
        CHECK(w == 4096);
        in_pipe += w;
        ssize_t n = splice(pp[0], NULL, sv[0], NULL, 1 << 20, SPLICE_F_NONBLOCK);
        if (n < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
        spliced += n;
        in_pipe -= n;
    }
    int q = -1;
    CHECK(ioctl(pp[0], FIONREAD, &q) == 0 && q == in_pipe);
    ssize_t r;
    CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    /* (Over TCP the last bytes may still be on their way: wait a little for them.) */
    for (int idle = 0; arrived < spliced && idle < 1000;) {
        if ((r = read(sv[1], b, sizeof b)) <= 0) {
            usleep(1000);
            idle++;
            continue;
        }
        for (ssize_t i = 0; i < r; i++)
            if (b[i] != pat(arrived + i)) bad++;
        arrived += r;
    }
    CHECK(arrived == spliced);
    /* The pipe goes on where the socket stopped. */
    while (in_pipe > 0 && (r = read(pp[0], b, sizeof b)) > 0) {
        for (ssize_t i = 0; i < r; i++)
            if (b[i] != pat(arrived + i)) bad++;
        arrived += r;
        in_pipe -= r;
    }
    CHECK(in_pipe == 0);
    CHECK(bad == 0);
    printf("spliced %ld bytes into the %s socket\n", spliced, tcp ? "TCP" : "Unix");
    close(pp[0]);
    close(pp[1]);
    close(sv[0]);
    close(sv[1]);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    test_dir("/dev/shm");
    test_dir(".");
    test_dir("/tmp");
    splice_pipe_socket(0);
    splice_pipe_socket(1);

    /* Between two file systems: EXDEV (tmpfs and ext4 have no copy_file_range of their
     * own); within one, a copy. */
    int a = make_file("/dev/shm/lt_sendfile_x", 5000);
    char other[64];
    snprintf(other, sizeof other, "./lt_sendfile_y.%d", getpid());
    int b = open(other, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(a >= 0 && b >= 0);
    struct stat sa, sb;
    CHECK(fstat(a, &sa) == 0 && fstat(b, &sb) == 0);
    loff_t oi = 0, oo = 0;
    if (sa.st_dev != sb.st_dev) {
        printf("/dev/shm and the cwd on two file systems: EXDEV\n");
        CHECK_ERR(copy_file_range(a, &oi, b, &oo, 5000, 0), EXDEV);
        CHECK_ERR(copy_file_range(b, &oo, a, &oi, 5000, 0), EXDEV);
        /* sendfile crosses them. */
        off_t o = 0;
        CHECK(sendfile(b, a, &o, 5000) == 5000);
        CHECK(holds(b, 0, 0, 5000));
    } else {
        printf("/dev/shm and the cwd on one file system\n");
        CHECK(copy_file_range(a, &oi, b, &oo, 5000, 0) == 5000);
    }
    close(a);
    close(b);
    unlink("/dev/shm/lt_sendfile_x");
    unlink(other);
    DONE();
}
