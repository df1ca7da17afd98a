/* SPDX-License-Identifier: MIT */
/* Decoding of trapped calls for --trace and the audit log, driven by the
 * argument types of the syscall table. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"

/* Reads a guest string for the decoder: length or -errno. */
typedef ssize_t (*sys_read_str_fn)(void *ctx, char *dst, uint64_t addr, size_t cap);
/* Reads guest memory for the decoder: 0 or -errno. */
typedef int (*sys_read_mem_fn)(void *ctx, void *dst, uint64_t addr, size_t n);

struct sys_reader {
        sys_read_str_fn str;
        sys_read_mem_fn mem;
        void *ctx;
};

/* Format "name(arg, arg, ...)" into buf. e may be NULL (unknown number nr).
 * rd may be NULL: strings are then shown as addresses. Returns length. */
size_t sys_format_call(const struct sys_entry *e, int nr, const uint64_t args[6], const struct sys_reader *rd,
                       char *buf, size_t cap);

/* Format a result: "3", "-1 ESRCH (No such process)", "? (kernel)". */
size_t sys_format_result(long value, int continued, char *buf, size_t cap);

/* Signal name ("SIGTERM") or NULL. */
const char *sys_signal_name(int sig);
/* errno name ("ESRCH") or NULL. */
const char *sys_errno_name(int err);
