/* SPDX-License-Identifier: MIT */
/*
 * The network broker's decisions (issue 5; policy/net.h for the rules).
 *
 * The sentry makes every connect and bind itself, on its copy of the
 * guest's socket and its copy of the address (syscalls/path.c); this file
 * says whether it may, and keeps what the session learnt: the IP sockets
 * and abstract unix names the guest bound (its own servers, which it may
 * reach), and the addresses the sentry's resolver gave out for allowed
 * names.
 *
 * Socket families are decided at socket(): unix, IPv4 and IPv6 (TCP, UDP,
 * ICMP echo) and NETLINK_ROUTE; raw and packet sockets fail with EPERM,
 * other protocols and families as Linux without them would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../policy/policy.h"
#include "../sentry/audit.h"
#include "../sentry/sentry.h"
#include "../sentry/util.h"
#include "handlers.h"

#define OWN_SOCKETS_MAX 4096
#define OWN_ABSTRACT_MAX 256
#define RESOLVED_MAX 4096

static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;

/* The guest's IP sockets that were bound (by bind, listen, or a connect
 * or send that picked a port): their inodes. A loopback destination is the
 * guest's own server when every socket bound there is one of these. */
static struct {
        ino_t ino;
        uint16_t port;
} own_sockets[OWN_SOCKETS_MAX];
static size_t n_own_sockets, next_own_socket;

/* NETLINK_SOCK_DIAG, opened before the sentry confines itself: the
 * sockets bound to a port, asked of the kernel (which filters TCP by
 * state), rather than the text of /proc/net/tcp with every connection
 * in it. -1: /proc it is. */
static int diag_fd = -1;

/* The host's interface addresses (and IPv4 broadcast addresses), which
 * the network policy guards like loopback. */
static void host_addresses(void)
{
        struct ifaddrs *ifs, *i;
        struct net_addr list[64];
        size_t n = 0;

        if (getifaddrs(&ifs) < 0)
                return;
        for (i = ifs; i && n + 2 <= 64; i = i->ifa_next) {
                const struct sockaddr *sas[2] = { i->ifa_addr,
                                                  (i->ifa_flags & IFF_BROADCAST) ? i->ifa_broadaddr : NULL };
                for (int k = 0; k < 2; k++) {
                        if (!sas[k] || (sas[k]->sa_family != AF_INET && sas[k]->sa_family != AF_INET6))
                                continue;
                        if (net_addr_from_sockaddr(&list[n], sas[k],
                                                   sas[k]->sa_family == AF_INET
                                                           ? sizeof(struct sockaddr_in)
                                                           : sizeof(struct sockaddr_in6)) == 0)
                                n++;
                }
        }
        freeifaddrs(ifs);
        net_set_host_addrs(list, n);
}

void net_prepare(void)
{
        diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        host_addresses();
}

/* Abstract unix names the guest bound, and the socket that bound each
 * (a name outlives nothing: once the guest's socket is closed, anyone may
 * bind it). */
static struct {
        unsigned char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
        size_t len;
        ino_t ino;
} own_abstract[OWN_ABSTRACT_MAX];
static size_t n_own_abstract, next_own_abstract;

/* Addresses the session's resolver answered for allowed names. */
static struct {
        struct net_addr a; /* port 0 */
        char name[254];
} resolved[RESOLVED_MAX];
static size_t n_resolved, next_resolved;

static int peers_filter_none(int sock);

/* An IP datagram socket: made by the sentry with its reply filter already
 * on (passing nothing until it sends or connects somewhere, see
 * admit_replies), so that no send the kernel makes alone (send, write,
 * sendmsg with no name: each binds the socket to every address first)
 * leaves it open to every host. Under --net=host the kernel's. */
static long dgram_socket(struct sentry_call *c, int domain, int type, int protocol)
{
        _cleanup_close_ int sock = -1;

        if (!c->s->policy || c->s->policy->net.mode == NET_HOST)
                return SENTRY_CONTINUE;
        if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
                return -EINVAL;
        sock = socket(domain, type | SOCK_CLOEXEC, protocol);
        if (sock < 0)
                return -errno;
        if (peers_filter_none(sock) < 0)
                return -ENOBUFS;
        return sentry_answer_fd(c, TAKE_FD(sock), (type & SOCK_CLOEXEC) ? O_CLOEXEC : 0);
}

