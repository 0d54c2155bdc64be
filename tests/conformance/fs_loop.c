/* Loop devices (as root; on the host too, where it uses a free device of the host's and
 * gives it back): /dev/loop-control's LOOP_CTL_GET_FREE, ADD and REMOVE; LOOP_SET_FD and
 * LOOP_CONFIGURE on a file in /tmp, reads and writes through the device reaching the file,
 * LOOP_GET/SET_STATUS64 (offset, size limit, name, which flags may be set), LOOP_SET_CAPACITY,
 * LOOP_SET_BLOCK_SIZE, read-only devices, LOOP_CLR_FD (at once, or at the last close when
 * the device is still open elsewhere), and the errnos of each on an unbound or busy device.
 * Prints SKIP and passes where the host has no loop driver. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char dir[64], backing[96], node[96];
static int ctl;

/* Opens loop device n: /dev/loopN, else a node made in our folder (a container's /dev may
 * lack nodes of devices added later). */
static int open_loop(int n, int flags) {
    char path[64];
    snprintf(path, sizeof path, "/dev/loop%d", n);
    int fd = open(path, flags);
    if (fd >= 0 || errno != ENOENT) return fd;
    snprintf(node, sizeof node, "%s/loop%d", dir, n);
    unlink(node);
    if (mknod(node, S_IFBLK | 0600, makedev(7, n)) != 0) return -1;
    return open(node, flags);
}

static unsigned long long dev_size(int fd) {
    unsigned long long s = ~0ULL;
    CHECK_OK(ioctl(fd, BLKGETSIZE64, &s));
    return s;
}

/* A free device bound to `file` with LOOP_SET_FD (retrying when another user of the host
 * takes it first); returns the device's fd and its number in *num. */
static int bind_free(int file, int *num) {
    for (int tries = 0; tries < 20; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) return -1;
        int fd = open_loop(n, O_RDWR);
        if (fd < 0) return -1;
        if (ioctl(fd, LOOP_SET_FD, file) == 0) {
            *num = n;
            return fd;
        }
        int e = errno;
        close(fd);
        if (e != EBUSY) {
            errno = e;
            return -1;
        }
    }
    return -1;
}

static void fill(unsigned char *b, size_t len, unsigned seed) {
    for (size_t i = 0; i < len; i++) b[i] = (unsigned char)(i * 7 + seed + (i >> 9));
}

