/* Describing the network: getifaddrs and if_nametoindex (netlink underneath, in glibc and
 * musl alike), a raw NETLINK_ROUTE link/address dump with sockaddr_nl binding (lo's link
 * carries the attributes `ip -s link` prints: IFLA_STATS64, IFLA_QDISC, IFLA_GROUP; its
 * address IFA_CACHEINFO), a link asked for by name, RTM_GETNEIGH, RTM_NEWLINK setting lo's
 * MTU (EINVAL out of range, EPERM without CAP_NET_ADMIN), NETLINK_SOCK_DIAG listing a TCP
 * listener and a UDP socket the test made (as `ss` asks), the SIOCGIF*
 * ioctls (flags and setting them unchanged, address, netmask, index, name, MTU, SIOCGIFCONF), /proc/net/dev and
 * /proc/net/if_inet6, and the socket tables /proc/net/tcp, udp6 and unix naming a listener,
 * a bound datagram socket and a bound Unix socket. Only the loopback interface is assumed. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void check_getifaddrs(void) {
    struct ifaddrs *list = NULL;
    CHECK_OK(getifaddrs(&list));
    int v4 = 0, v6 = 0;
    for (struct ifaddrs *a = list; a; a = a->ifa_next) {
        if (strcmp(a->ifa_name, "lo") != 0 || !a->ifa_addr)
            continue;
        CHECK(a->ifa_flags & IFF_UP);
        CHECK(a->ifa_flags & IFF_LOOPBACK);
        if (a->ifa_addr->sa_family == AF_INET) {
            struct sockaddr_in *s = (struct sockaddr_in *)a->ifa_addr;
            struct sockaddr_in *m = (struct sockaddr_in *)a->ifa_netmask;
            v4 += s->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
            CHECK(m && m->sin_addr.s_addr == htonl(0xff000000));
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)a->ifa_addr;
            v6 += IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
        }
    }
    CHECK(v4 == 1);
    CHECK(v6 == 1);
    freeifaddrs(list);
    CHECK(if_nametoindex("lo") == 1);
    char name[IF_NAMESIZE];
    CHECK(if_indextoname(1, name) && strcmp(name, "lo") == 0);
    CHECK(if_nametoindex("nosuchif0") == 0);
}

/* lo's MTU as the link dump reported it. */
static unsigned lo_mtu;

/* Sends one dump request and walks the replies to NLMSG_DONE; returns how many messages of
 * `type` mention the loopback interface (index 1). */
static int dump(int fd, int req_type, int type) {
    struct {
        struct nlmsghdr h;
        struct rtgenmsg g;
        char pad[3];
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
    req.h.nlmsg_type = req_type;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 42;
    req.g.rtgen_family = AF_UNSPEC;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    CHECK(sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) ==
          (ssize_t)req.h.nlmsg_len);
    int found = 0, done = 0;
    static char buf[65536];
    while (!done) {
        struct sockaddr_nl from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n <= 0) {
            CHECK(n > 0);
            return found;
        }
        CHECK(fl == sizeof from && from.nl_family == AF_NETLINK && from.nl_pid == 0);
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            CHECK(h->nlmsg_seq == 42);
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
                break;
            }
            CHECK(h->nlmsg_type != NLMSG_ERROR);
            if (h->nlmsg_type == type && type == RTM_NEWLINK) {
                struct ifinfomsg *i = NLMSG_DATA(h);
                if (i->ifi_index == 1) {
                    found++;
                    CHECK(i->ifi_type == 772); /* ARPHRD_LOOPBACK */
                    int name_ok = 0, stats64 = 0, stats = 0, qdisc = 0, group = 0, txq = 0;
                    int len = IFLA_PAYLOAD(h);
                    for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                        if (a->rta_type == IFLA_IFNAME)
                            name_ok = strcmp(RTA_DATA(a), "lo") == 0;
                        /* rtnl_link_stats64 grew to 25 counters in 5.19; 24 before. */
                        if (a->rta_type == IFLA_STATS64)
                            stats64 = RTA_PAYLOAD(a) >= 24 * 8;
                        if (a->rta_type == IFLA_STATS)
                            stats = RTA_PAYLOAD(a) >= 23 * 4;
                        if (a->rta_type == IFLA_QDISC)
                            qdisc = strcmp(RTA_DATA(a), "noqueue") == 0;
                        if (a->rta_type == IFLA_GROUP)
                            group = RTA_PAYLOAD(a) == 4 && *(unsigned *)RTA_DATA(a) == 0;
                        if (a->rta_type == IFLA_TXQLEN)
                            txq = RTA_PAYLOAD(a) == 4;
                        if (a->rta_type == IFLA_MTU)
                            lo_mtu = *(unsigned *)RTA_DATA(a);
                    }
                    CHECK(name_ok);
                    CHECK(stats64);
                    CHECK(stats);
                    CHECK(qdisc);
                    CHECK(group);
                    CHECK(txq);
                }
            } else if (h->nlmsg_type == type && type == RTM_NEWNEIGH) {
                found++;
            } else if (h->nlmsg_type == type && type == RTM_NEWADDR) {
                struct ifaddrmsg *i = NLMSG_DATA(h);
                if (i->ifa_index == 1 && i->ifa_family == AF_INET) {
                    found++;
                    CHECK(i->ifa_prefixlen == 8);
                    CHECK(i->ifa_scope == RT_SCOPE_HOST);
                    /* "valid_lft forever preferred_lft forever" */
                    int forever = 0;
                    int len = IFA_PAYLOAD(h);
                    for (struct rtattr *a = IFA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len))
                        if (a->rta_type == IFA_CACHEINFO) {
                            struct ifa_cacheinfo *c = RTA_DATA(a);
                            forever = c->ifa_valid == 0xffffffffu && c->ifa_prefered == 0xffffffffu;
                        }
                    CHECK(forever);
                }
            }
        }
    }
    return found;
}

