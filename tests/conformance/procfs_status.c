/* /proc/PID/status with Linux 6.1's lines in its order and formats, agreeing with statm,
 * smaps and smaps_rollup; /proc/PID/limits matching getrlimit; /proc/PID/io's counters;
 * oom_score and oom_score_adj (range, EINVAL, EACCES below the floor without
 * CAP_SYS_RESOURCE). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 20];

#define slurp(path) lt_slurp(path, buf, sizeof buf)
#define num lt_field_num

static void test_status_format(void) {
    static const char *order[] = {
        "Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid",
        "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "VmPeak", "VmSize", "VmLck",
        "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk",
        "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages", "CoreDumping", "THP_enabled",
        "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh",
        "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters",
        "Speculation_Store_Bypass", "SpeculationIndirectBranch", "Cpus_allowed",
        "Cpus_allowed_list", "Mems_allowed", "Mems_allowed_list", "voluntary_ctxt_switches",
        "nonvoluntary_ctxt_switches"};
    CHECK(slurp("/proc/self/status") > 0);
    const char *last = buf;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const char *at = lt_line_in_order(buf, order[i], ":\t", &last, "status");
        if (!at)
            continue;
        /* Vm and Rss lines: a tab, the number right-aligned in 8 columns, " kB". */
        if (strncmp(order[i], "Vm", 2) == 0 || strncmp(order[i], "Rss", 3) == 0 ||
            strcmp(order[i], "HugetlbPages") == 0) {
            const char *v = strchr(at, '\t') + 1;
            const char *nl = strchr(v, '\n');
            int ok = nl && nl - v >= 11 && memcmp(nl - 3, " kB", 3) == 0;
            for (const char *q = v; ok && q < nl - 3; q++)
                ok = *q == ' ' || isdigit((unsigned char)*q);
            if (!ok || (nl - v == 11 && v[0] == '0' && nl - 3 - v > 1)) {
                printf("status: bad %s line\n", order[i]);
                lt_failures++;
            }
        }
    }
    long long rss = num(buf, "VmRSS");
    CHECK(rss > 0);
    CHECK(rss == num(buf, "RssAnon") + num(buf, "RssFile") + num(buf, "RssShmem"));
    CHECK(num(buf, "VmPeak") >= num(buf, "VmSize"));
    CHECK(num(buf, "VmHWM") >= rss);
    CHECK(num(buf, "VmStk") > 0);
    CHECK(num(buf, "VmExe") > 0);
    CHECK(num(buf, "Threads") == 1);
    CHECK(num(buf, "Tgid") == getpid());
    CHECK(num(buf, "NStgid") == getpid());
    CHECK(num(buf, "NSpid") == getpid());
    CHECK(num(buf, "NSpgid") == getpgrp());
    CHECK(num(buf, "NSsid") == getsid(0));
    CHECK(num(buf, "FDSize") >= 64);
    CHECK(num(buf, "voluntary_ctxt_switches") >= 0);
    CHECK(num(buf, "nonvoluntary_ctxt_switches") >= 0);
    CHECK(strstr(buf, "\nMems_allowed_list:\t0\n") != NULL);
}

/* status's VmSize and VmRSS are statm's size and resident (pages); touching memory grows
 * RssAnon. */
static void test_statm(void) {
    static char st[4096], sm[256];
    int ok = 0;
    long page = sysconf(_SC_PAGESIZE) / 1024;
    for (int tries = 0; tries < 5 && !ok; tries++) {
        CHECK(slurp("/proc/self/status") > 0);
        memcpy(st, buf, sizeof st - 1);
        CHECK(slurp("/proc/self/statm") > 0);
        memcpy(sm, buf, sizeof sm - 1);
        long long size, res, shared, text, lib, data;
        CHECK(sscanf(sm, "%lld %lld %lld %lld %lld %lld", &size, &res, &shared, &text, &lib,
                     &data) == 6);
        ok = num(st, "VmSize") == size * page && num(st, "VmRSS") == res * page &&
             res >= shared && num(st, "RssFile") + num(st, "RssShmem") == shared * page;
    }
    if (!ok)
        printf("status and statm disagree:\n%s%s", st, sm);
    CHECK(ok);
    CHECK(slurp("/proc/self/status") > 0);
    long long anon0 = num(buf, "RssAnon");
    size_t len = 4 << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED)
        return;
    memset(m, 1, len);
    CHECK(slurp("/proc/self/status") > 0);
    long long anon1 = num(buf, "RssAnon");
    if (anon1 < anon0 + 3 * 1024) {
        printf("RssAnon %lld -> %lld kB after touching 4 MiB\n", anon0, anon1);
        lt_failures++;
    }
    munmap(m, len);
}

