/* /proc/meminfo as free(1) and top read it, agreeing with sysinfo(2); /proc/vmstat,
 * /proc/zoneinfo, /proc/stat, /proc/cmdline, /proc/diskstats and /proc/sys/vm's tunables:
 * their formats, Linux's field order, and the consistency programs rely on (MemAvailable <=
 * MemTotal, zones adding up to at most MemTotal, busy ticks growing while a process spins). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];

#define slurp(path) lt_slurp(path, buf, sizeof buf)
#define mi lt_field_num

/* Every line is "Name:", blanks, a number, and " kB" or nothing; names appear in the
 * order of `order` (those present). */
static void check_meminfo_format(const char *text) {
    static const char *order[] = {
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
        "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
        "Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Dirty", "Writeback", "AnonPages",
        "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack",
        "PageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS",
        "VmallocTotal", "VmallocUsed", "VmallocChunk", "Percpu", "AnonHugePages",
        "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize",
        "DirectMap4k"};
    const char *last = text;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        lt_line_in_order(text, order[i], ":", &last, "meminfo");
    int lines = 0;
    for (const char *p = text; *p; lines++) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        const char *c = memchr(p, ':', nl - p);
        CHECK(c != NULL);
        if (c) {
            const char *q = c + 1;
            while (*q == ' ')
                q++;
            CHECK(isdigit((unsigned char)*q));
            while (isdigit((unsigned char)*q))
                q++;
            if (!(q == nl || (nl - q == 3 && memcmp(q, " kB", 3) == 0))) {
                printf("meminfo: bad line %.*s\n", (int)(nl - p), p);
                lt_failures++;
            }
        }
        p = nl + 1;
    }
    CHECK(lines >= 40);
}

static void test_meminfo(void) {
    CHECK(slurp("/proc/meminfo") > 0);
    check_meminfo_format(buf);
    long long total = mi(buf, "MemTotal"), free_ = mi(buf, "MemFree"),
              avail = mi(buf, "MemAvailable"), cached = mi(buf, "Cached"),
              bufs = mi(buf, "Buffers"), shmem = mi(buf, "Shmem");
    CHECK(total > 0);
    CHECK(free_ >= 0 && free_ <= total);
    CHECK(avail >= 0 && avail <= total);
    CHECK(cached >= 0 && cached <= total);
    CHECK(bufs >= 0 && bufs <= total);
    CHECK(shmem >= 0 && shmem <= cached + bufs + total / 2);
    CHECK(mi(buf, "SwapFree") <= mi(buf, "SwapTotal"));
    CHECK(mi(buf, "HugePages_Free") <= mi(buf, "HugePages_Total"));
    CHECK(mi(buf, "Hugepagesize") > 0);
    /* sysinfo(2) tells the same story (free(1) mixes the two). */
    struct sysinfo si;
    CHECK_OK(sysinfo(&si));
    unsigned long long unit = si.mem_unit ? si.mem_unit : 1;
    CHECK((long long)(si.totalram * unit / 1024) == total);
    long long sfree = (long long)(si.freeram * unit / 1024);
    long long slack = total / 20 + 4096;
    if (sfree < free_ - slack || sfree > free_ + slack) {
        printf("sysinfo freeram %lld kB vs MemFree %lld kB\n", sfree, free_);
        lt_failures++;
    }
    CHECK(si.freeram <= si.totalram);
    CHECK((long long)(si.bufferram * unit / 1024) <= bufs + slack);
    CHECK(si.freeswap <= si.totalswap);
    CHECK(avail <= (long long)(si.totalram * unit / 1024));
}

