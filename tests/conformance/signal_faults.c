/* Hardware fault signals: SIGSEGV (SEGV_ACCERR and SEGV_MAPERR with the exact si_addr, the
 * faulting RIP, trap number and error-code bits in the ucontext; instruction fetch from a
 * non-executable page; #GP from hlt and non-canonical addresses), SIGFPE (FPE_INTDIV), SIGILL
 * (ILL_ILLOPN from ud2), SIGTRAP (SI_KERNEL from int3, resuming after it), SIGBUS (BUS_ADRERR
 * beyond the end of a mapped file). Handlers on an alternate stack, leaving with siglongjmp
 * repeatedly, or returning after fixing the cause so the instruction is retried. A blocked or
 * ignored fault signal still kills, as does a second fault inside the handler. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Small functions whose faulting instruction has a known address. */
__asm__(".text\n"
        ".globl lt_ud2_fn\n.hidden lt_ud2_fn\n.type lt_ud2_fn,@function\n"
        "lt_ud2_fn:\n"
        ".globl lt_ud2_insn\n.hidden lt_ud2_insn\n"
        "lt_ud2_insn:\n\tud2\n\tret\n"
        ".globl lt_int3_fn\n.hidden lt_int3_fn\n.type lt_int3_fn,@function\n"
        "lt_int3_fn:\n\tint3\n"
        ".globl lt_int3_after\n.hidden lt_int3_after\n"
        "lt_int3_after:\n\tret\n"
        ".globl lt_div_fn\n.hidden lt_div_fn\n.type lt_div_fn,@function\n"
        "lt_div_fn:\n\tmovl %edi, %eax\n\tcltd\n"
        ".globl lt_div_insn\n.hidden lt_div_insn\n"
        "lt_div_insn:\n\tidivl %esi\n\tret\n"
        ".globl lt_store_fn\n.hidden lt_store_fn\n.type lt_store_fn,@function\n"
        "lt_store_fn:\n"
        ".globl lt_store_insn\n.hidden lt_store_insn\n"
        "lt_store_insn:\n\tmovl %esi, (%rdi)\n\tret\n"
        ".globl lt_load_fn\n.hidden lt_load_fn\n.type lt_load_fn,@function\n"
        "lt_load_fn:\n"
        ".globl lt_load_insn\n.hidden lt_load_insn\n"
        "lt_load_insn:\n\tmovzbl (%rdi), %eax\n\tret\n"
        ".globl lt_hlt_fn\n.hidden lt_hlt_fn\n.type lt_hlt_fn,@function\n"
        "lt_hlt_fn:\n"
        ".globl lt_hlt_insn\n.hidden lt_hlt_insn\n"
        "lt_hlt_insn:\n\thlt\n\tret\n");
void lt_ud2_fn(void);
void lt_int3_fn(void);
int lt_div_fn(int a, int b);
void lt_store_fn(volatile void *p, int v);
int lt_load_fn(const volatile void *p);
void lt_hlt_fn(void);
extern char lt_ud2_insn[], lt_int3_after[], lt_div_insn[], lt_store_insn[], lt_load_insn[],
    lt_hlt_insn[];

#define PF_WRITE 2
#define PF_USER 4
#define PF_INSTR 16

#define now_ms lt_now_ms

/* Runs fn in a child; the child's failed checks print themselves and make it exit 1. */
#define sub(name, fn) lt_sub(name, fn, 5000)

/* ---- the recording handler ---- */

#define ALT_SIZE 65536
static char *alt;
static sigjmp_buf jb;
static volatile int f_sig, f_signo, f_code, f_on_alt, f_count, f_mode, f_seg_blocked;
static volatile uintptr_t f_addr, f_rip;
static volatile long f_trapno, f_err;
static void *volatile f_fix_page;

enum { MODE_JUMP, MODE_RETURN, MODE_FIX };

static int in_alt(const volatile void *p) {
    return alt && (const char *)p >= alt && (const char *)p < alt + ALT_SIZE;
}