long sys_socket(struct sentry_call *c, int domain, int type, int protocol)
{
        int base = type & 0xf;

        switch (domain) {
        case AF_UNIX:
                return SENTRY_CONTINUE;
        case AF_INET:
        case AF_INET6:
                if (base == SOCK_RAW || base == SOCK_PACKET) {
                        sentry_decide(c, "deny", "net-family");
                        return -EPERM; /* as without CAP_NET_RAW */
                }
                if (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
                        return SENTRY_CONTINUE;
                if (base == SOCK_DGRAM &&
                    (protocol == 0 || protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE ||
                     (domain == AF_INET && protocol == IPPROTO_ICMP) ||
                     (domain == AF_INET6 && protocol == IPPROTO_ICMPV6)))
                        return dgram_socket(c, domain, type, protocol);
                /* SCTP (which connects by setsockopt), MPTCP (whose peer
                 * can add paths to other addresses), and the rest. */
                sentry_decide(c, "deny", "net-protocol");
                return -EPROTONOSUPPORT;
        case AF_NETLINK:
                if (protocol == NETLINK_ROUTE)
                        return SENTRY_CONTINUE;
                sentry_decide(c, "deny", "net-family");
                return -EPROTONOSUPPORT;
        case AF_PACKET:
                sentry_decide(c, "deny", "net-family");
                return -EPERM;
        default:
                sentry_decide(c, "deny", "net-family");
                return -EAFNOSUPPORT;
        }
}

long sys_socketpair(struct sentry_call *c, int domain, int type, int protocol, uint64_t sv)
{
        (void)type, (void)protocol, (void)sv;
        if (domain == AF_UNIX)
                return SENTRY_CONTINUE;
        sentry_decide(c, "deny", "net-family");
        return -EAFNOSUPPORT;
}

static bool own_socket(ino_t ino)
{
        bool found = false;

        pthread_mutex_lock(&net_lock);
        for (size_t i = 0; i < n_own_sockets && !found; i++)
                found = own_sockets[i].ino == ino;
        pthread_mutex_unlock(&net_lock);
        return found;
}

static bool own_port_seen(uint16_t port)
{
        bool found = false;

        pthread_mutex_lock(&net_lock);
        for (size_t i = 0; i < n_own_sockets && !found; i++)
                found = own_sockets[i].port == port;
        pthread_mutex_unlock(&net_lock);
        return found;
}

/* Would a socket bound to local reach a connection or datagram to dest? */
static bool binds_to(const struct net_addr *local, const struct net_addr *dest)
{
        static const uint8_t any[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

        if (local->port != dest->port)
                return false;
        if (local->family == dest->family)
                return !memcmp(local->addr, dest->addr, dest->family == AF_INET ? 4 : 16) ||
                       !memcmp(local->addr, any, local->family == AF_INET ? 4 : 16);
        /* An IPv6 socket on :: (dual stack) or ::ffff:a.b.c.d takes IPv4. */
        return local->family == AF_INET6 && dest->family == AF_INET &&
               (!memcmp(local->addr, any, 16) ||
                (!memcmp(local->addr, mapped, 12) && !memcmp(local->addr + 12, dest->addr, 4)));
}

/* What diag_holders counts, one dump message at a time. */
struct holders_count {
        const struct net_addr *dest;
        bool *all_own;
        int n;
};

static void count_holder(const struct nlmsghdr *h, void *arg)
{
        struct holders_count *hc = arg;
        const struct inet_diag_msg *m = NLMSG_DATA(h);
        struct net_addr local = { .family = m->idiag_family, .port = ntohs(m->id.idiag_sport) };

        memcpy(local.addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
        if (!binds_to(&local, hc->dest))
                return;
        hc->n++;
        if (!own_socket((ino_t)m->idiag_inode))
                *hc->all_own = false;
}

/* holders() through sock_diag: -1 when it cannot say. */
static int diag_holders(int proto, const struct net_addr *dest, bool *all_own)
{
        struct holders_count hc = { .dest = dest, .all_own = all_own };
        bool stream = proto == IPPROTO_TCP;

        for (int fam = 0; fam < 2; fam++) {
                struct inet_diag_req_v2 r = {
                        .sdiag_family = fam ? AF_INET6 : AF_INET,
                        .sdiag_protocol = (uint8_t)proto,
                        .idiag_states = stream ? 1u << 10 /* TCP_LISTEN */ : ~0u,
                };
                if (sock_diag_dump(diag_fd, &r, sizeof(r), count_holder, &hc) < 0)
                        return -1;
        }
        return hc.n;
}

/* One line of /proc/net/{tcp,udp}{,6}: the local address into a. */
static bool proc_net_line(const char *line, bool v6, struct net_addr *a, unsigned *state, unsigned long *ino)
{
        char hex[33];
        unsigned port;

        if (sscanf(line, " %*d: %32[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*d %lu", hex,
                   &port, state, ino) != 4 ||
            strlen(hex) != (v6 ? 32u : 8u))
                return false;
        memset(a, 0, sizeof(*a));
        a->family = v6 ? AF_INET6 : AF_INET;
        a->port = (uint16_t)port;
        /* Each 32-bit word as the kernel holds it, printed in host order. */
        for (size_t w = 0; w < strlen(hex) / 8; w++) {
                char word[9];
                memcpy(word, hex + 8 * w, 8);
                word[8] = '\0';
                uint32_t v = (uint32_t)strtoul(word, NULL, 16);
                memcpy(a->addr + 4 * w, &v, 4);
        }
        return true;
}

/* The sockets of the host's network namespace bound where dest (a
 * loopback address and port) goes: how many, and whether all are the
 * guest's own. proto: IPPROTO_TCP (sockets listening), IPPROTO_UDP or
 * IPPROTO_UDPLITE (each protocol's datagrams reach only its own sockets). */
static unsigned holders(int proto, const struct net_addr *dest, bool *all_own)
{
        static const char *const files[3][2] = { { "/proc/net/udp", "/proc/net/udp6" },
                                                 { "/proc/net/tcp", "/proc/net/tcp6" },
                                                 { "/proc/net/udplite", "/proc/net/udplite6" } };
        bool stream = proto == IPPROTO_TCP;
        int table = stream ? 1 : proto == IPPROTO_UDPLITE ? 2 : 0;
        unsigned n = 0;

        *all_own = true;
        if (diag_fd >= 0) {
                int d = diag_holders(proto, dest, all_own);
                if (d >= 0)
                        return (unsigned)d;
                *all_own = true;
        }
        for (int v6 = 0; v6 < 2; v6++) {
                FILE *f = fopen(files[table][v6], "re");
                char line[512];
                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        struct net_addr local;
                        unsigned state;
                        unsigned long ino;
                        if (!proc_net_line(line, v6, &local, &state, &ino) || !binds_to(&local, dest))
                                continue;
                        if (stream && state != 0x0a) /* TCP_LISTEN */
                                continue;
                        n++;
                        if (!own_socket((ino_t)ino))
                                *all_own = false;
                }
                fclose(f);
        }
        return n;
}

/* The socket's protocol (IPPROTO_TCP, IPPROTO_UDP, ...), or -1. */
static int sock_protocol(int sock)
{
        int proto = -1;
        socklen_t len = sizeof(proto);

        return getsockopt(sock, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 ? proto : -1;
}

/* Is a loopback destination the guest's own server (every socket bound
 * there is the guest's, and there is one)? */
static bool own_server(int sock, const struct net_addr *dest)
{
        int proto = sock_protocol(sock);
        bool all_own;

        /* A port none of the guest's sockets had: not its server. The
         * tables asked are TCP's, UDP's and UDP-Lite's (a UDP-Lite
         * datagram reaches only UDP-Lite sockets; CPython's test_socket
         * talks to its own); another protocol is never the guest's own. */
        if (!own_port_seen(dest->port) ||
            (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_UDPLITE))
                return false;
        return holders(proto, dest, &all_own) > 0 && all_own;
}

void net_note_bound(int sock)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct net_addr a;

        if (getsockname(sock, (struct sockaddr *)&ss, &len) < 0)
                return;
        if (ss.ss_family == AF_UNIX) {
                struct sockaddr_un *u = (struct sockaddr_un *)&ss;
                size_t n = len > offsetof(struct sockaddr_un, sun_path)
                                   ? len - offsetof(struct sockaddr_un, sun_path)
                                   : 0;
                if (n < 1 || u->sun_path[0] != '\0')
                        return;
                struct stat ust;
                if (fstat(sock, &ust) < 0)
                        return;
                pthread_mutex_lock(&net_lock);
                /* Full: the oldest goes (a server long closed, most likely). */
                size_t i = n_own_abstract < OWN_ABSTRACT_MAX ? n_own_abstract++
                                                             : (next_own_abstract++ % OWN_ABSTRACT_MAX);
                memcpy(own_abstract[i].name, u->sun_path, n);
                own_abstract[i].len = n;
                own_abstract[i].ino = ust.st_ino;
                pthread_mutex_unlock(&net_lock);
                return;
        }
        struct stat st;
        if (net_addr_from_sockaddr(&a, &ss, len) < 0 || !a.port || fstat(sock, &st) < 0 ||
            own_socket(st.st_ino))
                return;
        pthread_mutex_lock(&net_lock);
        /* Full: the oldest goes (a socket long closed, most likely). */
        size_t i = n_own_sockets < OWN_SOCKETS_MAX ? n_own_sockets++ : (next_own_socket++ % OWN_SOCKETS_MAX);
        own_sockets[i].ino = st.st_ino;
        own_sockets[i].port = a.port;
        pthread_mutex_unlock(&net_lock);
}

/* Was the socket with this inode bound to this abstract name by the guest? */
static bool own_abstract_socket(const void *sun_path, size_t len, ino_t ino)
{
        for (size_t i = 0; i < n_own_abstract; i++)
                if (own_abstract[i].len == len && own_abstract[i].ino == ino &&
                    !memcmp(own_abstract[i].name, sun_path, len))
                        return true;
        return false;
}

/* What abstract_holders counts, one dump message at a time. */
struct abstract_count {
        const void *sun_path;
        size_t len;
        bool all_own;
        int n;
};

static void count_abstract(const struct nlmsghdr *h, void *arg)
{
        struct abstract_count *ac = arg;
        const struct unix_diag_msg *m = NLMSG_DATA(h);
        int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

        /* Accepted connections carry their listener's name. */
        if (m->udiag_state != 10 /* TCP_LISTEN */ && m->udiag_type != SOCK_DGRAM)
                return;
        for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                if (a->rta_type != UNIX_DIAG_NAME || (size_t)RTA_PAYLOAD(a) != ac->len ||
                    memcmp(RTA_DATA(a), ac->sun_path, ac->len))
                        continue;
                ac->n++;
                if (!own_abstract_socket(ac->sun_path, ac->len, (ino_t)m->udiag_ino))
                        ac->all_own = false;
        }
}

/* The sockets bound to an abstract name now (listening, or datagram),
 * asked of the kernel: how many, and whether each is one the guest bound
 * there. -1 when it cannot say. */
static int abstract_holders(const void *sun_path, size_t len, bool *all_own)
{
        struct unix_diag_req r = { .sdiag_family = AF_UNIX,
                                   .udiag_states = ~0u,
                                   .udiag_show = UDIAG_SHOW_NAME };
        struct abstract_count ac = { .sun_path = sun_path, .len = len, .all_own = true };

        if (diag_fd < 0 || sock_diag_dump(diag_fd, &r, sizeof(r), count_abstract, &ac) < 0)
                return -1;
        *all_own = ac.all_own;
        return ac.n;
}

/* Is the abstract name held now, and only by sockets the guest bound
 * there? A name the guest once bound is a host service's when the host
 * took it after the guest let it go. */
bool net_own_abstract(const void *sun_path, size_t len)
{
        bool all_own = false;
        int n;

        pthread_mutex_lock(&net_lock);
        n = abstract_holders(sun_path, len, &all_own);
        pthread_mutex_unlock(&net_lock);
        return n > 0 && all_own;
}

void net_note_resolved(const char *name, const struct net_addr *a)
{
        struct net_addr k = *a;

        k.port = 0;
        pthread_mutex_lock(&net_lock);
        for (size_t i = 0; i < n_resolved; i++)
                if (!memcmp(&resolved[i].a, &k, sizeof(k)) && !strcmp(resolved[i].name, name)) {
                        pthread_mutex_unlock(&net_lock);
                        return;
                }
        /* Full: the oldest answer goes (a long session resolving many
         * names keeps the recent ones). */
        size_t i = n_resolved < RESOLVED_MAX ? n_resolved++ : (next_resolved++ % RESOLVED_MAX);
        resolved[i].a = k;
        snprintf(resolved[i].name, sizeof(resolved[i].name), "%s", name);
        pthread_mutex_unlock(&net_lock);
}

/* Is a (any port) an address the resolver gave for an allowed name that
 * allows this port? The first such name, or NULL, into name. */
static bool resolved_name(const struct policy *p, const struct net_addr *a, char *name, size_t cap)
{
        struct net_addr k = *a;
        bool found = false;

        k.port = 0;
        name[0] = '\0';
        pthread_mutex_lock(&net_lock);
        for (size_t i = 0; i < n_resolved; i++) {
                if (memcmp(&resolved[i].a, &k, sizeof(k)))
                        continue;
                const struct net_rule *rule;
                const char *why;
                if (!found)
                        snprintf(name, cap, "%s", resolved[i].name);
                found = true;
                if (net_addr_allowed(&p->net, a, resolved[i].name, &rule, &why)) {
                        snprintf(name, cap, "%s", resolved[i].name);
                        break;
                }
        }
        pthread_mutex_unlock(&net_lock);
        return found;
}

/* Fill c->detail with the destination and the rule, for the record. */
static void detail(struct sentry_call *c, const char *what, const struct net_addr *a, const char *name,
                   const struct net_rule *rule, const char *why)
{
        char dest[80];
        size_t len;

        len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"%s\":\"%s\"", what,
                               net_addr_str(a, dest, sizeof(dest)));
        if (name && name[0]) {
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, ",\"name\":\"");
                len = audit_json_escape(c->detail, len, sizeof(c->detail) - 200, name);
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\"");
        }
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, ",\"policy_rule\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 100, rule ? rule->origin : why);
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\",\"why\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, why);
        c->detail[len++] = '"';
        c->detail[len] = '\0';
}

