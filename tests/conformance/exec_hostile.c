/* Hostile executables: this program's own image (/proc/self/exe), truncated at many lengths
 * and with corrupted ELF and program headers, bad PT_INTERP entries, wrong machine or type,
 * and `#!` scripts with over-long lines or nested too deeply, each exec'd in a child. The
 * outcome must be Linux's: an errno while the old program still exists (ENOEXEC, EIO,
 * ELIBBAD, ENOENT, EACCES, ELOOP), or the child killed (SIGSEGV) when the failure comes after
 * the point of no return, or by the fault the broken image causes when it runs (SIGSEGV,
 * SIGBUS). A copy that loads fine runs this program with "--child" and exits 42. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define RAN 42
#define FAILED(e) (100 + (e))

static unsigned char *img;
static size_t img_len;
static Elf64_Ehdr *eh;
static char dir[64];
static char self_copy[128];

/* A machine this program is not for. */
#ifdef __aarch64__
#define OTHER_MACHINE EM_X86_64
#else
#define OTHER_MACHINE EM_AARCH64
#endif

static Elf64_Phdr *ph(unsigned char *b, int i) {
    Elf64_Ehdr *h = (Elf64_Ehdr *)b;
    return (Elf64_Phdr *)(b + h->e_phoff + (size_t)i * sizeof(Elf64_Phdr));
}

/* Index of the n-th PT_LOAD, or -1. */
static int nth_load(unsigned char *b, int n) {
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph(b, i)->p_type == PT_LOAD && n-- == 0) return i;
    return -1;
}

/* The executable PT_LOAD: x86_64's static layout has a read-only one before it, riscv64's
 * and aarch64's start with it. */
static int text_load(unsigned char *b) {
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph(b, i)->p_type == PT_LOAD && (ph(b, i)->p_flags & PF_X)) return i;
    return -1;
}

static int last_load(unsigned char *b) {
    int last = -1;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph(b, i)->p_type == PT_LOAD) last = i;
    return last;
}

/* A phdr that can be turned into something else without changing how the image loads. */
static int spare_phdr(unsigned char *b) {
    for (int i = 0; i < eh->e_phnum; i++) {
        uint32_t t = ph(b, i)->p_type;
        if (t == PT_NOTE || t == PT_GNU_STACK || t == PT_NULL || t == PT_GNU_EH_FRAME) return i;
    }
    return -1;
}

static int interp_phdr(unsigned char *b) {
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph(b, i)->p_type == PT_INTERP) return i;
    return -1;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode) {
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n <= 0) break;
        done += n;
    }
    CHECK(done == len);
    CHECK_OK(close(fd));
    CHECK_OK(chmod(path, mode));
}

/* Execs path in a child; returns "ran", "errno N" or "signal N" as a small code:
 * RAN, FAILED(errno), or 200 + signal. */
static int outcome(const char *path) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int n = open("/dev/null", O_WRONLY);
        dup2(n, 2);
        close(n);
        char *argv[] = {(char *)path, "--child", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execve, path, argv, envp);
        _exit(FAILED(errno));
    }
    long start = lt_now_ms();
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (lt_now_ms() - start > 10000) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -2;
        }
        lt_sleep_ms(1);
    }
    if (WIFSIGNALED(st)) return 200 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

static const char *describe(int code, char *buf, size_t n) {
    if (code == RAN) snprintf(buf, n, "ran");
    else if (code == -2) snprintf(buf, n, "timeout");
    else if (code >= 200) snprintf(buf, n, "signal %d", code - 200);
    else if (code >= 100) snprintf(buf, n, "errno %d (%s)", code - 100, strerror(code - 100));
    else snprintf(buf, n, "exit %d", code);
    return buf;
}

static int case_no;

/* Writes `len` bytes of `b` as an executable and checks the outcome of exec'ing it. */
static void expect_img(const char *what, unsigned char *b, size_t len, int want, int line) {
    char path[128];
    snprintf(path, sizeof path, "%s/x%d", dir, case_no++);
    write_file(path, b, len, 0755);
    int got = outcome(path);
    if (got != want) {
        char g[64], w[64];
        printf("%s:%d: %s: got %s, expected %s\n", __FILE__, line, what,
               describe(got, g, sizeof g), describe(want, w, sizeof w));
        lt_failures++;
    }
    unlink(path);
}
#define EXPECT(what, b, len, want) expect_img(what, b, len, want, __LINE__)

static unsigned char *copy(void) {
    unsigned char *b = malloc(img_len + 8192);
    CHECK(b != NULL);
    memcpy(b, img, img_len);
    memset(b + img_len, 0, 8192);
    return b;
}

