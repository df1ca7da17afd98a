/* SPDX-License-Identifier: MIT */
/*
 * The network policy (DESIGN.md "Policy", issue 5): which destinations the
 * guest may reach, by name or address, and on which ports.
 *
 *   --net=none       (default) nothing but the guest's own loopback servers
 *                    and what --allow-net rules name
 *   --net=host       everything, audited
 *   --allow-net=SPEC, --deny-net=SPEC (repeatable; deny beats allow)
 *
 * SPEC is HOST, HOST:PORT or HOST:LO-HI. HOST is a domain name
 * (example.com), a wildcard (*.example.com: its subdomains, not itself),
 * "*" (any name and any address), an IPv4 address or CIDR range, or an
 * IPv6 address or range in brackets ([::1], [fd00::]/8; a bare IPv6
 * address without a port is accepted too).
 *
 * A name rule allows the addresses the sentry's resolver returned for an
 * allowed name (syscalls/net.c keeps them per session); an address rule
 * allows the address itself. Some destinations are refused even under a
 * wildcard or "*", unless an address rule names them: cloud metadata,
 * link-local, the host's loopback and its own addresses, broadcast and
 * multicast (net_is_guarded); a name written
 * out in full (localhost:5432) may resolve to loopback.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum net_mode {
        NET_NONE, /* only what rules allow */
        NET_HOST, /* everything */
};

enum net_host_kind {
        NH_ANY,      /* "*" */
        NH_NAME,     /* example.com */
        NH_WILDCARD, /* *.example.com: name holds "example.com" */
        NH_ADDR,     /* an address or a range */
};

struct net_rule {
        enum net_host_kind kind;
        char *name;       /* lower case, no trailing dot; NAME and WILDCARD */
        int family;       /* AF_INET or AF_INET6 for ADDR */
        uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
        unsigned prefix;  /* bits of addr that must match */
        uint16_t port_lo, port_hi;
        bool deny;
        bool ask;       /* allows on request only (--ask-net): a person approves each destination */
        char *origin;   /* "--allow-net=...", "FILE:LINE:COL" */
        bool untrusted; /* from a repository's policy: opens no guarded destination */
};

struct net_policy {
        enum net_mode mode;
        struct net_rule *rules;
        size_t n, cap;
        char *dns_upstream; /* "IP:PORT" or NULL: the host's resolv.conf */
};

/* An address the guest names, normalised: IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are their IPv4 address. */
struct net_addr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        uint16_t port; /* host byte order */
};

void net_policy_init(struct net_policy *p);
void net_policy_free(struct net_policy *p);

enum net_rule_decision { NET_RULE_ALLOW, NET_RULE_DENY, NET_RULE_ASK };

/* Parse SPEC and add it as an allow, deny or ask rule. 0, or -EINVAL with
 * err saying what is wrong with it. */
int net_policy_add(struct net_policy *p, const char *spec, enum net_rule_decision d, const char *origin,
                   char *err, size_t errcap);

/* "none" or "host" into *mode; -EINVAL otherwise. */
int net_mode_parse(const char *s, enum net_mode *mode);

/* The decision for a name the guest asks the resolver about: true when a
 * rule allows the name (on some port) and no deny rule for the name on
 * every port refuses it. *rule: the deciding rule, or NULL. */
bool net_name_allowed(const struct net_policy *p, const char *name, const struct net_rule **rule);

/* The decision for a destination address. name is the allowed name that
 * resolved to it in this session, or NULL. true to allow; *rule is the
 * deciding rule or NULL (mode or default), *why a short reason. When
 * (*rule)->ask, the destination is allowed on request only: an ask rule
 * that matches beats an allow rule (deny beats both); it reaches what an
 * allow rule of its kind would. */
bool net_addr_allowed(const struct net_policy *p, const struct net_addr *a, const char *name,
                      const struct net_rule **rule, const char **why);

/* Metadata, link-local and loopback: refused unless an address rule names
 * the destination. */
bool net_is_guarded(const struct net_addr *a);
/* Does the address rule r take in a guarded address (a range within a
 * guarded one, or holding one of the guarded single addresses)? */
bool net_rule_guarded(const struct net_rule *r);

bool net_is_loopback(const struct net_addr *a);

/* The host's own addresses (its interfaces' and their broadcast
 * addresses), guarded as loopback is: set once at the start. */
void net_set_host_addrs(const struct net_addr *list, size_t n);

/* Fill a from a sockaddr of len bytes (AF_INET or AF_INET6). 0 or -EINVAL
 * (a length too short for its family), -EAFNOSUPPORT (another family). */
int net_addr_from_sockaddr(struct net_addr *a, const void *sa, size_t len);

/* "1.2.3.4:80", "[::1]:80" */
const char *net_addr_str(const struct net_addr *a, char *buf, size_t cap);

/* The rule's host as written ("*.example.com", "10.0.0.0/8"). */
const char *net_rule_host(const struct net_rule *r, char *buf, size_t cap);

/* Print the rules, for `interpose policy show` (FILE *). */
void net_policy_show(const struct net_policy *p, void *file);

/* "IPV4[:PORT]" or "[IPV6][:PORT]" (port 53 when none) into *ss, for
 * --dns-upstream. 0 or -EINVAL. */
int net_parse_endpoint(const char *s, void *ss, unsigned *len);