static void check_netlink(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    CHECK(fd >= 0);
    struct sockaddr_nl a = {.nl_family = AF_NETLINK};
    CHECK_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
    socklen_t al = sizeof a;
    CHECK_OK(getsockname(fd, (struct sockaddr *)&a, &al));
    CHECK(al == sizeof a && a.nl_family == AF_NETLINK && a.nl_pid != 0);
    CHECK(dump(fd, RTM_GETLINK, RTM_NEWLINK) == 1);
    CHECK(dump(fd, RTM_GETADDR, RTM_NEWADDR) == 1);
    /* Neighbours differ from machine to machine: the dump only has to end well. */
    CHECK(dump(fd, RTM_GETNEIGH, RTM_NEWNEIGH) >= 0);
    /* A second socket cannot take the same port id. */
    int fd2 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    CHECK_ERR(bind(fd2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
    struct sockaddr_nl bad = {.nl_family = AF_INET};
    CHECK_ERR(bind(fd2, (struct sockaddr *)&bad, sizeof bad), EINVAL);
    CHECK_ERR(bind(fd2, (struct sockaddr *)&a, 4), EINVAL);
    int ty = 0;
    socklen_t tl = sizeof ty;
    CHECK_OK(getsockopt(fd2, SOL_SOCKET, SO_TYPE, &ty, &tl));
    CHECK(ty == SOCK_RAW);
    CHECK_ERR(listen(fd2, 1), EOPNOTSUPP);
    close(fd2);
    close(fd);
    CHECK_ERR(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
}

/* One request with NLM_F_ACK; returns the error field of the reply (0: done). */
static int request(int fd, void *req, unsigned len) {
    struct nlmsghdr *h = req;
    h->nlmsg_len = len;
    h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    h->nlmsg_seq = 77;
    if (send(fd, req, len, 0) != (ssize_t)len)
        return -9999;
    static char buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return -9998;
        for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (size_t)n);
             r = NLMSG_NEXT(r, n))
            if (r->nlmsg_type == NLMSG_ERROR && r->nlmsg_seq == 77)
                return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
    }
}

struct link_req {
    struct nlmsghdr h;
    struct ifinfomsg i;
    char attrs[64];
};

/* RTM_NEWLINK for index `index` with one u32 attribute (type 0: none). */
static int set_link(int fd, int index, int attr, unsigned value) {
    struct link_req r;
    memset(&r, 0, sizeof r);
    r.h.nlmsg_type = RTM_NEWLINK;
    r.i.ifi_family = AF_UNSPEC;
    r.i.ifi_index = index;
    unsigned len = NLMSG_LENGTH(sizeof r.i);
    if (attr) {
        struct rtattr *a = (struct rtattr *)((char *)&r + NLMSG_ALIGN(len));
        a->rta_type = attr;
        a->rta_len = RTA_LENGTH(4);
        memcpy(RTA_DATA(a), &value, 4);
        len = NLMSG_ALIGN(len) + RTA_ALIGN(a->rta_len);
    }
    return request(fd, &r, len);
}