#define SEGV (200 + SIGSEGV)
#define BUS (200 + SIGBUS)

static int has_interp;

/* Whether the page of file offset `off` lies wholly past a file of `len` bytes. */
static int page_gone(size_t off, size_t len) {
    return (off & ~0xfffUL) >= ((len + 0xfff) & ~0xfffUL);
}

static void truncated(void) {
    size_t phend = eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr);
    EXPECT("empty file", img, 0, FAILED(ENOEXEC));
    EXPECT("3 bytes", img, 3, FAILED(ENOEXEC));
    EXPECT("63 bytes", img, 63, FAILED(ENOEXEC));
    EXPECT("ELF header only", img, 64, FAILED(ENOEXEC));
    EXPECT("cut mid program header", img, eh->e_phoff + sizeof(Elf64_Phdr) + 20,
           FAILED(ENOEXEC));
    EXPECT("cut after last program header", img, phend - 1, FAILED(ENOEXEC));
    /* The headers are all there; what comes next is past the end of the file. A dynamic
     * program's interpreter path cannot be read (EIO); a static one gets past the point of
     * no return and dies zeroing the end of its data segment beyond the end of the file. */
    EXPECT("headers only", img, phend, has_interp ? FAILED(EIO) : SEGV);
    /* Cut inside the text segment: loads (data follows past the end: SIGSEGV for the same
     * reason). */
    int t = text_load(img);
    Elf64_Phdr *p = ph(img, t);
    EXPECT("cut mid text segment", img, p->p_offset + p->p_filesz / 2, SEGV);
    /* Cut inside the data segment: only if the page holding the end of its file data is
     * wholly past the end does zeroing the rest of that page fail. */
    int l = last_load(img);
    p = ph(img, l);
    size_t data_end = p->p_offset + p->p_filesz;
    size_t cut = p->p_offset + p->p_filesz / 2;
    EXPECT("cut mid last segment", img, cut, page_gone(data_end, cut) ? SEGV : RAN);
    EXPECT("cut one byte short", img, data_end - 1, page_gone(data_end, data_end - 1) ? SEGV : RAN);
}

static void bad_headers(void) {
    unsigned char *b = copy();
    Elf64_Ehdr *h = (Elf64_Ehdr *)b;

    h->e_phoff = img_len + 4096;
    EXPECT("e_phoff past the end", b, img_len, FAILED(ENOEXEC));
    h->e_phoff = ~0ULL - 100;
    EXPECT("e_phoff wrapping", b, img_len, FAILED(ENOEXEC));
    h->e_phoff = eh->e_phoff;

    h->e_phnum = 0;
    EXPECT("e_phnum 0", b, img_len, FAILED(ENOEXEC));
    h->e_phnum = 0xffff;
    EXPECT("e_phnum 65535", b, img_len, FAILED(ENOEXEC));
    h->e_phnum = 65536 / sizeof(Elf64_Phdr) + 1;
    EXPECT("program headers over 64 KiB", b, img_len, FAILED(ENOEXEC));
    h->e_phnum = eh->e_phnum;

    h->e_phentsize = 32;
    EXPECT("e_phentsize 32", b, img_len, FAILED(ENOEXEC));
    h->e_phentsize = 64;
    EXPECT("e_phentsize 64", b, img_len, FAILED(ENOEXEC));
    h->e_phentsize = eh->e_phentsize;

    h->e_machine = OTHER_MACHINE;
    EXPECT("wrong e_machine", b, img_len, FAILED(ENOEXEC));
    h->e_machine = eh->e_machine;
    h->e_type = ET_REL;
    EXPECT("ET_REL", b, img_len, FAILED(ENOEXEC));
    h->e_type = ET_CORE;
    EXPECT("ET_CORE", b, img_len, FAILED(ENOEXEC));
    h->e_type = eh->e_type;
    b[0] = 'X';
    EXPECT("bad magic", b, img_len, FAILED(ENOEXEC));
    b[0] = ELFMAG0;

    /* Sanity: the unchanged copy runs. */
    EXPECT("intact copy", b, img_len, RAN);
    free(b);
}

