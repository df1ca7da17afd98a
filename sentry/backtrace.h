/* SPDX-License-Identifier: MIT */
/* Guest backtraces for --backtrace (backtrace.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BACKTRACE_FRAMES 12

/* The backtrace of guest thread tid, blocked in a trapped call, as the
 * JSON member "backtrace":["0xIP func+0xOFF", ...] into out; its length,
 * or 0 when none could be taken. */
size_t guest_backtrace_json(pid_t tid, char *out, size_t cap);

/* The same, on a thread of its own, waited for at most timeout_ms: an
 * unwinder that does not come back (a FIFO where a mapped file was) is
 * left behind, and none is taken again. */
size_t guest_backtrace_json_bounded(pid_t tid, char *out, size_t cap, unsigned timeout_ms);
