/* SPDX-License-Identifier: MIT */
/* The session's resolver (dns.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../syscalls/handlers.h"
#include "audit.h"
#include "dns.h"
#include "secrets.h"
#include "util.h"

#define DNS_MAX 4096           /* a message we relay (EDNS0 sizes) */
#define UPSTREAM_WAIT_MS 3000  /* then SERVFAIL */
#define TCP_WAIT_MS 1000       /* a TCP client that does not send its query */
#define HOSTS_MAX (256 * 1024) /* the host's /etc/hosts we serve */

enum { T_A = 1, T_AAAA = 28 };

static int sealed_memfd(const char *name, const char *text, size_t len)
{
        int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (fd < 0)
                return -errno;
        if (write_all(fd, text, len) < 0 ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

bool dns_question(const unsigned char *m, size_t len, char *name, size_t cap, unsigned *qtype, size_t *qend)
{
        size_t off = 12, out = 0;

        if (len < 12 || ((m[4] << 8) | m[5]) != 1)
                return false;
        for (;;) {
                if (off >= len)
                        return false;
                unsigned l = m[off++];
                if (l == 0)
                        break;
                if (l > 63 || off + l > len || out + l + 2 > cap)
                        return false; /* compression or a bad label: not a plain question */
                if (out)
                        name[out++] = '.';
                for (unsigned i = 0; i < l; i++) {
                        unsigned char ch = m[off + i];
                        /* Only what a host name holds: a label with a dot or
                         * a NUL in it must not read as another name. */
                        if (!isalnum(ch) && ch != '-' && ch != '_')
                                return false;
                        name[out++] = (char)tolower(ch);
                }
                off += l;
        }
        if (off + 4 > len || !out)
                return false;
        name[out] = '\0';
        *qtype = (unsigned)(m[off] << 8 | m[off + 1]);
        *qend = off + 4;
        return true;
}

/* A reply with rcode and no records, to query q (whose question ends at qend). */
static size_t reply_empty(const unsigned char *q, size_t qend, unsigned rcode, unsigned char *out)
{
        memcpy(out, q, qend);
        out[2] = (unsigned char)(0x80 | (q[2] & 0x79)); /* QR, the opcode and RD asked */
        out[3] = (unsigned char)(0x80 | rcode);         /* RA */
        memset(out + 6, 0, 6);                          /* no answer, authority, additional */
        return qend;
}

/* Skip a (possibly compressed) name at off; the offset after it or 0. */
static size_t skip_name(const unsigned char *m, size_t len, size_t off)
{
        while (off < len) {
                unsigned l = m[off];
                if (l == 0)
                        return off + 1;
                if ((l & 0xc0) == 0xc0)
                        return off + 2 <= len ? off + 2 : 0;
                off += 1 + l;
        }
        return 0;
}

/* The A and AAAA records of an answer: each becomes connectable for
 * name; their text goes to list (a JSON array body) for the record. */
static void learn_answers(const unsigned char *m, size_t len, const char *name, char *list, size_t cap)
{
        unsigned an = (unsigned)(m[6] << 8 | m[7]);
        size_t off = skip_name(m, len, 12), used = 0;

        list[0] = '\0';
        if (!off || off + 4 > len)
                return;
        off += 4;
        for (unsigned i = 0; i < an && off; i++) {
                off = skip_name(m, len, off);
                if (!off || off + 10 > len)
                        return;
                unsigned type = (unsigned)(m[off] << 8 | m[off + 1]);
                unsigned rdlen = (unsigned)(m[off + 8] << 8 | m[off + 9]);
                off += 10;
                if (off + rdlen > len)
                        return;
                struct net_addr a = { 0 };
                if (type == T_A && rdlen == 4)
                        a.family = AF_INET;
                else if (type == T_AAAA && rdlen == 16)
                        a.family = AF_INET6;
                if (a.family) {
                        char ip[INET6_ADDRSTRLEN];
                        memcpy(a.addr, m + off, rdlen);
                        net_note_resolved(name, &a);
                        inet_ntop(a.family, a.addr, ip, sizeof(ip));
                        if (used + strlen(ip) + 4 < cap)
                                used += (size_t)snprintf(list + used, cap - used, "%s\"%s\"", used ? "," : "",
                                                         ip);
                }
                off += rdlen;
        }
}

/* Ask the upstream; the answer's length in ans, or 0. */
static size_t ask_upstream(int up, const unsigned char *q, size_t qlen, unsigned char *ans)
{
        uint16_t id = (uint16_t)(q[0] << 8 | q[1]);
        int waited = 0;

        if (up < 0 || send(up, q, qlen, MSG_NOSIGNAL) != (ssize_t)qlen)
                return 0;
        while (waited < UPSTREAM_WAIT_MS) {
                struct pollfd pfd = { .fd = up, .events = POLLIN };
                int r = poll(&pfd, 1, 250);
                waited += 250;
                if (r <= 0)
                        continue;
                ssize_t n = recv(up, ans, DNS_MAX, 0);
                if (n >= 12 && (uint16_t)(ans[0] << 8 | ans[1]) == id && (ans[2] & 0x80))
                        return (size_t)n;
        }
        return 0;
}

static void record(struct dns_server *d, const char *name, unsigned qtype, bool allow, const char *rule,
                   const char *answers, const char *result)
{
        char extra[1024];
        size_t len;

        if (!allow && d->denials)
                __atomic_add_fetch(d->denials, 1, __ATOMIC_RELAXED);
        if (d->trace_fd >= 0) {
                /* As a trapped call's line: what was asked, the answer, the
                 * decision and the rule. */
                char line[1200];
                int n = snprintf(line, sizeof(line),
                                 "[dns] %s type %u = %s [%s] # %s net-dns \"policy_rule\":\"%s\"\n", name,
                                 qtype, result, answers ? answers : "", allow ? "allow" : "deny", rule);
                size_t tl = secrets_redact(line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1),
                                           sizeof(line));
                pthread_mutex_lock(d->trace_lock);
                write_all(d->trace_fd, line, tl);
                pthread_mutex_unlock(d->trace_lock);
        }
        if (!d->audit)
                return;
        len = (size_t)snprintf(extra, sizeof(extra), "\"name\":\"");
        len = audit_json_escape(extra, len, 600, name);
        len += (size_t)snprintf(extra + len, sizeof(extra) - len, "\",\"qtype\":%u,\"policy_rule\":\"",
                                qtype);
        len = audit_json_escape(extra, len, sizeof(extra) - 300, rule);
        snprintf(extra + len, sizeof(extra) - len, "\",\"answers\":[%s]", answers ? answers : "");
        struct audit_record r = {
                .syscall = "dns",
                .exe = "",
                .decision = allow ? "allow" : "deny",
                .rule = "net-dns",
                .result = result,
                .extra = extra,
        };
        audit_write(d->audit, &r);
}

/* A query for name (dotted, at most 253 bytes, labels of 1-63) of type
 * qtype, class IN, with recursion desired and the given id, into q (at
 * least 12 + 255 + 4 bytes). Its length. */
static size_t make_query(unsigned char *q, const unsigned char id[2], const char *name, unsigned qtype)
{
        size_t off = 12;

        memset(q, 0, 12);
        q[0] = id[0], q[1] = id[1], q[2] = 0x01, q[5] = 1; /* RD, one question */
        for (const char *p = name; *p;) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                q[off++] = (unsigned char)l;
                memcpy(q + off, p, l);
                off += l;
                p += l + (dot ? 1 : 0);
        }
        q[off++] = 0;
        q[off++] = (unsigned char)(qtype >> 8), q[off++] = (unsigned char)qtype;
        q[off++] = 0, q[off++] = 1;
        return off;
}