static void fault_handler(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    volatile char local = 0;
    f_sig = sig;
    f_signo = si->si_signo;
    f_code = si->si_code;
    f_addr = (uintptr_t)si->si_addr;
    f_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    f_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    f_err = uc->uc_mcontext.gregs[REG_ERR];
    f_on_alt = in_alt(&local);
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    f_seg_blocked = sigismember(&cur, sig);
    f_count++;
    if (f_mode == MODE_JUMP) siglongjmp(jb, 1);
    if (f_mode == MODE_FIX) mprotect(f_fix_page, 4096, PROT_READ | PROT_WRITE);
}

static void install(int sig, int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void reset(void) {
    f_sig = f_signo = f_code = f_on_alt = f_count = f_seg_blocked = 0;
    f_addr = f_rip = 0;
    f_trapno = f_err = -1;
}

static int sig_blocked(int sig) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static char *map_page(int prot) {
    char *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    return p;
}

/* ---- SIGSEGV ---- */

static void t_segv(void) {
    f_mode = MODE_JUMP;
    install(SIGSEGV, 0);
    install(SIGILL, 0);

    /* Write to a read-only page. */
    char *ro = map_page(PROT_READ);
    CHECK(lt_load_fn(ro + 123) == 0);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_store_fn(ro + 123, 5);
        CHECK(!"the store to a read-only page succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV && f_signo == SIGSEGV);
    CHECK(f_code == SEGV_ACCERR);
    CHECK(f_addr == (uintptr_t)(ro + 123));
    CHECK(f_rip == (uintptr_t)lt_store_insn);
    CHECK(f_trapno == 14);
    CHECK((f_err & (PF_WRITE | PF_USER)) == (PF_WRITE | PF_USER));
    CHECK(f_seg_blocked == 1);
    CHECK(!sig_blocked(SIGSEGV)); /* siglongjmp restored the mask */

    /* Read of a PROT_NONE page: SEGV_ACCERR, not a write. */
    char *none = map_page(PROT_NONE);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn(none + 4095);
        CHECK(!"the load from a PROT_NONE page succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_code == SEGV_ACCERR);
    CHECK(f_addr == (uintptr_t)(none + 4095));
    CHECK(f_rip == (uintptr_t)lt_load_insn);
    CHECK((f_err & (PF_WRITE | PF_USER)) == PF_USER);

    /* Unmapped low address: SEGV_MAPERR, for reads and writes. */
    volatile uintptr_t low = 0x10;
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn((void *)low);
        CHECK(!"the load from 0x10 succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV);
    CHECK(f_code == SEGV_MAPERR);
    CHECK(f_addr == 0x10);
    CHECK(f_rip == (uintptr_t)lt_load_insn);
    CHECK(f_trapno == 14);
    CHECK((f_err & (PF_WRITE | PF_USER)) == PF_USER);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_store_fn((void *)(low + 8), 1);
        CHECK(!"the store to 0x18 succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_code == SEGV_MAPERR);
    CHECK(f_addr == 0x18);
    CHECK((f_err & (PF_WRITE | PF_USER)) == (PF_WRITE | PF_USER));

    /* A hole left by munmap is unmapped too. */
    char *gone = map_page(PROT_READ | PROT_WRITE);
    CHECK(munmap(gone, 4096) == 0);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn(gone + 1);
        CHECK(!"the load from an unmapped page succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_code == SEGV_MAPERR);
    CHECK(f_addr == (uintptr_t)(gone + 1));

    /* A kernel-half address: SEGV_MAPERR with that address. */
    volatile uintptr_t kaddr = 0xffffffff80001000ULL;
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn((void *)kaddr);
        CHECK(!"the load from a kernel address succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV);
    CHECK(f_code == SEGV_MAPERR);
    CHECK(f_addr == kaddr);

    /* Calling a null function pointer faults at address 0 fetching the instruction. */
    void (*volatile nullfn)(void) = 0;
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        nullfn();
        CHECK(!"calling address 0 returned");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV);
    CHECK(f_code == SEGV_MAPERR);
    CHECK(f_addr == 0);
    CHECK(f_rip == 0);
    CHECK((f_err & (PF_USER | PF_INSTR)) == (PF_USER | PF_INSTR));

    /* Executing a readable, non-executable page (full of ud2, in case it runs). */
    char *nx = map_page(PROT_READ | PROT_WRITE);
    for (int i = 0; i < 4096; i += 2) nx[i] = 0x0f, nx[i + 1] = 0x0b;
    CHECK(mprotect(nx, 4096, PROT_READ) == 0);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        ((void (*)(void))(void *)nx)();
        CHECK(!"the non-executable page ran");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV);
    CHECK(f_code == SEGV_ACCERR);
    CHECK(f_addr == (uintptr_t)nx);
    CHECK(f_rip == (uintptr_t)nx);
    CHECK((f_err & (PF_WRITE | PF_USER | PF_INSTR)) == (PF_USER | PF_INSTR));
    /* Once executable, the same code runs (and raises SIGILL from the ud2). */
    CHECK(mprotect(nx, 4096, PROT_READ | PROT_EXEC) == 0);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        ((void (*)(void))(void *)nx)();
        CHECK(!"ud2 returned");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGILL);
    CHECK(f_code == ILL_ILLOPN);
    CHECK(f_addr == (uintptr_t)nx);

    /* General protection: hlt in user mode and a non-canonical address give SI_KERNEL. */
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_hlt_fn();
        CHECK(!"hlt returned");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV);
    CHECK(f_code == SI_KERNEL);
    CHECK(f_addr == 0);
    CHECK(f_rip == (uintptr_t)lt_hlt_insn);
    CHECK(f_trapno == 13);
    volatile uintptr_t noncanon = 0x8000000000000000ULL;
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn((void *)noncanon);
        CHECK(!"the non-canonical load succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGSEGV);
    CHECK(f_code == SI_KERNEL);
    CHECK(f_addr == 0);
    CHECK(f_rip == (uintptr_t)lt_load_insn);
    CHECK(f_trapno == 13);
}

/* Handler on an alternate stack, left with siglongjmp three times in a row. */
static void t_altstack_jump(void) {
    alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(alt != MAP_FAILED);
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    f_mode = MODE_JUMP;
    install(SIGSEGV, SA_ONSTACK);
    char *ro = map_page(PROT_READ);
    volatile int jumps = 0;
    /* The counters are volatile: a local changed across a sigsetjmp in a loop has no defined
     * value after the siglongjmp back (the compiler may have stored its next value). */
    for (volatile int i = 0; i < 3; i++) {
        reset();
        if (sigsetjmp(jb, 1) == 0) {
            lt_store_fn(ro + 8 * i, i);
            CHECK(!"the store to a read-only page succeeded");
        } else {
            jumps++;
        }
        CHECK(f_count == 1);
        CHECK(f_on_alt == 1);
        CHECK(f_code == SEGV_ACCERR);
        CHECK(f_addr == (uintptr_t)(ro + 8 * i));
        CHECK(!sig_blocked(SIGSEGV));
        stack_t cur;
        memset(&cur, 0, sizeof cur);
        CHECK(sigaltstack(NULL, &cur) == 0);
        CHECK(cur.ss_flags == 0); /* no longer on it */
        CHECK(cur.ss_sp == alt && cur.ss_size == ALT_SIZE);
    }
    CHECK(jumps == 3);
    /* Also from a fault in the middle of ordinary C code: */
    volatile uintptr_t low = 0x10;
    for (volatile int i = 0; i < 3; i++) {
        reset();
        if (sigsetjmp(jb, 1) == 0) {
            *(volatile int *)low = 1;
            CHECK(!"the store to 0x10 succeeded");
        }
        CHECK(f_count == 1 && f_on_alt == 1 && f_code == SEGV_MAPERR && f_addr == 0x10);
    }
}

/* A handler that fixes the protection and returns: the store is retried and completes. */
static void t_fix_and_retry(void) {
    f_mode = MODE_FIX;
    install(SIGSEGV, 0);
    char *ro = map_page(PROT_READ);
    f_fix_page = ro;
    reset();
    lt_store_fn(ro + 100, 0x12345678);
    CHECK(f_count == 1);
    CHECK(f_code == SEGV_ACCERR);
    CHECK(f_addr == (uintptr_t)(ro + 100));
    CHECK(*(volatile int *)(ro + 100) == 0x12345678);
    /* The page is writable now: no second fault. */
    lt_store_fn(ro + 200, 7);
    CHECK(f_count == 1);
    CHECK(*(volatile int *)(ro + 200) == 7);
}

/* ---- SIGFPE, SIGILL, SIGTRAP ---- */

static void t_fpe_ill_trap(void) {
    f_mode = MODE_JUMP;
    install(SIGFPE, 0);
    install(SIGILL, 0);
    install(SIGTRAP, 0);

    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_div_fn(1, 0);
        CHECK(!"division by zero returned");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGFPE && f_signo == SIGFPE);
    CHECK(f_code == FPE_INTDIV);
    CHECK(f_addr == (uintptr_t)lt_div_insn);
    CHECK(f_rip == (uintptr_t)lt_div_insn);
    CHECK(f_trapno == 0);
    CHECK(!sig_blocked(SIGFPE));

    /* INT_MIN / -1 overflows: the same #DE, also FPE_INTDIV on x86. */
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_div_fn(INT_MIN, -1);
        CHECK(!"INT_MIN / -1 returned");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGFPE);
    CHECK(f_code == FPE_INTDIV);
    CHECK(f_addr == (uintptr_t)lt_div_insn);

    /* Plain C division by a volatile zero. */
    volatile int a = 7, b = 0;
    volatile int c = 0;
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        c = a / b;
        CHECK(!"division by zero gave a result");
    }
    (void)c;
    CHECK(f_count == 1 && f_sig == SIGFPE && f_code == FPE_INTDIV);
    CHECK(lt_div_fn(42, 5) == 8); /* ordinary division still works */

    /* ud2: SIGILL, ILL_ILLOPN, si_addr is the instruction. */
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_ud2_fn();
        CHECK(!"ud2 returned");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGILL && f_signo == SIGILL);
    CHECK(f_code == ILL_ILLOPN);
    CHECK(f_addr == (uintptr_t)lt_ud2_insn);
    CHECK(f_rip == (uintptr_t)lt_ud2_insn);
    CHECK(f_trapno == 6);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        __builtin_trap();
    }
    CHECK(f_count == 1 && f_sig == SIGILL && f_code == ILL_ILLOPN);

    /* int3 is a trap: SI_KERNEL, RIP after the instruction; returning resumes there. */
    f_mode = MODE_RETURN;
    reset();
    lt_int3_fn();
    CHECK(f_count == 1);
    CHECK(f_sig == SIGTRAP && f_signo == SIGTRAP);
    CHECK(f_code == SI_KERNEL);
    CHECK(f_rip == (uintptr_t)lt_int3_after);
    CHECK(f_trapno == 3);
    reset();
    __asm__ volatile("int3");
    CHECK(f_count == 1 && f_sig == SIGTRAP && f_code == SI_KERNEL);
}