/* smaps: each VMA's maps line, then Size (its length) and Linux's fields; the sum of Rss
 * over the VMAs is smaps_rollup's Rss, which is about VmRSS. */
static void test_smaps(void) {
    static const char *fields[] = {"Size",          "KernelPageSize", "MMUPageSize",
                                   "Rss",           "Pss",            "Shared_Clean",
                                   "Shared_Dirty",  "Private_Clean",  "Private_Dirty",
                                   "Referenced",    "Anonymous",      "LazyFree",
                                   "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
                                   "Shared_Hugetlb", "Private_Hugetlb", "Swap",
                                   "SwapPss",       "Locked",         "THPeligible",
                                   "VmFlags"};
    CHECK(slurp("/proc/self/smaps") > 0);
    long long rss_sum = 0;
    int vmas = 0;
    char *p = buf;
    while (*p) {
        unsigned long start, end;
        char perms[8];
        if (sscanf(p, "%lx-%lx %7s", &start, &end, perms) != 3) {
            printf("smaps: expected a maps line at: %.60s\n", p);
            lt_failures++;
            break;
        }
        vmas++;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
        size_t f = 0;
        long long size = -1, rss = -1, priv = 0, shared = 0;
        while (*p) {
            char *nl = strchr(p, '\n');
            if (!nl)
                break;
            /* A field line has its colon before the first blank; a maps line does not. */
            char *colon = memchr(p, ':', nl - p), *blank = memchr(p, ' ', nl - p);
            if (!colon || (blank && blank < colon))
                break;
            /* The fields listed, in order; others (Pss_Dirty, ProtectionKey) may sit between. */
            for (size_t k = f; k < sizeof fields / sizeof *fields; k++) {
                size_t l = strlen(fields[k]);
                if (strncmp(p, fields[k], l) == 0 && p[l] == ':') {
                    f = k + 1;
                    break;
                }
            }
            if (strncmp(p, "Size:", 5) == 0)
                size = strtoll(p + 5, NULL, 10);
            else if (strncmp(p, "Rss:", 4) == 0)
                rss = strtoll(p + 4, NULL, 10);
            else if (strncmp(p, "Private_", 8) == 0)
                priv += strtoll(strchr(p, ':') + 1, NULL, 10);
            else if (strncmp(p, "Shared_Clean:", 13) == 0 || strncmp(p, "Shared_Dirty:", 13) == 0)
                shared += strtoll(strchr(p, ':') + 1, NULL, 10);
            if (strncmp(p, "VmFlags:", 8) == 0) {
                p = nl + 1;
                break;
            }
            p = nl + 1;
        }
        if (f != sizeof fields / sizeof *fields) {
            printf("smaps: VMA %lx-%lx: fields missing or out of order (got %zu)\n", start, end, f);
            lt_failures++;
        }
        if (size != (long long)(end - start) / 1024) {
            printf("smaps: VMA %lx-%lx: Size %lld\n", start, end, size);
            lt_failures++;
        }
        if (rss < 0 || rss > size || priv + shared != rss) {
            printf("smaps: VMA %lx-%lx: Rss %lld, private %lld, shared %lld\n", start, end, rss,
                   priv, shared);
            lt_failures++;
        }
        rss_sum += rss;
    }
    CHECK(vmas >= 3);
    CHECK(slurp("/proc/self/smaps_rollup") > 0);
    CHECK(strstr(buf, "[rollup]\n") != NULL);
    CHECK(strstr(buf, "\nPss_Anon:") != NULL && strstr(buf, "\nPss_File:") != NULL);
    long long roll = num(strchr(buf, '\n') + 1, "Rss");
    if (roll < rss_sum - 64 || roll > rss_sum + 64) {
        printf("smaps_rollup Rss %lld, smaps sum %lld\n", roll, rss_sum);
        lt_failures++;
    }
    long long pss = num(strchr(buf, '\n') + 1, "Pss");
    CHECK(pss > 0 && pss <= roll);
    CHECK(slurp("/proc/self/status") > 0);
    long long vmrss = num(buf, "VmRSS");
    if (roll < vmrss - vmrss / 10 - 1024 || roll > vmrss + vmrss / 10 + 1024) {
        printf("smaps_rollup Rss %lld, VmRSS %lld\n", roll, vmrss);
        lt_failures++;
    }
}

