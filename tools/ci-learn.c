/* SPDX-License-Identifier: MIT */
/*
 * --learn: the policy file (policy/load.c's format) that would have
 * allowed what the job was refused.
 *
 *   {"profile": "ci",
 *    "comment": ["learned by interpose ci ...", "not allowed here: ..."],
 *    "rules": [{"path": "/srv/data", "allow": ["read", "list"], "comment": "..."}],
 *    "net": {"allow": ["pypi.org:443", "1.1.1.1:443", "example.com"], "comment": [...]}}
 *
 * A rule replaces, on its own path, whatever rule was there before it (the
 * most specific rule decides), so a learned rule keeps the rights the
 * session's policy already gave there and adds what was refused; exec
 * also gets read, and read list (as --allow-read gives them). What no rule can lift goes into the comments:
 * refusals by a deny rule (deny beats allow), by the sandbox itself (own-tree, foreign ABIs, the syscall
 * table), asks (nobody answers in CI: make the ask an allow), limits. Paths in the home are written "~/...",
 * in the workspace relative to it, so the file holds on another runner.
 *
 * The file is checked before it is written: loaded by the policy loader on
 * the profile, each rule must give what was refused; one that does not is
 * moved to the comments.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../sentry/util.h"
#include "ci-report-int.h"

/* The loader takes files up to 1 MiB, and nobody reads a thousand rules:
 * past these, refusals are left out (and counted in a comment). */
#define LEARN_PATHS_MAX (512 * 1024)
#define LEARN_RULES_MAX 1000
#define LEARN_NOTES_MAX 200

struct rule {
        char *path;    /* as written in the file */
        char *abs;     /* the object */
        unsigned need; /* what was refused */
        unsigned rights;
        unsigned long count;
        char *note;
        bool dropped;
};

struct learn {
        const struct ci_ctx *x;
        const struct ci_log *log;
        struct rule *rules;
        size_t n, cap;
        json_t *by_abs; /* object -> index into rules */
        size_t path_bytes;
        unsigned long left_out;
        json_t *notes; /* [string] */
        json_t *net;   /* spec -> [string] */
};

static void note(struct learn *l, const struct ci_finding *f, const char *why)
{
        _cleanup_free_ char *what = ci_describe(l->x, f, false), *text = NULL;

        if (json_array_size(l->notes) >= LEARN_NOTES_MAX) {
                l->left_out++;
                return;
        }
        if (asprintf(&text, "not allowed here: %s, %lu %s: %s", what, f->count,
                     f->count == 1 ? "time" : "times", why) < 0)
                abort();
        json_array_append_new(l->notes, json_string(text));
}

/* The rights a record names ("read", "read,write", "lookup"). */
static unsigned rights_named(const char *s)
{
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL, *w;
        unsigned r = 0, one;

        for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                /* Lookup (stat, walking through) comes with any right. */
                /* (the least that gives it: names below, no contents) */
                one = !strcmp(w, "lookup") ? PR_LIST : policy_right_by_name(w);
                if (!one)
                        return 0;
                r |= one;
        }
        return r;
}

/* Can path be written as a rule that names exactly it? NULL, or why not. */
static const char *unnameable(const char *path)
{
        size_t n = strlen(path);
        json_t *probe;

        if (path[0] != '/' || strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
            (n >= 2 && !strcmp(path + n - 2, "/.")) || (n >= 3 && !strcmp(path + n - 3, "/..")))
                return "not a canonical path";
        /* jansson, and so the loader, takes UTF-8 only. */
        probe = json_string(path);
        if (!probe)
                return "the path is not UTF-8, which a policy file cannot hold";
        json_decref(probe);
        if (strpbrk(path, "*?["))
                return "a rule with * ? or [ in its path is a pattern, which would name more than this";
        return NULL;
}

/* The path as the file writes it: relative in the workspace, "~/..." in
 * the home, else as it is. */
static char *written(const struct ci_ctx *x, const char *abs)
{
        size_t w = x->workspace ? strlen(x->workspace) : 0, h = x->home ? strlen(x->home) : 0;
        char *out;

        if (w > 1 && !strncmp(abs, x->workspace, w) && (abs[w] == '/' || !abs[w]))
                return xstrdup(abs[w] ? abs + w + 1 : ".");
        if (h > 1 && !strncmp(abs, x->home, h) && (abs[h] == '/' || !abs[h])) {
                if (asprintf(&out, "~%s", abs + h) < 0)
                        abort();
                return out;
        }
        return xstrdup(abs);
}

