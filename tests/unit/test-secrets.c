/* SPDX-License-Identifier: MIT */
/* Secrets: which variables are secrets, which values are token-shaped, and
 * their redaction (sentry/secrets.c). */
#include <stdio.h>
#include <string.h>

#include "guest.h"
#include "sentry/audit.h"
#include "sentry/secrets.h"

static void names(void)
{
        static const char *const secret[] = {
                "GITHUB_TOKEN",
                "GH_TOKEN",
                "NPM_TOKEN",
                "VAULT_TOKEN",
                "ANTHROPIC_API_KEY",
                "OPENAI_API_KEY",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "MY_APP_SECRET",
                "CLIENT_SECRET_VALUE",
                "DB_PASSWORD",
                "PGPASSWORD",
                "MYSQL_PWD",
                "SMTP_PASS",
                "STRIPE_KEY",
                "GITLAB_PAT",
                "SSH_AUTH_SOCK",
                "google_application_credentials",
                "Some_Private_Key_Path",
                "TF_TOKEN_app_terraform_io",
                "GPG_PASSPHRASE",
                "npm_config__authToken",
                "NPM_CONFIG__AUTH",
                "SENTRY_DSN",
                "SLACK_WEBHOOK_URL",
                "AZURE_STORAGE_CONNECTION_STRING",
                "SSHPASS",
                "BW_SESSION",
                "OP_SESSION_myacct",
                "TS_AUTHKEY",
                "TAILSCALE_AUTHKEY",
                "AWS_BEARER_TOKEN_BEDROCK",
                "COMPOSER_AUTH",
                "SYSTEM_ACCESSTOKEN",
        };
        static const char *const plain[] = {
                "PATH",
                "HOME",
                "PWD",
                "OLDPWD",
                "LANG",
                "TERM",
                "SHELL",
                "USER",
                "AWS_REGION",
                "AWS_CA_BUNDLE",
                "AWS_DEFAULT_PROFILE",
                "KEYBOARD",
                "XAUTHORITY",
                "DBUS_SESSION_BUS_ADDRESS",
                "MANPATH",
                "TOX_TESTENV_PASSENV",
                "SSH_AGENT_PID",
                "PYENV_ROOT",
                "EDITOR",
                "MONKEY",
                "XDG_SESSION_ID",
                "XDG_SESSION_TYPE",
                "XDG_SESSION_CLASS",
                "XDG_SESSION_DESKTOP",
                "SESSION_MANAGER",
                "DESKTOP_SESSION",
                "KONSOLE_DBUS_SESSION",
                "COMPOSER_HOME",
                "BUNDLE_GEMS__CONTRIBSYS__COM" /* by its value: see below */,
        };
        for (size_t i = 0; i < sizeof(secret) / sizeof(*secret); i++)
                CHECK(secret_name(secret[i]), "%s is a secret's name", secret[i]);
        for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
                CHECK(!secret_name(plain[i]), "%s is not a secret's name", plain[i]);
}

/* Bundler's credentials are told by name and value together. */
static void bundler(void)
{
        CHECK(secret_var("BUNDLE_GEMS__CONTRIBSYS__COM", "user:pass"), "a gem host's user:password");
        CHECK(secret_var("BUNDLE_GITHUB__COM", "abcd0123:x-oauth-basic"), "a gem host's token");
        CHECK(!secret_var("BUNDLE_WITHOUT", "development:test"), "groups");
        CHECK(!secret_var("BUNDLE_PATH", "vendor/bundle"), "a path");
        CHECK(!secret_var("BUNDLE_BUILD__NOKOGIRI", "--use-system-libraries"), "build flags");
        CHECK(!secret_var("BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/", "https://mirror.example/"), "a mirror");
        CHECK(secret_var("BW_SESSION", "x") && !secret_var("XDG_SESSION_TYPE", "x11"), "by name alone");
}

