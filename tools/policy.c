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

/* What the policy held before a repository's file was applied. */
struct repo_before {
        size_t rules, env, secrets, net;
        const char *workspace;
};

/* The widest address range a repository may name: a /16 of IPv4, a /48
 * of IPv6 (one site). A service's hosts, not "the internet": 0.0.0.0/0 or
 * "*" is host mode minus the guarded addresses. */
#define REPO_WIDEST_V4 16
#define REPO_WIDEST_V6 48

/* A repository's network rules open named services, never much of the
 * network, nor the host's own services, link-local or cloud metadata
 * addresses (a host service on loopback held the runner's secrets); its
 * rules are marked so that no name of its reaches those either. */
static int repo_net_bounds(struct policy *p, const char *file, size_t before, struct policy_error *err)
{
        for (size_t i = before; i < p->net.n; i++) {
                struct net_rule *r = &p->net.rules[i];
                char host[160];
                bool wide = r->kind == NH_ANY || (r->kind == NH_WILDCARD && !strchr(r->name, '.')) ||
                            (r->kind == NH_ADDR &&
                             r->prefix < (r->family == AF_INET ? REPO_WIDEST_V4 : REPO_WIDEST_V6));

                r->untrusted = true;
                if (r->deny)
                        continue;
                net_rule_host(r, host, sizeof(host));
                if (wide) {
                        snprintf(err->msg, sizeof(err->msg),
                                 "%s: a repository's policy may not open so much of the network (%s: wider "
                                 "than "
                                 "a /%d of IPv4, a /%d of IPv6 or one domain's names); the runner opens it "
                                 "with --allow-net",
                                 r->origin ? r->origin : file, host, REPO_WIDEST_V4, REPO_WIDEST_V6);
                        return -EPERM;
                }
                if (net_rule_guarded(r)) {
                        snprintf(
                                err->msg, sizeof(err->msg),
                                "%s: a repository's policy may not reach the host's own services, link-local "
                                "or cloud metadata addresses (%s); the runner names them with --allow-net",
                                r->origin ? r->origin : file, host);
                        return -EPERM;
                }
        }
        return 0;
}

/* What the profile (the policy before the repository's rules) gives on
 * the whole tree at path: on it and below it, so an exact rule ("/" may be
 * listed) does not stand for the tree. */
static unsigned profile_gives(const struct policy *profile, const char *path)
{
        char below[PATH_MAX];

        snprintf(below, sizeof(below), "%s/-", strcmp(path, "/") ? path : "");
        return policy_decide(profile, path, NULL) & policy_decide(profile, below, NULL) & PR_ALL;
}

/* A repository's rules may give write, create or delete in the workspace
 * only (a ~/.profile or ~/.bashrc written on a self-hosted runner runs
 * for every later job), and outside it no right the profile does not
 * give already: /proc/keys, the runner's home and its .credentials are
 * not the build's. */
static int repo_rule_bounds(const struct policy *p, size_t before, struct policy_error *err)
{
        const unsigned changes = PR_WRITE | PR_CREATE | PR_DELETE;
        size_t wl = p->workspace ? strlen(p->workspace) : 0;
        struct policy profile = *p;
        char rights[64];

        profile.n = before;
        for (size_t i = before; i < p->n; i++) {
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
                gives &= ~(r->glob ? 0 : profile_gives(&profile, r->path));
                if (gives && !inside) {
                        snprintf(
                                err->msg, sizeof(err->msg),
                                "%s: a repository's policy may not give %s outside the workspace beyond what "
                                "the profile gives (%s); the runner gives it with --allow-read",
                                r->origin, policy_rights_str(gives, rights, sizeof(rights)), r->path);
                        return -EPERM;
                }
        }
        return 0;
}

/* A repository's own policy (interpose ci's .interpose.json) is written
 * by whoever can open a pull request: it may narrow the sandbox, and open
 * the workspace and named network services the build needs, but not
 * choose the workspace or the resolver, pass the runner's secrets to the
 * job, blind the audit log with "secrets" (redacting what is not one), or
 * widen what the profile reaches outside the workspace or the network.
 * Those come from the runner's command line. */
static int repo_policy_bounds(struct policy *p, const char *file, const struct repo_before *b,
                              struct policy_error *err)
{
        const char *no = NULL;

        if (!b->workspace || !p->workspace || strcmp(b->workspace, p->workspace))
                no = "choose the workspace; --workspace does";
        else if (p->n_env_allow > b->env)
                no = "pass environment variables (env allow); the runner passes them with --allow-env";
        else if (p->n_secrets > b->secrets)
                no = "name secrets to redact (they would blind the audit log); the runner names them";
        else if (p->net.dns_upstream) /* no profile sets one */
                no = "choose the resolver (dns_upstream); --dns-upstream does";
        else if (p->net.mode == NET_HOST)
                no = "open the whole network (mode host); --net=host does";
        if (no) {
                snprintf(err->msg, sizeof(err->msg), "%s: a repository's policy may not %s", file, no);
                return -EPERM;
        }
        int r = repo_rule_bounds(p, b->rules, err);
        return r < 0 ? r : repo_net_bounds(p, file, b->net, err);
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
                _cleanup_free_ char *ws_before = p->workspace ? xstrdup(p->workspace) : NULL;
                struct repo_before b = { p->n, p->n_env_allow, p->n_secrets, p->net.n, ws_before };
                r = policy_load_file(p, o->policy_file, err);
                if (r < 0)
                        return r;
                if (o->policy_untrusted && (r = repo_policy_bounds(p, o->policy_file, &b, err)) < 0)
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
