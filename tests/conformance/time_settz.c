/* settimeofday keeps the timezone (Linux's sys_tz) and gettimeofday's second argument
 * returns it: out-of-range minutes are EINVAL and a caller without CAP_SYS_TIME gets EPERM,
 * both leaving the kept zone alone. The calls go through syscall(): glibc's gettimeofday
 * zeroes the zone itself and musl's ignores it. Run natively this sets the host's zone, so
 * the old one is read first and put back on every path (0/0 first, so the kernel's
 * first-time clock warp, which only a non-zero zone without a time triggers, never runs). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static long get_tz(struct timezone *tz) {
    struct timeval tv;
    return syscall(SYS_gettimeofday, &tv, tz);
}

static long set_tz(const struct timezone *tz) {
    return syscall(SYS_settimeofday, NULL, tz);
}

int main(void) {
    struct timezone old = {0, 0}, zero = {0, 0}, got;
    CHECK_OK(get_tz(&old));
    CHECK_OK(set_tz(&zero));

    struct timezone east = {-60, 1};
    CHECK_OK(set_tz(&east));
    memset(&got, 0x55, sizeof got);
    CHECK_OK(get_tz(&got));
    CHECK(got.tz_minuteswest == -60 && got.tz_dsttime == 1);
    memset(&got, 0x55, sizeof got);
    CHECK_OK(syscall(SYS_gettimeofday, NULL, &got));
    CHECK(got.tz_minuteswest == -60 && got.tz_dsttime == 1);

    struct timezone bad = {15 * 60 + 1, 0};
    CHECK_ERR(set_tz(&bad), EINVAL);
    struct timezone edge = {-15 * 60, 0};
    CHECK_OK(set_tz(&edge));
    CHECK_OK(get_tz(&got));
    CHECK(got.tz_minuteswest == -15 * 60 && got.tz_dsttime == 0);
    CHECK_OK(set_tz(&east));

    pid_t pid = fork();
    if (pid == 0) {
        struct timezone west = {120, 0};
        if (setuid(65534) != 0)
            _exit(2);
        if (set_tz(&west) != -1 || errno != EPERM)
            _exit(3);
        _exit(0);
    }
    CHECK(pid > 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_OK(get_tz(&got));
    CHECK(got.tz_minuteswest == -60 && got.tz_dsttime == 1);

    CHECK_OK(set_tz(&old));
    CHECK_OK(get_tz(&got));
    CHECK(got.tz_minuteswest == old.tz_minuteswest && got.tz_dsttime == old.tz_dsttime);
    DONE();
}
