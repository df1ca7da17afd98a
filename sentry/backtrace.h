/* SPDX-License-Identifier: MIT */
/* Guest backtraces for --backtrace (backtrace.c). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define BACKTRACE_FRAMES 12

/* The backtrace of guest thread tid, blocked in a trapped call, as the
 * JSON member "backtrace":["0xIP func+0xOFF", ...] into out; its length,
 * or 0 when none could be taken. */
size_t guest_backtrace_json(pid_t tid, char *out, size_t cap);