/* The record types resolvers ask for: A, NS, CNAME, SOA, PTR, MX, TXT,
 * AAAA, SRV, NAPTR, DS, DNSKEY, SVCB, HTTPS, CAA. */
static bool common_qtype(unsigned t)
{
        static const unsigned types[] = { 1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 48, 64, 65, 257 };

        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if (t == types[i])
                        return true;
        return false;
}

/* The answer to one query; its length, or 0 for no answer at all. */
static size_t answer(struct dns_server *d, const unsigned char *q, size_t qlen, unsigned char *out)
{
        char name[256], answers[700];
        const struct net_rule *rule = NULL;
        unsigned qtype;
        size_t qend, n;

        if (qlen < 12 || (q[2] & 0x80))
                return 0; /* not a query */
        if (!dns_question(q, qlen, name, sizeof(name), &qtype, &qend)) {
                record(d, "(unreadable question)", 0, false, "a question the sentry cannot read", NULL,
                       "FORMERR");
                memcpy(out, q, 12);
                out[2] = (unsigned char)(0x80 | (q[2] & 0x79));
                out[3] = 0x80 | 1; /* FORMERR */
                memset(out + 4, 0, 8);
                return 12;
        }
        /* A standard query of class IN, one question and nothing else the
         * sentry would pass on: UPDATE, NOTIFY and records in the query
         * could carry anything to the upstream under an allowed name. */
        if (((q[2] >> 3) & 0xf) != 0) {
                record(d, name, qtype, false, "only standard queries", NULL, "NOTIMP");
                return reply_empty(q, qend, 4, out);
        }
        if (q[qend - 2] != 0 || q[qend - 1] != 1 || q[6] || q[7] || q[8] || q[9]) {
                record(d, name, qtype, false, "class IN, one question, no records", NULL, "REFUSED");
                return reply_empty(q, qend, 5, out);
        }
        if (!net_name_allowed(&d->policy->net, name, &rule)) {
                record(d, name, qtype, false, rule ? rule->origin : "no rule allows this name", NULL,
                       "NXDOMAIN");
                return reply_empty(q, qend, 3, out);
        }
        if (!common_qtype(qtype)) {
                record(d, name, qtype, false, "a record type resolvers ask for", NULL, "REFUSED");
                return reply_empty(q, qend, 5, out);
        }
        /* Made of the name as the sentry read it (lower case), the type,
         * class IN, an id of the sentry's and recursion desired, with an
         * EDNS0 record of ours for answers up to 1232 bytes: nothing the
         * guest chose but the allowed name and a common type. */
        unsigned char up[DNS_MAX], id[2];
        static const unsigned char opt[11] = { 0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0 };
        size_t ulen;
        if (getrandom(id, sizeof(id), 0) != sizeof(id))
                return reply_empty(q, qend, 2, out);
        ulen = make_query(up, id, name, qtype);
        up[11] = 1; /* and an additional record: */
        memcpy(up + ulen, opt, sizeof(opt));
        n = ask_upstream(d->upstream, up, ulen + sizeof(opt), out);
        if (!n) {
                record(d, name, qtype, true, rule ? rule->origin : "--net=host", NULL, "SERVFAIL (upstream)");
                return reply_empty(q, qend, 2, out);
        }
        /* The guest's id back on the answer. */
        out[0] = q[0];
        out[1] = q[1];
        learn_answers(out, n, name, answers, sizeof(answers));
        record(d, name, qtype, true, rule ? rule->origin : "--net=host", answers, "answered");
        return n;
}