static void test_limits(void) {
    static const char *names[] = {"Max cpu time",         "Max file size",
                                  "Max data size",        "Max stack size",
                                  "Max core file size",   "Max resident set",
                                  "Max processes",        "Max open files",
                                  "Max locked memory",    "Max address space",
                                  "Max file locks",       "Max pending signals",
                                  "Max msgqueue size",    "Max nice priority",
                                  "Max realtime priority", "Max realtime timeout"};
    struct rlimit r = {1000, 2000};
    CHECK_OK(getrlimit(RLIMIT_CORE, &r));
    r.rlim_cur = 4096;
    if (r.rlim_max != RLIM_INFINITY && r.rlim_max < 4096)
        r.rlim_cur = r.rlim_max;
    CHECK_OK(setrlimit(RLIMIT_CORE, &r));
    CHECK(slurp("/proc/self/limits") > 0);
    const char *head = "Limit                     Soft Limit           Hard Limit           "
                       "Units     \n";
    CHECK(strncmp(buf, head, strlen(head)) == 0);
    char *p = strchr(buf, '\n');
    for (int i = 0; i < 16 && p; i++) {
        p++;
        size_t l = strlen(names[i]);
        if (strncmp(p, names[i], l) != 0) {
            printf("limits line %d: %.40s\n", i, p);
            lt_failures++;
            return;
        }
        char soft[32], hard[32];
        CHECK(sscanf(p + 26, "%31s %31s", soft, hard) == 2);
        CHECK(p[25] == ' ' && p[46] == ' ' && p[67] == ' ');
        struct rlimit g;
        CHECK_OK(getrlimit(i, &g));
        char ws[32], wh[32];
        if (g.rlim_cur == RLIM_INFINITY)
            strcpy(ws, "unlimited");
        else
            snprintf(ws, sizeof ws, "%llu", (unsigned long long)g.rlim_cur);
        if (g.rlim_max == RLIM_INFINITY)
            strcpy(wh, "unlimited");
        else
            snprintf(wh, sizeof wh, "%llu", (unsigned long long)g.rlim_max);
        if (strcmp(soft, ws) != 0 || strcmp(hard, wh) != 0) {
            printf("limits %s: %s %s, getrlimit %s %s\n", names[i], soft, hard, ws, wh);
            lt_failures++;
        }
        p = strchr(p, '\n');
    }
}

static void test_io(void) {
    static const char *names[] = {"rchar",      "wchar",       "syscr",
                                  "syscw",      "read_bytes",  "write_bytes",
                                  "cancelled_write_bytes"};
    CHECK(slurp("/proc/self/io") > 0);
    char *p = buf;
    for (int i = 0; i < 7; i++) {
        size_t l = strlen(names[i]);
        if (strncmp(p, names[i], l) != 0 || strncmp(p + l, ": ", 2) != 0) {
            printf("io line %d: %.40s\n", i, p);
            lt_failures++;
            return;
        }
        char *end;
        strtoull(p + l + 2, &end, 10);
        CHECK(*end == '\n');
        p = end + 1;
    }
    CHECK(*p == 0);
    /* The counters grow by what read and write calls move. */
    long long r0 = num(buf, "rchar"), w0 = num(buf, "wchar"), cr0 = num(buf, "syscr"),
              cw0 = num(buf, "syscw");
    static char junk[1000];
    int z = open("/dev/zero", O_RDONLY), nul = open("/dev/null", O_WRONLY);
    CHECK(z >= 0 && nul >= 0);
    CHECK(read(z, junk, 300) == 300);
    CHECK(write(nul, junk, 1000) == 1000);
    CHECK(write(nul, junk, 24) == 24);
    close(z);
    close(nul);
    CHECK(slurp("/proc/self/io") > 0);
    CHECK(num(buf, "rchar") >= r0 + 300);
    CHECK(num(buf, "wchar") >= w0 + 1024);
    CHECK(num(buf, "syscr") >= cr0 + 1);
    CHECK(num(buf, "syscw") >= cw0 + 2);
    CHECK(slurp("/proc/self/wchan") >= 0);
}

