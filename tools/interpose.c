/* SPDX-License-Identifier: MIT */
/* interpose: run a program as a confined guest. The command line only;
 * everything else lives in the libraries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../platform/platform.h"
#include "../sentry/session.h"
#include "config.h"
#include "policy-options.h"
#include "../sentry/audit.h"
#include "../sentry/secrets.h"
#include "../sentry/util.h"
#include "ci.h"
#include "verbs.h"
#include "approve.h"

static void usage(FILE *f)
{
        fprintf(f, "Usage: interpose [OPTIONS] [--] PROGRAM [ARGS...]\n"
                   "       interpose syscalls [--json]\n"
                   "       interpose audit verify [--head=HASH] FILE | show [FILTERS] FILE | summary "
                   "[--json] FILE\n"
                   "       interpose policy check FILE | show [--profile=NAME] [--json] [...]\n"
                   "       interpose pending [--session=ID] [--json]\n"
                   "       interpose approve | deny [--always] [--by=NAME] [--session=ID] [--json] QUESTION\n"
                   "       interpose ci [--fail-on=denied|asked|never] [--junit=FILE] [--artifacts=DIR]\n"
                   "                    [--learn[=FILE]] [--no-repo-policy] [OPTIONS] -- COMMAND...\n"
                   "       interpose --help | --version\n"
                   "\n"
                   "Run PROGRAM as a guest whose every syscall is decided by the sentry.\n"
                   "\n"
                   "Options:\n"
                   "  --trace               print one line per trapped syscall to stderr\n"
                   "  --trace-file=FILE     ... to FILE instead\n"
                   "  --audit=FILE          write the audit log to FILE (default:\n"
                   "                        $XDG_STATE_HOME/interpose/sessions/ID/audit.jsonl)\n"
                   "  --summary             print a one-line session summary on stderr\n"
                   "  --hostname=NAME       host name the guest sees (default: interpose)\n"
                   "  --platform=NAME       auto (default: unotify where the kernel and any outer\n"
                   "                        sandbox allow it, else ptrace), unotify or ptrace;\n"
                   "                        INTERPOSE_PLATFORM sets the default\n"
                   "  --profile=NAME        file policy to start from: agent (default), strict or ci\n"
                   "  --policy=FILE         file policy (JSON); --workspace=DIR (default: the current "
                   "directory)\n"
                   "  --allow-env=GLOB      pass environment variables that look like secrets\n"
                   "                        (removed otherwise: *_TOKEN, *SECRET*, *_KEY, ...)\n"
                   "  --env=NAME=VALUE      set one in the guest's environment\n"
                   "  --backtrace           each refused call records the guest's stack in the audit log\n"
                   "  --keep-fds            pass inherited file descriptors above 2 to the guest\n"
                   "  --audit-sink=unix:PATH  stream each audit record to a collector's socket too\n"
                   "  --allow-read=PATH, --allow-write=PATH, --allow-exec=PATH, --deny=PATH\n"
                   "                        extend the profile\n"
                   "  --ask-read=PATH, --ask-write=PATH, --ask-exec=PATH, --ask-net=HOST[:PORT]\n"
                   "                        give the right only when a person approves each use\n"
                   "  --approver=auto|tty|socket|none  who approves: the terminal (auto, when there\n"
                   "                        is one), only `interpose approve` on the control socket,\n"
                   "                        or nobody (every ask denied, and said why)\n"
                   "  --ask-timeout=DURATION  deny an unanswered ask after DURATION (default 60s)\n"
                   "  --control=PATH        the control socket (default: in the session's directory)\n"
                   "  --net=none|host       network: none (default: only what --allow-net names,\n"
                   "                        and the guest's own loopback servers) or host (all, audited)\n"
                   "  --allow-net=HOST[:PORT[-PORT]], --deny-net=...  a name, *.domain, *, an IPv4\n"
                   "                        address or CIDR range, or [IPv6][/LEN]; deny beats allow\n"
                   "  --dns-upstream=IP[:PORT]  where the sentry resolves allowed names (default:\n"
                   "                        the host's /etc/resolv.conf)\n"
                   "  --max-procs=N         processes of the guest (default 512); past\n"
                   "                        it the guest is stopped (exit 137)\n"
                   "  --max-memory=SIZE     resident memory of the whole guest (e.g. 2G); past it\n"
                   "                        the guest is stopped (exit 137)\n"
                   "  --max-fds=N           open files per guest process\n"
                   "  --max-write=SIZE      how much the files the guest writes may grow, in all;\n"
                   "                        past it the guest is stopped (exit 137)\n"
                   "  --timeout=DURATION    stop the whole guest after DURATION (90s, 10m, 1h;\n"
                   "                        exit 124)\n"
                   "  --max-audit=SIZE      the audit log's size (default 1G); past it the guest\n"
                   "                        is stopped (exit 137)\n"
                   "  -h, --help            show this help\n"
                   "  -V, --version         show the version and what the kernel offers\n"
                   "\n"
                   "Exit status: the guest's; 128+N if it was killed by signal N; 125 if\n"
                   "interpose failed; 126 if PROGRAM cannot be executed; 127 if not found.\n");
}

/* "N" with N >= 1. */
static int parse_count(const char *s, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v < 1 || v > 1u << 30 || *s == '-')
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

