/* SPDX-License-Identifier: MIT */
/*
 * netprobe CASE PORT: network calls a broker must not be fooled by, each
 * aimed at 127.0.0.1:PORT (a host server the test counts). Prints "CASE
 * ok" when the call went through, "CASE refused ERRNO" otherwise. Driven
 * by tests/e2e/net.sh, natively and confined.
 *
 *   unspec-sendto   a UDP datagram whose sockaddr says AF_UNSPEC (the
 *                   kernel reads it as AF_INET on an IPv4 socket)
 *   unspec-sendmsg  the same through msg_name
 *   cmsg-overrun    an SCM_RIGHTS header longer than the control buffer
 *                   (EINVAL natively; the sentry must not read past it)
 *   rthdr           setsockopt(IPV6_RTHDR) with a segment routing header
 *                   whose next hop is ::1 (the packet would go there)
 *   stall           a thread fills a unix datagram socket and blocks in
 *                   sendmmsg while the main thread's open() must still be
 *                   answered, the send still waiting ("stall ok" if so)
 *   stall-sendmsg   the same with sendmsg
 *   ghost           a child blocked in sendmsg on a full socket is killed;
 *                   its data must never arrive (natively it never does)
 *   pktoptions      setsockopt(IPV6_2292PKTOPTIONS), which can carry a
 *                   routing header
 *   listen-unspec   connect a TCP socket to a listener of its own, dissolve
 *                   the connection with connect(AF_UNSPEC), then listen on
 *                   it: the address is every address again, the port kept
 *                   ("listen-unspec ok ADDR" natively)
 *   reuseport-race  bind UDP sockets to PORT, held by a host service with
 *                   SO_REUSEPORT, while a second thread turns SO_REUSEPORT
 *                   on and off on each ("ok" once a bind shares the port);
 *                   up to argv[3] tries (20000): natively the race is won
 *                   at once on an idle machine, later under load
 *   inbound         send a UDP datagram to PORT from an unbound socket,
 *                   then read until "PEER" comes: "inbound ok" if nothing
 *                   else came first, "inbound LEAK ..." if another host's
 *                   datagram did (tests/e2e/net.sh sends one before)
 *   inbound-detach  the same after trying to remove the socket's filter
 *                   (SO_DETACH_FILTER, then a pass-all SO_ATTACH_FILTER)
 *   inbound-unsent  a UDP socket bound by a send with no address (which
 *                   fails, but binds it to every address), its port told
 *                   to PORT from a second socket; when "PEER" comes back
 *                   there, "inbound-unsent ok" if nothing reached the first
 *                   (tests/e2e/net.sh sent it one from another host before)
 *   recverr         setsockopt(IP_RECVERR) on a UDP socket (its error queue
 *                   would take ICMP errors, with bytes chosen by any host):
 *                   "recverr set" if getsockopt then says it is
 *   filter-unix     attach a pass-all socket filter to a unix datagram
 *                   socket (the guest's own filters work where they may)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *name, long r)
{
        if (r >= 0)
                printf("%s ok\n", name);
        else
                printf("%s refused %s\n", name, strerror(errno));
        return 0;
}

static volatile int race_sock = -1;

static void *reuse_flipper(void *arg)
{
        int one = 1, zero = 0;

        for (;;) {
                int s = race_sock;
                if (s >= 0) {
                        setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
                        setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero));
                }
        }
        return arg;
}

static int stall_pair[2];
static volatile pid_t stall_tid;
static int stall_nr; /* SYS_sendmmsg or SYS_sendmsg */

static void *stall_sender(void *arg)
{
        static char big[1024];
        struct mmsghdr v[64];
        struct iovec iov = { big, sizeof(big) };

        stall_tid = (pid_t)syscall(SYS_gettid);
        memset(v, 0, sizeof(v));
        for (int i = 0; i < 64; i++) {
                v[i].msg_hdr.msg_iov = &iov;
                v[i].msg_hdr.msg_iovlen = 1;
        }
        /* Fill the peer's queue, then block for good: nobody reads. */
        for (;;)
                if ((stall_nr == SYS_sendmmsg ? sendmmsg(stall_pair[0], v, 64, 0)
                                              : sendmsg(stall_pair[0], &v[0].msg_hdr, 0)) < 0)
                        break;
        return arg;
}

/* Is thread tid in the send (its /proc syscall line says so)? */
static int in_send(pid_t tid)
{
        char path[64], line[64] = "";
        FILE *f;

        snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
        fclose(f);
        return atoi(line) == stall_nr && strchr(line, ' ');
}

static int stall(int nr)
{
        pthread_t t;
        struct timespec a, b;
        int fd, seen = 0;

        stall_nr = nr;
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, stall_pair) < 0)
                return report("stall", -1);
        pthread_create(&t, NULL, stall_sender, NULL);
        /* Until the sender sits in sendmmsg on a full queue (bounded). */
        for (int i = 0; i < 1000 && seen < 20; i++) {
                seen = stall_tid && in_send(stall_tid) ? seen + 1 : 0;
                usleep(1000);
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        fd = open("/dev/null", O_RDONLY);
        clock_gettime(CLOCK_MONOTONIC, &b);
        close(fd);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        /* Answered while the send still waits: the sentry did not wait
         * for it (a sentry that did would have answered the send first,
         * with data or an error, before it got to the open). */
        bool still = in_send(stall_tid);
        printf("stall %s (sender blocked: %s; open took %.3f s)\n", fd >= 0 && still ? "ok" : "stuck",
               seen >= 20 ? "yes" : "no", s);
        fflush(stdout);
        _exit(0); /* the sender stays blocked */
}