/* Read n bytes from a TCP client within TCP_WAIT_MS, never blocking in a
 * read: a client that sends less must not hold the resolver. */
static bool read_within(int conn, unsigned char *buf, size_t n)
{
        size_t got = 0;
        int left = TCP_WAIT_MS;

        while (got < n && left > 0) {
                struct pollfd pfd = { .fd = conn, .events = POLLIN };
                if (poll(&pfd, 1, 50) < 0)
                        return false;
                left -= 50;
                ssize_t r = recv(conn, buf + got, n - got, MSG_DONTWAIT);
                if (r == 0)
                        return false;
                if (r > 0)
                        got += (size_t)r;
        }
        return got == n;
}

static void serve_tcp(struct dns_server *d, int conn, unsigned char *q, unsigned char *out)
{
        for (;;) {
                unsigned char hdr[2];
                if (!read_within(conn, hdr, 2))
                        return;
                size_t len = (size_t)(hdr[0] << 8 | hdr[1]);
                if (len > DNS_MAX || !read_within(conn, q, len))
                        return;
                size_t n = answer(d, q, len, out + 2);
                if (!n)
                        return;
                out[0] = (unsigned char)(n >> 8);
                out[1] = (unsigned char)n;
                if (send(conn, out, n + 2, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(n + 2))
                        return;
        }
}

static void *dns_main(void *arg)
{
        struct dns_server *d = arg;
        static unsigned char q[DNS_MAX], out[DNS_MAX + 2];

        interpose_crash_thread();
        for (;;) {
                struct pollfd pfd[2] = { { .fd = d->udp, .events = POLLIN },
                                         { .fd = d->tcp, .events = POLLIN } };
                if (poll(pfd, 2, -1) < 0)
                        continue;
                if (pfd[0].revents & POLLIN) {
                        struct sockaddr_storage from;
                        socklen_t flen = sizeof(from);
                        ssize_t n = recvfrom(d->udp, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from,
                                             &flen);
                        if (n > 0) {
                                size_t m = answer(d, q, (size_t)n, out);
                                if (m)
                                        sendto(d->udp, out, m, MSG_DONTWAIT | MSG_NOSIGNAL,
                                               (struct sockaddr *)&from, flen);
                        }
                }
                if (pfd[1].revents & POLLIN) {
                        int conn = accept4(d->tcp, NULL, NULL, SOCK_CLOEXEC);
                        if (conn >= 0) {
                                serve_tcp(d, conn, q, out);
                                close(conn);
                        }
                }
        }
        return NULL;
}

/* The first "nameserver" of the host's resolv.conf, or NULL. */
static char *host_nameserver(const char *conf, char *buf, size_t cap)
{
        for (const char *l = conf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char ip[INET6_ADDRSTRLEN + 1];
                if (sscanf(l, "nameserver %46s", ip) == 1) {
                        if (strchr(ip, ':'))
                                snprintf(buf, cap, "[%s]:53", ip);
                        else
                                snprintf(buf, cap, "%s:53", ip);
                        return buf;
                }
        }
        return NULL;
}

static int bind_resolver(struct dns_server *d)
{
        for (int tries = 0; tries < 16; tries++) {
                unsigned char r[3];
                if (getrandom(r, sizeof(r), 0) != sizeof(r))
                        return -EIO;
                /* 127.X.Y.Z, clear of 127.0.0.0/16 where hosts put theirs */
                d->addr.sin_family = AF_INET;
                d->addr.sin_port = htons(53);
                d->addr.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(1 + r[0] % 254) << 16 |
                                                (uint32_t)r[1] << 8 | (uint32_t)(1 + r[2] % 254));
                d->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                d->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (d->udp < 0 || d->tcp < 0)
                        return -errno;
                if (bind(d->udp, (struct sockaddr *)&d->addr, sizeof(d->addr)) == 0 &&
                    bind(d->tcp, (struct sockaddr *)&d->addr, sizeof(d->addr)) == 0 &&
                    listen(d->tcp, 16) == 0)
                        return 0;
                int e = errno;
                close(d->udp);
                close(d->tcp);
                d->udp = d->tcp = -1;
                if (e != EADDRINUSE)
                        return -e;
        }
        return -EADDRINUSE;
}