/* A link asked for by name (index 0 and IFLA_IFNAME, as iproute2 looks names up), lo's MTU
 * set to what it is, out of range, and by a user without CAP_NET_ADMIN. */
static void check_link_changes(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    CHECK(fd >= 0);
    struct link_req r;
    memset(&r, 0, sizeof r);
    r.h.nlmsg_type = RTM_GETLINK;
    r.h.nlmsg_len = NLMSG_LENGTH(sizeof r.i);
    struct rtattr *a = (struct rtattr *)((char *)&r + NLMSG_ALIGN(r.h.nlmsg_len));
    a->rta_type = IFLA_IFNAME;
    a->rta_len = RTA_LENGTH(3);
    memcpy(RTA_DATA(a), "lo", 3);
    r.h.nlmsg_len = NLMSG_ALIGN(r.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
    r.h.nlmsg_flags = NLM_F_REQUEST;
    r.h.nlmsg_seq = 5;
    CHECK(send(fd, &r, r.h.nlmsg_len, 0) == (ssize_t)r.h.nlmsg_len);
    static char buf[8192];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    CHECK(n > 0 && NLMSG_OK(h, (size_t)n) && h->nlmsg_type == RTM_NEWLINK);
    CHECK(n > 0 && ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == 1);
    CHECK(n > 0 && !(h->nlmsg_flags & NLM_F_MULTI));
    if (geteuid() == 0) {
        CHECK(lo_mtu > 0);
        CHECK(set_link(fd, 1, IFLA_MTU, lo_mtu) == 0);
        CHECK(set_link(fd, 1, IFLA_MTU, 0x80000000u) == -EINVAL);
        CHECK(set_link(fd, 1, 0, 0) == 0);
        CHECK(set_link(fd, 9999, IFLA_MTU, lo_mtu) == -ENODEV);
        pid_t p = fork();
        if (p == 0) {
            if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
                _exit(2);
            _exit(set_link(fd, 1, IFLA_MTU, lo_mtu) == -EPERM ? 0 : 1);
        }
        int st = 0;
        CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    close(fd);
}

/* A SOCK_DIAG_BY_FAMILY dump as `ss` sends it; returns the state of the socket with local
 * port `port` and inode `ino` (-1: not listed), its send queue in `*wq`. */
static int diag_state(int family, int proto, unsigned states, int port, ino_t ino, unsigned *wq) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    CHECK(fd >= 0);
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 9;
    req.r.sdiag_family = family;
    req.r.sdiag_protocol = proto;
    req.r.idiag_states = states;
    CHECK(send(fd, &req, sizeof req, 0) == sizeof req);
    static char buf[65536];
    int state = -1, done = 0;
    while (!done) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            CHECK(n > 0);
            break;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            CHECK(h->nlmsg_seq == 9);
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
                break;
            }
            CHECK(h->nlmsg_type == SOCK_DIAG_BY_FAMILY);
            struct inet_diag_msg *m = NLMSG_DATA(h);
            CHECK(m->idiag_family == family);
            if (ntohs(m->id.idiag_sport) == port && m->idiag_inode == ino) {
                CHECK(m->idiag_uid == geteuid());
                state = m->idiag_state;
                *wq = m->idiag_wqueue;
            }
        }
    }
    close(fd);
    return state;
}