static int write_str(const char *path, const char *s) {
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t r = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return r < 0 ? -1 : 0;
}

static void test_oom(void) {
    const char *adj = "/proc/self/oom_score_adj";
    CHECK(slurp("/proc/self/oom_score") > 0);
    long long score = strtoll(buf, NULL, 10);
    CHECK(score >= 0 && score <= 2000);
    CHECK(slurp(adj) > 0);
    CHECK(strcmp(buf, "0\n") == 0);
    CHECK_ERR(write_str(adj, "1001"), EINVAL);
    CHECK_ERR(write_str(adj, "-1001"), EINVAL);
    CHECK_ERR(write_str(adj, "abc"), EINVAL);
    CHECK_OK(write_str(adj, "500\n"));
    CHECK(slurp(adj) > 0 && strcmp(buf, "500\n") == 0);
    CHECK(slurp("/proc/self/oom_score") > 0 && strtoll(buf, NULL, 10) >= score);
    CHECK(slurp("/proc/self/status") > 0);
    const char *eff = strstr(buf, "\nCapEff:\t");
    unsigned long long caps = eff ? strtoull(eff + 9, NULL, 16) : 0;
    if (caps & (1ULL << 24)) { /* CAP_SYS_RESOURCE */
        /* Privileged: any value, and it becomes the floor; then an unprivileged child may
         * not go below it. */
        CHECK_OK(write_str(adj, "-1000"));
        CHECK(slurp("/proc/self/oom_score") > 0 && strcmp(buf, "0\n") == 0);
        CHECK_OK(write_str(adj, "100"));
        pid_t c = fork();
        if (c == 0) {
            if (setresuid(65534, 65534, 65534) != 0)
                _exit(3);
            prctl(PR_SET_DUMPABLE, 1);
            if (slurp(adj) <= 0 || strcmp(buf, "100\n") != 0)
                _exit(4);
            if (write_str(adj, "200") != 0)
                _exit(5);
            if (write_str(adj, "99") == 0 || errno != EACCES)
                _exit(6);
            if (write_str(adj, "100") != 0)
                _exit(7);
            _exit(0);
        }
        int st;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK_EXIT(st, 0);
        CHECK_OK(write_str(adj, "0"));
    } else {
        CHECK_ERR(write_str(adj, "-1"), EACCES);
        CHECK_OK(write_str(adj, "0"));
    }
}

/* /proc/self/ns: a link "TYPE:[INODE]" for every namespace type, leading to a file with that
 * inode number. */
static void test_ns(void) {
    static const char *names[][2] = {{"cgroup", "cgroup"}, {"ipc", "ipc"}, {"mnt", "mnt"},
                                     {"net", "net"},       {"pid", "pid"}, {"pid_for_children", "pid"},
                                     {"time", "time"},     {"time_for_children", "time"},
                                     {"user", "user"},     {"uts", "uts"}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[64], link[64] = {0}, want[16];
        snprintf(path, sizeof path, "/proc/self/ns/%s", names[i][0]);
        snprintf(want, sizeof want, "%s:[", names[i][1]);
        CHECK(readlink(path, link, sizeof link - 1) > 0);
        unsigned long ino = 0;
        if (strncmp(link, want, strlen(want)) != 0 ||
            sscanf(link + strlen(want), "%lu]", &ino) != 1) {
            printf("%s -> %s\n", path, link);
            lt_failures++;
            continue;
        }
        struct stat st;
        CHECK(stat(path, &st) == 0 && st.st_ino == ino && S_ISREG(st.st_mode));
        int fd = open(path, O_RDONLY);
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
    }
}

int main(void) {
    memset(buf, 0, sizeof buf); /* no page of it faults in between two reads */
    test_status_format();
    test_statm();
    test_smaps();
    test_limits();
    test_io();
    test_oom();
    test_ns();
    DONE();
}
