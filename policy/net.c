/* SPDX-License-Identifier: MIT */
/* The network policy: rules, parsing, decisions (net.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

void net_policy_init(struct net_policy *p)
{
        memset(p, 0, sizeof(*p));
        p->mode = NET_NONE;
}

void net_policy_free(struct net_policy *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->rules[i].name);
                free(p->rules[i].origin);
        }
        free(p->rules);
        free(p->dns_upstream);
        net_policy_init(p);
}

int net_mode_parse(const char *s, enum net_mode *mode)
{
        if (!strcmp(s, "none"))
                *mode = NET_NONE;
        else if (!strcmp(s, "host"))
                *mode = NET_HOST;
        else
                return -EINVAL;
        return 0;
}

static int bad(char *err, size_t cap, const char *spec, const char *why)
{
        snprintf(err, cap, "'%s': %s", spec, why);
        return -EINVAL;
}

static int parse_port(const char *s, uint16_t *out)
{
        char *end;
        long v;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < 1 || v > 65535)
                return -EINVAL;
        *out = (uint16_t)v;
        return 0;
}

/* A DNS name: labels of letters, digits, '-' and '_', 1-63 bytes each,
 * 253 at most; lower-cased in place, a trailing dot dropped. */
static bool valid_name(char *s)
{
        size_t len = strlen(s), label = 0;

        if (len && s[len - 1] == '.')
                s[--len] = '\0';
        if (!len || len > 253)
                return false;
        for (size_t i = 0; i <= len; i++) {
                unsigned char ch = (unsigned char)s[i];
                if (ch == '.' || ch == '\0') {
                        if (label == 0 || label > 63)
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum(ch) && ch != '-' && ch != '_')
                        return false;
                s[i] = (char)tolower(ch);
                label++;
        }
        return true;
}

int net_policy_add(struct net_policy *p, const char *spec, enum net_rule_decision d, const char *origin,
                   char *err, size_t errcap)
{
        struct net_rule r = {
                .port_lo = 1, .port_hi = 65535, .deny = d == NET_RULE_DENY, .ask = d == NET_RULE_ASK
        };
        char host[300], *port = NULL, *slash;
        const char *s = spec;

        if (strlen(spec) >= sizeof(host))
                return bad(err, errcap, spec, "too long");
        if (s[0] == '[') {
                /* [IPv6] or [IPv6]/len, then :PORT */
                const char *close = strchr(s, ']');
                if (!close)
                        return bad(err, errcap, spec, "an IPv6 address needs its closing ']'");
                snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
                s = close + 1;
                if (*s == '/') {
                        size_t n = strlen(host);
                        const char *colon = strchr(s, ':');
                        size_t plen = colon ? (size_t)(colon - s) : strlen(s);
                        snprintf(host + n, sizeof(host) - n, "%.*s", (int)plen, s);
                        s += plen;
                }
                if (*s == ':')
                        port = (char *)s + 1;
                else if (*s)
                        return bad(err, errcap, spec, "unexpected text after ']'");
        } else {
                snprintf(host, sizeof(host), "%s", s);
                char *first = strchr(host, ':'), *last = strrchr(host, ':');
                if (first && first == last) {
                        *first = '\0';
                        port = (char *)s + (first - host) + 1;
                }
                /* two or more colons: a bare IPv6 address, no port */
        }
        if (port) {
                char buf[32], *dash;
                if (!*port || strlen(port) >= sizeof(buf))
                        return bad(err, errcap, spec, "the port is missing or too long");
                snprintf(buf, sizeof(buf), "%s", port);
                dash = strchr(buf, '-');
                if (dash)
                        *dash = '\0';
                if (parse_port(buf, &r.port_lo) < 0 || (dash && parse_port(dash + 1, &r.port_hi) < 0))
                        return bad(err, errcap, spec, "a port is a number from 1 to 65535 (or LO-HI)");
                if (!dash)
                        r.port_hi = r.port_lo;
                if (r.port_hi < r.port_lo)
                        return bad(err, errcap, spec, "the port range is empty (LO above HI)");
        }
        slash = strchr(host, '/');
        if (slash)
                *slash = '\0';
        if (!strcmp(host, "*") && !slash) {
                r.kind = NH_ANY;
        } else if (inet_pton(AF_INET, host, r.addr) == 1) {
                r.kind = NH_ADDR, r.family = AF_INET, r.prefix = 32;
        } else if (inet_pton(AF_INET6, host, r.addr) == 1) {
                r.kind = NH_ADDR, r.family = AF_INET6, r.prefix = 128;
                static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
                if (!memcmp(r.addr, mapped, 12)) {
                        /* ::ffff:a.b.c.d is that IPv4 address */
                        memmove(r.addr, r.addr + 12, 4);
                        memset(r.addr + 4, 0, 12);
                        r.family = AF_INET, r.prefix = 32;
                }
        } else if (slash) {
                return bad(err, errcap, spec, "a range (/LEN) needs an IPv4 or IPv6 address before it");
        } else if (!strncmp(host, "*.", 2)) {
                r.kind = NH_WILDCARD;
                if (!valid_name(host + 2))
                        return bad(err, errcap, spec, "not a domain name after '*.'");
                r.name = strdup(host + 2);
        } else {
                bool digits = strspn(host, "0123456789.") == strlen(host);
                if (digits || !valid_name(host))
                        return bad(err, errcap, spec,
                                   "not a domain name, '*.domain', '*', an IPv4 address or range, or an "
                                   "IPv6 address in brackets");
                r.kind = NH_NAME;
                r.name = strdup(host);
        }
        if (slash) {
                char *end;
                long len;
                errno = 0;
                len = strtol(slash + 1, &end, 10);
                if (errno || end == slash + 1 || *end || len < 0 || len > (r.family == AF_INET ? 32 : 128))
                        return bad(err, errcap, spec,
                                   "the range length is not a number of bits for the family");
                r.prefix = (unsigned)len;
        }
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 16;
                struct net_rule *n = realloc(p->rules, cap * sizeof(*n));
                if (!n) {
                        free(r.name);
                        return -ENOMEM;
                }
                p->rules = n;
                p->cap = cap;
        }
        r.origin = strdup(origin);
        p->rules[p->n++] = r;
        return 0;
}

