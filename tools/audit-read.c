/* SPDX-License-Identifier: MIT */
#include "audit-read.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../sentry/util.h"

const char *audit_str(json_t *rec, const char *key)
{
        const char *s = json_string_value(json_object_get(rec, key));
        return s ? s : "";
}

int audit_read_records(FILE *f, struct audit_chain *chain, int (*fn)(json_t *rec, long line, void *ctx),
                       void *ctx, struct audit_read_error *err)
{
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long no = 0;

        errno = 0;
        while ((n = getline(&line, &cap, f)) > 0) {
                const char *why = "";
                json_error_t jerr;
                json_t *rec;
                int r;

                no++;
                if (line[n - 1] == '\n')
                        line[--n] = '\0';
                if (chain && audit_chain_next(chain, line, (size_t)n, &why) < 0) {
                        err->line = no;
                        err->chain = true;
                        snprintf(err->why, sizeof(err->why), "%s", why);
                        return -EBADMSG;
                }
                rec = json_loadb(line, (size_t)n, 0, &jerr);
                if (!json_is_object(rec)) {
                        json_decref(rec);
                        err->line = no;
                        err->chain = false;
                        snprintf(err->why, sizeof(err->why), "%s", jerr.text);
                        return -EBADMSG;
                }
                r = fn(rec, no, ctx);
                json_decref(rec);
                if (r)
                        return r;
                errno = 0;
        }
        return ferror(f) ? -(errno ? errno : EIO) : 0;
}
