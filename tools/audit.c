/* SPDX-License-Identifier: MIT */
/* `interpose audit verify [--head=HASH] FILE`: check an audit log's hash
 * chain, and with --head that it ends where the session summary said. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../sentry/audit.h"
#include "verbs.h"

/* Does the last line of the file record the session's end? */
static bool ends_with_end(int fd)
{
        char buf[4096];
        off_t size = lseek(fd, 0, SEEK_END);
        off_t off = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, off);
        char *last;

        if (n <= 0)
                return false;
        buf[n] = '\0';
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        last = strrchr(buf, '\n');
        return strstr(last ? last : buf, "\"decision\":\"end\"") != NULL;
}

int verb_audit(int argc, char **argv)
{
        char head[AUDIT_HASH_HEX];
        const char *want = NULL, *file;
        long line = 0, n;
        int fd;

        if (argc == 4 && !strncmp(argv[2], "--head=", 7))
                want = argv[2] + 7;
        if (argc < 3 || argc > 4 || strcmp(argv[1], "verify") != 0 || (argc == 4 && !want) ||
            (want && strlen(want) < 16)) {
                fprintf(stderr,
                        "usage: interpose audit verify [--head=HASH] FILE\n"
                        "  --head: the chain head the session summary printed (16 hex digits or more)\n");
                return 125;
        }
        file = argv[argc - 1];
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "interpose: cannot open %s: %s\n", file, strerror(errno));
                return 125;
        }
        n = audit_verify(fd, &line, head);
        if (n < 0) {
                close(fd);
                fprintf(stderr, "interpose: %s: line %ld: hash chain broken (the log was edited)\n", file,
                        line);
                return 1;
        }
        if (want && strncmp(head, want, strlen(want)) != 0) {
                close(fd);
                fprintf(stderr,
                        "interpose: %s: the chain ends at %s, not at %s: records were removed from the end\n",
                        file, head, want);
                return 1;
        }
        if (!ends_with_end(fd))
                fprintf(stderr,
                        "interpose: %s: warning: no \"end\" record: the session did not finish, or the "
                        "log was cut short (check with --head=HASH from the summary)\n",
                        file);
        close(fd);
        printf("%s: %ld records, chain intact, head %s\n", file, n, head);
        return 0;
}