/* "N", "NK", "NM", "NG", "NT" (also KiB, MB...: powers of 1024). */
static int parse_size(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;
        unsigned shift = 0;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *s == '-')
                return -EINVAL;
        switch (*end) {
        case 'k':
        case 'K':
                shift = 10;
                end++;
                break;
        case 'm':
        case 'M':
                shift = 20;
                end++;
                break;
        case 'g':
        case 'G':
                shift = 30;
                end++;
                break;
        case 't':
        case 'T':
                shift = 40;
                end++;
                break;
        default:
                break;
        }
        if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
                end += strlen(end);
        if (*end == 'B' && !shift && !end[1])
                end++;
        if (*end || v == 0 || (shift && v > (~0ULL >> shift)))
                return -EINVAL;
        *ret = (uint64_t)v << shift;
        return 0;
}

/* "N" (seconds), "Nms", "Ns", "Nm", "Nh". */
static int parse_duration(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v, mul = 1000;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *s == '-')
                return -EINVAL;
        if (!strcmp(end, "ms"))
                mul = 1;
        else if (!strcmp(end, "m"))
                mul = 60000;
        else if (!strcmp(end, "h"))
                mul = 3600000;
        else if (*end && strcmp(end, "s") != 0)
                return -EINVAL;
        if (v == 0 || v > ~0ULL / mul)
                return -EINVAL;
        *ret = v * mul;
        return 0;
}

static int version(void)
{
        char probe[128];

        platform_probe(probe, sizeof(probe));
        printf("interpose %s\n%s\n", INTERPOSE_VERSION, probe);
        return 0;
}

/* Empty the directory dirfd (on device dev), by descriptors only. Whoever
 * else can write in the tree (the guest may have opened it to others)
 * may swap a directory for a symlink under our feet: every directory is
 * opened O_NOFOLLOW from its parent's descriptor and every name removed
 * with unlinkat there, so nothing outside the tree is ever reached. A
 * directory nested DEEP_MOVE levels down is not descended into but moved
 * up into top (the tree's root, the same file system), for the next pass:
 * a guest may nest them deeper than any recursion should go. true when
 * such a move was made. */
#define DEEP_MOVE 64

static bool empty_dir(int dirfd, int top, dev_t dev, int depth)
{
        static unsigned moved_n;
        int fd = dup(dirfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        bool moved = false;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return false;
        }
        rewinddir(d); /* the dup shares dirfd's offset: an earlier pass left it at the end */
        while ((de = readdir(d))) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode)) {
                        unlinkat(dirfd, de->d_name, 0);
                        continue;
                }
                if (depth >= DEEP_MOVE) {
                        /* Under a name not taken (an earlier sweep's may be). */
                        char up[32];
                        int r;
                        do {
                                snprintf(up, sizeof(up), ".deep-%u", moved_n++);
                                r = renameat2(dirfd, de->d_name, top, up, RENAME_NOREPLACE);
                        } while (r < 0 && errno == EEXIST);
                        moved |= r == 0;
                        continue;
                }
                int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat sst;
                if (sub >= 0 && fstat(sub, &sst) == 0 && sst.st_dev == dev)
                        moved |= empty_dir(sub, top, dev, depth + 1);
                if (sub >= 0)
                        close(sub);
                unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
        }
        closedir(d);
        return moved;
}