static void check_sock_diag(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK_OK(bind(l, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(l, 4));
    CHECK_OK(getsockname(l, (struct sockaddr *)&a, &al));
    struct stat st;
    CHECK_OK(fstat(l, &st));
    unsigned wq = 0;
    /* A listener's send queue is its backlog. */
    CHECK(diag_state(AF_INET, IPPROTO_TCP, 1 << 10, ntohs(a.sin_port), st.st_ino, &wq) == 10);
    CHECK(wq == 4);
    CHECK(diag_state(AF_INET, IPPROTO_TCP, 1 << 1, ntohs(a.sin_port), st.st_ino, &wq) == -1);
    CHECK(diag_state(AF_INET6, IPPROTO_TCP, ~0u, ntohs(a.sin_port), st.st_ino, &wq) == -1);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t bl = sizeof b;
    CHECK_OK(bind(u, (struct sockaddr *)&b, sizeof b));
    CHECK_OK(getsockname(u, (struct sockaddr *)&b, &bl));
    CHECK_OK(fstat(u, &st));
    CHECK(diag_state(AF_INET, IPPROTO_UDP, ~0u, ntohs(b.sin_port), st.st_ino, &wq) == 7);
    close(u);
    close(l);
}

static void check_ioctls(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    CHECK_OK(ioctl(fd, SIOCGIFFLAGS, &r));
    CHECK((r.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)) ==
          (IFF_UP | IFF_LOOPBACK | IFF_RUNNING));
    /* Setting lo's flags to what they are changes nothing (root only). */
    if (geteuid() == 0)
        CHECK_OK(ioctl(fd, SIOCSIFFLAGS, &r));
    else
        CHECK_ERR(ioctl(fd, SIOCSIFFLAGS, &r), EPERM);
    CHECK_OK(ioctl(fd, SIOCGIFADDR, &r));
    CHECK(((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    CHECK_OK(ioctl(fd, SIOCGIFNETMASK, &r));
    CHECK(((struct sockaddr_in *)&r.ifr_netmask)->sin_addr.s_addr == htonl(0xff000000));
    CHECK_OK(ioctl(fd, SIOCGIFINDEX, &r));
    CHECK(r.ifr_ifindex == 1);
    CHECK_OK(ioctl(fd, SIOCGIFMTU, &r));
    CHECK(r.ifr_mtu == 65536);
    memset(&r, 0, sizeof r);
    r.ifr_ifindex = 1;
    CHECK_OK(ioctl(fd, SIOCGIFNAME, &r));
    CHECK(strcmp(r.ifr_name, "lo") == 0);
    strcpy(r.ifr_name, "nosuchif0");
    CHECK_ERR(ioctl(fd, SIOCGIFFLAGS, &r), ENODEV);
    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    CHECK_OK(ioctl(fd, SIOCGIFCONF, &c));
    CHECK(c.ifc_len >= (int)sizeof(struct ifreq) && c.ifc_len % sizeof(struct ifreq) == 0);
    struct ifreq reqs[16];
    c.ifc_len = sizeof reqs;
    c.ifc_req = reqs;
    CHECK_OK(ioctl(fd, SIOCGIFCONF, &c));
    int lo = 0;
    for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++)
        lo += strcmp(reqs[i].ifr_name, "lo") == 0;
    CHECK(lo == 1);
    close(fd);
}

static int file_has(const char *path, const char *needle) {
    static char buf[16384];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

/* A line of `path` holding every one of the needles. */
static int line_has(const char *path, const char *a, const char *b) {
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, a) && strstr(line, b))
            return 1;
    return 0;
}

static void check_socket_tables(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK_OK(bind(l, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(l, 4));
    CHECK_OK(getsockname(l, (struct sockaddr *)&a, &al));
    char want[64];
    snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", ntohs(a.sin_port));
    struct stat st;
    CHECK_OK(fstat(l, &st));
    char ino[32];
    snprintf(ino, sizeof ino, " %lu ", (unsigned long)st.st_ino);
    CHECK(line_has("/proc/net/tcp", want, ino));
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 b = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t bl = sizeof b;
    CHECK_OK(bind(u, (struct sockaddr *)&b, sizeof b));
    CHECK_OK(getsockname(u, (struct sockaddr *)&b, &bl));
    snprintf(want, sizeof want, "00000000000000000000000001000000:%04X", ntohs(b.sin6_port));
    CHECK(line_has("/proc/net/udp6", want, " 07 "));
    int x = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "lintel-procnet-%d", getpid());
    socklen_t ul = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1);
    CHECK_OK(bind(x, (struct sockaddr *)&un, ul));
    CHECK_OK(listen(x, 1));
    char name[64];
    snprintf(name, sizeof name, " @lintel-procnet-%d", getpid());
    CHECK(line_has("/proc/net/unix", name, " 00010000 0001 01 "));
    close(x);
    close(u);
    close(l);
}

int main(void) {
    check_getifaddrs();
    check_netlink();
    check_link_changes();
    check_sock_diag();
    check_ioctls();
    check_socket_tables();
    CHECK(file_has("/proc/net/dev", "    lo:"));
    CHECK(file_has("/proc/self/net/dev", "Inter-|"));
    CHECK(file_has("/proc/net/if_inet6", "00000000000000000000000000000001 01 80 10 80       lo"));
    CHECK(file_has("/proc/net/route", "Iface\tDestination\tGateway"));
    DONE();
}
