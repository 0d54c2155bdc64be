/* /proc/cpuinfo as Linux prints it on x86_64: one block per online CPU with its lines in
 * Linux's order, the identity CPUID gives (vendor, family/model/stepping, brand string,
 * clflush size, address sizes), and a `flags` line naming exactly the user-visible
 * features CPUID reports (AVX ones only when the OS enabled their register state). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <cpuid.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

static char buf[1 << 20];

#define slurp(path) lt_slurp(path, buf, sizeof buf)

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    unsigned max = __get_cpuid_max(leaf & 0x80000000u, NULL);
    if (leaf > max) {
        r[0] = r[1] = r[2] = r[3] = 0;
        return;
    }
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

/* The value of `key` ("flags", "model name") in `block`, copied to out. */
static int value(const char *block, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    for (const char *p = block; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, key, kl) == 0 && (p[kl] == '\t' || p[kl] == ':')) {
            const char *c = strchr(p, ':');
            const char *nl = strchr(p, '\n');
            if (!c || !nl || c > nl)
                return -1;
            c++;
            if (*c == ' ')
                c++;
            size_t n = nl - c < (long)cap - 1 ? (size_t)(nl - c) : cap - 1;
            memcpy(out, c, n);
            out[n] = 0;
            return 0;
        }
    }
    out[0] = 0;
    return -1;
}

static int has_flag(const char *flags, const char *name) {
    size_t l = strlen(name);
    for (const char *p = flags; (p = strstr(p, name)); p += l)
        if ((p == flags || p[-1] == ' ') && (p[l] == 0 || p[l] == ' '))
            return 1;
    return 0;
}

static void check_block(const char *b, int index) {
    static const char *order[] = {"processor", "vendor_id", "cpu family", "model\t",
                                  "model name", "stepping", "cpu MHz", "physical id",
                                  "siblings", "core id", "cpu cores", "apicid",
                                  "fpu\t", "cpuid level", "wp\t", "flags", "bogomips",
                                  "clflush size", "cache_alignment", "address sizes",
                                  "power management"};
    const char *last = b;
    char what[32];
    snprintf(what, sizeof what, "cpu %d", index);
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        lt_line_in_order(b, order[i], "", &last, what);
    char v[4096];
    unsigned r[4];
    cpuid(0, 0, r);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    CHECK(value(b, "vendor_id", v, sizeof v) == 0 && strcmp(v, vendor) == 0);
    CHECK(value(b, "cpuid level", v, sizeof v) == 0 && strtoul(v, NULL, 10) == r[0]);
    cpuid(1, 0, r);
    unsigned fam = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
    if (fam == 0xf)
        fam += (r[0] >> 20) & 0xff;
    if (fam >= 6)
        model += ((r[0] >> 16) & 0xf) << 4;
    CHECK(value(b, "cpu family", v, sizeof v) == 0 && strtoul(v, NULL, 10) == fam);
    CHECK(value(b, "model\t", v, sizeof v) == 0 && strtoul(v, NULL, 10) == model);
    CHECK(value(b, "stepping", v, sizeof v) == 0 && strtoul(v, NULL, 10) == (r[0] & 0xf));
    CHECK(value(b, "clflush size", v, sizeof v) == 0 &&
          strtoul(v, NULL, 10) == ((r[1] >> 8) & 0xff) * 8);
    /* model name: the brand string without the blanks around it. */
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        char brand[49] = {0};
        for (unsigned l = 0; l < 3; l++) {
            unsigned q[4];
            cpuid(0x80000002u + l, 0, q);
            memcpy(brand + 16 * l, q, 16);
        }
        char *s = brand;
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
            s[--n] = 0;
        CHECK(value(b, "model name", v, sizeof v) == 0);
        if (strcmp(v, s) != 0) {
            printf("model name '%s', brand string '%s'\n", v, s);
            lt_failures++;
        }
    }
    cpuid(0x80000008u, 0, r);
    if (r[0]) {
        char want[64];
        snprintf(want, sizeof want, "%u bits physical, %u bits virtual", r[0] & 0xff,
                 (r[0] >> 8) & 0xff);
        CHECK(value(b, "address sizes", v, sizeof v) == 0 && strcmp(v, want) == 0);
    }
    CHECK(value(b, "cpu MHz", v, sizeof v) == 0 && strtod(v, NULL) > 0);
    CHECK(value(b, "bogomips", v, sizeof v) == 0 && strtod(v, NULL) > 0);
    /* flags: present exactly when CPUID has the bit. */
    CHECK(value(b, "flags", v, sizeof v) == 0);
    CHECK(has_flag(v, "fpu") && has_flag(v, "sse") && has_flag(v, "sse2"));
    unsigned l1[4], l7[4], e1[4];
    cpuid(1, 0, l1);
    cpuid(7, 0, l7);
    cpuid(0x80000001u, 0, e1);
    int ymm = 0;
    if (l1[2] & (1u << 27)) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ymm = (lo & 6) == 6;
    }
    struct {
        const char *name;
        int has;
    } want[] = {
        {"pni", !!(l1[2] & (1u << 0))},        {"pclmulqdq", !!(l1[2] & (1u << 1))},
        {"ssse3", !!(l1[2] & (1u << 9))},      {"cx16", !!(l1[2] & (1u << 13))},
        {"sse4_1", !!(l1[2] & (1u << 19))},    {"sse4_2", !!(l1[2] & (1u << 20))},
        {"movbe", !!(l1[2] & (1u << 22))},     {"popcnt", !!(l1[2] & (1u << 23))},
        {"aes", !!(l1[2] & (1u << 25))},       {"cmov", !!(l1[3] & (1u << 15))},
        {"mmx", !!(l1[3] & (1u << 23))},       {"fxsr", !!(l1[3] & (1u << 24))},
        {"avx", ymm && (l1[2] & (1u << 28))},  {"fma", ymm && (l1[2] & (1u << 12))},
        {"f16c", ymm && (l1[2] & (1u << 29))}, {"avx2", ymm && (l7[1] & (1u << 5))},
        {"bmi1", !!(l7[1] & (1u << 3))},       {"bmi2", !!(l7[1] & (1u << 8))},
        {"adx", !!(l7[1] & (1u << 19))},       {"sha_ni", !!(l7[1] & (1u << 29))},
        {"lm", !!(e1[3] & (1u << 29))},        {"syscall", !!(e1[3] & (1u << 11))},
        {"lahf_lm", !!(e1[2] & (1u << 0))},    {"abm", !!(e1[2] & (1u << 5))},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (has_flag(v, want[i].name) != want[i].has) {
            printf("cpu %d: flag %s %s, CPUID says %d\n", index, want[i].name,
                   has_flag(v, want[i].name) ? "shown" : "missing", want[i].has);
            lt_failures++;
        }
    }
}

int main(void) {
    CHECK(slurp("/proc/cpuinfo") > 0);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int blocks = 0;
    char *p = buf;
    while (p && *p) {
        char *end = strstr(p, "\n\n");
        if (end)
            end[1] = 0;
        CHECK(strncmp(p, "processor\t: ", 12) == 0);
        check_block(p, blocks);
        blocks++;
        p = end ? end + 2 : NULL;
    }
    if (blocks != online) {
        printf("%d blocks, %ld CPUs online\n", blocks, online);
        lt_failures++;
    }
    DONE();
}