/* Remove the session's temp directory and what the guest left in it. */
static void remove_tree(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return;
        /* Nobody else in from now on (the guest may have opened it up). */
        if (fstat(fd, &st) == 0) {
                fchmod(fd, 0700);
                /* Each pass goes DEEP_MOVE levels further down a deep tree
                 * (bounded: a guest that keeps nesting is gone by now). */
                for (int pass = 0; pass < 1 << 16 && empty_dir(fd, fd, st.st_dev, 0); pass++)
                        ;
        }
        close(fd);
        rmdir(dir);
}

/*
 * The session's private directories (the guest's /tmp and /dev/shm) are
 * held with flock(2) for as long as the session lives: its processes keep
 * the open file. A session killed outright (SIGKILL, a crash) cannot
 * remove its own, so every start removes those of ours no session holds.
 * A directory is made under a name no sweep looks at, locked, and only
 * then given its name, so a sweep never takes one being born.
 */
static int private_dir(const char *base, const char *kind, char *out, size_t cap)
{
        char fresh[PATH_MAX];
        int fd;

        snprintf(fresh, sizeof(fresh), "%s/interpose-new-XXXXXX", base);
        if (!mkdtemp(fresh))
                return -errno;
        fd = open(fresh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                rmdir(fresh);
                return -e;
        }
        snprintf(out, cap, "%s/interpose-%s-%s", base, kind,
                 fresh + strlen(base) + strlen("/interpose-new-"));
        if (rename(fresh, out) < 0) {
                int e = errno;
                close(fd);
                rmdir(fresh);
                return -e;
        }
        return fd;
}

/* Remove base/interpose-KIND-* directories of ours that no session holds. */
static void sweep(const char *base, const char *kind)
{
        char prefix[32], path[PATH_MAX];
        DIR *d = opendir(base);
        struct dirent *de;

        if (!d)
                return;
        snprintf(prefix, sizeof(prefix), "interpose-%s-", kind);
        while ((de = readdir(d))) {
                struct stat st;
                int fd;
                if (strncmp(de->d_name, prefix, strlen(prefix)))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
                if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                        continue;
                fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        remove_tree(path); /* nobody's: its session is gone */
                close(fd);
        }
        closedir(d);
}

/*
 * The guest's environment (DESIGN.md invariant 8): every variable whose
 * name or value looks like a secret is removed, unless an --allow-env glob
 * names it; --env=NAME=VALUE sets one. Every secret value, removed or
 * passed, is registered for redaction from the audit log and the trace.
 * Returns the removed names, comma-separated ("" for none; malloc'd).
 */
static char *scrub_environment(const char *const *allow, size_t nallow, const char *const *set, size_t nset)
{
        char *names = xstrdup(""), **copy;
        size_t n = 0, len = 0;

        for (char **e = environ; *e; e++)
                n++;
        copy = xcalloc(n + 1, sizeof(*copy));
        for (size_t i = 0; i < n; i++)
                copy[i] = xstrdup(environ[i]);
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(copy[i], '=');
                if (!eq)
                        continue;
                *eq = '\0';
                const char *name = copy[i], *value = eq + 1;
                bool secret = secret_var(name, value);
                if (secret)
                        secrets_add(value);
                if (secret && !secret_env_allowed(name, allow, nallow)) {
                        unsetenv(name);
                        names = xrealloc(names, len + strlen(name) + 2);
                        len += (size_t)sprintf(names + len, "%s%s", len ? "," : "", name);
                }
                free(copy[i]);
        }
        free(copy);
        for (size_t i = 0; i < nset; i++) {
                char *kv = xstrdup(set[i]), *eq = strchr(kv, '=');
                *eq = '\0';
                if (secret_var(kv, eq + 1))
                        secrets_add(eq + 1);
                setenv(kv, eq + 1, 1);
                free(kv);
        }
        return names;
}

static const char *sweep_base;

/* Earlier sessions' private directories, swept once this one has started
 * (ours is locked by then). */
