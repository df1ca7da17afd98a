/* SPDX-License-Identifier: MIT */
/* One function per verb of the command line. */
#pragma once

/* interpose syscalls [--json] */
int verb_syscalls(int argc, char **argv);
/* interpose audit verify [--head=HASH] FILE */
int verb_audit(int argc, char **argv);
/* interpose policy check FILE | show [...] */
int verb_policy(int argc, char **argv);
