/* SPDX-License-Identifier: MIT */
/*
 * interpose ci's reports (tools/ci-report.c) on audit logs written by the
 * real audit writer, so their hash chains verify: the counts and the gate,
 * the summary, the Markdown and its escaping of a hostile path, the JUnit
 * file's structure, and the learned policy, loaded by the policy loader
 * and asked whether it allows what was refused.
 *
 *   test-ci-report                  the checks
 *   test-ci-report samples DIR      write the reports of each test log into DIR/NAME/ (for xmllint)
 *   test-ci-report report LOG DIR never|denied|asked STATUS
 *                                   the reports of a real log, with the ci profile on $HOME and the
 *                                   current directory (tests/e2e/ci-report.sh)
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "policy/net.h"
#include "policy/policy.h"
#include "sentry/audit.h"
#include "tools/ci-report.h"

static char scratch[256], dir[256], home[300], ws[300], out[300];
static char *job[] = { "make", "test", NULL };

struct log {
        struct audit a;
        int fd;
        unsigned long denied, asked;
};

/* JSON members for a record's extra: pairs of key and string value, a key
 * starting with '#' taking a raw JSON value; NULL ends. Owned by the
 * caller. */
static char *members(const char *key, ...)
{
        char *buf = calloc(1, 8192);
        size_t len = 0;
        va_list ap;

        va_start(ap, key);
        for (; key; key = va_arg(ap, const char *)) {
                const char *v = va_arg(ap, const char *);
                if (len)
                        buf[len++] = ',';
                if (key[0] == '#') {
                        len += (size_t)snprintf(buf + len, 8192 - len, "\"%s\":%s", key + 1, v);
                        continue;
                }
                len += (size_t)snprintf(buf + len, 8192 - len, "\"%s\":\"", key);
                len = audit_json_escape(buf, len, 8000, v);
                buf[len++] = '"';
        }
        va_end(ap);
        return buf;
}

static void log_open(struct log *l, const char *path)
{
        l->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (l->fd < 0 || audit_init(&l->a, l->fd, "20261126T074102Z-0c1test0") < 0) {
                perror(path);
                exit(EXIT_HARD);
        }
        l->denied = l->asked = 0;
}

/* One record; extra (from members()) is freed. */
static void rec(struct log *l, pid_t tid, const char *exe, const char *syscall, const char *args,
                const char *decision, const char *rule, const char *result, char *extra)
{
        struct audit_record r = { .pid = tid,
                                  .tid = tid,
                                  .exe = exe,
                                  .syscall = syscall,
                                  .args = args,
                                  .decision = decision,
                                  .rule = rule,
                                  .result = result,
                                  .extra = extra };

        if (audit_write(&l->a, &r) < 0)
                exit(EXIT_HARD);
        free(extra);
        l->denied += !strcmp(decision, "deny") || !strcmp(decision, "kill");
}

static void start(struct log *l, const char *env_removed)
{
        rec(l, 0, NULL, NULL, NULL, "start", "session", NULL,
            members("platform", "seccomp-unotify", "exe", "/usr/bin/make", "policy_hash", "6cefae14",
                    "env_removed", env_removed, NULL));
}

static void end(struct log *l, int status)
{
        char s[16];

        snprintf(s, sizeof(s), "%d", status);
        rec(l, 100, NULL, NULL, NULL, "end", "session", NULL, members("#status", s, NULL));
        close(l->fd);
}

static void exec_of(struct log *l, pid_t pid, const char *path)
{
        rec(l, pid, "/usr/bin/make", "execve", "execve(...)", "exec", "audit", "? (kernel)",
            members("path", path, NULL));
}

/* A refused path call, as syscalls/path.c records it. */
static void deny_path(struct log *l, pid_t pid, const char *exe, const char *syscall, const char *given,
                      const char *object, const char *right, const char *policy_rule)
{
        char args[600];

        snprintf(args, sizeof(args), "%s(AT_FDCWD, \"%s\", O_RDONLY, 00)", syscall, given);
        rec(l, pid, exe, syscall, args, "deny", "policy", "-1 EACCES (Permission denied)",
            members("path", given, "object", object, "right", right, "policy_rule", policy_rule, NULL));
}