static void bad_segments(void) {
    int first = nth_load(img, 0), text = text_load(img), last = last_load(img);
    unsigned char *b;
    Elf64_Phdr *p;

    /* File data of the text segment beyond the end of the file: maps, then faults. */
    b = copy();
    p = ph(b, text);
    p->p_offset += (img_len + 0x100000) & ~0xfffULL;
    EXPECT("p_offset past the end (text)", b, img_len, 200 + SIGBUS);
    free(b);

    /* Data segment beyond the end: zeroing its tail after the point of no return fails. */
    b = copy();
    p = ph(b, last);
    p->p_offset += (img_len + 0x100000) & ~0xfffULL;
    EXPECT("p_offset past the end (data)", b, img_len, SEGV);
    free(b);

    b = copy();
    p = ph(b, text);
    p->p_offset += 1;
    EXPECT("p_offset not congruent to p_vaddr", b, img_len, SEGV);
    free(b);

    b = copy();
    p = ph(b, text);
    p->p_filesz = p->p_memsz + 4096;
    EXPECT("p_filesz > p_memsz", b, img_len, SEGV);
    free(b);

    b = copy();
    p = ph(b, last);
    p->p_vaddr = 0xfffffffffffff000ULL | (p->p_vaddr & 0xfff);
    EXPECT("p_vaddr wrapping", b, img_len, SEGV);
    free(b);

    b = copy();
    p = ph(b, last);
    p->p_memsz = 1ULL << 62;
    EXPECT("p_memsz beyond user space", b, img_len, SEGV);
    free(b);

    b = copy();
    p = ph(b, last);
    p->p_memsz = 1ULL << 45;
    EXPECT("p_memsz 32 TiB", b, img_len, SEGV);
    free(b);

    b = copy();
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph(b, i)->p_type == PT_LOAD) ph(b, i)->p_type = PT_NULL;
    EXPECT("no PT_LOAD", b, img_len, SEGV);
    free(b);

    /* Load segments out of order load all the same. */
    b = copy();
    Elf64_Phdr t = *ph(b, first);
    *ph(b, first) = *ph(b, last);
    *ph(b, last) = t;
    EXPECT("PT_LOAD out of order", b, img_len, RAN);
    free(b);

    /* The data segment mapped over the text: the entry point is no longer code (ld.so
     * notices its own headers are gone and exits 127). */
    b = copy();
    p = ph(b, last);
    p->p_vaddr = (ph(b, first)->p_vaddr & ~0xfffULL) | (p->p_vaddr & 0xfff);
    p->p_paddr = p->p_vaddr;
    EXPECT("PT_LOAD overlapping", b, img_len, has_interp ? 127 : SEGV);
    free(b);

    b = copy();
    ((Elf64_Ehdr *)b)->e_entry = 0;
    EXPECT("entry at 0", b, img_len, SEGV);
    free(b);
}

/* Appends `s` (len bytes) to a copy and points a PT_INTERP at it. */
static void interp_case(const char *what, const char *s, size_t len, size_t filesz, int want,
                        int line) {
    unsigned char *b = malloc(img_len + len + 16);
    CHECK(b != NULL);
    memcpy(b, img, img_len);
    memcpy(b + img_len, s, len);
    int i = interp_phdr(b);
    if (i < 0) i = spare_phdr(b);
    CHECK(i >= 0);
    Elf64_Phdr *p = ph(b, i);
    p->p_type = PT_INTERP;
    p->p_offset = img_len;
    p->p_filesz = filesz;
    p->p_memsz = filesz;
    p->p_vaddr = p->p_paddr = 0;
    p->p_flags = PF_R;
    expect_img(what, b, img_len + len, want, line);
    free(b);
}
#define INTERP(what, s, len, filesz, want) interp_case(what, s, len, filesz, want, __LINE__)

static void bad_interp(void) {
    char p[256];
    INTERP("missing interpreter", "/nonexistent/ld.so", 19, 19, FAILED(ENOENT));
    snprintf(p, sizeof p, "%s/script", dir);
    write_file(p, "#!/bin/sh\nexit 3\n# padding padding padding padding padding padding\n", 69,
               0755);
    INTERP("interpreter is a script", p, strlen(p) + 1, strlen(p) + 1, FAILED(ELIBBAD));
    snprintf(p, sizeof p, "%s/short", dir);
    write_file(p, "\x7f" "ELF", 4, 0755);
    INTERP("interpreter of 4 bytes", p, strlen(p) + 1, strlen(p) + 1, FAILED(EIO));
    snprintf(p, sizeof p, "%s/noexec", dir);
    write_file(p, img, img_len, 0644);
    INTERP("interpreter not executable", p, strlen(p) + 1, strlen(p) + 1, FAILED(EACCES));
    INTERP("interpreter is a directory", dir, strlen(dir) + 1, strlen(dir) + 1,
           FAILED(EACCES));
    snprintf(p, sizeof p, "%s/arm", dir);
    unsigned char *b = copy();
    ((Elf64_Ehdr *)b)->e_machine = OTHER_MACHINE;
    write_file(p, b, img_len, 0755);
    free(b);
    INTERP("interpreter for another machine", p, strlen(p) + 1, strlen(p) + 1,
           FAILED(ELIBBAD));
    INTERP("interpreter path not NUL-terminated", "/lib/ld.soXXXX", 14, 14, FAILED(ENOEXEC));
    INTERP("interpreter path of 1 byte", "", 1, 1, FAILED(ENOEXEC));
    static char longp[5000];
    memset(longp, 'a', sizeof longp);
    longp[0] = '/';
    longp[4999] = 0;
    INTERP("interpreter path over PATH_MAX", longp, 5000, 5000, FAILED(ENOEXEC));
    INTERP("interpreter path past the end", "/x", 2, 4096, FAILED(EIO));
    /* An embedded NUL ends the name. */
    snprintf(p, sizeof p, "/nonexistent%cignored", 0);
    INTERP("interpreter path with NUL inside", p, 21, 21, FAILED(ENOENT));
}