/* Does name match rule's host? */
static bool name_matches(const struct net_rule *r, const char *name)
{
        size_t n, m;

        switch (r->kind) {
        case NH_ANY:
                return true;
        case NH_NAME:
                return !strcmp(r->name, name);
        case NH_WILDCARD:
                n = strlen(name), m = strlen(r->name);
                return n > m + 1 && name[n - m - 1] == '.' && !strcmp(name + n - m, r->name);
        default:
                return false;
        }
}

static bool addr_matches(const struct net_rule *r, const struct net_addr *a)
{
        unsigned bits = r->prefix, i;

        if (r->kind != NH_ADDR || r->family != a->family)
                return false;
        for (i = 0; bits >= 8; i++, bits -= 8)
                if (r->addr[i] != a->addr[i])
                        return false;
        if (bits) {
                uint8_t mask = (uint8_t)(0xff << (8 - bits));
                if ((r->addr[i] & mask) != (a->addr[i] & mask))
                        return false;
        }
        return true;
}

static bool port_matches(const struct net_rule *r, uint16_t port)
{
        return port >= r->port_lo && port <= r->port_hi;
}

bool net_name_allowed(const struct net_policy *p, const char *name, const struct net_rule **rule)
{
        const struct net_rule *allow = NULL;

        *rule = NULL;
        for (size_t i = 0; i < p->n; i++) {
                const struct net_rule *r = &p->rules[i];
                if (r->kind == NH_ADDR || !name_matches(r, name))
                        continue;
                /* A deny for the name on every port: not even its address. */
                if (r->deny && r->port_lo == 1 && r->port_hi == 65535 && r->kind != NH_ANY) {
                        *rule = r;
                        return false;
                }
                if (!r->deny && (!allow || allow->kind == NH_ANY))
                        allow = r;
        }
        if (allow) {
                *rule = allow;
                return true;
        }
        return p->mode == NET_HOST;
}