static void test_vmstat(void) {
    CHECK(slurp("/proc/vmstat") > 0);
    int lines = 0, free_seen = 0;
    for (char *p = buf; *p; lines++) {
        char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        char *sp = memchr(p, ' ', nl - p);
        CHECK(sp != NULL && sp > p);
        if (sp) {
            for (char *q = p; q < sp; q++)
                CHECK(islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_');
            char *end;
            strtoull(sp + 1, &end, 10);
            CHECK(end == nl);
            if (sp - p == 13 && memcmp(p, "nr_free_pages", 13) == 0)
                free_seen = 1;
        }
        p = nl + 1;
    }
    CHECK(lines > 20);
    CHECK(free_seen);
    CHECK(strncmp(buf, "nr_free_pages ", 14) == 0);
    CHECK(strstr(buf, "\npgfault ") != NULL);
    CHECK(strstr(buf, "\npgpgin ") != NULL);
}

static void test_cmdline_diskstats(void) {
    long n = slurp("/proc/cmdline");
    CHECK(n > 0);
    if (n > 0)
        CHECK(buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1);
    CHECK(slurp("/proc/diskstats") >= 0);
    for (char *p = buf; *p;) {
        char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        *nl = 0;
        unsigned maj, min;
        char name[64];
        unsigned long long v[17];
        int got = sscanf(p,
                         "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                         "%llu %llu %llu %llu",
                         &maj, &min, name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
                         &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16]);
        if (got < 14) {
            printf("diskstats: bad line %s\n", p);
            lt_failures++;
        }
        p = nl + 1;
    }
}

/* A /proc/sys/vm tunable as a number in [lo, hi]. */
static void vm_num(const char *name, long long lo, long long hi) {
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/vm/%s", name);
    if (slurp(path) <= 0) {
        lt_failures++;
        return;
    }
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\n' || v < lo || v > hi) {
        printf("%s = %s", path, buf);
        lt_failures++;
    }
}

static void test_sys_vm(void) {
    vm_num("swappiness", 0, 200);
    vm_num("dirty_ratio", 0, 100);
    vm_num("dirty_background_ratio", 0, 100);
    vm_num("dirty_bytes", 0, 1LL << 62);
    vm_num("dirty_background_bytes", 0, 1LL << 62);
    vm_num("dirty_expire_centisecs", 0, 1LL << 31);
    vm_num("dirty_writeback_centisecs", 0, 1LL << 31);
    vm_num("vfs_cache_pressure", 0, 1LL << 31);
    vm_num("min_free_kbytes", 128, 1LL << 31);
    vm_num("page-cluster", 0, 1LL << 31);
    vm_num("overcommit_memory", 0, 2);
    vm_num("overcommit_ratio", 0, 1LL << 31);
    vm_num("max_map_count", 1, 1LL << 31);
    vm_num("mmap_min_addr", 0, 1LL << 31);
    vm_num("panic_on_oom", 0, 2);
    vm_num("admin_reserve_kbytes", 0, 1LL << 40);
    vm_num("user_reserve_kbytes", 0, 1LL << 40);
    struct stat st;
    CHECK_OK(stat("/proc/sys/vm/drop_caches", &st));
    CHECK((st.st_mode & 0777) == 0200);
    CHECK_OK(stat("/proc/sys/vm/swappiness", &st));
    CHECK((st.st_mode & 0777) == 0644);
    if (geteuid() == 0) {
        /* Writes outside Linux's range are EINVAL; a good one is read back. */
        CHECK(slurp("/proc/sys/vm/swappiness") > 0);
        char old[32];
        snprintf(old, sizeof old, "%.31s", buf);
        int fd = open("/proc/sys/vm/swappiness", O_WRONLY);
        CHECK(fd >= 0);
        if (fd >= 0) {
            CHECK_ERR(write(fd, "201\n", 4), EINVAL);
            close(fd);
        }
        fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
        CHECK(fd >= 0);
        if (fd >= 0) {
            CHECK_ERR(write(fd, "0\n", 2), EINVAL);
            close(fd);
        }
        fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
        if (fd >= 0) {
            CHECK(write(fd, "1\n", 2) == 2);
            close(fd);
        }
        CHECK(slurp("/proc/sys/vm/swappiness") > 0);
        CHECK(strcmp(buf, old) == 0);
    }
}

