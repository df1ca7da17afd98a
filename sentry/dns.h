/* SPDX-License-Identifier: MIT */
/*
 * The session's resolver (issue 5): the guest's DNS is answered by the
 * sentry. Names the network policy does not allow get NXDOMAIN and never
 * leave the machine; allowed names are asked of the upstream resolver
 * (--dns-upstream, else the host's /etc/resolv.conf) and the addresses in
 * the answer become connectable for the session (syscalls/net.c).
 *
 * The guest finds the resolver the way every resolver library does: its
 * /etc/resolv.conf (which the sentry serves in place of the host's) names
 * a loopback address of the session's own, 127.X.Y.Z, where the sentry
 * listens on port 53 (UDP and TCP). glibc accepts an answer only from the
 * address it asked, so the port must be 53: that takes root or a low
 * net.ipv4.ip_unprivileged_port_start. Where the sentry cannot bind it,
 * the guest's /etc/hosts (also served) lists the allowed names that are
 * not wildcards, resolved when the session starts, and other names fail.
 */
#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

struct policy;
struct audit;

struct dns_server {
        int udp, tcp;                /* the guest's resolver at addr:53; -1 when not bound */
        int upstream;                /* UDP socket connected to the upstream resolver, or -1 */
        struct sockaddr_in addr;     /* 127.X.Y.Z:53 */
        int resolv_fd;               /* sealed memfd: the guest's /etc/resolv.conf */
        int hosts_fd;                /* sealed memfd: the guest's /etc/hosts */
        dev_t resolv_dev, hosts_dev; /* the host's files, which they stand for */
        ino_t resolv_ino, hosts_ino;
        const struct policy *policy;
        struct audit *audit;
        unsigned long *denials; /* the session's count, for the summary */
        int trace_fd;           /* --trace: a line per answer too; or -1 */
        pthread_mutex_t *trace_lock;
        char why[160]; /* when udp < 0: why the guest has no resolver */
};

/* Before the sentry confines itself: sockets, the upstream, the files the
 * guest will read. 0, or -errno with err saying why (a bad upstream). */
int dns_prepare(struct dns_server *d, const struct policy *p, const char *hostname, char *err, size_t cap);

/* Answer the guest's queries in a thread of the sentry. 0 or -errno. */
int dns_start(struct dns_server *d, struct audit *a, unsigned long *denials, int trace_fd,
              pthread_mutex_t *trace_lock);

/* The fd to install for a guest open of the host's file (dev, ino), or -1
 * when it is neither resolv.conf nor hosts. A new open file each call. */
int dns_substitute(const struct dns_server *d, dev_t dev, ino_t ino);

/* A DNS message's question name, lower case and dotted, and its type.
 * false for a message that is not one plain question. */
bool dns_question(const unsigned char *m, size_t len, char *name, size_t cap, unsigned *qtype, size_t *qend);