/* Resolve name (A and AAAA) through the upstream now, for the hosts file
 * of a session without a resolver. Appends "ADDR name" lines to buf. */
static size_t resolve_now(struct dns_server *d, const char *name, char *buf, size_t used, size_t cap)
{
        static const unsigned types[] = { T_A, T_AAAA };

        for (size_t t = 0; t < 2; t++) {
                unsigned char q[300], ans[DNS_MAX], id[2];
                size_t off;
                if (getrandom(id, 2, 0) != 2)
                        return used;
                off = make_query(q, id, name, types[t]);
                size_t n = ask_upstream(d->upstream, q, off, ans);
                if (!n)
                        continue;
                char list[700];
                learn_answers(ans, n, name, list, sizeof(list));
                /* list is "\"ip\",\"ip\"": one hosts line each */
                for (char *s = list; (s = strchr(s, '"'));) {
                        char *e = strchr(s + 1, '"');
                        if (!e)
                                break;
                        if (used + (size_t)(e - s) + strlen(name) + 4 < cap)
                                used += (size_t)snprintf(buf + used, cap - used, "%.*s %s\n",
                                                         (int)(e - s - 1), s + 1, name);
                        s = e + 1;
                }
        }
        return used;
}

/* Names in the host's /etc/hosts that the policy allows: their addresses
 * are connectable (the guest's resolver reads the file before asking). */
