/* /proc/net/raw, /proc/net/raw6 and /proc/net/packet list the open raw and packet sockets
 * in Linux's layouts, as netstat -w and ss -0 read them: the header lines exactly, and a
 * line for each socket with its inode, protocol (raw: the local "port"), state (07 unless
 * connected), type and interface, checked field by field where Lintel and Linux agree. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char text[65536];

static const char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    return text;
}

static unsigned long ino_of(int fd) {
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    return st.st_ino;
}

/* The line of `t` whose inode column (the 10th field of raw lines) is `ino`, copied into
 * `out`; 0 if none. */
static int raw_line(const char *t, int v6, unsigned long ino, char *out, size_t cap) {
    const char *l = strchr(t, '\n');
    while (l && *++l) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char line[512];
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, l, len);
        line[len] = 0;
        char local[64], rem[64];
        unsigned st, uid, to, ref;
        unsigned long inode;
        int n = sscanf(line, "%*d: %63s %63s %x %*x:%*x %*x:%*x %*x %u %u %lu %u", local, rem,
                       &st, &uid, &to, &inode, &ref);
        if (n == 7 && inode == ino) {
            CHECK(strlen(local) == (v6 ? 37u : 13u) && strlen(rem) == strlen(local));
            snprintf(out, cap, "%s", line);
            return 1;
        }
        l = e;
    }
    return 0;
}

int main(void) {
    const char *raw_head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                           "retrnsmt   uid  timeout inode ref pointer drops\n";
    const char *raw6_head =
        "  sl  local_address                         remote_address                        st "
        "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";
    const char *packet_head = "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n";
    CHECK(strncmp(slurp("/proc/net/raw"), raw_head, strlen(raw_head)) == 0);
    CHECK(strncmp(slurp("/proc/net/raw6"), raw6_head, strlen(raw6_head)) == 0);
    CHECK(strncmp(slurp("/proc/net/packet"), packet_head, strlen(packet_head)) == 0);
    if (geteuid() != 0)
        DONE();

    int r4 = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    int r6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    int u6 = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
    CHECK(r4 >= 0 && r6 >= 0 && u6 >= 0);
    struct sockaddr_in6 lo = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    CHECK_OK(connect(r6, (struct sockaddr *)&lo, sizeof lo));
    char line[512];

    CHECK(raw_line(slurp("/proc/net/raw"), 0, ino_of(r4), line, sizeof line));
    CHECK(strstr(line, " 00000000:0001 00000000:0000 07 ") != NULL);
    /* Not a v4 file's socket. */
    CHECK(!raw_line(text, 0, ino_of(r6), line, sizeof line));

    const char *t = slurp("/proc/net/raw6");
    CHECK(raw_line(t, 1, ino_of(r6), line, sizeof line));
    CHECK(strstr(line, ":003A 00000000000000000000000001000000:0000 01 ") != NULL);
    CHECK(raw_line(t, 1, ino_of(u6), line, sizeof line));
    CHECK(strstr(line, " 00000000000000000000000000000000:0011 "
                       "00000000000000000000000000000000:0000 07 ") != NULL);
    close(u6);
    CHECK(!raw_line(slurp("/proc/net/raw6"), 1, ino_of(r6) + 1000000, line, sizeof line));

    int pa = socket(AF_PACKET, SOCK_RAW, htons(0x0003));
    int pd = socket(AF_PACKET, SOCK_DGRAM, 0);
    CHECK(pa >= 0 && pd >= 0);
    t = slurp("/proc/net/packet");
    int seen = 0;
    for (const char *l = strchr(t, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        unsigned ref, type, proto, iface, running, rmem, user;
        unsigned long ino;
        if (sscanf(l + 1, "%*x %u %u %x %u %u %u %u %lu", &ref, &type, &proto, &iface, &running,
                   &rmem, &user, &ino) != 8)
            continue;
        if (ino == ino_of(pa)) {
            CHECK(type == SOCK_RAW && proto == 3 && iface == 0 && running == 1 && user == 0);
            seen |= 1;
        } else if (ino == ino_of(pd)) {
            CHECK(type == SOCK_DGRAM && proto == 0 && iface == 0 && running == 0 && rmem == 0);
            seen |= 2;
        }
    }
    CHECK(seen == 3);
    close(pa);
    close(pd);
    close(r6);
    close(r4);
    DONE();
}