static void learn_file(struct learn *l, const struct ci_finding *f)
{
        const struct policy *p = l->x->policy;
        _cleanup_free_ char *abs = ci_raw(f->object);
        const struct policy_rule *by = NULL;
        unsigned need = rights_named(f->right), have = 0;
        const char *why;
        char buf[PATH_MAX + 256], names[64];
        struct rule *r;

        if (!need)
                return note(l, f, "a right a policy does not name");
        if (f->cut)
                return note(l, f, "its name was cut short in the log: which file it was cannot be told");
        if ((why = unnameable(abs)))
                return note(l, f, why);
        /* A rule gives its rights to the whole tree below its path: any
         * right on / or a directory just below it (/srv, /home) or on the
         * home itself would give far more than what was refused. Left to
         * a person. */
        if (!strchr(abs + 1, '/') || (l->x->home && !strcmp(abs, l->x->home)))
                return note(l, f, "a rule for this directory would cover too much of the machine");
        if (p) {
                have = policy_decide(p, abs, &by);
                if (by && (by->deny & need)) {
                        _cleanup_free_ char *rp = ci_text_bytes(by->path, 0),
                                            *origin = ci_text_bytes(by->origin, 0);
                        snprintf(buf, sizeof(buf),
                                 "denied by the rule for %s (%s); no allow rule lifts a deny rule", rp,
                                 origin);
                        return note(l, f, buf);
                }
                if (PR_ASK_RIGHTS(have) & need)
                        return note(l, f, "given on request by an ask rule: make it an allow rule");
        }
        if (need & PR_EXEC)
                need |= PR_READ;
        /* Read as --allow-read gives it, with list: a refusal stops a
         * program at its first step (ls is refused the stat of a
         * directory, and would be the listing next). */
        if (need & PR_READ)
                need |= PR_LIST;
        /* One rule per path: refusals of other rights on it merge in. */
        json_t *at = json_object_get(l->by_abs, abs);
        if (at) {
                r = &l->rules[json_integer_value(at)];
                r->need |= need;
                r->rights |= need;
                r->count += f->count;
                return;
        }
        if (l->path_bytes + strlen(abs) > LEARN_PATHS_MAX || l->n >= LEARN_RULES_MAX) {
                l->left_out++;
                return;
        }
        l->path_bytes += strlen(abs);
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 32;
                l->rules = xrealloc(l->rules, l->cap * sizeof(*l->rules));
        }
        json_object_set_new(l->by_abs, abs, json_integer((json_int_t)l->n));
        r = &l->rules[l->n++];
        *r = (struct rule){
                .path = written(l->x, abs), .abs = TAKE_PTR(abs), .need = need, .count = f->count
        };
        r->rights = (have & PR_ALL) | need;
        if (have & PR_ALL)
                snprintf(buf, sizeof(buf), "; %s kept from the session's policy",
                         policy_rights_str(have & PR_ALL, names, sizeof(names)));
        else
                buf[0] = '\0';
        _cleanup_free_ char *what = ci_describe(l->x, f, false), *prog = ci_text(f->exe);
        if (asprintf(&r->note, "refused: %s (%s by %s)%s", what, f->syscall, prog, buf) < 0)
                abort();
}

/* A network destination rule, checked as the loader would parse it. */
static void learn_net(struct learn *l, const struct ci_finding *f, const char *spec)
{
        struct net_policy probe;
        char err[256];
        json_t *why;
        _cleanup_free_ char *what = ci_describe(l->x, f, false), *prog = ci_text(f->exe), *text = NULL;
        int r;

        net_policy_init(&probe);
        r = net_policy_add(&probe, spec, NET_RULE_ALLOW, "learned", err, sizeof(err));
        net_policy_free(&probe);
        if (r < 0 || (!json_object_get(l->net, spec) && json_object_size(l->net) >= CI_KEEP_MAX))
                return note(l, f, r < 0 ? "not a destination a policy can name" : "too many destinations");
        why = json_object_get(l->net, spec);
        if (!why) {
                why = json_array();
                json_object_set_new(l->net, spec, why);
        }
        if (asprintf(&text, "%s, %lu %s%s%s%s", what, f->count, f->count == 1 ? "time" : "times",
                     *prog ? " (" : "", prog, *prog ? ")" : "") < 0)
                abort();
        json_array_append_new(why, json_string(text));
}