static int ghost(void)
{
        int sv[2], status;
        char buf[65536];
        pid_t child;
        long got = 0;
        bool seen = false;

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return report("ghost", -1);
        memset(buf, 'f', sizeof(buf));
        while (send(sv[0], buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ; /* full */
        child = fork();
        if (child == 0) {
                struct iovec iov = { "GHOST", 5 };
                struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
                stall_tid = (pid_t)syscall(SYS_gettid);
                sendmsg(sv[0], &m, 0); /* blocks: nobody reads */
                _exit(0);
        }
        /* Until the child sits in sendmsg (bounded), then kill it there. */
        for (int i = 0; i < 2000; i++) {
                char path[64], line[64] = "";
                FILE *f;
                snprintf(path, sizeof(path), "/proc/%d/syscall", (int)child);
                if ((f = fopen(path, "re"))) {
                        if (!fgets(line, sizeof(line), f))
                                line[0] = '\0';
                        fclose(f);
                }
                if (atoi(line) == SYS_sendmsg)
                        break;
                usleep(1000);
        }
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        /* Drain: room for a sender that outlived its caller, then a quiet
         * second in which nothing more may come. */
        for (;;) {
                struct pollfd pfd = { .fd = sv[1], .events = POLLIN };
                if (poll(&pfd, 1, 1000) <= 0)
                        break;
                ssize_t n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
                if (n <= 0)
                        break;
                got += n;
                if (memmem(buf, (size_t)n, "GHOST", 5))
                        seen = true;
        }
        printf("ghost %s (%ld bytes read)\n", seen ? "LEAK: the killed sender's data arrived" : "ok", got);
        return 0;
}

/* A datagram to sa, then what comes back until "PEER". */
static int inbound(const char *c, struct sockaddr_in *sa)
{
        struct sock_filter all[] = { BPF_STMT(BPF_RET | BPF_K, 0xffffffffu) };
        struct sock_fprog prog = { 1, all };
        char buf[64], from[INET_ADDRSTRLEN];
        int s = socket(AF_INET, SOCK_DGRAM, 0), stranger = 0;

        if (sendto(s, "hello", 5, 0, (struct sockaddr *)sa, sizeof(*sa)) < 0)
                return report("inbound-send", -1);
        if (!strcmp(c, "inbound-detach")) {
                report("detach", setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, NULL, 0));
                report("attach", setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)));
        }
        for (;;) {
                struct pollfd pfd = { .fd = s, .events = POLLIN };
                struct sockaddr_in src;
                socklen_t len = sizeof(src);
                if (poll(&pfd, 1, 20000) != 1) {
                        printf("%s: nothing from the peer\n", c);
                        return 0;
                }
                ssize_t n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&src, &len);
                if (n < 0)
                        return report(c, -1);
                buf[n] = '\0';
                if (!strcmp(buf, "PEER"))
                        break;
                stranger++;
                printf("%s: %s from %s\n", c, buf, inet_ntop(AF_INET, &src.sin_addr, from, sizeof(from)));
        }
        if (stranger)
                printf("%s LEAK: %d datagram(s) from another host came first\n", c, stranger);
        else
                printf("%s ok\n", c);
        return 0;
}

/* A socket the kernel bound by a send with no address (which it still
 * refuses): nothing from another host may reach it. */
