/* SPDX-License-Identifier: MIT */
/* The audit log: JSON Lines that survive hostile strings, and a hash
 * chain that catches any edit, deletion or reordering. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "guest.h"
#include "sentry/audit.h"
#include "sentry/secrets.h"

static int fresh_log(int records)
{
        struct audit a;
        int fd = memfd_create("audit", 0);
        static const char *const nasty[] = { "plain", "quote\" back\\slash", "new\nline\ttab\x01",
                                             "\xff\xfe not utf-8", "{\"forged\":true}" };

        audit_init(&a, fd, "test-session");
        for (int i = 0; i < records; i++) {
                struct audit_record r = { .pid = 100 + i,
                                          .tid = 100 + i,
                                          .exe = "/bin/x",
                                          .syscall = "kill",
                                          .args = nasty[i % 5],
                                          .decision = "deny",
                                          .rule = "own-tree",
                                          .result = "-1 ESRCH" };
                CHECK(audit_write(&a, &r) == 0, "write %d", i);
        }
        return fd;
}

static const char *why;

static long verify(int fd, long *line)
{
        lseek(fd, 0, SEEK_SET);
        why = "";
        return audit_verify(fd, line, NULL, &why);
}

/* Replace the file's contents with buf. */
static void rewrite(int fd, const char *buf, size_t n)
{
        CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, buf, n, 0) == (ssize_t)n, "rewrite");
}

/* A short secret becomes the longer [REDACTED]: a record filled with it
 * grows past the writer's buffer. It is shortened, never written past its
 * end, and the next record stands on its own line. */
static void lengthened(void)
{
        static char args[20000], extra[12000], buf[65536];
        int fd = memfd_create("audit", 0);
        struct audit a;
        long line = 0;
        size_t n = 0;

        secrets_add("sesame");
        for (size_t i = 0; i + 8 < sizeof(args); i += 7)
                memcpy(args + i, "sesame/", 8);
        n = (size_t)snprintf(extra, sizeof(extra), "\"path\":\"");
        while (n + 9 < sizeof(extra))
                n += (size_t)snprintf(extra + n, sizeof(extra) - n, "sesame/");
        snprintf(extra + n, sizeof(extra) - n, "\"");
        audit_init(&a, fd, "test-session");
        struct audit_record r = { .pid = 1,
                                  .tid = 1,
                                  .exe = "/bin/x",
                                  .syscall = "openat",
                                  .args = args,
                                  .decision = "deny",
                                  .extra = extra };
        CHECK(audit_write(&a, &r) == 0, "write the long record");
        r.args = "next";
        r.extra = "\"path\":\"/home/u/.ssh/id_test\"";
        CHECK(audit_write(&a, &r) == 0, "write the next");
        ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
        CHECK(got > 0, "read back");
        buf[got > 0 ? got : 0] = '\0';
        CHECK(verify(fd, &line) == 2, "a lengthened record verifies: line %ld, %s", line, why);
        char *second = strchr(buf, '\n');
        CHECK(second && strstr(buf, "\"truncated\":true") && strstr(buf, "\"truncated\":true") < second,
              "the long record is shortened and marked");
        CHECK(!strstr(buf, "sesame"), "no secret in clear");
        CHECK(second && !strncmp(second + 1, "{\"seq\":1,", 9) && strstr(second, "id_test") &&
                      !strstr(second, "truncated"),
              "the next record is whole on its own line");
        close(fd);
}

int main(void)
{
        char buf[65536], copy[65536];
        long line = 0;
        int fd = fresh_log(10);
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        char *third, *fourth;

        CHECK(n > 0, "read back");
        buf[n] = '\0';
        CHECK(verify(fd, &line) == 10, "fresh log verifies");
        for (ssize_t i = 0; i < n; i++)
                CHECK(buf[i] == '\n' || ((unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f),
                      "raw byte %#x at %zd", (unsigned char)buf[i], i);

        /* One changed byte in record 3. */
        memcpy(copy, buf, (size_t)n);
        third = strstr(copy, "\"seq\":2,");
        third[strlen("\"seq\":2,\"time\":\"2")] ^= 1;
        rewrite(fd, copy, (size_t)n);
        CHECK(verify(fd, &line) < 0 && line == 3, "edited record caught at line %ld", line);
        CHECK(strstr(why, "edited") != NULL, "an edit is named: %s", why);

        /* Record 4 deleted. */
        memcpy(copy, buf, (size_t)n);
        third = strstr(copy, "\"seq\":3,") - 1;
        fourth = strstr(copy, "\"seq\":4,") - 1;
        memmove(third, fourth, (size_t)(copy + n - fourth));
        rewrite(fd, copy, (size_t)(n - (fourth - third)));
        CHECK(verify(fd, &line) < 0 && line == 4, "deleted record caught at line %ld", line);
        CHECK(strstr(why, "missing") != NULL, "a deletion is named: %s", why);

        /* Records 4 and 5 swapped. */
        {
                char *r4 = strstr(buf, "\"seq\":3,") - 1, *r5 = strstr(buf, "\"seq\":4,") - 1,
                     *r6 = strstr(buf, "\"seq\":5,") - 1;
                size_t a = (size_t)(r5 - r4), b = (size_t)(r6 - r5), head = (size_t)(r4 - buf);
                memcpy(copy, buf, head);
                memcpy(copy + head, r5, b);
                memcpy(copy + head + b, r4, a);
                memcpy(copy + head + a + b, r6, (size_t)(buf + n - r6));
                rewrite(fd, copy, (size_t)n);
                CHECK(verify(fd, &line) < 0 && line == 4 && strstr(why, "missing"), "swap: line %ld, %s",
                      line, why);
        }
        /* A record repeated. */
        {
                char *r4 = strstr(buf, "\"seq\":3,") - 1, *r5 = strstr(buf, "\"seq\":4,") - 1;
                size_t head = (size_t)(r5 - buf), a = (size_t)(r5 - r4);
                memcpy(copy, buf, head);
                memcpy(copy + head, r4, a);
                memcpy(copy + head + a, r5, (size_t)(buf + n - r5));
                rewrite(fd, copy, (size_t)n + a);
                CHECK(verify(fd, &line) < 0 && line == 5 && strstr(why, "out of order"),
                      "repeat: line %ld, %s", line, why);
        }

        /* Truncation keeps a valid prefix: only the printed head can tell. */
        rewrite(fd, buf, (size_t)(strstr(buf, "\"seq\":5,") - 1 - buf));
        CHECK(verify(fd, &line) == 5, "prefix verifies");
        lengthened();
        printf("audit: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
