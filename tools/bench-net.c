/* SPDX-License-Identifier: MIT */
/*
 * bench-net: the network broker's costs, for tools/bench.
 *
 *   bench-net stream BYTES    BYTES over one TCP connection on loopback
 *   bench-net connect N       N TCP connections set up and accepted
 *   bench-net serve           accept connections on 127.0.0.1 until killed,
 *                             having printed "port P" (a host server)
 *   bench-net connect-to P N  N TCP connections to 127.0.0.1:P
 *
 * The server is this program's own (a thread listening on 127.0.0.1), so
 * under interpose it is the guest's own server and allowed; what is
 * measured is what the sentry adds: under interpose connect, bind and
 * listen are made by the sentry, while read and write stay in the kernel.
 * Prints "stream BYTES US_X1000" (the transfer's time in ms, x1000, the
 * format tools/bench reads as "NAME N VALUE/1000") and "connect N NS" (ns
 * per connection).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)

static int listener;
static long long nconn, nbytes;

static long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *sink(void *arg)
{
        static char buf[CHUNK];
        int c = accept(listener, NULL, NULL);
        long long got = 0;

        while (c >= 0 && got < nbytes) {
                ssize_t n = read(c, buf, sizeof(buf));
                if (n <= 0)
                        break;
                got += n;
        }
        if (c >= 0)
                close(c);
        return arg;
}

static void *acceptor(void *arg)
{
        for (long long i = 0; i < nconn; i++) {
                int c = accept(listener, NULL, NULL);
                if (c < 0)
                        break;
                close(c);
        }
        return arg;
}

/* n connections to sa, each closed at once. 0, or -1 (said why). */
static int connect_many(const struct sockaddr_in *sa, long long n)
{
        for (long long i = 0; i < n; i++) {
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0 || connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
                        perror("bench-net: connect");
                        return -1;
                }
                close(s);
        }
        return 0;
}

static int usage(void)
{
        fprintf(stderr, "usage: bench-net stream BYTES | connect N | serve | connect-to PORT N\n");
        return 2;
}

int main(int argc, char **argv)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        pthread_t t;
        long long t0, t1, n;
        char *end;

        if (argc == 2 && !strcmp(argv[1], "serve")) {
                listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                    listen(listener, 4096) < 0 || getsockname(listener, (struct sockaddr *)&sa, &len) < 0)
                        return 1;
                printf("port %d\n", ntohs(sa.sin_port));
                fflush(stdout);
                nconn = 1LL << 62;
                acceptor(NULL);
                return 0;
        }
        if (argc == 4 && !strcmp(argv[1], "connect-to")) {
                sa.sin_port = htons((uint16_t)atoi(argv[2]));
                n = strtoll(argv[3], &end, 10);
                if (*end || n <= 0)
                        return usage();
                t0 = now_ns();
                if (connect_many(&sa, n) < 0)
                        return 1;
                t1 = now_ns();
                printf("connect-to %lld %.1f\n", n, (double)(t1 - t0) / (double)n);
                return 0;
        }
        if (argc != 3)
                return usage();
        n = strtoll(argv[2], &end, 10);
        if (*end || n <= 0)
                return usage();
        listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(listener, 4096) < 0 || getsockname(listener, (struct sockaddr *)&sa, &len) < 0) {
                perror("bench-net: listen");
                return 1;
        }
        if (!strcmp(argv[1], "stream")) {
                static char buf[CHUNK];
                long long sent = 0;
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                nbytes = n;
                memset(buf, 'x', sizeof(buf));
                pthread_create(&t, NULL, sink, NULL);
                if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        perror("bench-net: connect");
                        return 1;
                }
                t0 = now_ns();
                while (sent < n) {
                        ssize_t w = write(s, buf, (size_t)(n - sent < CHUNK ? n - sent : CHUNK));
                        if (w <= 0) {
                                perror("bench-net: write");
                                return 1;
                        }
                        sent += w;
                }
                shutdown(s, SHUT_WR);
                pthread_join(t, NULL);
                t1 = now_ns();
                printf("stream %lld %.1f\n", n, (double)(t1 - t0) / 1000.0);
                return 0;
        }
        if (!strcmp(argv[1], "connect")) {
                nconn = n;
                pthread_create(&t, NULL, acceptor, NULL);
                t0 = now_ns();
                if (connect_many(&sa, n) < 0)
                        return 1;
                pthread_join(t, NULL);
                t1 = now_ns();
                printf("connect %lld %.1f\n", n, (double)(t1 - t0) / (double)n);
                return 0;
        }
        return usage();
}
