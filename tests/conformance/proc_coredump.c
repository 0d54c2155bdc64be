/* Core dumps: the wait status's core bit and an ELF core file ("core" in the working
 * directory, mode 0600) for SIGABRT, SIGSEGV and SIGQUIT deaths when RLIMIT_CORE allows; its
 * notes (NT_PRSTATUS per thread with the pid and signal, NT_PRPSINFO with the name, NT_SIGINFO,
 * NT_AUXV, NT_FILE) and memory (a PT_LOAD holding what the program wrote); none with
 * RLIMIT_CORE 0 or below a page, for a non-dumpable process, or for SIGKILL; a limit too
 * small for the whole dump cuts the file but keeps the core bit. Runs only where
 * core_pattern is Linux's default "core". */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char marker[64] = "lintel-core-marker-0123456789";

/* The soft limit only: lowering the hard one could not be undone without CAP_SYS_RESOURCE. */
static void set_core_limit(rlim_t n) {
    struct rlimit r;
    CHECK(getrlimit(RLIMIT_CORE, &r) == 0);
    r.rlim_cur = n;
    CHECK(setrlimit(RLIMIT_CORE, &r) == 0);
}

static char comm[16];

/* Forks a child that runs `fn`; its wait status goes to *st. */
static pid_t fork_run(void (*fn)(void), int *st) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        fn();
        _exit(0);
    }
    *st = 0;
    CHECK(waitpid(c, st, 0) == c);
    return c;
}

static void do_abort(void) {
    marker[sizeof marker - 2] = 'Z';
    abort();
}

static void do_segv(void) {
    *(volatile int *)8 = 1;
}

static void do_quit(void) {
    raise(SIGQUIT);
}

static void do_kill(void) {
    raise(SIGKILL);
}

static void *spin(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

static void do_threads(void) {
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    pthread_create(&t, NULL, spin, NULL);
    usleep(50000);
    abort();
}

static void undumpable(void) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    abort();
}

struct core {
    unsigned char *data;
    size_t len;
};

static int read_core(struct core *c) {
    int fd = open("core", O_RDONLY);
    if (fd < 0) return -1;
    struct stat st;
    fstat(fd, &st);
    c->len = st.st_size;
    c->data = malloc(c->len + 1);
    size_t got = 0;
    while (got < c->len) {
        ssize_t n = read(fd, c->data + got, c->len - got);
        if (n <= 0) break;
        got += n;
    }
    close(fd);
    return got == c->len ? 0 : -1;
}

/* Checks the notes and memory of the core of `pid`, killed by `sig`, with `threads` threads. */
static void check_core(pid_t pid, int sig, int threads, int check_marker) {
    struct stat st;
    CHECK(stat("core", &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == getuid());
    struct core c;
    CHECK(read_core(&c) == 0);
    if (c.len < sizeof(Elf64_Ehdr)) {
        CHECK(!"core too short");
        return;
    }
    Elf64_Ehdr *eh = (Elf64_Ehdr *)c.data;
    CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
    CHECK(eh->e_type == ET_CORE);
#ifdef __x86_64__
    CHECK(eh->e_machine == EM_X86_64);
#endif
    int prstatus = 0, psinfo = 0, siginfo = 0, auxv = 0, files = 0, found_marker = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr *ph = (Elf64_Phdr *)(c.data + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_offset + ph->p_filesz > c.len) {
            CHECK(!"segment beyond the end of the core");
            continue;
        }
        if (ph->p_type == PT_LOAD && ph->p_filesz > 0 && (uintptr_t)marker >= ph->p_vaddr &&
            (uintptr_t)marker + sizeof marker <= ph->p_vaddr + ph->p_filesz) {
            const char *m = (const char *)c.data + ph->p_offset + ((uintptr_t)marker - ph->p_vaddr);
            found_marker = memcmp(m, "lintel-core-marker-0123456789", 29) == 0;
        }
        if (ph->p_type != PT_NOTE) continue;
        size_t off = ph->p_offset;
        while (off + 12 <= ph->p_offset + ph->p_filesz) {
            uint32_t namesz = *(uint32_t *)(c.data + off);
            uint32_t descsz = *(uint32_t *)(c.data + off + 4);
            uint32_t type = *(uint32_t *)(c.data + off + 8);
            const char *name = (const char *)c.data + off + 12;
            const unsigned char *desc = c.data + off + 12 + ((namesz + 3) & ~3u);
            int core_owner = namesz == 5 && memcmp(name, "CORE", 5) == 0;
            if (core_owner && type == NT_PRSTATUS) {
                /* pr_info (3 ints), pr_cursig (short), then sigpend, sighold, pr_pid. */
                prstatus++;
                CHECK(*(short *)(desc + 12) == sig);
                if (prstatus == 1) CHECK(*(int *)(desc + 32) == pid);
            } else if (core_owner && type == NT_PRPSINFO) {
                psinfo++;
                CHECK(*(int *)(desc + 24) == pid);
                CHECK(strncmp((const char *)desc + 40, comm, 16) == 0);
            } else if (core_owner && type == NT_SIGINFO) {
                siginfo++;
                CHECK(*(int *)desc == sig);
            } else if (core_owner && type == NT_AUXV) {
                auxv++;
                CHECK(descsz >= 16);
            } else if (core_owner && type == NT_FILE) {
                files++;
                CHECK(descsz >= 16);
            }
            off += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
        }
    }
    CHECK(prstatus == threads);
    CHECK(psinfo == 1);
    CHECK(siginfo == 1);
    CHECK(auxv == 1);
    CHECK(files == 1);
    if (check_marker) CHECK(found_marker);
    free(c.data);
}

