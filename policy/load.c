/* SPDX-License-Identifier: MIT */
/*
 * Policy files: JSON, parsed by jansson.
 *
 *   {
 *     "profile": "agent",                  optional: agent, strict or ci
 *     "workspace": "src",                  optional: relative to the file
 *     "rules": [
 *       { "path": "~/.cache/pip", "allow": ["read", "write", "create", "delete", "list"] },
 *       { "path": "/srv/data", "allow": "read" },
 *       { "path": "secrets", "deny": "all", "comment": "relative: in the workspace" }
 *     ],
 *     "net": { "allow": ["pypi.org:443", "*.pythonhosted.org:443"], "deny": [],
 *              "mode": "none", "dns_upstream": "10.0.0.2:53" },
 *     "env": { "allow": ["GITHUB_TOKEN", "AWS_*"], "set": { "CI": "1" } },
 *     "secrets": ["a value never to log in clear"]
 *   }
 *
 * Every problem is reported as FILE:LINE:COL. jansson gives positions for
 * syntax errors only, so a small scanner maps each value of the (already
 * valid) text to its position by JSON pointer ("/rules/2/allow/0").
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../sentry/util.h"
#include "policy.h"

#define POLICY_FILE_MAX (1 << 20)

struct jpos {
        char *ptr;
        int line, col;
};

struct scanner {
        const char *s, *end;
        int line, col;
        struct jpos *v;
        size_t n, cap;
};

static void adv(struct scanner *sc)
{
        if (sc->s >= sc->end)
                return;
        if (*sc->s == '\n') {
                sc->line++;
                sc->col = 1;
        } else if (((unsigned char)*sc->s & 0xc0) != 0x80) {
                sc->col++; /* columns count characters, as jansson's do */
        }
        sc->s++;
}

static void skip_ws(struct scanner *sc)
{
        while (sc->s < sc->end && strchr(" \t\r\n", *sc->s))
                adv(sc);
}

static void record(struct scanner *sc, const char *ptr)
{
        if (sc->n == sc->cap) {
                sc->cap = sc->cap ? 2 * sc->cap : 64;
                sc->v = xrealloc(sc->v, sc->cap * sizeof(*sc->v));
        }
        sc->v[sc->n++] = (struct jpos){ xstrdup(ptr), sc->line, sc->col };
}

/* Read a string token; its decoded text (escapes kept as written, enough
 * for the keys of our format) goes to out. */
static void scan_string(struct scanner *sc, char *out, size_t cap)
{
        size_t n = 0;

        adv(sc); /* " */
        while (sc->s < sc->end && *sc->s != '"') {
                if (*sc->s == '\\') {
                        adv(sc);
                }
                if (n + 1 < cap)
                        out[n++] = *sc->s;
                adv(sc);
        }
        adv(sc);
        if (cap)
                out[n] = '\0';
}

static void scan_value(struct scanner *sc, char *ptr, size_t plen, int depth)
{
        char key[256];

        skip_ws(sc);
        record(sc, ptr);
        if (depth > 64 || sc->s >= sc->end)
                return;
        if (*sc->s == '{' || *sc->s == '[') {
                bool obj = *sc->s == '{';
                char close = obj ? '}' : ']';
                long idx = 0;

                adv(sc);
                skip_ws(sc);
                while (sc->s < sc->end && *sc->s != close) {
                        size_t n = plen;
                        int kline = sc->line, kcol = sc->col;
                        if (obj) {
                                scan_string(sc, key, sizeof(key));
                                skip_ws(sc);
                                adv(sc); /* : */
                                ptr[n++] = '/';
                                /* RFC 6901: ~ and / escaped */
                                for (const char *k = key; *k && n + 3 < 1024; k++) {
                                        if (*k == '~' || *k == '/') {
                                                ptr[n++] = '~';
                                                ptr[n++] = *k == '~' ? '0' : '1';
                                        } else {
                                                ptr[n++] = *k;
                                        }
                                }
                        } else {
                                n += (size_t)snprintf(ptr + n, 1024 - n, "/%ld", idx++);
                        }
                        ptr[n] = '\0';
                        if (obj && n + 5 < 1024) {
                                /* the key's own place, for "unknown key" */
                                int line = sc->line, col = sc->col;
                                memcpy(ptr + n, "@key", 5);
                                sc->line = kline, sc->col = kcol;
                                record(sc, ptr);
                                sc->line = line, sc->col = col;
                                ptr[n] = '\0';
                        }
                        scan_value(sc, ptr, n, depth + 1);
                        ptr[plen] = '\0';
                        skip_ws(sc);
                        if (sc->s < sc->end && *sc->s == ',')
                                adv(sc);
                        skip_ws(sc);
                }
                adv(sc);
                return;
        }
        if (*sc->s == '"') {
                scan_string(sc, key, 0);
                return;
        }
        while (sc->s < sc->end && !strchr(",]} \t\r\n", *sc->s))
                adv(sc);
}