static int admit_replies(const struct sentry_call *c, int sock, const struct net_addr *a);

/* A datagram socket connected to port 0 of a host the policy allows on
 * some port: glibc's address sorting asks the route so (it sends
 * nothing), and what it could send goes to that host. */
static bool dgram_port0_allowed(const struct policy *p, int sock, const struct net_addr *a, const char *name,
                                const struct net_rule **rule, const char **why)
{
        int type = 0;
        socklen_t len = sizeof(type);

        if (a->port || sock < 0 || getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
            type != SOCK_DGRAM)
                return false;
        for (size_t i = 0; i < p->net.n; i++) {
                struct net_addr b = *a;
                if (p->net.rules[i].deny || p->net.rules[i].ask)
                        continue;
                b.port = p->net.rules[i].port_lo ? p->net.rules[i].port_lo : 1;
                if (net_addr_allowed(&p->net, &b, name[0] ? name : NULL, rule, why))
                        return true;
        }
        return false;
}

/* 0.0.0.0 or :: */
static bool every_address(const struct net_addr *a)
{
        static const uint8_t zero[16];

        return !memcmp(a->addr, zero, a->family == AF_INET ? 4 : 16);
}

/* 0.0.0.0 and :: as a destination are the local host: the kernel routes
 * them to loopback (127.0.0.1, ::1; ::ffff:127.0.0.1 for a mapped one), so
 * `curl http://0.0.0.0:8000/` reaches the server that said it listens
 * there. Judged, and made, as that address. */
