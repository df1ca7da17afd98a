/* SPDX-License-Identifier: MIT */
/*
 * Secrets: which environment variables look like them (by name, or by a
 * value shaped like a known token), and their redaction from everything
 * interpose writes (the audit log, the trace). The launcher registers the
 * values it scrubs or passes; the sentry, forked from it, redacts them,
 * and any token-shaped string whatever its origin (an argv, a path, a DNS
 * name the guest made up).
 */
#include "secrets.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define SECRETS_MAX 256
#define REDACTED "[REDACTED]"

static char *values[SECRETS_MAX];
static size_t nvalues;

/* Names: whole names, then suffixes and infixes, compared in upper case. */
static const char *const names_exact[] = {
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "SSH_AUTH_SOCK",
        "GPG_AGENT_INFO",
        "DOCKER_AUTH_CONFIG",
        "NETRC",
        "PGPASSFILE",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "VAULT_ADDR_TOKEN",
        "SSHPASS",
        "COMPOSER_AUTH" /* JSON with the registries' passwords */,
};
static const char *const names_prefix[] = {
        "AWS_ACCESS_KEY",     "AWS_SECRET",       "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN", "AWS_BEARER_TOKEN", /* Bedrock's API keys */
        "TF_TOKEN_",                              /* Terraform, by host */
        "OP_SESSION_",                            /* 1Password, by account */
};
/* A name that ends in _SESSION holds the session a tool unlocked
 * (Bitwarden's BW_SESSION): whoever has it reads the vault. */
static const char *const names_suffix[] = { "_TOKEN",
                                            "_KEY",
                                            "_APIKEY",
                                            "_PAT",
                                            "_PASS",
                                            "_PWD",
                                            "_CREDENTIALS",
                                            "_CREDS",
                                            "_COOKIE",
                                            "_DSN" /* a key inside */,
                                            "__AUTH" /* npm_config__auth */,
                                            "_SESSION" };
static const char *const names_infix[] = { "SECRET",
                                           "PASSWORD",
                                           "PASSWD",
                                           "PRIVATE_KEY",
                                           "API_KEY",
                                           "ACCESS_KEY",
                                           "AUTH_TOKEN",
                                           "AUTHTOKEN",
                                           "ACCESSTOKEN" /* Azure DevOps */,
                                           "AUTHKEY" /* Tailscale */,
                                           "PASSPHRASE",
                                           "WEBHOOK",
                                           "CONNECTION_STRING" };
/* The desktop's own session names, which the patterns above would take:
 * they name a desktop or a bus, and programs need them. (XDG_SESSION_ID,
 * DBUS_SESSION_BUS_ADDRESS and SESSION_MANAGER match no pattern.) */
static const char *const names_plain[] = { "DESKTOP_SESSION", "KONSOLE_DBUS_SESSION" };

bool secret_name(const char *name)
{
        char up[256];
        size_t n = strlen(name);

        if (n == 0 || n >= sizeof(up))
                return n != 0;
        for (size_t i = 0; i <= n; i++)
                up[i] = (char)toupper((unsigned char)name[i]);
        for (size_t i = 0; i < sizeof(names_plain) / sizeof(*names_plain); i++)
                if (!strcmp(up, names_plain[i]))
                        return false;
        for (size_t i = 0; i < sizeof(names_exact) / sizeof(*names_exact); i++)
                if (!strcmp(up, names_exact[i]))
                        return true;
        for (size_t i = 0; i < sizeof(names_prefix) / sizeof(*names_prefix); i++)
                if (!strncmp(up, names_prefix[i], strlen(names_prefix[i])))
                        return true;
        for (size_t i = 0; i < sizeof(names_suffix) / sizeof(*names_suffix); i++) {
                size_t k = strlen(names_suffix[i]);
                if (n > k && !strcmp(up + n - k, names_suffix[i]))
                        return true;
        }
        for (size_t i = 0; i < sizeof(names_infix) / sizeof(*names_infix); i++)
                if (strstr(up, names_infix[i]))
                        return true;
        return false;
}

