/* sysfs as CPU-topology readers (lscpu, hwloc, libnuma, JVMs) and allocators see it: the
 * online list matches the processor count, each online CPU has topology files naming itself
 * among its siblings, node 0 lists the CPUs, and the transparent-huge-page policy is one
 * bracketed choice. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <unistd.h>

static char buf[4096];
#define slurp(path) lt_slurp(path, buf, sizeof buf)

/* Whether CPU `cpu` is in the list text ("0-3,5"); how many CPUs it names goes to *count. */
static int in_list(const char *text, int cpu, int *count) {
    int found = 0, n = 0;
    const char *p = text;
    while (*p && *p != '\n') {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            return -1;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        if (cpu >= a && cpu <= b)
            found = 1;
        n += (int)(b - a + 1);
        p = *end == ',' ? end + 1 : end;
    }
    if (count)
        *count = n;
    return found;
}

static long num_file(const char *path) {
    if (slurp(path) <= 0)
        return -1;
    char *end;
    long v = strtol(buf, &end, 10);
    return *end == '\n' ? v : -1;
}

int main(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(slurp("/sys/devices/system/cpu/online") > 0);
    char list[256];
    snprintf(list, sizeof list, "%.255s", buf);
    int n = 0;
    CHECK(in_list(list, 0, &n) == 1);
    CHECK(n == online);
    for (int cpu = 0; cpu < 64; cpu++) {
        if (in_list(list, cpu, NULL) != 1)
            continue;
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        CHECK(num_file(path) >= 0);
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        CHECK(num_file(path) >= 0);
        static const char *lists[] = {"thread_siblings_list", "core_siblings_list",
                                      "core_cpus_list", "package_cpus_list"};
        for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/%s", cpu,
                     lists[i]);
            CHECK(slurp(path) > 0);
            if (in_list(buf, cpu, NULL) != 1) {
                printf("%s: %s", path, buf);
                lt_failures++;
            }
        }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/thread_siblings",
                 cpu);
        CHECK(slurp(path) > 0);
        unsigned long long m = strtoull(buf, NULL, 16);
        if (cpu < 32)
            CHECK(m & (1ULL << cpu));
    }
    CHECK(slurp("/sys/devices/system/node/node0/cpulist") > 0);
    int node_cpus = 0;
    CHECK(in_list(buf, 0, &node_cpus) == 1);
    CHECK(node_cpus == online);
    CHECK(slurp("/sys/kernel/mm/transparent_hugepage/enabled") > 0);
    int choices = 0;
    for (const char *p = buf; (p = strchr(p, '[')); p++)
        choices++;
    CHECK(choices == 1);
    CHECK(strstr(buf, "[always]") || strstr(buf, "[madvise]") || strstr(buf, "[never]"));
    CHECK(num_file("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") > 0);
    DONE();
}