/* ---- fault signals that cannot be caught ---- */

static int child_status(void (*fn)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(99);
    }
    int st = -1;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

static void fault_blocked(void) {
    f_mode = MODE_RETURN;
    install(SIGSEGV, 0);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSEGV);
    sigprocmask(SIG_BLOCK, &s, NULL);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    lt_store_fn(ro, 1);
    _exit(f_count ? 3 : 4); /* the handler must not run, and nothing may continue */
}

static void fault_ignored(void) {
    signal(SIGSEGV, SIG_IGN);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    lt_store_fn(ro, 1);
    _exit(5);
}

static void fault_null_ignored(void) {
    signal(SIGSEGV, SIG_IGN);
    volatile uintptr_t low = 0x10;
    lt_load_fn((void *)low);
    _exit(5);
}

static void fpe_ignored(void) {
    signal(SIGFPE, SIG_IGN);
    lt_div_fn(1, 0);
    _exit(6);
}

static void ill_blocked(void) {
    f_mode = MODE_RETURN;
    install(SIGILL, 0);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGILL);
    sigprocmask(SIG_BLOCK, &s, NULL);
    lt_ud2_fn();
    _exit(7);
}

static volatile int nested_faults;
static void faulting_handler(int sig) {
    (void)sig;
    nested_faults++;
    volatile uintptr_t low = 0x20;
    lt_load_fn((void *)low); /* SIGSEGV is blocked in here: this one kills */
}