static void deny_connect(struct log *l, const char *dest, const char *name, const char *policy_rule,
                         const char *why)
{
        rec(l, 200, "/usr/bin/python3.11", "connect", "connect(4, 0x7ffed2607830, 16)", "deny", "net",
            "-1 ECONNREFUSED (Connection refused)",
            name ? members("dest", dest, "name", name, "policy_rule", policy_rule, "why", why, NULL)
                 : members("dest", dest, "policy_rule", policy_rule, "why", why, NULL));
}

static void dns(struct log *l, const char *name, bool allow, const char *policy_rule, const char *result)
{
        rec(l, 0, "", "dns", NULL, allow ? "allow" : "deny", "net-dns", result,
            members("name", name, "#qtype", "1", "policy_rule", policy_rule, "#answers",
                    allow ? "[\"203.0.113.80\"]" : "[]", NULL));
}

/* An asked file call: the question and, when decided, the decision. */
static void ask(struct log *l, pid_t tid, const char *id, const char *object, const char *decision)
{
        if (strcmp(decision, "deny-at-once")) {
                rec(l, tid, "/usr/bin/cat", "openat", "openat(...)", "ask", "ask", NULL,
                    members("#ask_id", id, "kind", "file", "right", "read", "object", object, "policy_rule",
                            "--ask-read", NULL));
                l->asked++;
                if (!*decision)
                        return;
        } else {
                decision = "deny";
                l->asked++;
        }
        rec(l, tid, "/usr/bin/cat", "openat", "openat(...)", decision, "ask",
            !strcmp(decision, "deny") ? "-1 EACCES (Permission denied)" : "3",
            members("path", object, "object", object, "#ask_id", id, "kind", "file", "right", "read",
                    "policy_rule", "--ask-read", "answer", !strcmp(decision, "deny") ? "deny" : "once", "by",
                    "nobody: --approver=none", NULL));
}

static char nasty_ok[512], nasty_bad[512];

/* The log of a job that tried everything. */
static void write_main_log(struct log *l, const char *path)
{
        char p[600], q[600];

        log_open(l, path);
        start(l, "GITHUB_TOKEN,AWS_SECRET_ACCESS_KEY");
        exec_of(l, 100, "/usr/bin/make");
        exec_of(l, 101, "/usr/bin/cat");
        snprintf(p, sizeof(p), "%s/.ssh/id_rsa", home);
        deny_path(l, 101, "/usr/bin/cat", "openat", "~/.ssh/id_rsa", p, "read", "profile ci");
        deny_path(l, 102, "/usr/bin/cat", "openat", p, p, "read", "profile ci");
        snprintf(p, sizeof(p), "%s/notes/todo.txt", home);
        deny_path(l, 101, "/usr/bin/cat", "openat", p, p, "read", "default deny");
        snprintf(p, sizeof(p), "%s/vendor/lib.c", ws);
        deny_path(l, 103, "/usr/bin/sed", "openat", "vendor/lib.c", p, "write", "--allow-read");
        deny_path(l, 104, "/usr/bin/touch", "openat", "/opt/new", "/opt", "create", "profile ci");
        snprintf(p, sizeof(p), "%s/tools/run", out);
        rec(l, 100, "/usr/bin/make", "execve", "execve(...)", "deny", "policy",
            "-1 EACCES (Permission denied)",
            members("path", p, "object", p, "right", "exec", "policy_rule", "default deny", NULL));
        deny_path(l, 105, "/usr/bin/cat", "openat", nasty_ok, nasty_ok, "read", "default deny");
        deny_path(l, 105, "/usr/bin/cat", "openat", nasty_bad, nasty_bad, "read", "default deny");
        snprintf(q, sizeof(q), "%s/glob*name", out);
        deny_path(l, 105, "/usr/bin/cat", "openat", q, q, "read", "default deny");

        deny_connect(l, "1.1.1.1:443", NULL, "no rule allows this address", "no rule allows this address");
        deny_connect(l, "203.0.113.9:8443", "pypi.org", "no rule allows this port",
                     "no rule allows this port");
        deny_connect(l, "[::1]:9", NULL, "a host service on loopback", "a host service on loopback");
        deny_connect(l, "127.0.0.1:5432", "db.internal", "a host service on loopback",
                     "a host service on loopback");
        deny_connect(l, "10.0.0.1:80", NULL, "--deny-net=10.0.0.0/8", "denied by rule");
        rec(l, 200, "/usr/bin/python3.11", "connect", "connect(3, 0x7ffed2607830, 16)", "allow", "net",
            "-1 EINPROGRESS (Operation now in progress)",
            members("dest", "203.0.113.80:80", "name", "deb.debian.org", "policy_rule",
                    "--allow-net=deb.debian.org:80", "why", "allowed by rule", NULL));
        dns(l, "deb.debian.org", true, "--allow-net=deb.debian.org:80", "answered");
        dns(l, "only-resolved.org", true, "--allow-net=only-resolved.org", "answered");
        dns(l, "example.com", false, "no rule allows this name", "NXDOMAIN");
        dns(l, "example.com", false, "no rule allows this name", "NXDOMAIN");
        dns(l, "evil.com", false, "--deny-net=evil.com", "NXDOMAIN");

        rec(l, 100, "/usr/bin/dash", "kill", "kill(1, SIGKILL)", "deny", "own-tree",
            "-1 ESRCH (No such process)", NULL);
        rec(l, 106, "/tmp/x86", "write", "write(1, 0x8049000, 5)", "kill", "abi:i386", "killed", NULL);
        rec(l, 200, "/usr/bin/python3.11", "socket", "socket(17, 0x80003, 0)", "deny", "net-family",
            "-1 EPERM (Operation not permitted)", NULL);
        rec(l, 200, "/usr/bin/python3.11", "clone3", "clone3(0x7ffe, 88)", "enosys", "unimplemented",
            "-1 ENOSYS (Function not implemented)", NULL);

        ask(l, 300, "1", "/etc/hostname", "deny-at-once");
        ask(l, 301, "2", "/etc/motd", "deny");
        ask(l, 302, "3", "/etc/issue", "allow");
        /* Eleven more commands: the Markdown collapses the list. */
        for (int i = 0; i < 11; i++) {
                snprintf(p, sizeof(p), "/usr/bin/tool-%02d", i);
                exec_of(l, 400 + i, p);
        }
        end(l, 0);
}