static bool tokch(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Characters of a token from s on. */
static size_t toklen(const char *s, size_t max)
{
        size_t n = 0;
        while (n < max && tokch(s[n]))
                n++;
        return n;
}

/* Known token formats: a prefix (any case: a DNS name is lowercased),
 * then at least min token characters (letters and digits only, for some). */
static const struct {
        const char *prefix;
        size_t min;
        bool alnum;
} shapes[] = {
        { "ghp_", 30, false },     { "gho_", 30, false },     { "ghu_", 30, false },
        { "ghs_", 30, false },     { "ghr_", 30, false },     { "github_pat_", 30, false },
        { "glpat-", 20, false },   { "xoxb-", 20, false },    { "xoxp-", 20, false },
        { "xoxa-", 20, false },    { "xoxs-", 20, false },    { "xapp-", 20, false },
        { "sk-ant-", 20, false },  { "sk-proj-", 20, false }, { "sk-", 32, false },
        { "sk_live_", 20, false }, { "rk_live_", 20, false }, { "sk_test_", 20, false },
        { "AKIA", 16, true },      { "ASIA", 16, true },      { "AIza", 35, false },
        { "npm_", 36, true },      { "hf_", 30, true },       { "pypi-", 40, false },
        { "dop_v1_", 40, false },  { "SG.", 40, false },      { "shpat_", 30, false },
        { "ya29.", 30, false },
};

static size_t alnumlen(const char *s, size_t max)
{
        size_t n = 0;
        while (n < max && isalnum((unsigned char)s[n]))
                n++;
        return n;
}

/* Length of a token-shaped string at s (0: none). */
static size_t shape_at(const char *s, size_t left)
{
        for (size_t i = 0; i < sizeof(shapes) / sizeof(*shapes); i++) {
                size_t k = strlen(shapes[i].prefix);
                if (left >= k && !strncasecmp(s, shapes[i].prefix, k)) {
                        size_t n = shapes[i].alnum ? alnumlen(s + k, left - k) : toklen(s + k, left - k);
                        if (n >= shapes[i].min && (!shapes[i].alnum || k + n >= left || !tokch(s[k + n])))
                                return k + toklen(s + k, left - k);
                }
        }
        /* A PEM private key. */
        if (left >= 11 && !memcmp(s, "-----BEGIN ", 11)) {
                const char *end = memmem(s, left, "PRIVATE KEY-----", 16);
                if (end && end - s < 64)
                        return left; /* the rest is the key */
        }
        /* A JSON web token: three base64url parts, the first two JSON. */
        if (left >= 20 && !memcmp(s, "eyJ", 3)) {
                size_t a = toklen(s, left);
                if (a < left && s[a] == '.' && a + 4 < left && !memcmp(s + a + 1, "eyJ", 3)) {
                        size_t b = toklen(s + a + 1, left - a - 1);
                        if (a + 1 + b < left && s[a + 1 + b] == '.')
                                return a + 2 + b + toklen(s + a + 2 + b, left - a - 2 - b);
                }
        }
        return 0;
}

bool secret_shaped(const char *value)
{
        size_t n = strlen(value);

        for (size_t i = 0; i < n; i++)
                if ((i == 0 || !tokch(value[i - 1])) && shape_at(value + i, n - i))
                        return true;
        /* A URL with a password in it. */
        const char *u = strstr(value, "://");
        if (u) {
                const char *at = strchr(u + 3, '@'), *slash = strchr(u + 3, '/');
                const char *colon = strchr(u + 3, ':');
                if (at && colon && colon < at && (!slash || at < slash))
                        return true;
        }
        return false;
}

/* Bundler's credentials for a gem host: BUNDLE_<HOST> (its dots written
 * as __) = user:password, or token:x-oauth-basic. Its other settings hold
 * paths, build flags, groups (BUNDLE_WITHOUT=a:b, no __ in the name) and
 * mirrors' URLs. */
static bool bundler_credential(const char *name, const char *value)
{
        return !strncmp(name, "BUNDLE_", 7) && strstr(name + 7, "__") && strchr(value, ':') &&
               !strstr(value, "://");
}

bool secret_var(const char *name, const char *value)
{
        return secret_name(name) || secret_shaped(value) || bundler_credential(name, value);
}

static void add_one(const char *value, size_t n)
{
        /* Shorter values would redact common words. */
        if (n < 6 || nvalues == SECRETS_MAX)
                return;
        for (size_t i = 0; i < nvalues; i++)
                if (strlen(values[i]) == n && !strncmp(values[i], value, n))
                        return;
        values[nvalues] = xmalloc(n + 1);
        memcpy(values[nvalues], value, n);
        values[nvalues++][n] = '\0';
}

void secrets_add(const char *value)
{
        const char *u, *colon, *at, *slash;

        if (!value)
                return;
        add_one(value, strlen(value));
        /* A URL's password on its own too: a tool may take it apart. */
        if ((u = strstr(value, "://")) && (at = strchr(u + 3, '@')) &&
            (colon = memchr(u + 3, ':', (size_t)(at - u - 3))) &&
            (!(slash = strchr(u + 3, '/')) || at < slash))
                add_one(colon + 1, (size_t)(at - colon - 1));
}

/* The value as it appears inside a JSON string (audit_json_escape's way
 * of writing quotes, backslashes and control characters), if it differs. */
static bool json_form(const char *v, char *out, size_t cap)
{
        size_t n = 0;
        bool differs = false;

        for (; *v && n + 7 < cap; v++) {
                unsigned char c = (unsigned char)*v;
                if (c == '"' || c == '\\') {
                        out[n++] = '\\';
                        out[n++] = (char)c;
                        differs = true;
                } else if (c < 0x20 || c >= 0x7f) {
                        /* As audit_json_escape writes it: every byte
                         * outside printable ASCII, UTF-8 too. */
                        n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
                        differs = true;
                } else {
                        out[n++] = (char)c;
                }
        }
        out[n] = '\0';
        return differs && !*v;
}

static const char *memcasemem(const char *h, size_t hl, const char *n, size_t nl)
{
        if (!nl || nl > hl)
                return NULL;
        for (size_t i = 0; i + nl <= hl; i++)
                if (!strncasecmp(h + i, n, nl))
                        return h + i;
        return NULL;
}

/* Where the earliest secret starts in s[0..len) and how long it is. In a
 * JSON string a value is looked for only as JSON writes it (its raw form
 * could match the text between two strings). */
static bool find_secret(const char *s, size_t len, size_t *at, size_t *n, bool json)
{
        size_t best = len, blen = 0;
        char esc[1024];

        for (size_t i = 0; i < nvalues; i++) {
                bool differs = json_form(values[i], esc, sizeof(esc));
                const char *forms[2] = { json && differs ? NULL : values[i], differs ? esc : NULL };
                for (int f = 0; f < 2; f++) {
                        const char *p;
                        if (!forms[f])
                                continue;
                        p = memcasemem(s, len, forms[f], strlen(forms[f]));
                        /* In JSON, never from the middle of an escape (an odd
                         * run of backslashes before it). */
                        while (json && p) {
                                size_t bs = 0;
                                while (p - bs > s && p[-(ptrdiff_t)bs - 1] == '\\')
                                        bs++;
                                if (bs % 2 == 0)
                                        break;
                                size_t from = (size_t)(p - s) + 1;
                                p = memcasemem(s + from, len - from, forms[f], strlen(forms[f]));
                        }
                        if (p && (size_t)(p - s) < best) {
                                best = (size_t)(p - s);
                                blen = strlen(forms[f]);
                        }
                }
        }
        for (size_t i = 0; i < best; i++)
                if (i == 0 || !tokch(s[i - 1])) {
                        size_t k = shape_at(s + i, len - i);
                        if (k) {
                                best = i;
                                blen = k;
                                break;
                        }
                }
        *at = best;
        *n = blen;
        return blen > 0;
}

/* Redact s[0..len) into out (below cap - 1 from o on, room for a NUL);
 * the new o. Out of room it cuts, never copying the rest in clear. */
static size_t redact_span(const char *s, size_t len, char *out, size_t o, size_t cap, bool json)
{
        size_t at, n, pos = 0;

        while (pos < len && find_secret(s + pos, len - pos, &at, &n, json)) {
                if (o + at + sizeof(REDACTED) >= cap)
                        return o;
                memcpy(out + o, s + pos, at);
                o += at;
                memcpy(out + o, REDACTED, sizeof(REDACTED) - 1);
                o += sizeof(REDACTED) - 1;
                pos += at + n;
        }
        /* o may already be at the end (a caller's cap - 1): no room. */
        if (pos < len && o + 1 < cap) {
                size_t rest = len - pos < cap - o - 1 ? len - pos : cap - o - 1;
                memcpy(out + o, s + pos, rest);
                o += rest;
        }
        return o;
}

size_t secrets_redact(char *buf, size_t len, size_t cap)
{
        _cleanup_free_ char *out = NULL;
        size_t o, at, n;

        if (!find_secret(buf, len, &at, &n, false))
                return len;
        out = xmalloc(cap);
        o = redact_span(buf, len, out, 0, cap, false);
        /* A line stays a line. */
        if (len && buf[len - 1] == '\n' && (!o || out[o - 1] != '\n')) {
                if (o + 1 >= cap)
                        o--;
                out[o++] = '\n';
        }
        memcpy(buf, out, o);
        if (o < cap)
                buf[o] = '\0';
        return o;
}

size_t secrets_redact_raw(char *buf, size_t len, size_t cap, bool truncated)
{
        size_t o = secrets_redact(buf, len, cap);

        if (!truncated || !nvalues)
                goto shapes;
        /* Cut short: the start of a secret at its end is one too. */
        for (size_t i = 0; i < nvalues; i++) {
                size_t vl = strlen(values[i]);
                for (size_t k = vl - 1 < o ? vl - 1 : o; k >= 6; k--)
                        if (!strncasecmp(buf + o - k, values[i], k)) {
                                o -= k;
                                goto cut;
                        }
        }
shapes:
        if (truncated)
                /* A token shape running into the cut, however short. */
                for (size_t p = 0; p < o; p++)
                        if ((p == 0 || !tokch(buf[p - 1])))
                                for (size_t i = 0; i < sizeof(shapes) / sizeof(*shapes); i++) {
                                        size_t k = strlen(shapes[i].prefix);
                                        if (p + k <= o && !strncasecmp(buf + p, shapes[i].prefix, k) &&
                                            p + k + toklen(buf + p + k, o - p - k) == o) {
                                                o = p;
                                                goto cut;
                                        }
                                }
        return o;
cut:
        if (o + sizeof(REDACTED) <= cap) {
                memcpy(buf + o, REDACTED, sizeof(REDACTED) - 1);
                o += sizeof(REDACTED) - 1;
        }
        if (o < cap)
                buf[o] = '\0';
        return o;
}

size_t secrets_redact_json(char *buf, size_t len, size_t cap)
{
        _cleanup_free_ char *out = NULL;
        /* Room for every redaction (a value of 6 bytes or more becomes 10
         * bytes): a record is redacted whole, or left for the caller to
         * shorten, never cut inside its structure. */
        size_t room = 2 * len + 16, o = 0, at, n, i = 0;

        if (!find_secret(buf, len, &at, &n, true))
                return len;
        out = xmalloc(room);
        /* Only inside string values: the keys, and the text between
         * strings, are ours and keep the record's shape. */
        while (i < len) {
                if (buf[i] != '"') {
                        out[o++] = buf[i++];
                        continue;
                }
                size_t start = ++i, end;
                while (i < len && buf[i] != '"')
                        i += buf[i] == '\\' && i + 1 < len ? 2 : 1;
                end = i < len ? i : len;
                size_t after = end + 1;
                while (after < len && buf[after] == ' ')
                        after++;
                out[o++] = '"';
                if (after < len && buf[after] == ':') {
                        memcpy(out + o, buf + start, end - start);
                        o += end - start;
                } else {
                        o = redact_span(buf + start, end - start, out, o, room, true);
                }
                if (i < len) {
                        out[o++] = '"';
                        i++;
                }
        }
        if (o >= cap)
                return 0;
        memcpy(buf, out, o);
        buf[o] = '\0';
        return o;
}

size_t secrets_copy(char *dst, size_t cap, const char *src)
{
        /* Room for every redaction: a value of 6 bytes or more becomes the
         * 10 of the marker, a token shape (longer than that) fewer. */
        size_t n = strlen(src), room = 2 * n + 16;
        _cleanup_free_ char *clear = xmalloc(room);

        memcpy(clear, src, n + 1);
        n = secrets_redact(clear, n, room);
        if (n >= cap)
                n = cap - 1;
        memcpy(dst, clear, n);
        dst[n] = '\0';
        return n;
}

bool secret_env_allowed(const char *name, const char *const *globs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fnmatch(globs[i], name, 0) == 0)
                        return true;
        return false;
}
