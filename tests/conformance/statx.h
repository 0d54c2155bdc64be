/* The kernel's struct statx and the statx system call (musl has no header for them). */
#ifndef LT_STATX_H
#define LT_STATX_H
#include <stdint.h>
#include <sys/syscall.h>

struct lt_statx_ts {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};
struct lt_statx {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, pad1;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct lt_statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare[14];
};
#ifndef SYS_statx
#define SYS_statx 332
#endif
#endif