bool net_is_loopback(const struct net_addr *a)
{
        static const uint8_t v6lo[16] = { [15] = 1 };

        if (a->family == AF_INET)
                return a->addr[0] == 127;
        return !memcmp(a->addr, v6lo, 16);
}

/* The host's own addresses and their broadcast addresses (set at start):
 * a service bound to every address is reachable by them, as by loopback. */
static struct net_addr host_addrs[64];
static size_t n_host_addrs;

void net_set_host_addrs(const struct net_addr *list, size_t n)
{
        n_host_addrs = n < 64 ? n : 64;
        memcpy(host_addrs, list, n_host_addrs * sizeof(*list));
}

static const uint8_t bcast[4] = { 255, 255, 255, 255 };
/* Cloud metadata: AWS, GCP, Azure (and AWS's wire server), Alibaba; the
 * IPv6 ones of AWS and GCP. Each only by itself. */
static const uint8_t meta4[][4] = { { 169, 254, 169, 254 }, { 168, 63, 129, 16 }, { 100, 100, 100, 200 } };
static const uint8_t meta6[][16] = { { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 },
                                     { 0xfd, 0x20, 0x00, 0xce, [14] = 0x02, [15] = 0x54 } };
static const uint8_t v6lo[16] = { [15] = 1 }, any[16] = { 0 };

/* The guarded range a falls in, as a prefix length (an address rule
 * opens it only when it is that specific: 127.0.0.0/8 opens loopback,
 * 0.0.0.0/0 does not), or -1 when a is not guarded. */
static int guarded_prefix(const struct net_addr *a)
{
        if (net_is_loopback(a)) /* 127.0.0.0/8, ::1 (the lo interface's too) */
                return a->family == AF_INET ? 8 : 128;
        for (size_t i = 0; i < n_host_addrs; i++)
                if (host_addrs[i].family == a->family &&
                    !memcmp(host_addrs[i].addr, a->addr, a->family == AF_INET ? 4 : 16))
                        return a->family == AF_INET ? 32 : 128;
        if (a->family == AF_INET) {
                for (size_t i = 0; i < sizeof(meta4) / sizeof(meta4[0]); i++)
                        if (!memcmp(a->addr, meta4[i], 4))
                                return 32;
                if (!memcmp(a->addr, bcast, 4))
                        return 32;
                if (a->addr[0] == 127) /* loopback */
                        return 8;
                if (a->addr[0] == 0) /* "this host": 0.0.0.0 reaches loopback services */
                        return 8;
                if (a->addr[0] == 169 && a->addr[1] == 254) /* link-local */
                        return 16;
                if ((a->addr[0] & 0xf0) == 0xe0) /* multicast */
                        return 4;
                return -1;
        }
        for (size_t i = 0; i < sizeof(meta6) / sizeof(meta6[0]); i++)
                if (!memcmp(a->addr, meta6[i], 16))
                        return 128;
        if (!memcmp(a->addr, v6lo, 16) || !memcmp(a->addr, any, 16))
                return 128;
        if (a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80) /* link-local */
                return 10;
        if (a->addr[0] == 0xff) /* multicast */
                return 8;
        return -1;
}

bool net_is_guarded(const struct net_addr *a)
{
        return guarded_prefix(a) >= 0;
}

/* Does the address rule r take in the single guarded address of family
 * fam at addr? */
static bool rule_holds(const struct net_rule *r, int fam, const uint8_t *addr)
{
        struct net_addr a = { .family = fam };

        memcpy(a.addr, addr, fam == AF_INET ? 4 : 16);
        return addr_matches(r, &a);
}

bool net_rule_guarded(const struct net_rule *r)
{
        struct net_addr first = { .family = r->family };

        if (r->kind != NH_ADDR)
                return false;
        memcpy(first.addr, r->addr, sizeof(first.addr));
        /* Ranges nest or are apart: inside a guarded range its first
         * address is guarded; else it may hold a guarded single one. */
        if (guarded_prefix(&first) >= 0 || rule_holds(r, AF_INET, bcast) || rule_holds(r, AF_INET6, v6lo) ||
            rule_holds(r, AF_INET6, any))
                return true;
        for (size_t i = 0; i < sizeof(meta4) / sizeof(meta4[0]); i++)
                if (rule_holds(r, AF_INET, meta4[i]))
                        return true;
        for (size_t i = 0; i < sizeof(meta6) / sizeof(meta6[0]); i++)
                if (rule_holds(r, AF_INET6, meta6[i]))
                        return true;
        for (size_t i = 0; i < n_host_addrs; i++)
                if (addr_matches(r, &host_addrs[i]))
                        return true;
        return false;
}