static void learn_hosts(const struct policy *p, char *hosts)
{
        for (char *l = hosts; l && *l;) {
                char *nl = strchr(l, '\n'), ip[INET6_ADDRSTRLEN + 1], *save = NULL, line[1024];
                snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - l) : (int)strlen(l), l);
                l = nl ? nl + 1 : NULL;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                char *tok = strtok_r(line, " \t", &save);
                if (!tok || strlen(tok) >= sizeof(ip))
                        continue;
                snprintf(ip, sizeof(ip), "%s", tok);
                struct net_addr a = { 0 };
                if (inet_pton(AF_INET, ip, a.addr) == 1)
                        a.family = AF_INET;
                else if (inet_pton(AF_INET6, ip, a.addr) == 1)
                        a.family = AF_INET6;
                else
                        continue;
                while ((tok = strtok_r(NULL, " \t", &save))) {
                        const struct net_rule *rule;
                        for (char *c = tok; *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                        if (net_name_allowed(&p->net, tok, &rule) && rule)
                                net_note_resolved(tok, &a);
                }
        }
}

int dns_prepare(struct dns_server *d, const struct policy *p, const char *hostname, char *err, size_t cap)
{
        _cleanup_free_ char *conf = xmalloc(65536), *hosts = xmalloc(HOSTS_MAX), *text = NULL;
        char upbuf[80];
        const char *up;
        struct sockaddr_storage ss;
        unsigned sslen;
        struct stat st;
        ssize_t n;
        size_t used = 0, tcap = 65536 + HOSTS_MAX + 65536;
        int r;

        memset(d, 0, sizeof(*d));
        d->udp = d->tcp = d->upstream = d->resolv_fd = d->hosts_fd = -1;
        d->policy = p;
        n = read_file_at(AT_FDCWD, "/etc/resolv.conf", conf, 65536);
        if (n < 0)
                conf[0] = '\0';
        n = read_file_at(AT_FDCWD, "/etc/hosts", hosts, HOSTS_MAX);
        if (n < 0)
                hosts[0] = '\0';
        if (stat("/etc/resolv.conf", &st) == 0)
                d->resolv_dev = st.st_dev, d->resolv_ino = st.st_ino;
        if (stat("/etc/hosts", &st) == 0)
                d->hosts_dev = st.st_dev, d->hosts_ino = st.st_ino;

        up = p->net.dns_upstream ? p->net.dns_upstream : host_nameserver(conf, upbuf, sizeof(upbuf));
        if (up) {
                if (net_parse_endpoint(up, &ss, &sslen) < 0) {
                        snprintf(err, cap, "the DNS upstream '%s' is not IP:PORT", up);
                        return -EINVAL;
                }
                d->upstream = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (d->upstream < 0 || connect(d->upstream, (struct sockaddr *)&ss, sslen) < 0) {
                        /* No route (a container without a network): every
                         * name fails to resolve, which is no reason not to
                         * run; say so only when some name could be allowed. */
                        int e = errno;
                        if (d->upstream >= 0)
                                close(d->upstream);
                        d->upstream = -1;
                        if (p->net.mode == NET_HOST || p->net.n) {
                                char msg[300];
                                int len = snprintf(
                                        msg, sizeof(msg),
                                        "interpose: the DNS upstream %s is unreachable (%s); no name "
                                        "will resolve (choose one with --dns-upstream=IP)\n",
                                        up, strerror(e));
                                write_all(2, msg, (size_t)len);
                        }
                }
        }
        learn_hosts(p, hosts);

        text = xmalloc(tcap);
        r = bind_resolver(d);
        if (r == 0) {
                char ip[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &d->addr.sin_addr, ip, sizeof(ip));
                used = (size_t)snprintf(text, tcap,
                                        "# interpose: this session's resolver; the sentry answers, by the "
                                        "network policy\nnameserver %s\n",
                                        ip);
        } else {
                snprintf(d->why, sizeof(d->why), "cannot listen on port 53 of a loopback address (%s)",
                         strerror(-r));
                used = (size_t)snprintf(text, tcap,
                                        "# interpose: no resolver in this session (%s); the allowed names "
                                        "are in /etc/hosts\nnameserver 127.0.0.255\n",
                                        d->why);
        }
        /* The host's search domains and options still apply. */
        for (const char *l = conf; *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                if (strncmp(l, "nameserver", 10) && len && used + len + 2 < tcap)
                        used += (size_t)snprintf(text + used, tcap - used, "%.*s\n", (int)len, l);
                l = nl ? nl + 1 : l + len;
        }
        d->resolv_fd = sealed_memfd("interpose-resolv.conf", text, used);
        if (d->resolv_fd < 0) {
                snprintf(err, cap, "cannot make the guest's resolv.conf: %s", strerror(-d->resolv_fd));
                return d->resolv_fd;
        }
        /* The host's names, and the guest's own host name on loopback
         * (what the host's file says of the host's name: hostname -f,
         * gethostbyname(gethostname()), Java's getLocalHost). */
        used = (size_t)snprintf(text, tcap, "%s\n", hosts);
        if (hostname && hostname[0] && !strpbrk(hostname, " \t\r\n#"))
                used += (size_t)snprintf(text + used, tcap - used,
                                         "# interpose: the guest's host name\n127.0.1.1 %s\n::1 %s\n",
                                         hostname, hostname);
        if (d->udp < 0) {
                /* No resolver: the exact names allowed, resolved now. */
                used += (size_t)snprintf(text + used, tcap - used,
                                         "# interpose: allowed names, resolved at the start\n");
                for (size_t i = 0; i < p->net.n; i++)
                        if (!p->net.rules[i].deny && p->net.rules[i].kind == NH_NAME)
                                used = resolve_now(d, p->net.rules[i].name, text, used, tcap);
        }
        d->hosts_fd = sealed_memfd("interpose-hosts", text, used);
        if (d->hosts_fd < 0) {
                snprintf(err, cap, "cannot make the guest's hosts file: %s", strerror(-d->hosts_fd));
                return d->hosts_fd;
        }
        return 0;
}

int dns_start(struct dns_server *d, struct audit *a, unsigned long *denials, int trace_fd,
              pthread_mutex_t *trace_lock)
{
        d->audit = a;
        d->denials = denials;
        d->trace_fd = trace_fd;
        d->trace_lock = trace_lock;
        if (d->udp < 0)
                return 0;
        return start_thread(NULL, 64 * 1024, dns_main, d);
}

int dns_substitute(const struct dns_server *d, dev_t dev, ino_t ino)
{
        char proc[64];
        int src = -1;

        if (d->resolv_fd >= 0 && dev == d->resolv_dev && ino == d->resolv_ino)
                src = d->resolv_fd;
        else if (d->hosts_fd >= 0 && dev == d->hosts_dev && ino == d->hosts_ino)
                src = d->hosts_fd;
        if (src < 0)
                return -1;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", src);
        return open(proc, O_RDONLY | O_CLOEXEC);
}