static void learn_network(struct learn *l, const struct ci_finding *f)
{
        _cleanup_free_ char *spec = NULL;

        if (f->asked)
                return note(l, f, "an ask rule asked and nobody answered: make it an allow rule");
        if (!strcmp(f->by, "net-dns")) {
                if (strcmp(f->result, "NXDOMAIN") || strcmp(f->rule, "no rule allows this name"))
                        return note(l, f,
                                    !strcmp(f->result, "NXDOMAIN")
                                            ? "denied by a rule; no allow rule lifts it"
                                            : "the session's resolver answers no such query");
                spec = ci_raw(f->name);
                return learn_net(l, f, spec);
        }
        if (strcmp(f->by, "net") || !*f->dest)
                return note(l, f, "the sandbox refuses this whatever the policy (--net=host aside)");
        if (!strcmp(f->why, "denied by rule"))
                return note(l, f, "denied by a rule; no allow rule lifts it");
        /* Loopback and metadata addresses open to an address rule only. */
        if (!strcmp(f->why, "a host service on loopback") ||
            !strcmp(f->why, "link-local or metadata address") || !*f->name)
                spec = ci_raw(f->dest);
        else
                spec = ci_raw(f->object);
        learn_net(l, f, spec);
}

static void learn_one(struct learn *l, const struct ci_finding *f)
{
        if (f->area == CI_NETWORK)
                return learn_network(l, f);
        if (f->area == CI_FILES && f->asked)
                return note(l, f, "an ask rule asked and nobody answered: make it an allow rule");
        if (f->area == CI_FILES && !strcmp(f->by, "policy"))
                return learn_file(l, f);
        if (f->area == CI_FILES && !strcmp(f->by, "private-tmp"))
                return note(l, f, "the kernel resolves this /tmp path itself: use $TMPDIR");
        if (!strncmp(f->by, "limit:", 6))
                return note(l, f, "a limit: raise it (--timeout, --max-procs, --max-memory, --max-write)");
        if (!strcmp(f->by, "own-tree"))
                return note(l, f, "a process outside the job's own tree; no policy allows it");
        if (!strncmp(f->by, "abi:", 4))
                return note(l, f, "a foreign ABI call kills its process; no policy allows it");
        note(l, f, "the sandbox refuses this whatever the policy");
}

/* The file's text. */
static char *render(const struct learn *l)
{
        const struct policy *p = l->x->policy;
        json_t *profile = json_string(p && p->profile ? p->profile : "ci");
        char *text = NULL, *s, names[64];
        size_t size = 0, i, k = 0;
        const char *key;
        json_t *v;
        FILE *m = open_memstream(&text, &size);

        if (!m)
                abort();
        s = json_dumps(profile, JSON_ENCODE_ANY);
        fprintf(m, "{\n  \"profile\": %s,\n  \"comment\": [\n", s);
        free(s);
        json_decref(profile);
        json_array_foreach(l->notes, i, v)
        {
                s = json_dumps(v, JSON_ENCODE_ANY);
                fprintf(m, "    %s%s\n", s, i + 1 < json_array_size(l->notes) ? "," : "");
                free(s);
        }
        fputs("  ]", m);
        for (i = 0; i < l->n; i++) {
                const struct rule *r = &l->rules[i];
                json_t *rights = json_array();
                if (r->dropped)
                        continue;
                for (unsigned b = 1; b <= PR_LIST; b <<= 1)
                        if (r->rights & b)
                                json_array_append_new(
                                        rights, json_string(policy_rights_str(b, names, sizeof(names))));
                /* Both strings are UTF-8 (unnameable(), ci_text()). */
                json_t *rule = json_pack("{s:s, s:o, s:s}", "path", r->path, "allow", rights, "comment",
                                         r->note);
                s = rule ? json_dumps(rule, 0) : NULL;
                if (!s)
                        abort();
                fprintf(m, "%s\n    %s", k++ ? "," : ",\n  \"rules\": [", s);
                free(s);
                json_decref(rule);
        }
        if (k)
                fputs("\n  ]", m);
        if (json_object_size(l->net)) {
                json_t *allow = json_array(), *why = json_array();
                json_object_foreach(l->net, key, v)
                {
                        size_t j;
                        json_t *w;
                        json_array_append_new(allow, json_string(key));
                        json_array_foreach(v, j, w)
                        {
                                json_array_append(why, w);
                        }
                }
                s = json_dumps(allow, 0);
                fprintf(m, ",\n  \"net\": {\n    \"allow\": %s,\n    \"comment\": [\n", s);
                free(s);
                json_array_foreach(why, i, v)
                {
                        s = json_dumps(v, JSON_ENCODE_ANY);
                        fprintf(m, "      %s%s\n", s, i + 1 < json_array_size(why) ? "," : "");
                        free(s);
                }
                fputs("    ]\n  }", m);
                json_decref(allow);
                json_decref(why);
        }
        fputs("\n}\n", m);
        fclose(m);
        return text;
}