/* /proc/zoneinfo: "Node N, zone NAME" blocks whose managed pages add up to at most MemTotal. */
static void test_zoneinfo(void) {
    CHECK(slurp("/proc/meminfo") > 0);
    long long total = mi(buf, "MemTotal");
    CHECK(slurp("/proc/zoneinfo") > 0);
    CHECK(strncmp(buf, "Node 0, zone ", 13) == 0);
    long long managed = 0, free_ = 0;
    int zones = 0;
    for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, "Node ", 5) == 0) {
            int node;
            char name[32];
            CHECK(sscanf(p, "Node %d, zone %31s", &node, name) == 2);
            zones++;
        } else if (strncmp(p, "        managed  ", 17) == 0) {
            managed += strtoll(p + 17, NULL, 10);
        } else if (strncmp(p, "  pages free     ", 17) == 0) {
            free_ += strtoll(p + 17, NULL, 10);
        }
    }
    CHECK(zones >= 1);
    long long kb = managed * (sysconf(_SC_PAGESIZE) / 1024);
    /* Linux counts memory it has not yet handed to the page allocator (deferred struct-page
     * initialisation, memory accepted lazily in a VM) in MemTotal but not yet in a zone's
     * managed pages, so the zones may add up to less, never to more. */
    if (kb <= 0 || kb > total + total / 100) {
        printf("zoneinfo: managed %lld kB, MemTotal %lld kB\n", kb, total);
        lt_failures++;
    }
    CHECK(free_ > 0 && free_ * (sysconf(_SC_PAGESIZE) / 1024) <= total);
}

/* The cpu line's user, nice, system and idle ticks. */
static int cpu_ticks(const char *line, unsigned long long v[4]) {
    char name[16];
    return sscanf(line, "%15s %llu %llu %llu %llu", name, &v[0], &v[1], &v[2], &v[3]) == 5;
}

/* /proc/stat: the cpu line about the sum of the cpuN lines (one per online CPU), busy time
 * growing while this process spins, and Linux's counters. */
static void test_stat(void) {
    unsigned long long before[4], after[4], sum[4] = {0};
    CHECK(slurp("/proc/stat") > 0);
    CHECK(strncmp(buf, "cpu  ", 5) == 0 && cpu_ticks(buf, before));
    int cpus = 0;
    for (char *p = strchr(buf, '\n'); p && strncmp(p + 1, "cpu", 3) == 0; p = strchr(p + 1, '\n')) {
        unsigned long long v[4];
        CHECK(cpu_ticks(p + 1, v));
        for (int i = 0; i < 4; i++)
            sum[i] += v[i];
        cpus++;
    }
    CHECK(cpus == sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < 4; i++) {
        unsigned long long d = sum[i] > before[i] ? sum[i] - before[i] : before[i] - sum[i];
        if (d > 50ULL * cpus) {
            printf("/proc/stat field %d: cpu %llu, sum of cpuN %llu\n", i, before[i], sum[i]);
            lt_failures++;
        }
    }
    static const char *keys[] = {"intr", "ctxt", "btime", "processes", "procs_running",
                                 "procs_blocked"};
    const char *last = buf;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        lt_line_in_order(buf, keys[i], " ", &last, "/proc/stat");
    CHECK(strtoll(strstr(buf, "\nprocs_running ") + 15, NULL, 10) >= 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    do
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 300);
    CHECK(slurp("/proc/stat") > 0 && cpu_ticks(buf, after));
    unsigned long long busy = (after[0] + after[1] + after[2]) - (before[0] + before[1] + before[2]);
    if (busy < 20) {
        printf("/proc/stat: %llu busy ticks over 300 ms of CPU\n", busy);
        lt_failures++;
    }
}

int main(void) {
    test_meminfo();
    test_vmstat();
    test_cmdline_diskstats();
    test_sys_vm();
    test_zoneinfo();
    test_stat();
    DONE();
}
