/* The clock half of the riscv64 and aarch64 vDSOs, included by each <arch>/vdso/vdso.c after
 * it defines read_counter() (the counter), sys3() (a system call), READ_BARRIER() (a load-load
 * barrier) and VDSO_NAME(x) (the architecture's symbol name for x): the part every vDSO shares
 * (../vdso_clock.h: clock_gettime, gettimeofday) with the generic system call numbers both
 * use, and clock_getres. The data page `vvar` lies just below the image; its layout is
 * hal/src/arch/dtboard/vdso.rs's. */

#define NR_CLOCK_GETTIME 113
#define NR_GETTIMEOFDAY 169
#include "../vdso_clock.h"

int VDSO_NAME(clock_getres)(int clk, struct timespec_k *res) {
    switch (clk) {
    case 0: case 1: case 4: case 7:
        if (res) {
            res->tv_sec = 0;
            res->tv_nsec = (int64_t)vvar()->resolution_ns;
        }
        return 0;
    default:
        return (int)sys3(114, clk, (long)res, 0); /* clock_getres */
    }
}