static void basics(void) {
    static unsigned char img[1 << 20], buf[8192];
    fill(img, sizeof img, 3);
    int file = open(backing, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(file >= 0);
    CHECK(write(file, img, sizeof img) == sizeof img);

    /* An unbound device: size 0, reads give nothing, status and clear say ENXIO. */
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    CHECK(n >= 0);
    int fd = open_loop(n, O_RDWR);
    CHECK(fd >= 0);
    struct loop_info64 li;
    memset(&li, 0, sizeof li);
    CHECK_ERR(ioctl(fd, LOOP_GET_STATUS64, &li), ENXIO);
    CHECK_ERR(ioctl(fd, LOOP_SET_STATUS64, &li), ENXIO);
    CHECK_ERR(ioctl(fd, LOOP_CLR_FD, 0), ENXIO);
    CHECK_ERR(ioctl(fd, LOOP_SET_CAPACITY, 0), ENXIO);
    CHECK_ERR(ioctl(fd, LOOP_SET_BLOCK_SIZE, 4096), ENXIO);
    close(fd);

    /* Binding: a bad descriptor, a directory, then the file. */
    int num = -1;
    fd = bind_free(file, &num);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK_ERR(ioctl(fd, LOOP_SET_FD, 9999), EBADF);
    CHECK_ERR(ioctl(fd, LOOP_SET_FD, file), EBUSY);
    CHECK(dev_size(fd) == sizeof img);
    CHECK(pread(fd, buf, 4096, 8192) == 4096);
    CHECK(memcmp(buf, img + 8192, 4096) == 0);
    /* An unaligned read through the device. */
    CHECK(pread(fd, buf, 100, 1000) == 100);
    CHECK(memcmp(buf, img + 1000, 100) == 0);
    /* A write through the device reaches the file. */
    memset(buf, 0xab, 4096);
    CHECK(pwrite(fd, buf, 4096, 4096) == 4096);
    CHECK_OK(fsync(fd));
    static unsigned char back[4096];
    CHECK(pread(file, back, 4096, 4096) == 4096);
    CHECK(memcmp(back, buf, 4096) == 0);
    /* Past the end: nothing to read, no space to write. */
    CHECK(pread(fd, buf, 512, sizeof img) == 0);
    CHECK_ERR(pwrite(fd, buf, 512, sizeof img), ENOSPC);

    /* Status: the file's device and inode, the number, no flags yet. */
    struct stat st;
    CHECK_OK(fstat(file, &st));
    memset(&li, 0xff, sizeof li);
    CHECK_OK(ioctl(fd, LOOP_GET_STATUS64, &li));
    CHECK(li.lo_number == (unsigned)num);
    CHECK(li.lo_inode == st.st_ino);
    CHECK(li.lo_device == st.st_dev);
    CHECK(li.lo_offset == 0 && li.lo_sizelimit == 0);
    CHECK((li.lo_flags & (LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR)) == 0);
    CHECK(li.lo_file_name[0] == 0);

    /* A window of the file: offset and size limit; READ_ONLY cannot be set this way. */
    memset(&li, 0, sizeof li);
    li.lo_offset = 4096;
    li.lo_sizelimit = 8192;
    li.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_READ_ONLY;
    strcpy((char *)li.lo_file_name, "window");
    CHECK_OK(ioctl(fd, LOOP_SET_STATUS64, &li));
    memset(&li, 0, sizeof li);
    CHECK_OK(ioctl(fd, LOOP_GET_STATUS64, &li));
    CHECK(li.lo_offset == 4096 && li.lo_sizelimit == 8192);
    CHECK((li.lo_flags & (LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR)) == LO_FLAGS_AUTOCLEAR);
    CHECK(strcmp((char *)li.lo_file_name, "window") == 0);
    CHECK(dev_size(fd) == 8192);
    CHECK(pread(fd, buf, 512, 0) == 512);
    CHECK(memcmp(buf, back, 512) == 0);
    CHECK(pread(fd, buf, 512, 4096) == 512);
    CHECK(memcmp(buf, img + 8192, 512) == 0);
    /* An encryption type is refused; AUTOCLEAR can be cleared again. */
    li.lo_encrypt_type = 1;
    CHECK_ERR(ioctl(fd, LOOP_SET_STATUS64, &li), EINVAL);
    li.lo_encrypt_type = 0;
    li.lo_offset = 0;
    li.lo_sizelimit = 0;
    li.lo_flags = 0;
    CHECK_OK(ioctl(fd, LOOP_SET_STATUS64, &li));
    CHECK_OK(ioctl(fd, LOOP_GET_STATUS64, &li));
    CHECK((li.lo_flags & LO_FLAGS_AUTOCLEAR) == 0);
    CHECK(dev_size(fd) == sizeof img);

    /* The capacity follows the file only when asked. */
    CHECK_OK(ftruncate(file, 2 << 20));
    CHECK(dev_size(fd) == sizeof img);
    CHECK_OK(ioctl(fd, LOOP_SET_CAPACITY, 0));
    CHECK(dev_size(fd) == 2 << 20);

    /* Logical block size: powers of two from 512 to the page size. */
    CHECK_ERR(ioctl(fd, LOOP_SET_BLOCK_SIZE, 1000), EINVAL);
    CHECK_ERR(ioctl(fd, LOOP_SET_BLOCK_SIZE, 256), EINVAL);
    CHECK_OK(ioctl(fd, LOOP_SET_BLOCK_SIZE, 4096));
    int ssz = 0;
    CHECK_OK(ioctl(fd, BLKSSZGET, &ssz));
    CHECK(ssz == 4096);
    CHECK_OK(ioctl(fd, LOOP_SET_BLOCK_SIZE, 512));

    int self = open_loop(num, O_RDWR);
    CHECK(self >= 0);
    /* A bound device cannot be removed. */
    CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, num), EBUSY);

    /* Clearing while another descriptor is open: deferred to the last close. */
    CHECK_OK(ioctl(fd, LOOP_CLR_FD, 0));
    CHECK_OK(ioctl(self, LOOP_GET_STATUS64, &li));
    CHECK(li.lo_flags & LO_FLAGS_AUTOCLEAR);
    close(self);
    close(fd);
    fd = open_loop(num, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(ioctl(fd, LOOP_GET_STATUS64, &li), ENXIO);
    CHECK(dev_size(fd) == 0);
    close(fd);
    close(file);
}

