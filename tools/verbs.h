/* SPDX-License-Identifier: MIT */
/* One function per verb of the command line. */
#pragma once

/* interpose syscalls [--json] */
int verb_syscalls(int argc, char **argv);
/* interpose audit verify FILE */
int verb_audit(int argc, char **argv);
