/* SPDX-License-Identifier: MIT */
/* `interpose audit verify FILE`: check the hash chain of an audit log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../sentry/audit.h"
#include "verbs.h"

int verb_audit(int argc, char **argv)
{
        char head[AUDIT_HASH_HEX];
        long line = 0, n;
        int fd;

        if (argc != 3 || strcmp(argv[1], "verify") != 0) {
                fprintf(stderr, "usage: interpose audit verify FILE\n");
                return 125;
        }
        fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "interpose: cannot open %s: %s\n", argv[2], strerror(errno));
                return 125;
        }
        n = audit_verify(fd, &line, head);
        close(fd);
        if (n < 0) {
                fprintf(stderr, "interpose: %s: line %ld: hash chain broken (the log was edited)\n", argv[2],
                        line);
                return 1;
        }
        printf("%s: %ld records, chain intact, head %s\n", argv[2], n, head);
        return 0;
}
