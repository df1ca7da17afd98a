/* SPDX-License-Identifier: MIT */
/*
 * interpose policy check FILE
 * interpose policy show [--profile=NAME] [--policy=FILE] [--workspace=DIR]
 *                       [--allow-read=PATH] [--allow-write=PATH] [--allow-exec=PATH]
 *                       [--deny=PATH] [--json]
 *
 * The effective file rules: the profile, then the policy file, then the
 * flags, in that order of precedence on equal paths (deny beats allow).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../sentry/util.h"
#include "verbs.h"
#include "policy-options.h"

#define EXIT_BAD_INPUT 125

/* interpose's own records are out of the guest's reach whatever the
 * rules say: the state directory with earlier sessions' audit logs, and
 * the files named by --audit and --trace-file, the approvals socket and
 * the audit collector's socket, where a guest could inject records
 * (relative to the current directory, as the launcher opens them). */
static int deny_own_records(struct policy *p, const struct policy_options *o, struct policy_error *err)
{
        const char *files[] = { o->audit_path, o->trace_path, o->control, o->audit_sink };
        static const char *const names[] = { "--audit", "--trace-file", "--control", "--audit-sink" };
        char path[PATH_MAX], cwd[PATH_MAX];
        int r;

        if (interpose_state_dir(path, sizeof(path)) == 0 &&
            (r = policy_add(p, path, PR_NOSCAN, PR_ALL, "interpose's state (audit logs)", false, err)) < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                if (!files[i] || !*files[i])
                        continue;
                if (files[i][0] == '/')
                        snprintf(path, sizeof(path), "%s", files[i]);
                else if (getcwd(cwd, sizeof(cwd)))
                        snprintf(path, sizeof(path), "%s/%s", cwd, files[i]);
                else
                        continue;
                r = policy_add(p, path, 0, PR_ALL, names[i], false, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A repository's own policy (interpose ci's .interpose.json) is written
 * by whoever can open a pull request: it may open reads and network
 * destinations the build needs, but not pass the runner's secrets to the
 * job, nor let it write outside the workspace (a ~/.profile or ~/.bashrc
 * written on a self-hosted runner runs for every later job), nor open the
 * whole network. Those come from the runner's command line. */
static int repo_policy_bounds(const struct policy *p, const char *file, size_t rules_before,
                              size_t env_before, const char *ws_before, struct policy_error *err)
{
        size_t wl = p->workspace ? strlen(p->workspace) : 0;

        if (!ws_before || !p->workspace || strcmp(ws_before, p->workspace)) {
                snprintf(err->msg, sizeof(err->msg),
                         "%s: a repository's policy may not choose the workspace; --workspace does", file);
                return -EPERM;
        }
        const unsigned changes = PR_WRITE | PR_CREATE | PR_DELETE;

        if (p->n_env_allow > env_before) {
                snprintf(err->msg, sizeof(err->msg),
                         "%s: a repository's policy may not pass environment variables (env allow %s); the "
                         "runner passes them with --allow-env",
                         file, p->env_allow[env_before]);
                return -EPERM;
        }
        if (p->net.mode == NET_HOST) {
                snprintf(err->msg, sizeof(err->msg),
                         "%s: a repository's policy may not open the whole network (mode host); --net=host "
                         "does",
                         file);
                return -EPERM;
        }
        for (size_t i = rules_before; i < p->n; i++) {
                const struct policy_rule *r = &p->rules[i];
                unsigned gives = r->allow | r->ask;
                bool inside = wl && !strncmp(r->path, p->workspace, wl) &&
                              (r->path[wl] == '/' || !r->path[wl]);
                if ((gives & changes) && !inside) {
                        snprintf(err->msg, sizeof(err->msg),
                                 "%s: a repository's policy may not give write, create or delete outside the "
                                 "workspace (%s); the runner gives them with --allow-write",
                                 r->origin, r->path);
                        return -EPERM;
                }
        }
        return 0;
}

/* A workspace is writable: one that is a system tree (or all of /) is
 * almost always an accident of where interpose was started, and would
 * give the guest the machine. NULL, or the reason. */
static const char *bad_workspace(const char *ws)
{
        static const char *const whole[] = { "/",      "/usr",   "/etc",    "/bin", "/sbin", "/lib",
                                             "/lib32", "/lib64", "/libx32", "/opt", "/var",  "/run",
                                             "/tmp",   "/home",  "/srv",    "/mnt", "/media" };
        static const char *const trees[] = { "/proc", "/sys", "/dev", "/boot" };

        for (size_t i = 0; i < ARRAY_SIZE(whole); i++)
                if (!strcmp(ws, whole[i]))
                        return "a system directory";
        for (size_t i = 0; i < ARRAY_SIZE(trees); i++) {
                size_t n = strlen(trees[i]);
                if (!strncmp(ws, trees[i], n) && (ws[n] == '/' || !ws[n]))
                        return "in a kernel or boot tree";
        }
        return NULL;
}

static int dns_upstream_check(const char *s)
{
        struct sockaddr_storage ss;
        unsigned len;

        return net_parse_endpoint(s, &ss, &len);
}

int policy_from_options(struct policy *p, const struct policy_options *o, struct policy_error *err)
{
        char ws[PATH_MAX], *tmp;
        const char *home = getenv("HOME");
        int r;

        if (o->workspace) {
                if (!realpath(o->workspace, ws)) {
                        snprintf(err->msg, sizeof(err->msg), "--workspace=%s: %s", o->workspace,
                                 strerror(errno));
                        return -errno;
                }
        } else if (!getcwd(ws, sizeof(ws))) {
                snprintf(err->msg, sizeof(err->msg), "cannot tell the current directory: %s",
                         strerror(errno));
                return -errno;
        }
        tmp = o->tmpdir ? (char *)o->tmpdir : NULL;
        r = policy_profile(p, o->profile ? o->profile : "agent", home, ws, tmp, err);
        if (r < 0)
                return r;
        p->profile_explicit = o->profile != NULL;
        p->workspace_explicit = o->workspace != NULL;
        if (o->policy_file) {
                size_t rules_before = p->n, env_before = p->n_env_allow;
                _cleanup_free_ char *ws_before = p->workspace ? xstrdup(p->workspace) : NULL;
                r = policy_load_file(p, o->policy_file, err);
                if (r < 0)
                        return r;
                if (o->policy_untrusted &&
                    (r = repo_policy_bounds(p, o->policy_file, rules_before, env_before, ws_before, err)) < 0)
                        return r;
        }
        if (o->shmdir) {
                /* The guest's /dev/shm (the walk maps it): all its own. */
                free(p->shmdir);
                p->shmdir = xstrdup(o->shmdir);
                r = policy_add(p, o->shmdir, PR_RW, 0, "the session's /dev/shm", false, err);
                if (r < 0)
                        return r;
        }
        if (o->net && net_mode_parse(o->net, &p->net.mode) < 0) {
                snprintf(err->msg, sizeof(err->msg), "--net=%s: the network mode is 'none' or 'host'",
                         o->net);
                return -EINVAL;
        }
        if (o->dns_upstream) {
                r = dns_upstream_check(o->dns_upstream);
                if (r < 0) {
                        snprintf(err->msg, sizeof(err->msg),
                                 "--dns-upstream=%s: give the resolver as IPV4:PORT or [IPV6]:PORT",
                                 o->dns_upstream);
                        return r;
                }
                free(p->net.dns_upstream);
                p->net.dns_upstream = xstrdup(o->dns_upstream);
        }
        for (size_t i = 0; i < o->n_flags; i++) {
                if ((o->flags[i].allow | o->flags[i].deny) & PR_NET) {
                        char origin[320], why[512];
                        snprintf(origin, sizeof(origin), "%s=%s", o->flags[i].name, o->flags[i].path);
                        r = net_policy_add(&p->net, o->flags[i].path,
                                           o->flags[i].deny               ? NET_RULE_DENY
                                           : o->flags[i].allow & PR_ASKED ? NET_RULE_ASK
                                                                          : NET_RULE_ALLOW,
                                           origin, why, sizeof(why));
                        p->asks |= (o->flags[i].allow & PR_ASKED) != 0;
                        if (r < 0) {
                                snprintf(err->msg, sizeof(err->msg), "%s: %s", o->flags[i].name, why);
                                return r;
                        }
                        continue;
                }
                r = policy_add(p, o->flags[i].path, o->flags[i].allow, o->flags[i].deny, o->flags[i].name,
                               true, err);
                if (r < 0)
                        return r;
        }
        {
                const char *why = bad_workspace(p->workspace);
                if (why) {
                        snprintf(err->msg, sizeof(err->msg),
                                 "the workspace would be %s, %s, and the guest could write all of it; run "
                                 "interpose from your project's directory or give --workspace=DIR",
                                 p->workspace, why);
                        return -EINVAL;
                }
        }
        r = deny_own_records(p, o, err);
        if (r < 0)
                return r;
        /* Denied trees mounted again elsewhere (bind mounts). */
        {
                size_t cap = 1 << 20;
                _cleanup_free_ char *mi = xmalloc(cap);
                if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", mi, cap) >= 0)
                        r = policy_deny_bind_mounts(p, mi, err);
        }
        return r;
}

/* One of the rule flags, or -1. */
int policy_parse_flag(struct policy_options *o, const char *name, const char *value)
{
        static const struct {
                const char *name;
                unsigned allow, deny;
        } kinds[] = {
                { "--allow-read", PR_READ | PR_LIST, 0 },
                { "--allow-write", PR_READ | PR_LIST | PR_WRITE | PR_CREATE | PR_DELETE, 0 },
                { "--allow-exec", PR_READ | PR_LIST | PR_EXEC, 0 },
                { "--deny", 0, PR_ALL },
                /* rights given on request: a person approves each use */
                { "--ask-read", PR_ASKED | PR_READ | PR_LIST, 0 },
                { "--ask-write", PR_ASKED | PR_WRITE | PR_CREATE | PR_DELETE, 0 },
                { "--ask-exec", PR_ASKED | PR_EXEC, 0 },
                { "--ask-net", PR_ASKED | PR_NET, 0 },
                /* network rules: allow/deny marks which */
                { "--allow-net", PR_NET, 0 },
                { "--deny-net", 0, PR_NET },
        };

        if (!strcmp(name, "--net")) {
                o->net = value;
                return 0;
        }
        if (!strcmp(name, "--dns-upstream")) {
                o->dns_upstream = value;
                return 0;
        }
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                if (strcmp(name, kinds[i].name))
                        continue;
                if (o->n_flags == POLICY_MAX_FLAGS)
                        return -E2BIG;
                o->flags[o->n_flags++] = (struct policy_flag){ kinds[i].name, value, kinds[i].allow,
                                                               kinds[i].deny };
                return 0;
        }
        return -ENOENT;
}

static int usage(FILE *f, int code)
{
        fprintf(f,
                "usage: interpose policy check FILE\n"
                "       interpose policy show [--profile=agent|strict|ci] [--policy=FILE] [--workspace=DIR]\n"
                "                             [--allow-read=PATH] [--allow-write=PATH] [--allow-exec=PATH]\n"
                "                             [--deny=PATH] [--ask-read=PATH] [--ask-write=PATH]\n"
                "                             [--ask-exec=PATH] [--ask-net=SPEC] [--json]\n");
        return code;
}

int verb_policy(int argc, char **argv)
{
        static struct policy_options o;
        struct policy p;
        struct policy_error err = { "" };
        bool json = false;
        int r;

        if (argc < 2)
                return usage(stderr, EXIT_BAD_INPUT);
        if (!strcmp(argv[1], "check")) {
                if (argc != 3)
                        return usage(stderr, EXIT_BAD_INPUT);
                o.policy_file = argv[2];
        } else if (!strcmp(argv[1], "show")) {
                for (int i = 2; i < argc; i++) {
                        char *eq = strchr(argv[i], '=');
                        const char *a = argv[i];
                        if (!strcmp(a, "--json")) {
                                json = true;
                                continue;
                        }
                        if (!eq || strncmp(a, "--", 2)) {
                                fprintf(stderr,
                                        "interpose policy show: %s: options take the form --NAME=VALUE\n", a);
                                return usage(stderr, EXIT_BAD_INPUT);
                        }
                        *eq = '\0';
                        if (!strcmp(a, "--profile"))
                                o.profile = eq + 1;
                        else if (!strcmp(a, "--policy"))
                                o.policy_file = eq + 1;
                        else if (!strcmp(a, "--workspace"))
                                o.workspace = eq + 1;
                        else if ((r = policy_parse_flag(&o, a, eq + 1)) < 0) {
                                fprintf(stderr, "interpose policy show: %s: %s\n", a,
                                        r == -E2BIG ? "too many rule flags" : "unknown option");
                                return usage(stderr, EXIT_BAD_INPUT);
                        }
                }
        } else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
                return usage(stdout, 0);
        } else {
                return usage(stderr, EXIT_BAD_INPUT);
        }
        policy_init(&p);
        r = policy_from_options(&p, &o, &err);
        if (r < 0) {
                fprintf(stderr, "interpose: %s\n", err.msg);
                policy_free(&p);
                return EXIT_BAD_INPUT;
        }
        if (!strcmp(argv[1], "check"))
                printf("%s: ok, %zu rules with the %s profile\n", o.policy_file, p.n, p.profile);
        else
                policy_show(&p, stdout, json);
        policy_free(&p);
        return 0;
}