static void housekeeping(void)
{
        sweep(sweep_base, "tmp");
        sweep("/dev/shm", "shm");
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "trace", no_argument, NULL, 't' },
                { "trace-file", required_argument, NULL, 'T' },
                { "audit", required_argument, NULL, 'a' },
                { "summary", no_argument, NULL, 's' },
                { "hostname", required_argument, NULL, 'H' },
                { "platform", required_argument, NULL, 'p' },
                { "profile", required_argument, NULL, 'P' },
                { "policy", required_argument, NULL, 'F' },
                { "workspace", required_argument, NULL, 'W' },
                { "allow-read", required_argument, NULL, 'R' },
                { "allow-write", required_argument, NULL, 'w' },
                { "allow-exec", required_argument, NULL, 'x' },
                { "deny", required_argument, NULL, 'D' },
                { "net", required_argument, NULL, 'N' },
                { "allow-net", required_argument, NULL, 'n' },
                { "deny-net", required_argument, NULL, 'd' },
                { "dns-upstream", required_argument, NULL, 'u' },
                { "max-procs", required_argument, NULL, 1001 },
                { "max-memory", required_argument, NULL, 1002 },
                { "max-fds", required_argument, NULL, 1003 },
                { "max-write", required_argument, NULL, 1004 },
                { "timeout", required_argument, NULL, 1005 },
                { "max-audit", required_argument, NULL, 1006 },
                { "allow-env", required_argument, NULL, 1010 },
                { "backtrace", no_argument, NULL, 1012 },
                { "keep-fds", no_argument, NULL, 1013 },
                { "audit-sink", required_argument, NULL, 1014 },
                { "env", required_argument, NULL, 1011 },
                { "ask-read", required_argument, NULL, 1020 },
                { "ask-write", required_argument, NULL, 1021 },
                { "ask-exec", required_argument, NULL, 1022 },
                { "ask-net", required_argument, NULL, 1023 },
                { "ask-timeout", required_argument, NULL, 1024 },
                { "approver", required_argument, NULL, 1025 },
                { "control", required_argument, NULL, 1026 },
                { "fail-on", required_argument, NULL, CI_OPT_FAIL_ON },
                { "junit", required_argument, NULL, CI_OPT_JUNIT },
                { "artifacts", required_argument, NULL, CI_OPT_ARTIFACTS },
                { "learn", optional_argument, NULL, CI_OPT_LEARN },
                { "no-repo-policy", no_argument, NULL, CI_OPT_NO_REPO_POLICY },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        static struct policy_options po;
        static struct policy policy;
        static struct ci_opts ci;
        struct session_opts o = { .platform = NULL,
                                  .limits = { .max_procs = 512, .max_audit = 1ULL << 30 },
                                  .ask_timeout_ms = 60000 };
        struct policy_error perr = { "" };
        char exe[PATH_MAX], tmpdir[PATH_MAX] = "", shmdir[PATH_MAX] = "";
        bool platform_set = false;
        int c, r;
        const char *allow_env[64], *set_env[64];
        size_t n_allow_env = 0, n_set_env = 0;

        if (argc > 1 && strcmp(argv[1], "syscalls") == 0)
                return verb_syscalls(argc - 1, argv + 1);
        if (argc > 1 && strcmp(argv[1], "audit") == 0)
                return verb_audit(argc - 1, argv + 1);
        if (argc > 1 && strcmp(argv[1], "policy") == 0)
                return verb_policy(argc - 1, argv + 1);
        if (argc > 1 &&
            (!strcmp(argv[1], "pending") || !strcmp(argv[1], "approve") || !strcmp(argv[1], "deny")))
                return approve_main(argc - 1, argv + 1);

        if (argc > 1 && strcmp(argv[1], "ci") == 0) {
                /* interpose ci [OPTIONS] -- COMMAND...: the same options,
                 * CI defaults, reports and a gate after (ci.c). */
                ci.on = true;
                argc--;
                argv++;
        }
        /* '+': stop at the program name, so its own options stay its own. */
        while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
                switch (c) {
                case 't':
                        o.trace = true;
                        break;
                case 'T':
                        o.trace_path = optarg;
                        break;
                case 'a':
                        o.audit_path = optarg;
                        break;
                case 's':
                        o.summary = true;
                        break;
                case 'H':
                        if (!*optarg || strlen(optarg) > 64) {
                                fprintf(stderr, "interpose: --hostname: give 1 to 64 characters\n");
                                return EXIT_INTERPOSE_FAILED;
                        }
                        o.hostname = optarg;
                        break;
                case 'p':
                        platform_set = true;
                        if (!strcmp(optarg, "seccomp-unotify") || !strcmp(optarg, "unotify")) {
                                o.platform = &platform_unotify_ops;
                        } else if (!strcmp(optarg, "ptrace")) {
                                o.platform = &platform_ptrace_ops;
                        } else if (!strcmp(optarg, "auto")) {
                                o.platform = NULL;
                        } else {
                                fprintf(stderr,
                                        "interpose: unknown platform '%s'; available: auto, unotify "
                                        "(seccomp-unotify), ptrace\n",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 'P':
                        po.profile = optarg;
                        break;
                case 'F':
                        po.policy_file = optarg;
                        break;
                case 'W':
                        po.workspace = optarg;
                        break;
                case 'R':
                case 'w':
                case 'x':
                case 'D':
                case 'N':
                case 'n':
                case 'd':
                case 'u':
                case 1020:
                case 1021:
                case 1022:
                case 1023:
                        r = policy_parse_flag(&po,
                                              c == 1020   ? "--ask-read"
                                              : c == 1021 ? "--ask-write"
                                              : c == 1022 ? "--ask-exec"
                                              : c == 1023 ? "--ask-net"
                                              : c == 'R'  ? "--allow-read"
                                              : c == 'w'  ? "--allow-write"
                                              : c == 'x'  ? "--allow-exec"
                                              : c == 'D'  ? "--deny"
                                              : c == 'N'  ? "--net"
                                              : c == 'n'  ? "--allow-net"
                                              : c == 'd'  ? "--deny-net"
                                                          : "--dns-upstream",
                                              optarg);
                        if (r < 0) {
                                fprintf(stderr, "interpose: too many rule flags (at most %d)\n",
                                        POLICY_MAX_FLAGS);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 1001:
                case 1003:
                        if (parse_count(optarg, c == 1001 ? &o.limits.max_procs : &o.limits.max_fds) < 0) {
                                fprintf(stderr, "interpose: --%s=%s: give a whole number from 1 up\n",
                                        c == 1001 ? "max-procs" : "max-fds", optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 1012:
                        o.backtrace = true;
                        break;
                case 1013:
                        o.keep_fds = true;
                        break;
                case 1014:
                        if (strncmp(optarg, "unix:", 5) || optarg[5] != '/') {
                                fprintf(stderr,
                                        "interpose: --audit-sink=%s: give unix:PATH, an absolute path to a "
                                        "collector's stream socket\n",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        o.audit_sink = optarg + 5;
                        break;
                case 1010:
                case 1011:
                        if (c == 1011 && (!strchr(optarg, '=') || optarg[0] == '=')) {
                                fprintf(stderr, "interpose: --env=%s: give NAME=VALUE\n", optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        if ((c == 1010 ? n_allow_env : n_set_env) == 64) {
                                fprintf(stderr, "interpose: too many --%s options (at most 64)\n",
                                        c == 1010 ? "allow-env" : "env");
                                return EXIT_INTERPOSE_FAILED;
                        }
                        if (c == 1010)
                                allow_env[n_allow_env++] = optarg;
                        else
                                set_env[n_set_env++] = optarg;
                        break;
                case 1002:
                case 1004:
                case 1006:
                        if (parse_size(optarg, c == 1002   ? &o.limits.max_memory
                                               : c == 1004 ? &o.limits.max_write
                                                           : &o.limits.max_audit) < 0) {
                                fprintf(stderr,
                                        "interpose: --%s=%s: give a size in bytes, or with K, M, G or T "
                                        "(powers of 1024), e.g. 512M\n",
                                        c == 1002   ? "max-memory"
                                        : c == 1004 ? "max-write"
                                                    : "max-audit",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 1005:
                        if (parse_duration(optarg, &o.limits.timeout_ms) < 0) {
                                fprintf(stderr,
                                        "interpose: --timeout=%s: give a duration: seconds, or a number with "
                                        "ms, s, m or h, e.g. 90s or 10m\n",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 1024:
                        if (!strcmp(optarg, "0"))
                                o.ask_timeout_ms = 0;
                        else if (parse_duration(optarg, &o.ask_timeout_ms) < 0) {
                                fprintf(stderr,
                                        "interpose: --ask-timeout=%s: give a duration: seconds, or a number "
                                        "with ms, s, m or h, e.g. 60s; 0 waits for ever\n",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 1025:
                        if (!strcmp(optarg, "auto"))
                                o.approver = APPROVER_AUTO;
                        else if (!strcmp(optarg, "tty"))
                                o.approver = APPROVER_TTY;
                        else if (!strcmp(optarg, "socket"))
                                o.approver = APPROVER_SOCKET;
                        else if (!strcmp(optarg, "none"))
                                o.approver = APPROVER_NONE;
                        else {
                                fprintf(stderr,
                                        "interpose: --approver=%s: give auto (the terminal if there is one), "
                                        "tty, socket (interpose approve) or none (deny every ask)\n",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        break;
                case 1026:
                        if (optarg[0] != '/' || strlen(optarg) >= 108) {
                                fprintf(stderr,
                                        "interpose: --control=%s: give an absolute path for the control "
                                        "socket, shorter than 108 bytes\n",
                                        optarg);
                                return EXIT_INTERPOSE_FAILED;
                        }
                        o.control = po.control = optarg;
                        break;
                case CI_OPT_FAIL_ON:
                case CI_OPT_JUNIT:
                case CI_OPT_ARTIFACTS:
                case CI_OPT_LEARN:
                case CI_OPT_NO_REPO_POLICY:
                        if (!ci.on) {
                                fprintf(stderr, "interpose: --fail-on, --junit, --artifacts, --learn and "
                                                "--no-repo-policy are options of `interpose ci`\n");
                                return EXIT_INTERPOSE_FAILED;
                        }
                        r = ci_option(&ci, c, optarg);
                        if (r)
                                return r;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        return version();
                default:
                        fprintf(stderr, "Try 'interpose --help' for the options.\n");
                        return EXIT_INTERPOSE_FAILED;
                }
        }
        if (optind >= argc) {
                fprintf(stderr,
                        "interpose: no program given; usage: interpose [OPTIONS] [--] PROGRAM [ARGS...]\n");
                return EXIT_INTERPOSE_FAILED;
        }
        r = session_resolve_program(argv[optind], exe, sizeof(exe));
        if (r == -ENOENT || r == -ENAMETOOLONG || r == -ENOTDIR) {
                fprintf(stderr, "interpose: %s: command not found (check the name, or PATH)\n", argv[optind]);
                return EXIT_NOT_FOUND;
        }
        if (r < 0) {
                fprintf(stderr, "interpose: %s: cannot execute: %s (check its permissions)\n", argv[optind],
                        strerror(-r));
                return EXIT_NOT_EXECUTABLE;
        }
        o.exe = exe;
        o.argv = argv + optind;
        /* INTERPOSE_PLATFORM: the default for --platform (a machine where
         * one platform is known not to work, a test matrix). */
        const char *envp = getenv("INTERPOSE_PLATFORM");
        if (!platform_set && envp && *envp) {
                if (!strcmp(envp, "unotify") || !strcmp(envp, "seccomp-unotify"))
                        o.platform = &platform_unotify_ops;
                else if (!strcmp(envp, "ptrace"))
                        o.platform = &platform_ptrace_ops;
                else if (strcmp(envp, "auto") != 0) {
                        fprintf(stderr,
                                "interpose: INTERPOSE_PLATFORM=%s is not a platform; use auto, unotify or "
                                "ptrace\n",
                                envp);
                        return EXIT_INTERPOSE_FAILED;
                }
        }
        if (!o.platform) {
                char why[320];
                if (platform_choose(&o.platform, why, sizeof(why)) < 0) {
                        fprintf(stderr, "interpose: %s\n", why);
                        return EXIT_INTERPOSE_FAILED;
                }
                if (o.platform != &platform_unotify_ops)
                        fprintf(stderr, "interpose: %s; using the ptrace platform\n", why);
        } else if (o.platform == &platform_ptrace_ops) {
                char why[320];
                if (platform_outer_listener(why, sizeof(why)) < 0) {
                        fprintf(stderr, "interpose: %s\n", why);
                        return EXIT_INTERPOSE_FAILED;
                }
        }
        if (ci.on && (r = ci_prepare(&ci, &po, &o)) != 0)
                return r;
        /* Every run has a file policy: the agent profile unless told
         * otherwise (DESIGN.md "Policy": default deny). */
        {
                /* A private temp directory, writable by the guest, named
                 * by TMPDIR; the guest's /tmp is mapped onto it. */
                const char *base = getenv("TMPDIR");
                base = base && *base == '/' ? base : "/tmp";
                sweep_base = base;
                o.housekeeping = housekeeping;
                r = private_dir(base, "tmp", tmpdir, sizeof(tmpdir));
                if (r < 0) {
                        tmpdir[0] = '\0';
                        fprintf(stderr, "interpose: cannot make a private temp directory in %s: %s\n", base,
                                strerror(-r));
                        return EXIT_INTERPOSE_FAILED;
                }
                po.tmpdir = tmpdir;
                /* And a private /dev/shm, on the same tmpfs, where the
                 * guest's shm_open and sem_open names live: a guest cannot
                 * take a name a host program will open, nor see theirs. */
                if (private_dir("/dev/shm", "shm", shmdir, sizeof(shmdir)) >= 0)
                        po.shmdir = shmdir;
                else
                        shmdir[0] = '\0';
                po.audit_path = o.audit_path;
                po.trace_path = o.trace_path;
                po.audit_sink = o.audit_sink;
                policy_init(&policy);
                if (policy_from_options(&policy, &po, &perr) < 0) {
                        fprintf(stderr, "interpose: %s\n", perr.msg);
                        rmdir(tmpdir);
                        if (shmdir[0])
                                rmdir(shmdir);
                        return EXIT_INTERPOSE_FAILED;
                }
                /* The program the user names runs, wherever it is: read and
                 * exec on that file alone, unless the policy lets it run
                 * already (a rule for it would narrow what the workspace
                 * gives it: no write, no delete). */
                char real[PATH_MAX];
                if (!realpath(exe, real))
                        snprintf(real, sizeof(real), "%s", exe);
                if (!(policy_decide(&policy, real, NULL) & PR_EXEC) &&
                    policy_add(&policy, real, PR_READ | PR_EXEC, 0, "the program named", false, &perr) < 0) {
                        fprintf(stderr, "interpose: %s\n", perr.msg);
                        rmdir(tmpdir);
                        if (shmdir[0])
                                rmdir(shmdir);
                        return EXIT_INTERPOSE_FAILED;
                }
                setenv("TMPDIR", tmpdir, 1);
                o.policy = &policy;
        }
        /* The policy's "env" first, the command line's on top; its
         * "secrets" are redacted like the environment's. */
        if (o.policy) {
                for (size_t i = 0; i < policy.n_env_allow && n_allow_env < 64; i++)
                        allow_env[n_allow_env++] = policy.env_allow[i];
                for (size_t i = 0; i < policy.n_secrets; i++)
                        secrets_add(policy.secrets[i]);
                if (policy.n_env_set + n_set_env <= 64) {
                        memmove(set_env + policy.n_env_set, set_env, n_set_env * sizeof(*set_env));
                        for (size_t i = 0; i < policy.n_env_set; i++)
                                set_env[i] = policy.env_set[i];
                        n_set_env += policy.n_env_set;
                }
        }
        o.env_scrubbed = scrub_environment(allow_env, n_allow_env, set_env, n_set_env);
        if (o.policy) {
                /* The policy the session ran under, bound into its log. */
                char *text = NULL;
                size_t tlen = 0;
                FILE *m = open_memstream(&text, &tlen);
                if (m) {
                        policy_show(o.policy, m, true);
                        fclose(m);
                        audit_sha256_hex(text, tlen, o.policy_hash);
                        free(text);
                }
        }
        r = session_run(&o);
        if (ci.on)
                r = ci_finish(&ci, &o, r);
        free(o.env_scrubbed);
        if (tmpdir[0])
                remove_tree(tmpdir);
        if (shmdir[0])
                remove_tree(shmdir);
        return r;
}