static void scripts(void) {
    char path[128], text[600];
    snprintf(path, sizeof path, "%s/s-long", dir);
    memset(text, 'a', sizeof text);
    memcpy(text, "#!/", 3);
    text[599] = '\n';
    write_file(path, text, sizeof text, 0755);
    int got = outcome(path);
    CHECK(got == FAILED(ENOEXEC));

    /* A long line whose interpreter name ends inside the first 256 bytes: the argument is
     * cut, the exec goes on. */
    snprintf(text, sizeof text, "#!%s ", self_copy);
    size_t n = strlen(text);
    memset(text + n, 'b', sizeof text - n);
    text[599] = '\n';
    write_file(path, text, sizeof text, 0755);
    got = outcome(path);
    CHECK(got == RAN);

    snprintf(path, sizeof path, "%s/s-blank", dir);
    write_file(path, "#!   \t \n", 8, 0755);
    CHECK(outcome(path) == FAILED(ENOEXEC));
    memset(text, ' ', 300);
    memcpy(text, "#!", 2);
    write_file(path, text, 300, 0755);
    CHECK(outcome(path) == FAILED(ENOEXEC));
    /* Nothing after "#!": the name is empty, which open_exec refuses like a directory. */
    write_file(path, "#!", 2, 0755);
    CHECK(outcome(path) == FAILED(EACCES));

    /* Chains: s-0 runs the copy, s-k runs s-(k-1). */
    char prev[128];
    snprintf(prev, sizeof prev, "%s", self_copy);
    int chain_ok = -1, chain_loop = -1;
    for (int k = 0; k < 8; k++) {
        snprintf(path, sizeof path, "%s/s-%d", dir, k);
        snprintf(text, sizeof text, "#!%s\n", prev);
        write_file(path, text, strlen(text), 0755);
        int r = outcome(path);
        if (r == RAN) chain_ok = k + 1;
        else if (r == FAILED(ELOOP) && chain_loop < 0) chain_loop = k + 1;
        snprintf(prev, sizeof prev, "%s", path);
    }
    /* Linux follows at most 5 nested scripts (exec_binprm's depth > 5). */
    if (chain_ok != 5 || chain_loop != 6) {
        printf("script chains: longest that runs %d, first ELOOP at %d; expected 5, 6\n",
               chain_ok, chain_loop);
        lt_failures++;
    }
    /* A script whose interpreter is a directory, or missing. */
    snprintf(path, sizeof path, "%s/s-dir", dir);
    snprintf(text, sizeof text, "#!%s\n", dir);
    write_file(path, text, strlen(text), 0755);
    CHECK(outcome(path) == FAILED(EACCES));
    snprintf(text, sizeof text, "#!%s/none arg\n", dir);
    write_file(path, text, strlen(text), 0755);
    CHECK(outcome(path) == FAILED(ENOENT));
}

static int read_self(void) {
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    img_len = st.st_size;
    img = malloc(img_len);
    size_t done = 0;
    while (done < img_len) {
        ssize_t n = read(fd, img + done, img_len - done);
        if (n <= 0) return -1;
        done += n;
    }
    close(fd);
    eh = (Elf64_Ehdr *)img;
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--child") == 0) _exit(RAN);
    CHECK_OK(read_self());
    if (!img) DONE();
    has_interp = interp_phdr(img) >= 0;
    snprintf(dir, sizeof dir, "/tmp/exec_hostile.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(self_copy, sizeof self_copy, "%s/self", dir);
    write_file(self_copy, img, img_len, 0755);
    CHECK(outcome(self_copy) == RAN);

    truncated();
    bad_headers();
    bad_segments();
    bad_interp();
    scripts();

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    DONE();
}