/* The allow rule (ask rules with ask set, plain ones without) that lets
 * a through, or NULL. */
static const struct net_rule *allowing_rule(const struct net_policy *p, const struct net_addr *a,
                                            const char *name, bool ask)
{
        const struct net_rule *allow = NULL;
        int gprefix = guarded_prefix(a);
        bool guarded = gprefix >= 0;

        for (size_t i = 0; i < p->n; i++) {
                const struct net_rule *r = &p->rules[i];
                if (r->deny || r->ask != ask || !port_matches(r, a->port))
                        continue;
                /* A repository's rule reaches no guarded destination, by
                 * address (the host's own, known only now) or name. */
                if (guarded && r->untrusted)
                        continue;
                if (addr_matches(r, a)) {
                        /* An address rule is explicit: it opens even a
                         * guarded destination, when it names that range or
                         * within it (0.0.0.0/0 is "the internet", not the
                         * host's loopback or metadata). The longest prefix
                         * wins. */
                        if (guarded && (int)r->prefix < gprefix)
                                continue;
                        if (!allow || allow->kind != NH_ADDR || r->prefix > allow->prefix)
                                allow = r;
                        continue;
                }
                if (allow)
                        continue;
                /* A name the user wrote out (localhost:5432, a test host)
                 * may be on loopback; a wildcard or "*" reaches no guarded
                 * destination (DNS rebinding), and no name reaches
                 * link-local or metadata addresses. */
                if (guarded && (r->kind != NH_NAME || !net_is_loopback(a)))
                        continue;
                if (r->kind == NH_ANY || (name && name_matches(r, name)))
                        allow = r;
        }
        return allow;
}

bool net_addr_allowed(const struct net_policy *p, const struct net_addr *a, const char *name,
                      const struct net_rule **rule, const char **why)
{
        const struct net_rule *allow = NULL;
        bool guarded = guarded_prefix(a) >= 0;

        *rule = NULL;
        /* Deny rules first: by address, or by the name it was resolved for. */
        for (size_t i = 0; i < p->n; i++) {
                const struct net_rule *r = &p->rules[i];
                if (!r->deny || !port_matches(r, a->port))
                        continue;
                if (addr_matches(r, a) || (name && r->kind != NH_ADDR && name_matches(r, name)) ||
                    r->kind == NH_ANY) {
                        *rule = r;
                        *why = "denied by rule";
                        return false;
                }
        }
        allow = allowing_rule(p, a, name, true);
        if (!allow)
                allow = allowing_rule(p, a, name, false);
        if (allow) {
                *rule = allow;
                *why = allow->ask ? "allowed on request" : "allowed by rule";
                return true;
        }
        if (p->mode == NET_HOST) {
                *why = "--net=host";
                return true;
        }
        if (guarded) {
                *why = net_is_loopback(a) ? "a host service on loopback" : "link-local or metadata address";
                return false;
        }
        *why = name ? "no rule allows this port" : "no rule allows this address";
        return false;
}

int net_addr_from_sockaddr(struct net_addr *a, const void *sa, size_t len)
{
        sa_family_t fam;

        memset(a, 0, sizeof(*a));
        if (len < sizeof(sa_family_t))
                return -EINVAL;
        memcpy(&fam, sa, sizeof(fam));
        if (fam == AF_INET) {
                struct sockaddr_in in;
                if (len < sizeof(in))
                        return -EINVAL;
                memcpy(&in, sa, sizeof(in));
                a->family = AF_INET;
                memcpy(a->addr, &in.sin_addr, 4);
                a->port = ntohs(in.sin_port);
                return 0;
        }
        if (fam == AF_INET6) {
                struct sockaddr_in6 in6;
                static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
                if (len < sizeof(in6))
                        return -EINVAL;
                memcpy(&in6, sa, sizeof(in6));
                a->port = ntohs(in6.sin6_port);
                if (!memcmp(&in6.sin6_addr, mapped, 12)) {
                        a->family = AF_INET;
                        memcpy(a->addr, (uint8_t *)&in6.sin6_addr + 12, 4);
                } else {
                        a->family = AF_INET6;
                        memcpy(a->addr, &in6.sin6_addr, 16);
                }
                return 0;
        }
        return -EAFNOSUPPORT;
}