static void shapes(void)
{
        static const char *const shaped[] = {
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                "AKIAIOSFODNN7EXAMPLE",
                "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
                "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
                "xoxb-123456789012-123456789012-abcdefghijklmnop",
                "glpat-abcdefghij0123456789",
                "AIzaSyA-abcdefghijklmnopqrstuvwxyz0123456",
                "npm_abcdefghijklmnopqrstuvwxyz0123456789",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
                "XgL0n3I9PlFUP0THsR8U",
                "https://user:hunter2@example.com/repo.git",
                "Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        };
        static const char *const plain[] = {
                "/usr/local/bin:/usr/bin:/bin",
                "en_US.UTF-8",
                "xterm-256color",
                "ghp_short",
                "sk-notakey",
                "https://example.com/path",
                "AKIA",
                "eyJ-not-a-jwt",
                "-----BEGIN CERTIFICATE-----",
        };
        for (size_t i = 0; i < sizeof(shaped) / sizeof(*shaped); i++)
                CHECK(secret_shaped(shaped[i]), "'%.30s' is token-shaped", shaped[i]);
        for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
                CHECK(!secret_shaped(plain[i]), "'%s' is not token-shaped", plain[i]);
}

static void redaction(void)
{
        char buf[512];
        size_t n;

        secrets_add("correct horse battery");
        secrets_add("pa\"ss\\word!"); /* as escaped in JSON */
        secrets_add("short");         /* too short to redact: left alone */
        snprintf(buf, sizeof(buf),
                 "{\"args\":\"echo correct horse battery\",\"path\":\"/x/pa\\\"ss\\\\word!/y\","
                 "\"dns\":\"AKIAIOSFODNN7EXAMPLE.evil.test\",\"short\":\"short\"}");
        n = secrets_redact(buf, strlen(buf), sizeof(buf));
        CHECK(n == strlen(buf), "length");
        CHECK(!strstr(buf, "horse"), "a registered value: %s", buf);
        CHECK(!strstr(buf, "word!"), "a registered value as a JSON string holds it: %s", buf);
        CHECK(!strstr(buf, "AKIA"), "a token shape: %s", buf);
        CHECK(strstr(buf, "\"short\":\"short\""), "a short value is left: %s", buf);
        CHECK(strstr(buf, "echo [REDACTED]") && strstr(buf, "[REDACTED].evil.test"), "marked: %s", buf);
        /* A shape that ends the buffer, which is just big enough. */
        char tight[41] = "x ghp_";
        memset(tight + 6, 'a', 34);
        n = secrets_redact(tight, 40, sizeof(tight));
        CHECK(n == strlen("x [REDACTED]") && !strcmp(tight, "x [REDACTED]"), "tight: %s", tight);
        /* In a JSON record: keys and the text between strings are never
         * touched, whatever the secret (a word that is also a key; one
         * whose raw form spans two strings). */
        secrets_add("decision");
        secrets_add("ab\",\"cd");
        snprintf(buf, sizeof(buf),
                 "{\"decision\":\"deny\",\"x\":\"my "
                 "decision\",\"p\":\"ab\",\"cd\":\"q\",\"r\":\"xab\\\",\\\"cdy\"}");
        n = secrets_redact_json(buf, strlen(buf), sizeof(buf));
        CHECK(!strcmp(buf, "{\"decision\":\"deny\",\"x\":\"my "
                           "[REDACTED]\",\"p\":\"ab\",\"cd\":\"q\",\"r\":\"x[REDACTED]y\"}"),
              "json: %s", buf);
        /* A record that redaction would make too long is left whole for
         * the caller to shorten: never cut inside its structure. */
        char rec[40];
        snprintf(rec, sizeof(rec), "{\"a\":\"my decision\",\"b\":\"decision\"}");
        n = secrets_redact_json(rec, strlen(rec), strlen(rec) + 4);
        CHECK(n == 0 && !strcmp(rec, "{\"a\":\"my decision\",\"b\":\"decision\"}"), "too long: %zu %s", n,
              rec);
        n = secrets_redact_json(rec, strlen(rec), sizeof(rec));
        CHECK(n == strlen(rec) && !strcmp(rec, "{\"a\":\"my [REDACTED]\",\"b\":\"[REDACTED]\"}"), "fits: %s",
              rec);
        /* A value with bytes past ASCII, as the audit log writes them
         * (\u00XX a byte). */
        secrets_add("P\xc3\xa4sswort-hunter2-XYZ");
        n = (size_t)snprintf(buf, sizeof(buf), "{\"path\":\"");
        n = audit_json_escape(buf, n, sizeof(buf) - 2, "/usr/P\xc3\xa4sswort-hunter2-XYZ/x");
        buf[n++] = '"';
        buf[n++] = '}';
        buf[n] = '\0';
        n = secrets_redact_json(buf, n, sizeof(buf));
        CHECK(!strcmp(buf, "{\"path\":\"/usr/[REDACTED]/x\"}"), "json, past ASCII: %s", buf);
        /* Found in any case (a DNS name is lowercased), a token shape too. */
        secrets_add("AKIAZ7QXW3RT5YUP2LMN");
        snprintf(buf, sizeof(buf), "q akiaz7qxw3rt5yup2lmn.exfil.example and asiaabcdefghijklmnop9.x");
        secrets_redact(buf, strlen(buf), sizeof(buf));
        CHECK(!strcmp(buf, "q [REDACTED].exfil.example and [REDACTED].x"), "case: %s", buf);
        /* A raw string cut short: the start of a registered value, or of a
         * token shape, at its end. */
        snprintf(buf, sizeof(buf), "0000 correct hor");
        n = secrets_redact_raw(buf, strlen(buf), sizeof(buf), true);
        CHECK(!strcmp(buf, "0000 [REDACTED]"), "cut value: %s", buf);
        snprintf(buf, sizeof(buf), "0000 ghp_ABC");
        n = secrets_redact_raw(buf, strlen(buf), sizeof(buf), true);
        CHECK(!strcmp(buf, "0000 [REDACTED]"), "cut shape: %s", buf);
        snprintf(buf, sizeof(buf), "0000 ghp_ABC");
        n = secrets_redact_raw(buf, strlen(buf), sizeof(buf), false);
        CHECK(!strcmp(buf, "0000 ghp_ABC"), "not cut: %s", buf);
        /* No room: cut, never the rest in clear; a line stays a line. */
        char small[32];
        snprintf(small, sizeof(small), "a correct horse battery\n");
        n = secrets_redact(small, strlen(small), 16);
        CHECK(n < 16 && !strstr(small, "horse") && small[n - 1] == '\n', "small: %.*s", (int)n, small);
        /* Cut to fit after redaction, never before: a secret the cut
         * splits would be recognised in neither half. */
        secrets_add("Zq7LongSecretValue-abcdefghijklmnop-0123456789");
        n = audit_json_escape(buf, 0, 16, "/a/b/Zq7LongSecretValue-abcdefghijklmnop-0123456789/c");
        CHECK(!strcmp(buf, "/a/b/[RED"), "escaped and cut: %s", buf);
        n = secrets_copy(buf, 12, "/a/b/Zq7LongSecretValue-abcdefghijklmnop-0123456789/c");
        CHECK(n == 11 && !strcmp(buf, "/a/b/[REDAC"), "copied and cut: %s", buf);
        /* Not every hf_ is a Hugging Face token. */
        CHECK(!secret_shaped("/data/hf_cache_for_transformers_models_x"), "a cache path");
        CHECK(secret_shaped("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"), "a token");
        /* A URL's password is redacted on its own too. */
        secrets_add("postgres://app:S3cretPassw0rd@db.internal:5432/app");
        snprintf(buf, sizeof(buf), "PGPASSWORD=S3cretPassw0rd psql");
        secrets_redact(buf, strlen(buf), sizeof(buf));
        CHECK(!strstr(buf, "S3cret"), "url password: %s", buf);
        const char *const globs[] = { "AWS_*", "GITHUB_TOKEN" };
        CHECK(secret_env_allowed("AWS_SECRET_ACCESS_KEY", globs, 2), "a glob");
        CHECK(!secret_env_allowed("GH_TOKEN", globs, 2), "not named");
}

int main(void)
{
        names();
        bundler();
        shapes();
        redaction();
        return guest_result();
}