static void to_loopback(struct sockaddr_storage *ss, struct net_addr *a, unsigned len)
{
        if (ss->ss_family == AF_INET) {
                ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        } else {
                struct in6_addr *in6 = &((struct sockaddr_in6 *)ss)->sin6_addr;
                if (a->family == AF_INET)
                        in6->s6_addr[12] = 127, in6->s6_addr[15] = 1;
                else
                        *in6 = in6addr_loopback;
        }
        net_addr_from_sockaddr(a, ss, len);
}

long net_judge_connect(struct sentry_call *c, int sock, struct sockaddr_storage *ss, unsigned len)
{
        const struct policy *p = c->s->policy;
        const struct net_rule *rule = NULL;
        const char *why;
        struct net_addr a;
        char name[254];
        int r;

        if (len >= sizeof(sa_family_t) && ss->ss_family == AF_UNSPEC) {
                /* connect(AF_UNSPEC) dissolves the association; a send
                 * never gets here with it (judge_destination). */
                snprintf(c->detail, sizeof(c->detail), "\"dest\":\"AF_UNSPEC\",\"why\":\"disconnect\"");
                sentry_decide(c, "allow", "net");
                return 0;
        }
        r = net_addr_from_sockaddr(&a, ss, len);
        if (r < 0)
                return r == -EAFNOSUPPORT ? -EAFNOSUPPORT : -EINVAL;
        if (every_address(&a))
                to_loopback(ss, &a, len);
        if (!p) {
                sentry_decide(c, "allow", "no policy");
                return 0;
        }
        if (c->s->dns.udp >= 0 && a.family == AF_INET && a.port == 53 &&
            !memcmp(a.addr, &c->s->dns.addr.sin_addr, 4)) {
                detail(c, "dest", &a, NULL, NULL, "the session's resolver");
                sentry_decide(c, "allow", "net-dns");
                return admit_replies(c, sock, &a);
        }
        resolved_name(p, &a, name, sizeof(name));
        if (net_addr_allowed(&p->net, &a, name[0] ? name : NULL, &rule, &why) ||
            dgram_port0_allowed(p, sock, &a, name, &rule, &why)) {
                detail(c, "dest", &a, name, rule, why);
                if (rule && rule->ask) {
                        /* Given on request (approvals.c): granted, refused
                         * as an unlisted destination is, or the call waits. */
                        char object[400], dest[80];
                        net_addr_str(&a, dest, sizeof(dest));
                        if (name[0])
                                snprintf(object, sizeof(object), "%s (%s)", dest, name);
                        else
                                snprintf(object, sizeof(object), "%s", dest);
                        if (sentry_ask(c, "net", "connect", object, rule->origin) == SENTRY_ASK_GRANTED)
                                return admit_replies(c, sock, &a);
                        return -ECONNREFUSED;
                }
                sentry_decide(c, "allow", "net");
                return admit_replies(c, sock, &a);
        }
        /* Not a destination the policy names: the guest's own server on
         * loopback, or nothing (asked last: it reads the socket tables). */
        if (net_is_loopback(&a) && sock >= 0 && own_server(sock, &a)) {
                detail(c, "dest", &a, NULL, NULL, "the guest's own server");
                sentry_decide(c, "allow", "net-own");
                return admit_replies(c, sock, &a);
        }
        detail(c, "dest", &a, name, rule, why);
        sentry_decide(c, "deny", "net");
        return -ECONNREFUSED;
}