const char *net_addr_str(const struct net_addr *a, char *buf, size_t cap)
{
        char ip[INET6_ADDRSTRLEN];

        inet_ntop(a->family, a->addr, ip, sizeof(ip));
        if (a->family == AF_INET6)
                snprintf(buf, cap, "[%s]:%u", ip, a->port);
        else
                snprintf(buf, cap, "%s:%u", ip, a->port);
        return buf;
}

const char *net_rule_host(const struct net_rule *r, char *buf, size_t cap)
{
        char ip[INET6_ADDRSTRLEN];

        switch (r->kind) {
        case NH_ANY:
                snprintf(buf, cap, "*");
                break;
        case NH_NAME:
                snprintf(buf, cap, "%s", r->name);
                break;
        case NH_WILDCARD:
                snprintf(buf, cap, "*.%s", r->name);
                break;
        case NH_ADDR:
                inet_ntop(r->family, r->addr, ip, sizeof(ip));
                if (r->family == AF_INET6)
                        snprintf(buf, cap, "[%s]/%u", ip, r->prefix);
                else
                        snprintf(buf, cap, "%s/%u", ip, r->prefix);
                break;
        }
        return buf;
}

void net_policy_show(const struct net_policy *p, void *file)
{
        FILE *f = file;
        char host[300];

        fprintf(f, "network: --net=%s%s\n", p->mode == NET_HOST ? "host" : "none",
                p->mode == NET_HOST ? " (every destination, audited)"
                                    : " (the guest's own loopback servers, and what these rules allow)");
        for (size_t i = 0; i < p->n; i++) {
                const struct net_rule *r = &p->rules[i];
                net_rule_host(r, host, sizeof(host));
                if (r->port_lo == 1 && r->port_hi == 65535)
                        fprintf(f, "  %-5s %s, any port  (%s)\n",
                                r->deny  ? "deny"
                                : r->ask ? "ask"
                                         : "allow",
                                host, r->origin);
                else if (r->port_lo == r->port_hi)
                        fprintf(f, "  %-5s %s, port %u  (%s)\n",
                                r->deny  ? "deny"
                                : r->ask ? "ask"
                                         : "allow",
                                host, r->port_lo, r->origin);
                else
                        fprintf(f, "  %-5s %s, ports %u-%u  (%s)\n",
                                r->deny  ? "deny"
                                : r->ask ? "ask"
                                         : "allow",
                                host, r->port_lo, r->port_hi, r->origin);
        }
        fprintf(f, "  always refused unless an address rule names them: cloud metadata, link-local, host "
                   "loopback services\n");
}

int net_parse_endpoint(const char *s, void *ssp, unsigned *len)
{
        struct sockaddr_storage *ss = ssp;
        char host[INET6_ADDRSTRLEN + 2];
        const char *port = NULL;
        uint16_t pn = 53;

        memset(ss, 0, sizeof(*ss));
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || (size_t)(close - s - 1) >= sizeof(host))
                        return -EINVAL;
                snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1])
                        return -EINVAL;
        } else {
                const char *colon = strchr(s, ':');
                size_t n = colon ? (size_t)(colon - s) : strlen(s);
                if (n >= sizeof(host))
                        return -EINVAL;
                snprintf(host, sizeof(host), "%.*s", (int)n, s);
                if (colon)
                        port = colon + 1;
        }
        if (port && parse_port(port, &pn) < 0)
                return -EINVAL;
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons(pn);
                *len = sizeof(*in);
                return 0;
        }
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(pn);
                *len = sizeof(*in6);
                return 0;
        }
        return -EINVAL;
}
