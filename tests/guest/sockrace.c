/* SPDX-License-Identifier: MIT */
/*
 * sockrace PATH N: connect fd 100 to the unix socket PATH, N times, while a
 * second thread keeps putting an AF_INET socket and an AF_UNIX socket at
 * fd 100 by turns (dup2). A sentry that let the kernel make the call for
 * "not a unix socket" would have the kernel read the fd number again and
 * connect the unix one to PATH unjudged. Prints "tried N connected M" and
 * "LEAK" if the unix socket ever got connected. Natively PATH is open to
 * the taking. Driven by tests/e2e/paths.sh.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "race.h"

#define TARGET 100

static int inet_fd, unix_fd;
static struct sockaddr_un sa = { .sun_family = AF_UNIX };

static void flip(void)
{
        dup2(unix_fd, TARGET);
        for (volatile int i = 0; i < 200; i++)
                ;
        dup2(inet_fd, TARGET);
        for (volatile int i = 0; i < 200; i++)
                ;
}

static int attempt(void)
{
        /* An IP socket cannot take a unix address: success means the unix
         * socket got connected to PATH. */
        return connect(TARGET, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
        if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path))
                return 99;
        strcpy(sa.sun_path, argv[1]);
        inet_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (inet_fd < 0 || unix_fd < 0)
                return 99;
        race_run(argc > 2 ? atoi(argv[2]) : 2000, flip, attempt, "tried");
        return 0;
}
