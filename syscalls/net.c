/* SPDX-License-Identifier: MIT */
/*
 * The network broker's decisions (issue 5; policy/net.h for the rules).
 *
 * The sentry makes every connect and bind itself, on its copy of the
 * guest's socket and its copy of the address (syscalls/path.c); this file
 * says whether it may, and keeps what the session learnt: the loopback
 * ports and abstract unix names the guest bound (its own servers, which
 * it may reach), and the addresses the sentry's resolver gave out for
 * allowed names.
 *
 * Socket families are decided at socket(): unix, IPv4 and IPv6 (TCP, UDP,
 * ICMP echo) and NETLINK_ROUTE; raw and packet sockets fail with EPERM,
 * other protocols and families as Linux without them would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../policy/policy.h"
#include "../sentry/audit.h"
#include "../sentry/sentry.h"
#include "handlers.h"

#define OWN_PORTS_MAX 1024
#define OWN_ABSTRACT_MAX 256
#define RESOLVED_MAX 4096

static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;

/* Loopback ports the guest's sockets are bound to (either family). */
static uint16_t own_ports[OWN_PORTS_MAX];
static size_t n_own_ports;

/* Abstract unix names the guest bound. */
static struct {
        unsigned char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
        size_t len;
} own_abstract[OWN_ABSTRACT_MAX];
static size_t n_own_abstract;

/* Addresses the session's resolver answered for allowed names. */
static struct {
        struct net_addr a; /* port 0 */
        char name[254];
} resolved[RESOLVED_MAX];
static size_t n_resolved, next_resolved;

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
                        return SENTRY_CONTINUE;
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

static bool own_port(uint16_t port)
{
        bool found = false;

        pthread_mutex_lock(&net_lock);
        for (size_t i = 0; i < n_own_ports && !found; i++)
                found = own_ports[i] == port;
        pthread_mutex_unlock(&net_lock);
        return found;
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
                pthread_mutex_lock(&net_lock);
                if (n_own_abstract < OWN_ABSTRACT_MAX) {
                        memcpy(own_abstract[n_own_abstract].name, u->sun_path, n);
                        own_abstract[n_own_abstract++].len = n;
                }
                pthread_mutex_unlock(&net_lock);
                return;
        }
        static const uint8_t any[16];
        if (net_addr_from_sockaddr(&a, &ss, len) < 0 || !a.port)
                return;
        /* A port on loopback or every address is one a loopback client
         * reaches the guest by; one on a host address is not. */
        if (!net_is_loopback(&a) && memcmp(a.addr, any, a.family == AF_INET ? 4 : 16))
                return;
        pthread_mutex_lock(&net_lock);
        bool have = false;
        for (size_t i = 0; i < n_own_ports && !have; i++)
                have = own_ports[i] == a.port;
        if (!have && n_own_ports < OWN_PORTS_MAX)
                own_ports[n_own_ports++] = a.port;
        pthread_mutex_unlock(&net_lock);
}

bool net_own_abstract(const void *sun_path, size_t len)
{
        bool found = false;

        pthread_mutex_lock(&net_lock);
        for (size_t i = 0; i < n_own_abstract && !found; i++)
                found = own_abstract[i].len == len && !memcmp(own_abstract[i].name, sun_path, len);
        pthread_mutex_unlock(&net_lock);
        return found;
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

long net_judge_connect(struct sentry_call *c, const struct sockaddr_storage *ss, unsigned len)
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
        if (!p) {
                sentry_decide(c, "allow", "no policy");
                return 0;
        }
        if (c->s->dns.udp >= 0 && a.family == AF_INET && a.port == 53 &&
            !memcmp(a.addr, &c->s->dns.addr.sin_addr, 4)) {
                detail(c, "dest", &a, NULL, NULL, "the session's resolver");
                sentry_decide(c, "allow", "net-dns");
                return 0;
        }
        if (net_is_loopback(&a) && own_port(a.port)) {
                detail(c, "dest", &a, NULL, NULL, "the guest's own server");
                sentry_decide(c, "allow", "net-own");
                return 0;
        }
        resolved_name(p, &a, name, sizeof(name));
        if (net_addr_allowed(&p->net, &a, name[0] ? name : NULL, &rule, &why)) {
                detail(c, "dest", &a, name, rule, why);
                sentry_decide(c, "allow", "net");
                return 0;
        }
        detail(c, "dest", &a, name, rule, why);
        sentry_decide(c, "deny", "net");
        return -ECONNREFUSED;
}

long net_judge_bind(struct sentry_call *c, struct sockaddr_storage *ss, unsigned len)
{
        const struct policy *p = c->s->policy;
        struct net_addr a;
        int r = net_addr_from_sockaddr(&a, ss, len);
        static const uint8_t zero[16];

        if (r < 0)
                return r == -EAFNOSUPPORT ? -EAFNOSUPPORT : -EINVAL;
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
        if (!memcmp(a.addr, zero, a.family == AF_INET ? 4 : 16) &&
            ((struct sockaddr *)ss)->sa_family == a.family) {
                /* Every address: the guest's servers listen on loopback
                 * only, where the guest reaches them and nothing else. */
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