static void configure(void) {
    int file = open(backing, O_RDWR);
    CHECK(file >= 0);
    int num = -1, fd = -1;
    for (int tries = 0; tries < 20 && fd < 0; tries++) {
        num = ioctl(ctl, LOOP_CTL_GET_FREE);
        CHECK(num >= 0);
        fd = open_loop(num, O_RDWR);
        CHECK(fd >= 0);
        struct loop_config lc;
        memset(&lc, 0, sizeof lc);
        lc.fd = file;
        lc.block_size = 1000;
        /* Bad block size, unknown flag: EINVAL. */
        CHECK_ERR(ioctl(fd, LOOP_CONFIGURE, &lc), EINVAL);
        lc.block_size = 4096;
        lc.info.lo_flags = 0x100;
        CHECK_ERR(ioctl(fd, LOOP_CONFIGURE, &lc), EINVAL);
        lc.info.lo_flags = LO_FLAGS_READ_ONLY;
        lc.info.lo_offset = 512;
        if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0) break;
        CHECK(errno == EBUSY);
        close(fd);
        fd = -1;
    }
    CHECK(fd >= 0);
    if (fd < 0) return;
    struct loop_info64 li;
    CHECK_OK(ioctl(fd, LOOP_GET_STATUS64, &li));
    CHECK(li.lo_flags & LO_FLAGS_READ_ONLY);
    CHECK(li.lo_offset == 512);
    int ro = 0, ssz = 0;
    CHECK_OK(ioctl(fd, BLKROGET, &ro));
    CHECK(ro == 1);
    CHECK_OK(ioctl(fd, BLKSSZGET, &ssz));
    CHECK(ssz == 4096);
    char b[512] = {0};
    CHECK_ERR(pwrite(fd, b, 512, 0), EPERM);
    /* Only this descriptor is open: LOOP_CLR_FD unbinds at once. */
    CHECK_OK(ioctl(fd, LOOP_CLR_FD, 0));
    CHECK_ERR(ioctl(fd, LOOP_GET_STATUS64, &li), ENXIO);

    /* A file opened read-only makes a read-only device. */
    int rfile = open(backing, O_RDONLY);
    CHECK(rfile >= 0);
    if (ioctl(fd, LOOP_SET_FD, rfile) == 0) {
        CHECK_OK(ioctl(fd, LOOP_GET_STATUS64, &li));
        CHECK(li.lo_flags & LO_FLAGS_READ_ONLY);
        CHECK_OK(ioctl(fd, LOOP_CLR_FD, 0));
    } else {
        CHECK(errno == EBUSY);
    }
    /* A directory cannot back a device; the device itself is busy. */
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK_ERR(ioctl(fd, LOOP_SET_FD, d), EINVAL);
    CHECK_ERR(ioctl(fd, LOOP_SET_FD, fd), EBUSY);
    close(d);
    close(rfile);
    close(fd);
    close(file);
}

static void control(void) {
    /* A number nobody uses: added, found busy as nothing, removed, gone. */
    int n = 100000 + getpid() % 50000;
    CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, -1), EINVAL);
    CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, n), ENODEV);
    CHECK(ioctl(ctl, LOOP_CTL_ADD, n) == n);
    CHECK_ERR(ioctl(ctl, LOOP_CTL_ADD, n), EEXIST);
    int r = -1;
    for (int tries = 0; tries < 50; tries++) {
        /* (udev on a host may hold a new device open for a moment) */
        r = ioctl(ctl, LOOP_CTL_REMOVE, n);
        if (r == 0 || errno != EBUSY) break;
        lt_sleep_ms(20);
    }
    CHECK(r == 0);
    CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, n), ENODEV);
}

int main(void) {
    if (geteuid() != 0) DONE();
    ctl = open("/dev/loop-control", O_RDWR);
    if (ctl < 0) {
        printf("SKIP: no /dev/loop-control (%s)\n", strerror(errno));
        DONE();
    }
    snprintf(dir, sizeof dir, "/tmp/loop.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(backing, sizeof backing, "%s/backing", dir);
    lt_sub("basics", basics, 20000);
    lt_sub("configure", configure, 20000);
    lt_sub("control", control, 20000);
    unlink(backing);
    unlink(node);
    CHECK_OK(rmdir(dir));
    DONE();
}
