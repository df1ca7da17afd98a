/* SPDX-License-Identifier: MIT */
/*
 * netrace MODE ALLOWED DENIED N: send to 127.0.0.1:ALLOWED N times while a
 * second thread keeps rewriting the address to 127.0.0.1:DENIED and back.
 * A sentry that judged the address and let the kernel read it again would
 * let some reach DENIED. Driven by tests/e2e/net.sh, which counts what the
 * server on DENIED received.
 *
 *   connect   TCP connect to the flipped sockaddr
 *   sendto    a UDP datagram to the flipped sockaddr
 *   sendmsg   a UDP datagram through msg_name, the sockaddr flipped
 *   fdswap    sendmsg with no address on fd 100, while the second thread
 *             puts a socket connected to ALLOWED and an unconnected one
 *             with DENIED in msg_name at fd 100 by turns
 *
 * Prints "sent M leaked L" (M: attempts that went somewhere; L: connects
 * whose peer, by getpeername, is DENIED) and "LEAK" if any leaked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "race.h"

#define TARGET 100

static struct sockaddr_in sa = { .sin_family = AF_INET };
static struct msghdr msg;
static struct iovec iov = { "x", 1 };
static uint16_t port_a, port_b;
static int mode, connected_fd, loose_fd;

static void flip(void)
{
        if (mode == 3) {
                dup2(connected_fd, TARGET);
                msg.msg_name = NULL;
                msg.msg_namelen = 0;
                for (volatile int i = 0; i < 30; i++)
                        ;
                dup2(loose_fd, TARGET);
                msg.msg_name = &sa;
                msg.msg_namelen = sizeof(sa);
                for (volatile int i = 0; i < 30; i++)
                        ;
                return;
        }
        sa.sin_port = port_a;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
        sa.sin_port = port_b;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
}

static int attempt(void)
{
        int fd, r;

        switch (mode) {
        case 0:
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
                if (r == 0) {
                        struct sockaddr_in peer;
                        socklen_t len = sizeof(peer);
                        r = getpeername(fd, (struct sockaddr *)&peer, &len) == 0 && peer.sin_port == port_b;
                }
                close(fd);
                return r;
        case 1:
                fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                r = (int)sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
                close(fd);
                return r == 1 ? 0 : -1;
        case 2:
                fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                msg.msg_name = &sa;
                msg.msg_namelen = sizeof(sa);
                r = (int)sendmsg(fd, &msg, 0);
                close(fd);
                return r == 1 ? 0 : -1;
        default:
                return sendmsg(TARGET, &msg, 0) == 1 ? 0 : -1;
        }
}

int main(int argc, char **argv)
{
        static const char *const modes[] = { "connect", "sendto", "sendmsg", "fdswap" };

        if (argc < 5)
                return 99;
        for (mode = 0; mode < 4 && strcmp(argv[1], modes[mode]); mode++)
                ;
        if (mode == 4)
                return 99;
        port_a = htons((uint16_t)atoi(argv[2]));
        port_b = htons((uint16_t)atoi(argv[3]));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = port_a;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        if (mode == 3) {
                struct sockaddr_in to = sa;
                connected_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                loose_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (connect(connected_fd, (struct sockaddr *)&to, sizeof(to)) < 0)
                        return 99;
                sa.sin_port = port_b;
        }
        race_run(atoi(argv[4]), flip, attempt, "sent");
        return 0;
}