/* The notes that open the file: where it came from, and the environment. */
static void head_notes(struct learn *l)
{
        const struct ci_log *log = l->log;
        _cleanup_free_ char *session = ci_text(log->session),
                            *env = ci_text(log->env_removed ? log->env_removed : ""), *text = NULL;

        if (asprintf(&text,
                     "learned by interpose ci from session %s (audit log head %s): rules that would have "
                     "allowed "
                     "what the job was refused",
                     session, log->head) < 0)
                abort();
        json_array_append_new(l->notes, json_string(text));
        if (!l->x->policy)
                json_array_append_new(l->notes,
                                      json_string("the session's policy was not known: each rule gives "
                                                  "only what was refused"));
        if (*env) {
                free(text);
                if (asprintf(&text,
                             "removed from the job's environment as secrets: %s; if the job needs one, add "
                             "\"env\": {\"allow\": [NAME]} (or --allow-env=NAME)",
                             env) < 0)
                        abort();
                json_array_append_new(l->notes, json_string(text));
        }
}

/* Load the text as `interpose ci --policy=FILE` would, on the profile:
 * it must load, and each rule must then give what was refused; those that
 * do not are dropped into the notes. 0, or -EINVAL when the file does not
 * load at all (a bug here: the message says so). */
static int check(struct learn *l, const char *text, bool *changed)
{
        const struct ci_ctx *x = l->x;
        const char *profile = x->policy && x->policy->profile ? x->policy->profile : "ci";
        struct policy_error err;
        struct policy p;
        char cwd[PATH_MAX];
        int r;

        *changed = false;
        policy_init(&p);
        r = policy_profile(&p, profile, x->home, x->workspace ? x->workspace : getcwd(cwd, sizeof(cwd)), NULL,
                           &err);
        if (r == 0)
                r = policy_load_buffer(&p, x->o->learn, text, strlen(text), &err);
        if (r < 0) {
                policy_free(&p);
                fprintf(x->o->out, "interpose ci: the learned policy does not load (a bug): %s\n", err.msg);
                return -EINVAL;
        }
        for (size_t i = 0; i < l->n; i++) {
                struct rule *rl = &l->rules[i];
                if (rl->dropped || (policy_decide(&p, rl->abs, NULL) & rl->need) == rl->need)
                        continue;
                _cleanup_free_ char *path = ci_text_bytes(rl->abs, 0), *t = NULL;
                if (asprintf(&t, "not allowed here: %s: the profile's rules still refuse it with this rule",
                             path) < 0)
                        abort();
                json_array_append_new(l->notes, json_string(t));
                rl->dropped = true;
                *changed = true;
        }
        policy_free(&p);
        return 0;
}

static void learn_free(struct learn *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->rules[i].path);
                free(l->rules[i].abs);
                free(l->rules[i].note);
        }
        free(l->rules);
        json_decref(l->notes);
        json_decref(l->net);
        json_decref(l->by_abs);
}

static int by_path(const void *a, const void *b)
{
        return strcmp(((const struct rule *)a)->path, ((const struct rule *)b)->path);
}

int ci_write_learned(const struct ci_ctx *x, const struct ci_log *log)
{
        struct learn l = {
                .x = x, .log = log, .notes = json_array(), .net = json_object(), .by_abs = json_object()
        };
        _cleanup_free_ const struct ci_finding **v = ci_sorted(log);
        _cleanup_free_ char *text = NULL;
        bool changed = false;
        int r;

        head_notes(&l);
        for (size_t i = 0; i < log->nf; i++)
                learn_one(&l, v[i]);
        for (int a = 0; a < CI_AREAS; a++)
                l.left_out += log->f_over[a];
        if (l.left_out) {
                char t[160];
                snprintf(t, sizeof(t), "%lu more refusals left out (too many to list: see the audit log)",
                         l.left_out);
                json_array_append_new(l.notes, json_string(t));
        }
        if (l.n)
                qsort(l.rules, l.n, sizeof(*l.rules), by_path);
        text = render(&l);
        r = check(&l, text, &changed);
        if (r == 0 && changed) {
                free(text);
                text = render(&l);
        }
        if (r == 0)
                r = ci_write_file(x, x->o->learn_fd, x->o->learn, "learned policy", text, strlen(text),
                                  false);
        learn_free(&l);
        return r;
}
