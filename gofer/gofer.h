/* SPDX-License-Identifier: MIT */
/* The gofer process and its wire protocol (fixed-size messages on a
 * SOCK_SEQPACKET socket; fds travel as SCM_RIGHTS). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

enum gofer_op {
        GOFER_PING = 1,
};

struct gofer_msg {
        uint32_t op;
        int32_t result; /* 0 or -errno */
        uint64_t arg;
};

/* Start the gofer. Returns its pid and sets *ret_sock, or -errno. */
pid_t gofer_spawn(int *ret_sock);

/* Round trip to the gofer: 0 or -errno. */
int gofer_ping(int sock);