/* Denials, no asks. */
static void write_plain_log(struct log *l, const char *path)
{
        log_open(l, path);
        start(l, "");
        exec_of(l, 100, "/usr/bin/make");
        deny_path(l, 101, "/usr/bin/cat", "openat", "/etc/shadow", "/etc/shadow", "read", "profile ci");
        end(l, 0);
}

static void write_clean_log(struct log *l, const char *path)
{
        log_open(l, path);
        start(l, "");
        exec_of(l, 100, "/usr/bin/make");
        end(l, 0);
}

/* More distinct objects than the reports keep. */
static void write_many_log(struct log *l, const char *path, int n)
{
        char p[300];

        log_open(l, path);
        start(l, "");
        for (int i = 0; i < n; i++) {
                snprintf(p, sizeof(p), "%s/many/file-%05d", out, i);
                deny_path(l, 101, "/usr/bin/cat", "openat", p, p, "read", "default deny");
        }
        end(l, 1);
}

static char *slurp(const char *path)
{
        static char none[] = "";
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                return strdup(none);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        buf = calloc(1, (size_t)n + 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n)
                buf[0] = '\0';
        fclose(f);
        return buf;
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;

        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

struct run {
        char junit[600], md[600], learn[600], err[600];
        char *err_text;
        struct ci_result r;
        int rc;
};

static void run_reports(struct run *x, const char *log, const char *name, enum ci_gate gate, int status,
                        const struct policy *p)
{
        FILE *err;
        struct ci_report_opts o;

        snprintf(x->junit, sizeof(x->junit), "%s/%s", dir, name);
        mkdir(x->junit, 0700);
        snprintf(x->junit, sizeof(x->junit), "%s/%s/junit.xml", dir, name);
        snprintf(x->md, sizeof(x->md), "%s/%s/summary.md", dir, name);
        snprintf(x->learn, sizeof(x->learn), "%s/%s/learned.json", dir, name);
        snprintf(x->err, sizeof(x->err), "%s/%s/stderr.txt", dir, name);
        err = fopen(x->err, "we");
        o = (struct ci_report_opts){ .audit_log = log,
                                     .argv = job,
                                     .job_status = status,
                                     .fail_on = gate,
                                     .junit = x->junit,
                                     .step_summary = x->md,
                                     .learn = x->learn,
                                     .out = err,
                                     .policy = p };
        memset(&x->r, 0xa5, sizeof(x->r));
        x->rc = ci_reports(&o, &x->r);
        fclose(err);
        x->err_text = slurp(x->err);
}

/* The session's policy: the ci profile, with part of the workspace made
 * read-only by a flag. */
static void session_policy(struct policy *p)
{
        struct policy_error err;
        char vendor[400];

        policy_init(p);
        snprintf(vendor, sizeof(vendor), "%s/vendor", ws);
        if (policy_profile(p, "ci", home, ws, NULL, &err) < 0 ||
            policy_add(p, vendor, PR_READ | PR_LIST, 0, "--allow-read", false, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                exit(EXIT_HARD);
        }
}

static bool valid_utf8(const char *s)
{
        json_t *j = json_string(s);
        bool ok = j != NULL;

        json_decref(j);
        return ok;
}

static void check_summary(const struct run *x, const struct log *l)
{
        char want[300];
        const char *e = x->err_text;

        CHECK(strstr(e, "interpose ci: make test: exit 0\n"), "the command and status: %s", e);
        snprintf(want, sizeof(want), "interpose ci: %lu denied, %lu asked;", l->denied, l->asked);
        CHECK(strstr(e, want), "the counts (%s): %s", want, e);
        CHECK(strstr(e, "chain intact, head "), "the chain: %s", e);
        CHECK(strstr(e, "read ~/.ssh/id_rsa  [profile ci]"), "the most denied object, by ~: %s", e);
        CHECK(strstr(e, "deb.debian.org:80") && strstr(e, "resolved  only-resolved.org"), "hosts: %s", e);
        CHECK(strstr(e, "removed as secrets: GITHUB_TOKEN,AWS_SECRET_ACCESS_KEY"), "environment: %s", e);
        CHECK(strstr(e, "  commands run (13):"), "commands: %s", e);
        for (const char *p = e; *p; p++)
                CHECK((unsigned char)*p >= 0x20 || *p == '\n', "a control character %#x in the summary",
                      (unsigned char)*p);
}

static void check_markdown(const struct run *x)
{
        char *md = slurp(x->md), want[700];

        CHECK(!strncmp(md, "previous step\n", 14), "appended after what was there: %.40s", md);
        CHECK(strstr(md, "### interpose ci: ` make test `\n"), "heading: %s", md);
        CHECK(strstr(md, "**passed** (exit 0) · 22 denied · 3 asked · gate `--fail-on=denied`: **tripped**"),
              "status line: %s", md);
        CHECK(strstr(md, "**Denied**: 22 calls on 20 objects\n\n| area | object | right | count | rule |"),
              "the table");
        CHECK(strstr(md, "| files | ` ~/.ssh/id_rsa ` | ` read ` | 2 | ` profile ci ` |"), "a row: %s", md);
        /* The hostile path: in a code span fenced longer than its backtick,
         * its pipe escaped for the table, newline and direction override
         * shown as escapes, the accent kept. */
        snprintf(want, sizeof(want), "| files | `` %s/a\\|b<c>`d\\ne \xc3\xa9 \\u202e <!--  ``", out);
        CHECK(strstr(md, want), "the hostile path's row (%s): %s", want, md);
        snprintf(want, sizeof(want), "` %s/bad\\xff\\x1b[31m `", out);
        CHECK(strstr(md, want), "bytes that are not UTF-8 and an escape sequence (%s)", want);
        CHECK(!strstr(md, "\xe2\x80\xae") && !strstr(md, "\x1b"), "no raw override or escape character");
        for (char *line = md; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (!strncmp(line, "| files |", 9))
                        CHECK(count(line, " | ") >= 4 && strchr(line, '\n') &&
                                      strncmp(strchr(line, '\n') - 2, " |", 2) == 0,
                              "a table row stays one line: %.80s", line);
        CHECK(strstr(md, "| processes | ` kill ` | — | 1 | ` own-tree ` |"), "a process refusal: %s", md);
        CHECK(strstr(md, "asked, refused: ` --ask-read `"), "an ask refused");
        CHECK(strstr(md, "removed as secrets: ` GITHUB_TOKEN `, ` AWS_SECRET_ACCESS_KEY `"), "environment");
        CHECK(strstr(md, "<details><summary>13 commands</summary>\n\n- ` /usr/bin/cat ` × 1"),
              "a long command list is collapsed: %s", md);
        CHECK(strstr(md, "- ` only-resolved.org ` (resolved only)"), "hosts resolved only");
        CHECK(valid_utf8(md), "the Markdown is UTF-8");
        free(md);
}

static void check_junit(const struct run *x, size_t findings)
{
        char *xml = slurp(x->junit), want[700];
        unsigned long tests = 0, failures = 0;
        const char *at = strstr(xml, "<testsuites name=\"interpose\" tests=\"");

        CHECK(at && sscanf(at, "<testsuites name=\"interpose\" tests=\"%lu\" failures=\"%lu\"", &tests,
                           &failures) == 2,
              "the root: %.200s", xml);
        CHECK(count(xml, "<testcase ") == tests, "tests=%lu, %zu testcases", tests, count(xml, "<testcase "));
        CHECK(count(xml, "<failure ") == failures && failures == findings,
              "failures=%lu, %zu failures, %zu findings", failures, count(xml, "<failure "), findings);
        CHECK(count(xml, "<testsuite ") == 4 && strstr(xml, "<testsuite name=\"interpose.files\"") &&
                      strstr(xml, "<testsuite name=\"interpose.network\"") &&
                      strstr(xml, "<testsuite name=\"interpose.processes\"") &&
                      strstr(xml, "<testsuite name=\"interpose.environment\""),
              "one suite per area");
        snprintf(want, sizeof(want), "name=\"read %s/a|b&lt;c&gt;`d\\ne \xc3\xa9 \\u202e &lt;!-- \"", out);
        CHECK(strstr(xml, want), "the hostile path, escaped (%s)", want);
        CHECK(strstr(xml, "<testcase classname=\"interpose.processes\" name=\"kill (own-tree)\" time=\"0\">"),
              "a stable name for a process refusal");
        CHECK(strstr(xml, "<failure type=\"asked\" message=\"read /etc/hostname: asked and refused 1 time"),
              "an ask refused");
        CHECK(strstr(xml, "<system-out>GITHUB_TOKEN\nAWS_SECRET_ACCESS_KEY</system-out>"), "the environment");
        for (const char *p = xml; *p; p++)
                CHECK((unsigned char)*p >= 0x20 || *p == '\n', "a character XML 1.0 refuses: %#x",
                      (unsigned char)*p);
        CHECK(valid_utf8(xml), "the XML is UTF-8");
        free(xml);
}

static void check_learned(const struct run *x)
{
        char *text = slurp(x->learn), p[600];
        struct policy fresh;
        struct policy_error err;
        const struct net_rule *rule;
        struct net_addr a = { .family = AF_INET, .addr = { 1, 1, 1, 1 }, .port = 443 };
        struct net_addr v6 = { .family = AF_INET6, .port = 9 };
        struct net_addr pypi = { .family = AF_INET, .addr = { 203, 0, 113, 9 }, .port = 8443 };
        struct net_addr ten = { .family = AF_INET, .addr = { 10, 0, 0, 1 }, .port = 80 };
        const char *why;

        v6.addr[15] = 1;
        CHECK(!strncmp(text, "{\n  \"profile\": \"ci\",\n  \"comment\": [\n", 36),
              "starts with the profile: %.60s", text);
        policy_init(&fresh);
        CHECK(policy_profile(&fresh, "ci", home, ws, NULL, &err) == 0, "profile: %s", err.msg);
        CHECK(policy_load_file(&fresh, x->learn, &err) == 0, "the learned policy loads: %s\n%s", err.msg,
              text);
        snprintf(p, sizeof(p), "%s/notes/todo.txt", home);
        CHECK(policy_decide(&fresh, p, NULL) & PR_READ, "a read of a file in the home: %s", text);
        CHECK(strstr(text, "{\"path\": \"~/notes/todo.txt\", \"allow\": [\"read\", \"list\"]"),
              "written with ~");
        snprintf(p, sizeof(p), "%s/vendor/lib.c", ws);
        CHECK((policy_decide(&fresh, p, NULL) & (PR_READ | PR_WRITE | PR_LIST)) ==
                      (PR_READ | PR_WRITE | PR_LIST),
              "a write in a read-only part of the workspace, its reads kept");
        CHECK(strstr(text, "{\"path\": \"vendor/lib.c\", \"allow\": [\"read\", \"write\", \"list\"]"),
              "written relative to the workspace, with the rights it had: %s", text);
        /* A right on a directory just below / would cover that whole tree:
         * left to a person, with the reason. */
        CHECK(!(policy_decide(&fresh, "/opt/new", NULL) & PR_CREATE) && strstr(text, "cover too much"),
              "create in /opt: not learned, and said why: %s", text);
        snprintf(p, sizeof(p), "%s/tools/run", out);
        CHECK((policy_decide(&fresh, p, NULL) & (PR_EXEC | PR_READ)) == (PR_EXEC | PR_READ),
              "exec, with read");
        CHECK(policy_decide(&fresh, nasty_ok, NULL) & PR_READ, "the hostile (but UTF-8) path, exactly");
        snprintf(p, sizeof(p), "%s/.ssh/id_rsa", home);
        CHECK(policy_decide(&fresh, p, NULL) == 0, "a credential stays denied");
        CHECK(strstr(text, "read ~/.ssh/id_rsa, 2 times: denied by the rule for ") &&
                      strstr(text, "no allow rule lifts a deny rule"),
              "and the file says why: %s", text);
        CHECK(strstr(text, "not UTF-8, which a policy file cannot hold"), "a path that is not UTF-8");
        CHECK(strstr(text, "is a pattern, which would name more"), "a path with a glob character");
        CHECK(strstr(text, "kill(1, SIGKILL) (own-tree), 1 time: a process outside the job's own tree"),
              "own-tree");
        CHECK(strstr(text, "foreign ABI"), "a foreign ABI");
        CHECK(strstr(text, "read /etc/hostname, 1 time: an ask rule asked and nobody answered"), "an ask");
        CHECK(strstr(text,
                     "removed from the job's environment as secrets: GITHUB_TOKEN,AWS_SECRET_ACCESS_KEY"),
              "the environment");

        CHECK(net_addr_allowed(&fresh.net, &a, NULL, &rule, &why), "an address refused is allowed");
        CHECK(net_addr_allowed(&fresh.net, &v6, NULL, &rule, &why), "loopback by an address rule");
        CHECK(!strstr(text, "\"db.internal:5432\""), "loopback by its address, not the name it was asked by");
        CHECK(net_addr_allowed(&fresh.net, &pypi, "pypi.org", &rule, &why), "a name's port: %s", why);
        CHECK(net_name_allowed(&fresh.net, "example.com", &rule), "a name refused by the resolver");
        CHECK(!net_name_allowed(&fresh.net, "evil.com", &rule) &&
                      strstr(text, "resolve evil.com, 1 time: denied"),
              "a name a deny rule refused stays refused, and says so");
        CHECK(!net_addr_allowed(&fresh.net, &ten, NULL, &rule, &why) && !strstr(text, "\"10.0.0.1:80\""),
              "an address a deny rule refused is not learned");
        CHECK(strstr(text, "\"allow\": [\"example.com\", \"1.1.1.1:443\", \"pypi.org:8443\", \"[::1]:9\", "
                           "\"127.0.0.1:5432\"]"),
              "the net rules: %s", text);
        policy_free(&fresh);
        free(text);
}

static void check_main(const char *log, const struct log *l)
{
        struct policy p;
        struct run x;
        FILE *f;

        session_policy(&p);
        snprintf(x.md, sizeof(x.md), "%s/main", dir);
        mkdir(x.md, 0700);
        snprintf(x.md, sizeof(x.md), "%s/main/summary.md", dir);
        f = fopen(x.md, "we");
        fputs("previous step\n", f);
        fclose(f);
        run_reports(&x, log, "main", CI_GATE_DENIED, 0, &p);
        CHECK(x.rc == 0, "reports: %d: %s", x.rc, x.err_text);
        CHECK(x.r.denied == l->denied && l->denied == 22, "denied %lu, log %lu", x.r.denied, l->denied);
        CHECK(x.r.asked == l->asked && l->asked == 3, "asked %lu, log %lu", x.r.asked, l->asked);
        CHECK(x.r.tripped, "--fail-on=denied trips");
        CHECK(strstr(x.err_text,
                     "interpose ci: --fail-on=denied: the job passed but made 22 denied calls (first: "
                     "read ~/.ssh/id_rsa)\n"),
              "the gate's line: %s", x.err_text);
        check_summary(&x, l);
        check_markdown(&x);
        /* 22 denied calls on 20 objects (~/.ssh/id_rsa and example.com
         * twice each). */
        check_junit(&x, 20);
        check_learned(&x);
        free(x.err_text);

        run_reports(&x, log, "main-asked", CI_GATE_ASKED, 3, &p);
        CHECK(x.rc == 0 && x.r.tripped && x.r.asked == 3, "--fail-on=asked trips");
        CHECK(strstr(x.err_text,
                     "interpose ci: --fail-on=asked: the job failed (exit 3) and made 3 asked calls "
                     "(first: read /etc/hostname)\n"),
              "the gate's line for asks: %s", x.err_text);
        free(x.err_text);
        run_reports(&x, log, "main-never", CI_GATE_NEVER, 0, &p);
        CHECK(x.rc == 0 && !x.r.tripped && x.r.denied == 22, "--fail-on=never never trips");
        CHECK(!strstr(x.err_text, "--fail-on"), "and says nothing of a gate: %s", x.err_text);
        free(x.err_text);
        policy_free(&p);
}

static void check_gates(const char *plain, const char *clean)
{
        struct run x;

        run_reports(&x, plain, "plain", CI_GATE_ASKED, 0, NULL);
        CHECK(x.rc == 0 && !x.r.tripped && x.r.denied == 1 && x.r.asked == 0,
              "denials do not trip --fail-on=asked");
        free(x.err_text);
        run_reports(&x, plain, "plain-denied", CI_GATE_DENIED, 137, NULL);
        CHECK(x.rc == 0 && x.r.tripped, "one denial trips --fail-on=denied");
        CHECK(strstr(x.err_text, "the job failed (exit 137 (SIGKILL)) and made 1 denied call (first: read "
                                 "/etc/shadow)"),
              "a signal, one call: %s", x.err_text);
        free(x.err_text);
        run_reports(&x, clean, "clean", CI_GATE_DENIED, 0, NULL);
        CHECK(x.rc == 0 && !x.r.tripped && x.r.denied == 0, "a clean job passes the gate");
        CHECK(strstr(x.err_text, "  denied: none\n") &&
                      strstr(x.err_text, "environment: no variable removed"),
              "and says so: %s", x.err_text);
        free(x.err_text);
}

static void check_errors(const char *good)
{
        char bad[600], *text = slurp(good), *at;
        struct run x;
        FILE *f;

        /* One byte changed in the middle of the log. */
        snprintf(bad, sizeof(bad), "%s/tampered.jsonl", dir);
        at = strstr(text, "/etc/shadow");
        if (at)
                at[1] = 'E';
        f = fopen(bad, "we");
        fputs(text, f);
        fclose(f);
        run_reports(&x, bad, "tampered", CI_GATE_DENIED, 0, NULL);
        CHECK(x.rc == -EBADMSG && strstr(x.err_text, "line 3: hash chain broken: the record was edited"),
              "a tampered log: %d %s", x.rc, x.err_text);
        CHECK(access(x.junit, F_OK) < 0 && access(x.learn, F_OK) < 0, "no report from a tampered log");
        CHECK(x.r.denied == 0xa5a5a5a5a5a5a5a5ul, "the result is not written");
        free(x.err_text);

        snprintf(bad, sizeof(bad), "%s/missing.jsonl", dir);
        run_reports(&x, bad, "missing", CI_GATE_DENIED, 0, NULL);
        CHECK(x.rc == -ENOENT && strstr(x.err_text, "cannot read the audit log"), "a missing log: %s",
              x.err_text);
        free(x.err_text);

        /* A verifying chain that is no session's log. */
        {
                struct log l;
                snprintf(bad, sizeof(bad), "%s/nostart.jsonl", dir);
                log_open(&l, bad);
                exec_of(&l, 100, "/usr/bin/make");
                end(&l, 0);
                run_reports(&x, bad, "nostart", CI_GATE_DENIED, 0, NULL);
                CHECK(x.rc == -EBADMSG && strstr(x.err_text, "no session start record"), "no start: %s",
                      x.err_text);
                free(x.err_text);
        }

        /* A report that cannot be written: the others still are. */
        {
                struct ci_report_opts o = { .audit_log = good,
                                            .argv = job,
                                            .fail_on = CI_GATE_DENIED,
                                            .out = fopen("/dev/null", "we") };
                struct ci_result r = { .denied = 99 };
                snprintf(bad, sizeof(bad), "%s/no-such-dir/junit.xml", dir);
                snprintf(x.md, sizeof(x.md), "%s/unwritable.md", dir);
                o.junit = bad;
                o.step_summary = x.md;
                CHECK(ci_reports(&o, &r) == -ENOENT && r.denied == 99, "an unwritable JUnit file");
                CHECK(access(x.md, F_OK) == 0, "the Markdown was written all the same");
                fclose(o.out);
        }
        free(text);
}

static void check_many(const char *log)
{
        struct run x;
        char *xml, *learned;
        struct policy p;
        struct policy_error err;

        run_reports(&x, log, "many", CI_GATE_DENIED, 1, NULL);
        CHECK(x.rc == 0 && x.r.denied == 4100, "4100 denials: %d %lu", x.rc, x.r.denied);
        CHECK(strstr(x.err_text, "4100 calls on more than 4096 objects") &&
                      strstr(x.err_text, "... and 4 calls on objects past the first 4096"),
              "the ones past the cap are counted: %s", x.err_text);
        xml = slurp(x.junit);
        CHECK(strstr(xml, "name=\"objects past the first 4096\"") &&
                      strstr(xml, "<testsuites name=\"interpose\" tests=\"4100\" failures=\"4097\""),
              "and in the JUnit file: %.300s", xml);
        learned = slurp(x.learn);
        CHECK(strlen(learned) < (1 << 20), "the learned policy stays loadable in size: %zu", strlen(learned));
        CHECK(count(learned, "{\"path\": ") == 1000 && strstr(learned, "3100 more refusals left out"),
              "a thousand rules, the rest counted");
        policy_init(&p);
        CHECK(policy_profile(&p, "ci", home, ws, NULL, &err) == 0 && policy_load_file(&p, x.learn, &err) == 0,
              "and it loads: %s", err.msg);
        policy_free(&p);
        free(xml);
        free(learned);
        free(x.err_text);
}

static void setup(void)
{
        char d[400];

        snprintf(scratch, sizeof(scratch), "%s/ci-report-test.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(scratch))
                exit(EXIT_HARD);
        snprintf(dir, sizeof(dir), "%s", scratch);
        snprintf(home, sizeof(home), "%s/home", dir);
        snprintf(ws, sizeof(ws), "%s/ws", dir);
        snprintf(out, sizeof(out), "%s/outside", dir);
        mkdir(home, 0700);
        mkdir(ws, 0700);
        mkdir(out, 0700);
        snprintf(d, sizeof(d), "%s/.ssh", home);
        mkdir(d, 0700);
        snprintf(nasty_ok, sizeof(nasty_ok), "%s/a|b<c>`d\ne \xc3\xa9 \xe2\x80\xae <!-- ", out);
        snprintf(nasty_bad, sizeof(nasty_bad), "%s/bad\xff\x1b[31m", out);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static int report_mode(int argc, char **argv)
{
        struct ci_report_opts o = { .audit_log = argv[2], .argv = argv + 6, .out = stderr };
        char junit[4096], md[4096], learn[4096];
        struct ci_result r;
        int rc;

        snprintf(junit, sizeof(junit), "%s/junit.xml", argv[3]);
        snprintf(md, sizeof(md), "%s/summary.md", argv[3]);
        snprintf(learn, sizeof(learn), "%s/learned.json", argv[3]);
        o.junit = junit;
        o.step_summary = md;
        o.learn = learn;
        o.fail_on = !strcmp(argv[4], "denied")  ? CI_GATE_DENIED
                    : !strcmp(argv[4], "asked") ? CI_GATE_ASKED
                                                : CI_GATE_NEVER;
        o.job_status = atoi(argv[5]);
        rc = ci_reports(&o, &r);
        if (rc < 0)
                return 2;
        printf("denied %lu asked %lu tripped %d\n", r.denied, r.asked, r.tripped);
        return 0;
}

int main(int argc, char **argv)
{
        char main_log[400], plain[400], clean[400], many[400];
        struct log l, other;

        if (argc >= 6 && !strcmp(argv[1], "report"))
                return report_mode(argc, argv);
        setup();
        if (argc == 3 && !strcmp(argv[1], "samples")) {
                /* Reports of each log for tests/ci/junit-schema.sh, in DIR/NAME. */
                snprintf(dir, sizeof(dir), "%s", argv[2]);
        }
        snprintf(main_log, sizeof(main_log), "%s/main.jsonl", dir);
        snprintf(plain, sizeof(plain), "%s/plain.jsonl", dir);
        snprintf(clean, sizeof(clean), "%s/clean.jsonl", dir);
        snprintf(many, sizeof(many), "%s/many.jsonl", dir);
        write_main_log(&l, main_log);
        write_plain_log(&other, plain);
        write_clean_log(&other, clean);
        write_many_log(&other, many, 4100);
        check_main(main_log, &l);
        check_gates(plain, clean);
        check_errors(plain);
        check_many(many);
        nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        printf("ci-report: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