/* Replies a guest datagram socket takes. The first send of an unbound UDP
 * socket binds it to every address, where anyone who can reach the host
 * could send it datagrams; so each IP datagram socket the sentry sends or
 * connects for carries a socket filter (classic BPF, the kernel's own
 * check at delivery) that passes only datagrams from the addresses it was
 * let send to. The filter is the record: read back, one address added,
 * put back. The guest may not replace, remove or lock it (net_may_filter).
 *
 * The program, each address word in host order as BPF_ABS loads it:
 *   ld #PEER_MAGIC; ld #n4; ld #n6
 *   ldb [net+0]; rsh #4; jeq #4 ? +1 : +0; ja v6
 *   ld [net+12]; (jeq #a ? +0 : +1; ret #-1) x n4;
 *       and #0xff000000; jeq #127.0.0.0 ? +0 : +1; ret #-1; ret #0
 *   v6: jeq #6 ? +1 : +0; ret #0;
 *       (ld [net+8]; jeq ? +0 : +7; ld [net+12]; jeq ? +0 : +5;
 *        ld [net+16]; jeq ? +0 : +3; ld [net+20]; jeq ? +0 : +1; ret #-1) x n6,
 *       then the same for ::1;
 *   ret #0 */
#define PEER_MAGIC 0x1a7e4f11u
#define PEERS_MAX 256 /* 9 instructions an IPv6 address: well inside BPF_MAXINSNS */
#define PEER_PROG_MAX (32 + 2 * PEERS_MAX + 9 * PEERS_MAX)

