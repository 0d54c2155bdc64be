/* A program may leave the direction flag set (`std`) when a fault or an interrupt takes it
 * into the kernel; only `syscall` clears it on the way in. The kernel must not run with it
 * (its string copies would go backwards over its own stack: stress-ng's opcode stressor
 * panicked Lintel so), and a handler starts with it clear while the interrupted code gets it
 * back on sigreturn. x86-64 only. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#if defined(__x86_64__)
static volatile int handled, df_in_handler, df_saved;

static uint64_t flags(void) {
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}

static void on_fault(int sig, siginfo_t *si, void *ucv) {
    (void)si;
    ucontext_t *uc = ucv;
    handled++;
    if (flags() & 0x400)
        df_in_handler++;
    if (uc->uc_mcontext.gregs[REG_EFL] & 0x400)
        df_saved++;
    /* Step over the faulting instruction: ud2 and the 2-byte `int3; nop` pair both resume
     * after 2 bytes (int3 already advanced 1). */
    uc->uc_mcontext.gregs[REG_RIP] += sig == SIGILL ? 2 : 1;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    CHECK_OK(sigaction(SIGILL, &sa, NULL));
    CHECK_OK(sigaction(SIGTRAP, &sa, NULL));
    for (int i = 0; i < 200; i++) {
        uint64_t after;
        __asm__ volatile("std\n\tud2\n\tpushfq\n\tpopq %0\n\tcld" : "=r"(after)::"memory");
        CHECK((after & 0x400) != 0); /* sigreturn gave the flag back */
        __asm__ volatile("std\n\tint3\n\tnop\n\tpushfq\n\tpopq %0\n\tcld"
                         : "=r"(after)::"memory");
        CHECK((after & 0x400) != 0);
        /* Timer interrupts arrive while the flag is set. */
        long n = 2000000;
        __asm__ volatile("std\n1:\tdec %0\n\tjnz 1b\n\tcld" : "+r"(n)::"cc");
    }
    CHECK(handled == 400);
    CHECK(df_in_handler == 0);
    CHECK(df_saved == 400);
    DONE();
}
#else
int main(void) { return 0; }
#endif