struct loader {
        const char *name;
        struct scanner sc;
        struct policy_error *err;
};

static const struct jpos *pos_of(const struct loader *l, const char *ptr)
{
        for (size_t i = 0; i < l->sc.n; i++)
                if (!strcmp(l->sc.v[i].ptr, ptr))
                        return &l->sc.v[i];
        return NULL;
}

__attribute__((format(printf, 3, 4))) static int fail(const struct loader *l, const char *ptr,
                                                      const char *fmt, ...)
{
        const struct jpos *at = pos_of(l, ptr);
        size_t n;
        va_list ap;

        n = (size_t)snprintf(l->err->msg, sizeof(l->err->msg), "%s:%d:%d: ", l->name, at ? at->line : 1,
                             at ? at->col : 1);
        va_start(ap, fmt);
        if (n < sizeof(l->err->msg))
                vsnprintf(l->err->msg + n, sizeof(l->err->msg) - n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* "net": { "mode": "none"|"host", "allow": [SPEC...], "deny": [SPEC...],
 *          "dns_upstream": "IP:PORT" } (net.h); flags given on the command
 * line come after, and add to it. */
static int load_net(const struct loader *l, struct policy *p, json_t *net)
{
        static const char *const lists[] = { "allow", "deny", "ask" };
        const char *k;
        json_t *x;
        char ptr[64];

        if (!net)
                return 0;
        if (!json_is_object(net))
                return fail(l, "/net",
                            "\"net\" is an object: {\"mode\": ..., \"allow\": [...], \"deny\": [...]}");
        json_object_foreach(net, k, x)
        {
                snprintf(ptr, sizeof(ptr), "/net/%s@key", k);
                if (strcmp(k, "mode") && strcmp(k, "allow") && strcmp(k, "deny") && strcmp(k, "ask") &&
                    strcmp(k, "dns_upstream") && strcmp(k, "comment"))
                        return fail(l, ptr,
                                    "unknown key '%s' in \"net\" (known: mode, allow, ask, deny, "
                                    "dns_upstream, comment)",
                                    k);
        }
        x = json_object_get(net, "mode");
        if (x && (!json_is_string(x) || net_mode_parse(json_string_value(x), &p->net.mode) < 0))
                return fail(l, "/net/mode", "\"mode\" is \"none\" or \"host\"");
        x = json_object_get(net, "dns_upstream");
        if (x) {
                struct sockaddr_storage ss;
                unsigned len;
                if (!json_is_string(x) || net_parse_endpoint(json_string_value(x), &ss, &len) < 0)
                        return fail(l, "/net/dns_upstream",
                                    "\"dns_upstream\" is \"IPV4:PORT\" or \"[IPV6]:PORT\"");
                free(p->net.dns_upstream);
                p->net.dns_upstream = xstrdup(json_string_value(x));
        }
        for (size_t w = 0; w < 3; w++) {
                json_t *arr = json_object_get(net, lists[w]), *v;
                size_t i;
                if (!arr)
                        continue;
                snprintf(ptr, sizeof(ptr), "/net/%s", lists[w]);
                if (!json_is_array(arr))
                        return fail(l, ptr, "\"%s\" is a list of destinations like \"pypi.org:443\"",
                                    lists[w]);
                json_array_foreach(arr, i, v)
                {
                        char why[512], origin[PATH_MAX + 32];
                        const struct jpos *at;
                        snprintf(ptr, sizeof(ptr), "/net/%s/%zu", lists[w], i);
                        if (!json_is_string(v))
                                return fail(l, ptr, "a destination is a string like \"*.example.com:443\"");
                        at = pos_of(l, ptr);
                        snprintf(origin, sizeof(origin), "%s:%d:%d", l->name, at ? at->line : 0,
                                 at ? at->col : 0);
                        if (net_policy_add(&p->net, json_string_value(v),
                                           w == 1   ? NET_RULE_DENY
                                           : w == 2 ? NET_RULE_ASK
                                                    : NET_RULE_ALLOW,
                                           origin, why, sizeof(why)) < 0)
                                return fail(l, ptr, "%s", why);
                        p->asks |= w == 2;
                }
        }
        return 0;
}

static void push(char ***arr, size_t *n, const char *s)
{
        *arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
        (*arr)[(*n)++] = xstrdup(s);
}

/* "env": { "allow": [GLOB...], "set": { NAME: VALUE } }; "secrets": [VALUE...]. */
static int load_env(const struct loader *l, struct policy *p, json_t *env, json_t *secrets)
{
        const char *k;
        json_t *x, *v;
        char ptr[300];
        size_t i;

        if (env && !json_is_object(env))
                return fail(l, "/env",
                            "\"env\" is an object: {\"allow\": [GLOB...], \"set\": {NAME: VALUE}}");
        json_object_foreach(env, k, x)
        {
                snprintf(ptr, sizeof(ptr), "/env/%s@key", k);
                if (strcmp(k, "allow") && strcmp(k, "set") && strcmp(k, "comment"))
                        return fail(l, ptr, "unknown key '%s' in \"env\" (known: allow, set, comment)", k);
        }
        x = env ? json_object_get(env, "allow") : NULL;
        if (x && !json_is_array(x))
                return fail(l, "/env/allow", "\"allow\" is a list of variable names or globs like \"AWS_*\"");
        json_array_foreach(x, i, v)
        {
                snprintf(ptr, sizeof(ptr), "/env/allow/%zu", i);
                if (!json_is_string(v) || !*json_string_value(v))
                        return fail(l, ptr, "a variable name or glob, like \"GITHUB_TOKEN\"");
                push(&p->env_allow, &p->n_env_allow, json_string_value(v));
        }
        x = env ? json_object_get(env, "set") : NULL;
        if (x && !json_is_object(x))
                return fail(l, "/env/set", "\"set\" is an object of NAME: VALUE strings");
        json_object_foreach(x, k, v)
        {
                char *kv;
                snprintf(ptr, sizeof(ptr), "/env/set/%s", k);
                if (!json_is_string(v) || !*k || strchr(k, '='))
                        return fail(l, ptr, "a variable's value is a string, its name has no '='");
                kv = xmalloc(strlen(k) + strlen(json_string_value(v)) + 2);
                sprintf(kv, "%s=%s", k, json_string_value(v));
                push(&p->env_set, &p->n_env_set, kv);
                free(kv);
        }
        if (secrets && !json_is_array(secrets))
                return fail(l, "/secrets", "\"secrets\" is a list of values never to write in clear");
        json_array_foreach(secrets, i, v)
        {
                snprintf(ptr, sizeof(ptr), "/secrets/%zu", i);
                if (!json_is_string(v) || strlen(json_string_value(v)) < 6)
                        return fail(l, ptr, "a secret is a string of 6 characters or more");
                push(&p->secrets, &p->n_secrets, json_string_value(v));
        }
        return 0;
}

/* "read" or ["read", "list"] into rights. */
static int rights_of(const struct loader *l, json_t *v, const char *ptr, unsigned *out)
{
        char sub[1024];
        size_t i;
        json_t *e;

        *out = 0;
        if (json_is_string(v)) {
                *out = policy_right_by_name(json_string_value(v));
                if (!*out)
                        return fail(
                                l, ptr,
                                "unknown right '%s' (rights: read, write, create, delete, exec, list, all)",
                                json_string_value(v));
                return 0;
        }
        if (!json_is_array(v) || json_array_size(v) == 0)
                return fail(l, ptr,
                            "rights are a name or a non-empty list of names (read, write, create, delete, "
                            "exec, list, all)");
        json_array_foreach(v, i, e)
        {
                unsigned r;
                snprintf(sub, sizeof(sub), "%s/%zu", ptr, i);
                if (!json_is_string(e))
                        return fail(l, sub,
                                    "a right is a string (read, write, create, delete, exec, list, all)");
                r = policy_right_by_name(json_string_value(e));
                if (!r)
                        return fail(
                                l, sub,
                                "unknown right '%s' (rights: read, write, create, delete, exec, list, all)",
                                json_string_value(e));
                *out |= r;
        }
        return 0;
}

struct pending {
        const char *path;
        unsigned allow, deny, ask;
        char ptr[64];
};

static int load(struct policy *p, struct loader *l, json_t *root, const char *base_dir)
{
        _cleanup_free_ struct pending *rules = NULL;
        json_t *v, *rs, *wsv;
        const char *key, *profile = NULL;
        char ws[PATH_MAX], ptr[64], origin[PATH_MAX + 32];
        size_t i, n = 0;
        int r;

        if (!json_is_object(root))
                return fail(l, "",
                            "a policy is a JSON object with \"rules\" (and optionally \"profile\", "
                            "\"workspace\")");
        json_object_foreach(root, key, v)
        {
                snprintf(ptr, sizeof(ptr), "/%s@key", key);
                if (strcmp(key, "profile") && strcmp(key, "workspace") && strcmp(key, "rules") &&
                    strcmp(key, "net") && strcmp(key, "env") && strcmp(key, "secrets") &&
                    strcmp(key, "comment"))
                        return fail(l, ptr,
                                    "unknown key '%s' (known: profile, workspace, rules, net, env, secrets, "
                                    "comment)",
                                    key);
        }
        v = json_object_get(root, "profile");
        if (v) {
                if (!json_is_string(v))
                        return fail(l, "/profile", "\"profile\" is one of \"agent\", \"strict\", \"ci\"");
                profile = json_string_value(v);
                if (strcmp(profile, "agent") && strcmp(profile, "strict") && strcmp(profile, "ci"))
                        return fail(l, "/profile", "unknown profile '%s' (agent, strict or ci)", profile);
                if (p->profile_explicit && p->profile && strcmp(profile, p->profile))
                        return fail(l, "/profile", "the file asks for profile '%s' but --profile says '%s'",
                                    profile, p->profile);
        }
        snprintf(ws, sizeof(ws), "%s", p->workspace ? p->workspace : "/");
        wsv = v = json_object_get(root, "workspace");
        if (v) {
                const char *w;
                if (!json_is_string(v) || !*(w = json_string_value(v)))
                        return fail(l, "/workspace", "\"workspace\" is a directory path");
                if (p->workspace_explicit)
                        return fail(l, "/workspace", "the file sets the workspace but --workspace does too");
                if (w[0] == '/')
                        snprintf(ws, sizeof(ws), "%s", w);
                else
                        snprintf(ws, sizeof(ws), "%s/%s", base_dir, w);
                if (!realpath(ws, origin))
                        return fail(l, "/workspace", "workspace %s: %s", ws, strerror(errno));
                snprintf(ws, sizeof(ws), "%s", origin);
        }
        rs = json_object_get(root, "rules");
        if (rs && !json_is_array(rs))
                return fail(l, "/rules", "\"rules\" is a list of {\"path\": ..., \"allow\"/\"deny\": ...}");
        rules = xcalloc(rs ? json_array_size(rs) + 1 : 1, sizeof(*rules));
        json_array_foreach(rs, i, v)
        {
                struct pending *pr = &rules[n];
                json_t *path, *allow, *deny, *ask;
                const char *k;
                json_t *x;

                snprintf(pr->ptr, sizeof(pr->ptr), "/rules/%zu", i);
                if (!json_is_object(v))
                        return fail(l, pr->ptr, "a rule is an object: {\"path\": ..., \"allow\": [...]}");
                json_object_foreach(v, k, x)
                {
                        snprintf(ptr, sizeof(ptr), "%s/%s@key", pr->ptr, k);
                        if (strcmp(k, "path") && strcmp(k, "allow") && strcmp(k, "deny") &&
                            strcmp(k, "ask") && strcmp(k, "comment"))
                                return fail(
                                        l, ptr,
                                        "unknown key '%s' in a rule (known: path, allow, ask, deny, comment)",
                                        k);
                }
                path = json_object_get(v, "path");
                allow = json_object_get(v, "allow");
                deny = json_object_get(v, "deny");
                ask = json_object_get(v, "ask");
                snprintf(ptr, sizeof(ptr), "%s/path", pr->ptr);
                if (!json_is_string(path) || !*json_string_value(path))
                        return fail(l, path ? ptr : pr->ptr, "a rule needs a \"path\" (a string)");
                if (!allow && !deny && !ask)
                        return fail(l, pr->ptr, "a rule needs \"allow\", \"ask\" or \"deny\"");
                pr->path = json_string_value(path);
                snprintf(ptr, sizeof(ptr), "%s/allow", pr->ptr);
                if (allow && (r = rights_of(l, allow, ptr, &pr->allow)) < 0)
                        return r;
                snprintf(ptr, sizeof(ptr), "%s/deny", pr->ptr);
                if (deny && (r = rights_of(l, deny, ptr, &pr->deny)) < 0)
                        return r;
                snprintf(ptr, sizeof(ptr), "%s/ask", pr->ptr);
                if (ask && (r = rights_of(l, ask, ptr, &pr->ask)) < 0)
                        return r;
                if (pr->allow & pr->deny) {
                        char a[64];
                        return fail(l, pr->ptr, "contradictory rule for %s: %s both allowed and denied",
                                    pr->path, policy_rights_str(pr->allow & pr->deny, a, sizeof(a)));
                }
                if ((pr->allow | pr->deny) & pr->ask) {
                        char a[64];
                        return fail(l, pr->ptr, "contradictory rule for %s: %s both asked and %s", pr->path,
                                    policy_rights_str((pr->allow | pr->deny) & pr->ask, a, sizeof(a)),
                                    pr->allow & pr->ask ? "allowed" : "denied");
                }
                for (size_t j = 0; j < n; j++)
                        if (!strcmp(rules[j].path, pr->path)) {
                                const struct jpos *first = pos_of(l, rules[j].ptr);
                                return fail(l, pr->ptr,
                                            "second rule for %s (the first is at line %d): give its rights "
                                            "in one "
                                            "rule",
                                            pr->path, first ? first->line : 0);
                        }
                n++;
        }

        /* All checked: apply. A profile or workspace from the file rebuilds
         * the base the rules extend. */
        if (profile || wsv) {
                struct policy_error e2;
                char *home = p->home ? xstrdup(p->home) : NULL, *tmp = p->tmpdir ? xstrdup(p->tmpdir) : NULL;
                bool explicit = p->profile_explicit;
                const char *name = profile ? profile : p->profile ? p->profile : "agent";
                _cleanup_free_ char *name_copy = xstrdup(name);

                policy_free(p);
                r = policy_profile(p, name_copy, home, ws, tmp, &e2);
                p->profile_explicit = explicit;
                free(home);
                free(tmp);
                if (r < 0)
                        return fail(l, "", "%s", e2.msg);
        }
        for (i = 0; i < n; i++) {
                struct policy_error e2;
                const struct jpos *at = pos_of(l, rules[i].ptr);
                snprintf(origin, sizeof(origin), "%s:%d:%d", l->name, at ? at->line : 0, at ? at->col : 0);
                r = rules[i].allow || rules[i].deny
                            ? policy_add(p, rules[i].path, rules[i].allow, rules[i].deny, origin, true, &e2)
                            : 0;
                if (r == 0 && rules[i].ask)
                        r = policy_add(p, rules[i].path, rules[i].ask | PR_ASKED, 0, origin, true, &e2);
                if (r < 0)
                        return fail(l, rules[i].ptr, "%s", e2.msg);
        }
        r = load_net(l, p, json_object_get(root, "net"));
        if (r < 0)
                return r;
        return load_env(l, p, json_object_get(root, "env"), json_object_get(root, "secrets"));
}

int policy_load_buffer(struct policy *p, const char *name, const char *text, size_t len,
                       struct policy_error *err)
{
        struct loader l = { .name = name, .err = err };
        char ptr[1024] = "", dir[PATH_MAX];
        const char *slash = strrchr(name, '/');
        json_error_t je;
        json_t *root;
        int r;

        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
                snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: %s", name, je.line > 0 ? je.line : 1,
                         je.column > 0 ? je.column : 1, je.text);
                return -EINVAL;
        }
        l.sc = (struct scanner){ .s = text, .end = text + len, .line = 1, .col = 1 };
        scan_value(&l.sc, ptr, 0, 0);
        if (slash)
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
        else if (!getcwd(dir, sizeof(dir)))
                snprintf(dir, sizeof(dir), ".");
        r = load(p, &l, root, dir[0] ? dir : "/");
        json_decref(root);
        for (size_t i = 0; i < l.sc.n; i++)
                free(l.sc.v[i].ptr);
        free(l.sc.v);
        return r;
}

int policy_load_file(struct policy *p, const char *file, struct policy_error *err)
{
        _cleanup_free_ char *buf = xmalloc(POLICY_FILE_MAX + 1);
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0) {
                snprintf(err->msg, sizeof(err->msg), "%s: %s", file, strerror(errno));
                return -errno;
        }
        size_t got = 0;
        while (got < POLICY_FILE_MAX + 1 && (n = read(fd, buf + got, POLICY_FILE_MAX + 1 - got)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        snprintf(err->msg, sizeof(err->msg), "%s: %s", file, strerror(errno));
                        return -errno;
                }
                got += (size_t)n;
        }
        n = (ssize_t)got;
        if (n > POLICY_FILE_MAX) {
                snprintf(err->msg, sizeof(err->msg), "%s: larger than %d bytes; is this a policy file?", file,
                         POLICY_FILE_MAX);
                return -EFBIG;
        }
        buf[n] = '\0';
        return policy_load_buffer(p, file, buf, (size_t)n, err);
}