static void fault_in_handler(void) {
    signal(SIGSEGV, faulting_handler);
    volatile uintptr_t low = 0x10;
    lt_load_fn((void *)low);
    _exit(8);
}

static void fault_default(void) {
    volatile uintptr_t low = 0x10;
    lt_load_fn((void *)low);
    _exit(9);
}

static void t_uncatchable(void) {
    int st;
    st = child_status(fault_default);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    st = child_status(fault_blocked);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    if (WIFEXITED(st)) printf("blocked SIGSEGV: child exited %d\n", WEXITSTATUS(st));
    st = child_status(fault_ignored);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    if (WIFEXITED(st)) printf("ignored SIGSEGV: child exited %d\n", WEXITSTATUS(st));
    st = child_status(fault_null_ignored);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    st = child_status(fpe_ignored);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGFPE);
    if (WIFEXITED(st)) printf("ignored SIGFPE: child exited %d\n", WEXITSTATUS(st));
    st = child_status(ill_blocked);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGILL);
    if (WIFEXITED(st)) printf("blocked SIGILL: child exited %d\n", WEXITSTATUS(st));
    st = child_status(fault_in_handler);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    if (WIFEXITED(st)) printf("fault in handler: child exited %d\n", WEXITSTATUS(st));
}

/* ---- SIGBUS beyond the end of a mapped file ---- */

