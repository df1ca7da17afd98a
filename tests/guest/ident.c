/* SPDX-License-Identifier: MIT */
/*
 * guest-ident CASE: identity and credentials (DESIGN.md invariants 5, 7).
 *
 *   uname      the host name is the sandbox's ("interpose" unless
 *              --hostname says otherwise); the rest is the host's
 *   caps       every capability set is empty, no_new_privs is set and
 *              cannot be cleared, capabilities cannot be raised again
 *   clock      adjtimex and clock_adjtime read the clock; setting it is
 *              refused (natively only the read is made)
 *   dumpable   PR_SET_DUMPABLE 0 succeeds (and the sentry can still read
 *              us afterwards: the next trapped call is answered)
 */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>

#include "guest.h"

static int check_uname(const char *want)
{
        struct utsname native, u;

        CHECK(raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0) == 0, "uname");
        if (!guest_confined())
                return guest_result();
        CHECK(!strcmp(u.nodename, want), "nodename '%s', want '%s'", u.nodename, want);
        /* The other fields are the host's: compare with the kernel's own
         * answer, which we cannot get from in here, through a field that
         * does not change (sysname) and a well-formed release. */
        (void)native;
        CHECK(!strcmp(u.sysname, "Linux"), "sysname '%s'", u.sysname);
        CHECK(u.release[0] >= '0' && u.release[0] <= '9', "release '%s'", u.release);
        CHECK(raw(SYS_uname, 1, 0, 0, 0, 0, 0) == -EFAULT, "uname(bad pointer) must be EFAULT");
        return guest_result();
}

static unsigned long long status_field(const char *name)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        unsigned long long v = ~0ULL;

        if (!f)
                exit(EXIT_HARD);
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ':')
                        v = strtoull(line + strlen(name) + 1, NULL, strncmp(name, "Cap", 3) ? 10 : 16);
        fclose(f);
        return v;
}

static int check_caps(void)
{
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2] = { 0 }, all[2];
        static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };

        if (!guest_confined())
                return guest_result();
        /* An ordinary user cannot shrink the bounding set (that needs
         * CAP_SETPCAP) and need not: without privilege it grants nothing. */
        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
                if (strcmp(sets[i], "CapBnd") || getuid() == 0)
                        CHECK(status_field(sets[i]) == 0, "%s = %#llx, want 0", sets[i],
                              status_field(sets[i]));
        CHECK(status_field("NoNewPrivs") == 1, "NoNewPrivs = %llu", status_field("NoNewPrivs"));
        CHECK(raw(SYS_capget, (long)&h, (long)d, 0, 0, 0, 0) == 0, "capget");
        CHECK(!d[0].effective && !d[0].permitted && !d[1].effective && !d[1].permitted, "capget not empty");
        if (getuid() == 0)
                CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0,
                      "CAP_SYS_ADMIN still in the bounding set");
        CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) < 0, "ambient raise worked");
        memset(all, 0xff, sizeof(all));
        CHECK(raw(SYS_capset, (long)&h, (long)all, 0, 0, 0, 0) == -EPERM, "capset(all) must be EPERM");
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) < 0 && errno == EINVAL, "no_new_privs cleared");
        /* As root without CAP_SETUID the ids are stuck too. */
        if (getuid() != 0)
                CHECK(raw(SYS_setuid, 0, 0, 0, 0, 0, 0) == -EPERM, "setuid(0) as a user");
        return guest_result();
}

static int check_clock(void)
{
        struct timex t = { .modes = 0 };
        long r;

        r = raw(SYS_adjtimex, (long)&t, 0, 0, 0, 0, 0);
        CHECK(r >= 0, "adjtimex(read) = %ld", r);
        t.modes = 0;
        r = raw(SYS_clock_adjtime, CLOCK_REALTIME, (long)&t, 0, 0, 0, 0);
        CHECK(r >= 0, "clock_adjtime(read) = %ld", r);
        if (!guest_confined())
                return guest_result();
        /* A no-op adjustment: even if it got through it would change
         * nothing, but the sentry must refuse any mode. */
        t.modes = ADJ_OFFSET | ADJ_OFFSET_SS_READ;
        t.offset = 0;
        r = raw(SYS_adjtimex, (long)&t, 0, 0, 0, 0, 0);
        CHECK(r == -EPERM, "adjtimex(set) = %ld, want -EPERM", r);
        t.modes = ADJ_TICK;
        r = raw(SYS_adjtimex, (long)&t, 0, 0, 0, 0, 0);
        CHECK(r == -EPERM, "adjtimex(ADJ_TICK) = %ld, want -EPERM", r);
        r = raw(SYS_clock_adjtime, CLOCK_REALTIME, (long)&t, 0, 0, 0, 0);
        CHECK(r == -EPERM, "clock_adjtime(set) = %ld, want -EPERM", r);
        r = raw(SYS_adjtimex, 1, 0, 0, 0, 0, 0);
        CHECK(r == -EFAULT, "adjtimex(bad pointer) = %ld, want -EFAULT", r);
        return guest_result();
}

static int check_dumpable(void)
{
        struct utsname u;

        CHECK(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0, "PR_SET_DUMPABLE 0");
        CHECK(raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0) == 0, "uname after PR_SET_DUMPABLE 0");
        if (guest_confined())
                CHECK(!strcmp(u.nodename, "interpose"), "nodename '%s' after dumpable 0", u.nodename);
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        setvbuf(stderr, NULL, _IONBF, 0);
        if (!strcmp(c, "uname"))
                return check_uname(argc > 2 ? argv[2] : "interpose");
        if (!strcmp(c, "caps"))
                return check_caps();
        if (!strcmp(c, "clock"))
                return check_clock();
        if (!strcmp(c, "dumpable"))
                return check_dumpable();
        fprintf(stderr, "guest-ident: unknown case '%s'\n", c);
        return EXIT_HARD;
}
