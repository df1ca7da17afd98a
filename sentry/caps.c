/* SPDX-License-Identifier: MIT */
/* Dropping every privilege before the guest runs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "session.h"
#include "util.h"

static int last_cap(void)
{
        char buf[16];
        if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) > 0)
                return atoi(buf);
        return CAP_LAST_CAP;
}

/* 0 when CapInh, CapPrm, CapEff and CapAmb (and CapBnd, when we could
 * drop it) are all empty. */
static int verify_no_caps(bool bounding)
{
        char buf[4096];
        static const char *const keys[] = { "\nCapInh:", "\nCapPrm:", "\nCapEff:", "\nCapAmb:", "\nCapBnd:" };

        if (read_file_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf)) < 0)
                return -EIO;
        for (size_t i = 0; i < ARRAY_SIZE(keys) - !bounding; i++) {
                const char *p = strstr(buf, keys[i]);
                if (!p || strtoull(p + strlen(keys[i]), NULL, 16) != 0)
                        return -EPERM;
        }
        return 0;
}

static bool has_cap(int cap)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = { 0 };

        if (syscall(SYS_capget, &hdr, data) < 0)
                return false;
        return data[cap / 32].effective & (1u << (cap % 32));
}

int session_drop_privileges(void)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2];
        bool root = geteuid() == 0, bounding = false;
        int last = last_cap();

        /* As root, lock root's special treatment away first: no caps for
         * uid 0 on exec, no fix-ups on setuid, no ambient raise. This needs
         * CAP_SETPCAP, so it comes before the drops. */
        if (prctl(PR_SET_SECUREBITS,
                  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                          SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                          SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                  0, 0, 0) < 0 &&
            root && !(errno == EPERM && !has_cap(CAP_SETPCAP)))
                /* Root without CAP_SETPCAP (a container that dropped every
                 * capability) cannot lock them; no_new_privs below still
                 * keeps exec from granting any, and the check at the end
                 * proves there are none. */
                return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        /* Without CAP_SETPCAP (an ordinary user) the bounding set cannot
         * be dropped; no_new_privs makes it moot. With it, it must go. */
        for (int cap = 0; cap <= last; cap++) {
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
                        bounding = true;
                else if (errno != EINVAL && errno != EPERM)
                        return -errno;
        }
        memset(data, 0, sizeof(data));
        if (syscall(SYS_capset, &hdr, data) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return verify_no_caps(bounding || root);
}