static void t_sigbus(void) {
    f_mode = MODE_JUMP;
    install(SIGBUS, 0);
    int fd = open("sigbus.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(unlink("sigbus.tmp") == 0);
    char data[100];
    for (int i = 0; i < 100; i++) data[i] = (char)('a' + i % 26);
    CHECK(write(fd, data, sizeof data) == 100);
    char *m = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    CHECK(lt_load_fn(m + 50) == 'a' + 50 % 26);
    CHECK(lt_load_fn(m + 4000) == 0); /* the rest of the last page reads as zeros */
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn(m + 4096 + 8);
        CHECK(!"the load beyond the end of the file succeeded");
    }
    CHECK(f_count == 1);
    CHECK(f_sig == SIGBUS && f_signo == SIGBUS);
    CHECK(f_code == BUS_ADRERR);
    CHECK(f_addr == (uintptr_t)(m + 4096 + 8));
    CHECK(f_rip == (uintptr_t)lt_load_insn);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_load_fn(m + 2 * 4096 + 4095);
        CHECK(!"the load beyond the end of the file succeeded");
    }
    CHECK(f_count == 1 && f_sig == SIGBUS && f_code == BUS_ADRERR);
    CHECK(f_addr == (uintptr_t)(m + 2 * 4096 + 4095));

    /* A writable private mapping: writes beyond the end fault too. */
    char *w = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(w != MAP_FAILED);
    if (w == MAP_FAILED) return;
    lt_store_fn(w + 200, 0x41424344); /* inside the file's last page: fine */
    CHECK(*(volatile int *)(w + 200) == 0x41424344);
    reset();
    if (sigsetjmp(jb, 1) == 0) {
        lt_store_fn(w + 4096 + 16, 1);
        CHECK(!"the store beyond the end of the file succeeded");
    }
    CHECK(f_count == 1 && f_sig == SIGBUS && f_code == BUS_ADRERR);
    CHECK(f_addr == (uintptr_t)(w + 4096 + 16));

    /* Once the file grows, the same page is readable. */
    CHECK(ftruncate(fd, 3 * 4096) == 0);
    reset();
    CHECK(lt_load_fn(m + 4096 + 8) == 0);
    CHECK(lt_load_fn(m + 2 * 4096 + 4095) == 0);
    CHECK(f_count == 0);
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sub("segv", t_segv);
    sub("altstack_jump", t_altstack_jump);
    sub("fix_and_retry", t_fix_and_retry);
    sub("fpe_ill_trap", t_fpe_ill_trap);
    sub("uncatchable", t_uncatchable);
    sub("sigbus", t_sigbus);
    DONE();
}