struct peers {
        uint32_t v4[PEERS_MAX];
        uint32_t v6[PEERS_MAX][4];
        size_t n4, n6;
};

/* One IPv6 address compared, a word at a time: 9 instructions, passing
 * the datagram when all four match. */
static size_t peer_prog_v6(struct sock_filter *f, const uint32_t w[4])
{
        size_t n = 0;

        for (unsigned i = 0; i < 4; i++) {
                f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                      (uint32_t)SKF_NET_OFF + 8 + 4 * i);
                f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w[i], 0,
                                                      (uint8_t)(7 - 2 * i));
        }
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
        return n;
}

static size_t peer_prog(const struct peers *p, struct sock_filter *f)
{
        static const uint32_t lo6[4] = { 0, 0, 0, 1 };
        size_t n = 0;

        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_IMM, PEER_MAGIC);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_IMM, (uint32_t)p->n4);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_IMM, (uint32_t)p->n6);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 1, 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(2 * p->n4 + 5));
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12);
        for (size_t i = 0; i < p->n4; i++) {
                f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, p->v4[i], 0, 1);
                f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
        }
        /* Loopback (127/8, ::1) comes from this host only: a server of the
         * guest's (bound there) hears its own clients. */
        f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff000000u);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x7f000000u, 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 1, 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
        for (size_t i = 0; i < p->n6; i++)
                n += peer_prog_v6(f + n, p->v6[i]);
        n += peer_prog_v6(f + n, lo6);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
        return n;
}

/* Does sock take replies through the sentry's filter: an IP datagram
 * socket under a network policy (not --net=host)? (Not a socket: no.) */
static bool replies_filtered(const struct sentry_call *c, int sock)
{
        int type = 0, family = 0;
        socklen_t len = sizeof(type);

        if (!c->s->policy || c->s->policy->net.mode == NET_HOST ||
            getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM)
                return false;
        len = sizeof(family);
        return getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &family, &len) == 0 &&
               (family == AF_INET || family == AF_INET6);
}

/* The peers of the filter on sock: 1 when it has ours, 0 when it has
 * none, -1 when it has another (never: the guest may not set one). */