static int inbound_unsent(struct sockaddr_in *sa)
{
        struct sockaddr_in own;
        socklen_t len = sizeof(own);
        char buf[64];
        int s = socket(AF_INET, SOCK_DGRAM, 0), tell = socket(AF_INET, SOCK_DGRAM, 0);
        struct pollfd pfd = { .fd = tell, .events = POLLIN };

        if (send(s, "x", 1, 0) >= 0 || getsockname(s, (struct sockaddr *)&own, &len) < 0 || !own.sin_port)
                return report("inbound-unsent-bind", -1);
        snprintf(buf, sizeof(buf), "port %d", ntohs(own.sin_port));
        if (sendto(tell, buf, strlen(buf), 0, (struct sockaddr *)sa, sizeof(*sa)) < 0)
                return report("inbound-unsent-tell", -1);
        if (poll(&pfd, 1, 20000) != 1 || recv(tell, buf, sizeof(buf), 0) < 0)
                return report("inbound-unsent-peer", -1);
        ssize_t n = recv(s, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n >= 0) {
                buf[n] = '\0';
                printf("inbound-unsent LEAK: %s reached it\n", buf);
        } else {
                printf("inbound-unsent ok\n");
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        const char *c = argc > 1 ? argv[1] : "";
        int s;

        if (argc < 3)
                return 99;
        setvbuf(stdout, NULL, _IONBF, 0);
        sa.sin_port = htons((uint16_t)atoi(argv[2]));
        if (!strcmp(c, "unspec-sendto") || !strcmp(c, "unspec-sendmsg")) {
                struct iovec iov = { "x", 1 };
                struct msghdr m = {
                        .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1
                };
                s = socket(AF_INET, SOCK_DGRAM, 0);
                sa.sin_family = AF_UNSPEC;
                return report(c, !strcmp(c, "unspec-sendto")
                                         ? sendto(s, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa))
                                         : sendmsg(s, &m, 0));
        }
        if (!strcmp(c, "listen-unspec")) {
                struct sockaddr_in own = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                struct sockaddr un = { .sa_family = AF_UNSPEC };
                socklen_t len = sizeof(own);
                int l = socket(AF_INET, SOCK_STREAM, 0);
                char addr[INET_ADDRSTRLEN];
                if (bind(l, (struct sockaddr *)&own, sizeof(own)) < 0 || listen(l, 1) < 0 ||
                    getsockname(l, (struct sockaddr *)&own, &len) < 0)
                        return report("listen-unspec-setup", -1);
                s = socket(AF_INET, SOCK_STREAM, 0);
                if (connect(s, (struct sockaddr *)&own, sizeof(own)) < 0 || connect(s, &un, sizeof(un)) < 0)
                        return report("listen-unspec-setup", -1);
                if (listen(s, 1) < 0)
                        return report(c, -1);
                len = sizeof(own);
                getsockname(s, (struct sockaddr *)&own, &len);
                printf("%s ok %s\n", c, inet_ntop(AF_INET, &own.sin_addr, addr, sizeof(addr)));
                return 0;
        }
        if (!strcmp(c, "reuseport-race")) {
                pthread_t t;
                int eaddrinuse = 0, tries = argc > 3 ? atoi(argv[3]) : 20000;
                pthread_create(&t, NULL, reuse_flipper, NULL);
                for (int i = 0; i < tries; i++) {
                        s = socket(AF_INET, SOCK_DGRAM, 0);
                        race_sock = s;
                        int r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
                        int e = errno;
                        race_sock = -1;
                        if (r == 0) {
                                printf("%s ok after %d\n", c, i);
                                return 0;
                        }
                        eaddrinuse += e == EADDRINUSE;
                        close(s);
                }
                printf("%s refused %d of %d EADDRINUSE\n", c, eaddrinuse, tries);
                return 0;
        }
        if (!strcmp(c, "cmsg-overrun")) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } u;
                struct iovec iov = { "x", 1 };
                struct msghdr m = { .msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = u.buf,
                                    .msg_controllen = sizeof(u.buf) };
                int sv[2];
                socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
                memset(&u, 0, sizeof(u));
                u.h.cmsg_level = SOL_SOCKET;
                u.h.cmsg_type = SCM_RIGHTS;
                u.h.cmsg_len = CMSG_LEN(64 * sizeof(int)); /* far past the buffer */
                return report(c, sendmsg(sv[0], &m, 0));
        }
        if (!strcmp(c, "rthdr")) {
                /* Type 4 (segment routing), one segment: ::1. */
                unsigned char rh[24] = { 0, 2, 4, 0, 0, 0, 0, 0 };
                struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_port = sa.sin_port };
                rh[23] = 1; /* ::1 */
                inet_pton(AF_INET6, "fd00::77", &d.sin6_addr);
                s = socket(AF_INET6, SOCK_DGRAM, 0);
                return report(c, setsockopt(s, IPPROTO_IPV6, IPV6_RTHDR, rh, sizeof(rh)));
        }
        if (!strcmp(c, "ghost"))
                return ghost();
        if (!strcmp(c, "pktoptions")) {
                unsigned char opt[64] = { 0 };
                s = socket(AF_INET6, SOCK_DGRAM, 0);
                return report(c, setsockopt(s, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, opt, 0));
        }
        if (!strcmp(c, "inbound-unsent"))
                return inbound_unsent(&sa);
        if (!strncmp(c, "inbound", 7))
                return inbound(c, &sa);
        if (!strcmp(c, "recverr")) {
                int on = 1;
                socklen_t len = sizeof(on);
                s = socket(AF_INET, SOCK_DGRAM, 0);
                if (setsockopt(s, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)) < 0)
                        return report(c, -1);
                on = 0;
                getsockopt(s, IPPROTO_IP, IP_RECVERR, &on, &len);
                printf("%s %s\n", c, on ? "set" : "taken, not set");
                return 0;
        }
        if (!strcmp(c, "filter-unix")) {
                struct sock_filter all[] = { BPF_STMT(BPF_RET | BPF_K, 0xffffffffu) };
                struct sock_fprog prog = { 1, all };
                s = socket(AF_UNIX, SOCK_DGRAM, 0);
                return report(c, setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)));
        }
        if (!strcmp(c, "stall"))
                return stall(SYS_sendmmsg);
        if (!strcmp(c, "stall-sendmsg"))
                return stall(SYS_sendmsg);
        return 99;
}
