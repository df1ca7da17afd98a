/* SPDX-License-Identifier: MIT */
/* interpose pending | approve | deny (tools/approve.c). */
#pragma once

/* argv[0] is the verb: "pending", "approve" or "deny". The exit status:
 * 0 done, 1 refused (no such question, no session), 2 a usage error. */
int approve_main(int argc, char **argv);