static int peers_read(int sock, struct peers *p, struct sock_filter *f, struct sock_filter *again)
{
        socklen_t len = PEER_PROG_MAX;

        memset(p, 0, sizeof(*p));
        if (getsockopt(sock, SOL_SOCKET, SO_GET_FILTER, f, &len) < 0)
                return errno == EINVAL ? -1 : 0; /* EINVAL: longer than ours can be */
        if (len == 0)
                return 0;
        if (len < 3 || f[0].code != (BPF_LD | BPF_W | BPF_IMM) || f[0].k != PEER_MAGIC ||
            f[1].k > PEERS_MAX || f[2].k > PEERS_MAX || f[1].k + f[2].k > PEERS_MAX)
                return -1;
        p->n4 = f[1].k;
        p->n6 = f[2].k;
        for (size_t i = 0; i < p->n4 && 8 + 2 * i < len; i++)
                p->v4[i] = f[8 + 2 * i].k;
        size_t v6 = 8 + 2 * p->n4 + 6; /* past the loopback test, jeq #6 and ret #0 */
        for (size_t i = 0; i < p->n6; i++)
                for (unsigned w = 0; w < 4 && v6 + 9 * i + 2 * w + 1 < len; w++)
                        p->v6[i][w] = f[v6 + 9 * i + 2 * w + 1].k;
        /* Ours only if it is exactly what these peers make. */
        return peer_prog(p, again) == len && !memcmp(again, f, len * sizeof(*f)) ? 1 : -1;
}

/* Let the datagram socket sock take replies from a (after an allowed
 * send or connect). 0, or -errno: the send must not be made. */
static int admit_replies(const struct sentry_call *c, int sock, const struct net_addr *a)
{
        static struct sock_filter f[PEER_PROG_MAX], again[PEER_PROG_MAX];
        static struct peers p;
        int r = 0;

        if (sock < 0 || !replies_filtered(c, sock))
                return 0;
        uint32_t w[4];
        memcpy(w, a->addr, sizeof(w));
        for (unsigned i = 0; i < 4; i++)
                w[i] = ntohl(w[i]);
        pthread_mutex_lock(&net_lock);
        if (peers_read(sock, &p, f, again) < 0) {
                r = -EPERM;
                goto out;
        }
        if (a->family == AF_INET) {
                for (size_t i = 0; i < p.n4; i++)
                        if (p.v4[i] == w[0])
                                goto out;
        } else {
                for (size_t i = 0; i < p.n6; i++)
                        if (!memcmp(p.v6[i], w, sizeof(w)))
                                goto out;
        }
        /* Full: the oldest of the larger family goes (a long exchange
         * with many hosts keeps its recent ones). */
        if (p.n4 + p.n6 == PEERS_MAX) {
                if (p.n4 >= p.n6)
                        memmove(p.v4, p.v4 + 1, --p.n4 * sizeof(p.v4[0]));
                else
                        memmove(p.v6, p.v6 + 1, --p.n6 * sizeof(p.v6[0]));
        }
        if (a->family == AF_INET)
                p.v4[p.n4++] = w[0];
        else
                memcpy(p.v6[p.n6++], w, sizeof(w));
        struct sock_fprog prog = { .len = (unsigned short)peer_prog(&p, f), .filter = f };
        if (setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
                r = -errno;
out:
        pthread_mutex_unlock(&net_lock);
        return r;
}

/* The reply filter with no peer yet: nothing passes. */
static int peers_filter_none(int sock)
{
        static const struct peers none;
        struct sock_filter f[32];
        struct sock_fprog prog = { .len = (unsigned short)peer_prog(&none, f), .filter = f };

        return setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

bool net_may_filter(const struct sentry_call *c, int sock)
{
        return !replies_filtered(c, sock);
}

/* A multicast join makes the host's interface a member of the group the
 * guest names: the kernel announces it to the network (an IGMP or MLD
 * report naming the group, 28 bits of the guest's choosing a join, past
 * any address rule), and the reply filter drops what the group sends
 * anyway. Under --net=host it is the kernel's. */
bool net_may_join(const struct sentry_call *c)
{
        return !c->s->policy || c->s->policy->net.mode == NET_HOST;
}

long net_judge_bind(struct sentry_call *c, int sock, struct sockaddr_storage *ss, unsigned len)
{
        const struct policy *p = c->s->policy;
        struct net_addr a;
        int r = net_addr_from_sockaddr(&a, ss, len), reuse = 0, reuseaddr = 0, proto = -1;
        socklen_t rlen = sizeof(reuse), alen = sizeof(reuseaddr);

        if (r < 0)
                return r == -EAFNOSUPPORT ? -EAFNOSUPPORT : -EINVAL;
        /* SO_REUSEPORT shares a port with another socket of the same user,
         * and for datagrams SO_REUSEADDR with anyone's: a host service's,
         * whose clients or datagrams the kernel would then hand to the
         * guest. Only where every socket on it is the guest's. */
        if (p && p->net.mode != NET_HOST && a.port && sock >= 0) {
                proto = sock_protocol(sock);
                getsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &reuse, &rlen);
                if (proto != IPPROTO_TCP)
                        getsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &reuseaddr, &alen);
                reuse = reuse || reuseaddr;
        }
        if (reuse) {
                struct net_addr at = a;
                bool all_own;
                if (every_address(&at) && at.family == AF_INET) /* as narrowed below */
                        at.addr[0] = 127, at.addr[3] = 1;
                else if (every_address(&at))
                        at.addr[15] = 1; /* ::1 */
                if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_UDPLITE) ||
                    (holders(proto, &at, &all_own) > 0 && !all_own)) {
                        detail(c, "local", &a, NULL, NULL,
                               "a shared port (SO_REUSEPORT, SO_REUSEADDR) a host socket holds");
                        sentry_decide(c, "deny", "net");
                        return -EADDRINUSE;
                }
        }
        if (!p || p->net.mode == NET_HOST) {
                detail(c, "local", &a, NULL, NULL, p ? "--net=host" : "no policy");
                sentry_decide(c, "allow", "net");
                return 0;
        }
        if (net_is_loopback(&a)) {
                detail(c, "local", &a, NULL, NULL, "loopback");
                sentry_decide(c, "allow", "net-own");
                return 0;
        }
        if (every_address(&a) && ((struct sockaddr *)ss)->sa_family == a.family) {
                /* Every address: the guest's servers listen on loopback
                 * only, where the guest reaches them and nothing else. For
                 * IPv6 that is the loopback device, which keeps a
                 * dual-stack server's IPv4 clients (127.0.0.1, what most
                 * clients of "::" use) as well as ::1; the guest cannot
                 * undo it (a device once bound needs CAP_NET_RAW). */
                if (a.family == AF_INET6 && sock >= 0 &&
                    setsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) == 0) {
                        detail(c, "local", &a, NULL, NULL, "every address, on the loopback device only");
                        sentry_decide(c, "allow", "net-own");
                        return 0;
                }
                if (a.family == AF_INET)
                        ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                else
                        ((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
                detail(c, "local", &a, NULL, NULL, "every address, narrowed to loopback");
                sentry_decide(c, "allow", "net-own");
                return 0;
        }
        detail(c, "local", &a, NULL, NULL, "a host address: the guest serves on loopback only");
        sentry_decide(c, "deny", "net");
        return -EADDRNOTAVAIL;
}