static void dumps(void) {
    int st;
    set_core_limit(RLIM_INFINITY);
    pid_t c = fork_run(do_abort, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && WCOREDUMP(st));
    check_core(c, SIGABRT, 1, 1);
    unlink("core");
    c = fork_run(do_segv, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && WCOREDUMP(st));
    check_core(c, SIGSEGV, 1, 1);
    /* An old core is replaced. */
    c = fork_run(do_quit, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT && WCOREDUMP(st));
    check_core(c, SIGQUIT, 1, 0);
    unlink("core");
}

static void threads(void) {
    int st;
    set_core_limit(RLIM_INFINITY);
    pid_t c = fork_run(do_threads, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && WCOREDUMP(st));
    check_core(c, SIGABRT, 3, 0);
    unlink("core");
}

static void no_dump(void) {
    int st;
    struct stat s;
    set_core_limit(0);
    fork_run(do_abort, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && !WCOREDUMP(st));
    CHECK_ERR(stat("core", &s), ENOENT);
    set_core_limit(RLIM_INFINITY);
    fork_run(undumpable, &st);
    CHECK(WIFSIGNALED(st) && !WCOREDUMP(st));
    CHECK_ERR(stat("core", &s), ENOENT);
    fork_run(do_kill, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && !WCOREDUMP(st));
    CHECK_ERR(stat("core", &s), ENOENT);
    /* Too small for the whole dump: what fits is written, and the status still says so.
     * The limit counts the bytes written, not the holes skipped between them: a truncated
     * dump's size can pass it on Linux (a static-pie's here: 32768 bytes for a limit of
     * 8192, 8192 of them allocated), so the check is on the blocks (one partial block on
     * each side of a hole allowed). Lintel stops the file at the limit. */
    set_core_limit(8192);
    fork_run(do_abort, &st);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && WCOREDUMP(st));
    CHECK(stat("core", &s) == 0 && s.st_size > 0 && s.st_blocks * 512 <= 8192 + 2 * 4096);
    unlink("core");
    /* Below one page: nothing at all. */
    set_core_limit(4095);
    fork_run(do_abort, &st);
    CHECK(WIFSIGNALED(st) && !WCOREDUMP(st));
    CHECK_ERR(stat("core", &s), ENOENT);
}

int main(void) {
    char pat[256] = "";
    int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, pat, sizeof pat - 1);
        pat[n > 0 ? n : 0] = 0;
        close(fd);
    }
    if (strcmp(pat, "core\n") != 0) {
        printf("core_pattern is not \"core\": skipped\n");
        return 0;
    }
    fd = open("/proc/sys/kernel/core_uses_pid", O_RDONLY);
    if (fd >= 0) {
        char u = '0';
        read(fd, &u, 1);
        close(fd);
        if (u != '0') {
            printf("core_uses_pid is set: skipped\n");
            return 0;
        }
    }
    struct rlimit r;
    if (getrlimit(RLIMIT_CORE, &r) == 0 && r.rlim_max != RLIM_INFINITY) {
        printf("hard RLIMIT_CORE is limited: skipped\n");
        return 0;
    }
    prctl(PR_GET_NAME, comm, 0, 0, 0);
    char dir[] = "/tmp/coredump.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(chdir(dir) == 0);
    umask(022);
    lt_sub("dumps", dumps, 30000);
    lt_sub("threads", threads, 30000);
    lt_sub("no_dump", no_dump, 30000);
    unlink("core");
    chdir("/");
    rmdir(dir);
    DONE();
}
