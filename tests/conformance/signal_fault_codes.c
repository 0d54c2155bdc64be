/* Faults decoded into the signals and codes Linux gives on each architecture: an illegal
 * instruction (x86_64 ud2: SIGILL ILL_ILLOPN; riscv64 and aarch64: ILL_ILLOPC), a breakpoint
 * instruction (x86_64 int3: SIGTRAP SI_KERNEL; riscv64 ebreak, aarch64 brk: TRAP_BRKPT),
 * each with si_addr at the instruction where Linux reports it; a read of an unmapped page
 * (SEGV_MAPERR), a write to a read-only one and a jump into a page without execute
 * permission (SEGV_ACCERR), all with si_addr the faulting address; and a touch of a file
 * mapping past the file's end (SIGBUS BUS_ADRERR); on aarch64 a misaligned exclusive load
 * too (SIGBUS BUS_ADRALN at the misaligned address, do_alignment_fault in
 * arch/arm64/mm/fault.c). The handler leaves through siglongjmp.
 *
 * Linux's verdict: the riscv64 build under qemu-riscv64-static; for aarch64 the x86_64 build
 * (qemu-aarch64-static reports `udf` as ILL_ILLOPN; see aarch64.txt). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_fault(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(back, 1);
}

/* The address of the faulting instruction, from a label in the asm. */
extern char ill_at[], trap_at[];

__attribute__((noinline)) static void illegal(void) {
#if defined(__x86_64__)
    __asm__ volatile(".globl ill_at\nill_at: ud2");
#elif defined(__riscv)
    __asm__ volatile(".globl ill_at\nill_at: .4byte 0");
#elif defined(__aarch64__)
    __asm__ volatile(".globl ill_at\nill_at: udf #0");
#endif
}

__attribute__((noinline)) static void breakpoint(void) {
#if defined(__x86_64__)
    __asm__ volatile(".globl trap_at\ntrap_at: int3");
#elif defined(__riscv)
    __asm__ volatile(".globl trap_at\ntrap_at: .option push\n.option norvc\nebreak\n.option pop");
#elif defined(__aarch64__)
    __asm__ volatile(".globl trap_at\ntrap_at: brk #0");
#endif
}

/* Runs `f(arg)`, which must fault: 1 when it did. */
static int faults(void (*f)(void *), void *arg) {
    got_sig = 0;
    if (sigsetjmp(back, 1) == 0) {
        f(arg);
        return 0;
    }
    return 1;
}

static void call_illegal(void *a) { (void)a; illegal(); }
static void call_breakpoint(void *a) { (void)a; breakpoint(); }
static void read_at(void *a) { (void)*(volatile char *)a; }
static void write_at(void *a) { *(volatile char *)a = 1; }
static void jump_to(void *a) { ((void (*)(void))a)(); }
#if defined(__aarch64__)
/* An exclusive load must be aligned whatever SCTLR_EL1.A says. */
static void exclusive_at(void *a) {
    unsigned long v;
    __asm__ volatile("ldxr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
}
#endif

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS};
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++)
        CHECK_OK(sigaction(sigs[i], &sa, NULL));

    CHECK(faults(call_illegal, NULL));
    CHECK(got_sig == SIGILL);
#if defined(__x86_64__)
    CHECK(got_code == ILL_ILLOPN);
#else
    CHECK(got_code == ILL_ILLOPC);
#endif
    CHECK(got_addr == (void *)ill_at);

    CHECK(faults(call_breakpoint, NULL));
    CHECK(got_sig == SIGTRAP);
#if defined(__x86_64__)
    CHECK(got_code == SI_KERNEL);
#else
    CHECK(got_code == TRAP_BRKPT);
    CHECK(got_addr == (void *)trap_at);
#endif

    long pg = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK_OK(munmap(p + pg, pg));
    CHECK(faults(read_at, p + pg + 8));
    CHECK(got_sig == SIGSEGV && got_code == SEGV_MAPERR);
    CHECK(got_addr == p + pg + 8);
    CHECK(faults(write_at, p + 16));
    CHECK(got_sig == SIGSEGV && got_code == SEGV_ACCERR);
    CHECK(got_addr == p + 16);
    CHECK(faults(jump_to, p + 2 * pg));
    CHECK(got_sig == SIGSEGV && got_code == SEGV_ACCERR);
    CHECK(got_addr == p + 2 * pg);
#if defined(__aarch64__)
    CHECK(faults(exclusive_at, p + 4));
    CHECK(got_sig == SIGBUS && got_code == BUS_ADRALN);
    CHECK(got_addr == p + 4);
#endif

    char path[] = "faultcodes.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK_OK(ftruncate(fd, pg));
    char *f = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(f != MAP_FAILED);
    CHECK(!faults(read_at, f + 1));
    CHECK(faults(read_at, f + pg + 4));
    CHECK(got_sig == SIGBUS && got_code == BUS_ADRERR);
    CHECK(got_addr == f + pg + 4);
    close(fd);
    DONE();
}