/* Is sock bound to the loopback device (net_judge_bind's every address)? */
bool net_on_loopback_device(int sock)
{
        char dev[IFNAMSIZ] = "";
        socklen_t len = sizeof(dev);

        return getsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) == 0 && !strcmp(dev, "lo");
}

long net_judge_listen(struct sentry_call *c, int sock, struct sockaddr_storage *ss, unsigned len)
{
        const struct policy *p = c->s->policy;
        struct net_addr a;

        if (!p || p->net.mode == NET_HOST || net_addr_from_sockaddr(&a, ss, len) < 0 || !every_address(&a) ||
            net_on_loopback_device(sock))
                return 0;
        detail(c, "local", &a, NULL, NULL,
               "every address, on a port kept from a dissolved connection: the guest serves on loopback "
               "only");
        sentry_decide(c, "deny", "net");
        return -EADDRNOTAVAIL;
}

long net_judge_abstract(struct sentry_call *c, const struct sockaddr_un *ua, size_t plen, bool is_bind)
{
        const struct policy *p = c->s->policy;
        size_t len;

        {
                char shown[sizeof(ua->sun_path) + 1];
                size_t n = plen > 1 ? plen - 1 : 0;
                for (size_t i = 0; i < n; i++)
                        shown[i] = ua->sun_path[i + 1] ? ua->sun_path[i + 1] : '@';
                shown[n] = '\0';
                len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"abstract\":\"@");
                len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, shown);
                c->detail[len++] = '"';
                c->detail[len] = '\0';
        }
        if (is_bind || !p || p->net.mode == NET_HOST || net_own_abstract(ua->sun_path, plen)) {
                sentry_decide(c, "allow", is_bind ? "net-own" : "net");
                return 0;
        }
        sentry_decide(c, "deny", "net-abstract");
        return -ECONNREFUSED;
}
