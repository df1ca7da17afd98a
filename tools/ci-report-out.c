/* SPDX-License-Identifier: MIT */
/*
 * The CI reports for people and for CI systems: Markdown for GitHub's job
 * summary, and JUnit XML.
 *
 * Markdown: every string from the log goes in a code span (no emphasis,
 * links, autolinks or HTML can come of it), fenced with more backticks
 * than it holds, its pipes escaped inside table cells.
 *
 * JUnit: <testsuites> holding one <testsuite> per area, and in each one
 * <testcase> per refused object with one <failure>. Jenkins' junit-10.xsd
 * allows several failures in one testcase, but Jenkins, Azure DevOps and
 * GitHub's JUnit actions show only the first, and junitparser refuses the
 * file; so one failure per testcase. An area with nothing refused has one
 * passing testcase, so every area shows. No durations: every time is 0.
 */
#include <string.h>

#include "../sentry/util.h"
#include "ci-report-int.h"

#define MD_ROWS_MAX 100 /* table rows and list items in the Markdown */
#define MD_OPEN_MAX 10  /* lists longer than this are collapsed */

/* --- Markdown ------------------------------------------------------------ */

static void md_code(FILE *m, const char *text, bool cell)
{
        size_t run = 0, fence = 1;

        if (!*text) {
                fputs("(none)", m);
                return;
        }
        for (const char *p = text; *p; p++) {
                run = *p == '`' ? run + 1 : 0;
                if (run >= fence)
                        fence = run + 1;
        }
        for (size_t i = 0; i < fence; i++)
                fputc('`', m);
        fputc(' ', m);
        for (const char *p = text; *p; p++) {
                if (cell && *p == '|')
                        fputc('\\', m);
                fputc(*p, m);
        }
        fputc(' ', m);
        for (size_t i = 0; i < fence; i++)
                fputc('`', m);
}

/* md_code of a string from the log. */
static void md_log(FILE *m, const char *s, bool cell)
{
        _cleanup_free_ char *t = ci_text(s);
        md_code(m, t, cell);
}

static void md_denials(const struct ci_ctx *x, FILE *m, const struct ci_log *log)
{
        _cleanup_free_ const struct ci_finding **v = ci_sorted(log);
        unsigned long over = 0;
        size_t i;

        for (int a = 0; a < CI_AREAS; a++)
                over += log->f_over[a];
        if (!log->nf && !over) {
                fputs("Nothing was denied.\n\n", m);
                return;
        }
        if (over)
                fprintf(m, "**Denied**: %lu calls on more than %d objects\n\n", log->denied, CI_KEEP_MAX);
        else
                fprintf(m, "**Denied**: %lu %s on %zu %s\n\n", log->denied,
                        log->denied == 1 ? "call" : "calls", log->nf, log->nf == 1 ? "object" : "objects");
        fputs("| area | object | right | count | rule |\n| --- | --- | --- | ---: | --- |\n", m);
        for (i = 0; i < log->nf && i < MD_ROWS_MAX; i++) {
                const struct ci_finding *f = v[i];
                _cleanup_free_ char *obj = f->area == CI_FILES ? ci_path_text(x, f->object)
                                                               : ci_text(f->object);
                fprintf(m, "| %s | ", ci_area_names[f->area]);
                md_code(m, obj, true);
                fputs(" | ", m);
                if (*f->right)
                        md_log(m, f->right, true);
                else
                        fputs("—", m);
                fprintf(m, " | %lu | ", f->count);
                if (f->asked)
                        fputs("asked, refused: ", m);
                md_log(m, f->rule, true);
                fputs(" |\n", m);
        }
        fputc('\n', m);
        if (log->nf > i)
                fprintf(m, "... and %zu more (see the JUnit report or the audit log)\n\n", log->nf - i);
        if (over)
                fprintf(m, "... and %lu calls on objects past the first %d\n\n", over, CI_KEEP_MAX);
}

/* A tally as a list, collapsed when long. */
static void md_tally(FILE *m, const char *title, json_t *counts, bool hosts)
{
        size_t n, i;
        _cleanup_free_ struct ci_tally *t = ci_ranked(counts, &n);

        if (!n) {
                fprintf(m, "**%s:** none\n\n", title);
                return;
        }
        fprintf(m, "**%s** (%zu)\n\n", title, n);
        if (n > MD_OPEN_MAX)
                fprintf(m, "<details><summary>%zu %s</summary>\n\n", n, hosts ? "hosts" : "commands");
        for (i = 0; i < n && i < MD_ROWS_MAX; i++) {
                fputs("- ", m);
                md_log(m, t[i].name, false);
                if (hosts && !t[i].count)
                        fputs(" (resolved only)\n", m);
                else
                        fprintf(m, " × %lu\n", t[i].count);
        }
        if (n > i)
                fprintf(m, "- ... and %zu more\n", n - i);
        fputs(n > MD_OPEN_MAX ? "\n</details>\n\n" : "\n", m);
}

static void md_environment(FILE *m, const struct ci_log *log)
{
        _cleanup_free_ char *names = ci_text(log->env_removed ? log->env_removed : "");
        char *save = NULL, *name;
        bool any = false;

        fputs("**Environment:** ", m);
        for (name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
                fputs(any ? ", " : "removed as secrets: ", m);
                md_code(m, name, false);
                any = true;
        }
        fputs(any ? " (`--allow-env=NAME` passes one)\n\n" : "no variable removed\n\n", m);
}

int ci_write_markdown(const struct ci_ctx *x, const struct ci_log *log, const struct ci_result *r)
{
        _cleanup_free_ char *cmd = ci_command(x), *text = NULL;
        const char *gate = x->o->fail_on == CI_GATE_DENIED  ? "denied"
                           : x->o->fail_on == CI_GATE_ASKED ? "asked"
                                                            : NULL;
        char status[64];
        size_t size = 0;
        FILE *m = open_memstream(&text, &size);

        if (!m)
                abort();
        fputs("### interpose ci: ", m);
        md_code(m, cmd, false);
        fprintf(m, "\n\n**%s** (%s) · %lu denied · %lu asked · ", x->o->job_status ? "failed" : "passed",
                ci_status_text(x->o->job_status, status, sizeof(status)), r->denied, r->asked);
        if (gate)
                fprintf(m, "gate `--fail-on=%s`: %s\n\n", gate, r->tripped ? "**tripped**" : "passed");
        else
                fputs("gate off (`--fail-on=never`)\n\n", m);
        md_denials(x, m, log);
        md_environment(m, log);
        md_tally(m, "Hosts contacted", log->hosts, true);
        md_tally(m, "Commands run", log->commands, false);
        fprintf(m, "Audit log: %ld records, hash chain intact%s, head `%s`, session ", log->records,
                log->ended ? "" : " (no end record: cut short?)", log->head);
        md_log(m, log->session, false);
        fputs("\n\n", m);
        fclose(m);
        return ci_write_file(x, x->o->step_summary_fd, x->o->step_summary, "step summary", text, size, true);
}

/* --- JUnit --------------------------------------------------------------- */

/* Safe text (ci_text) for an XML attribute or element. */
static void xml_put(FILE *m, const char *text)
{
        for (; *text; text++) {
                switch (*text) {
                case '&':
                        fputs("&amp;", m);
                        break;
                case '<':
                        fputs("&lt;", m);
                        break;
                case '>':
                        fputs("&gt;", m);
                        break;
                case '"':
                        fputs("&quot;", m);
                        break;
                case '\'':
                        fputs("&apos;", m);
                        break;
                default:
                        fputc(*text, m);
                }
        }
}

/* A string from the log, for XML. */
static void xml_log(FILE *m, const char *s)
{
        _cleanup_free_ char *t = ci_text(s);
        xml_put(m, t);
}

static void xml_property(FILE *m, const char *name, const char *text)
{
        fprintf(m, "      <property name=\"%s\" value=\"", name);
        xml_put(m, text);
        fputs("\"/>\n", m);
}

/* One line of a failure's details, when the log has it. */
static void detail(FILE *m, const char *label, const char *s)
{
        if (!s || !*s)
                return;
        fprintf(m, "%s: ", label);
        xml_log(m, s);
        fputc('\n', m);
}

static void junit_failure(const struct ci_ctx *x, FILE *m, const struct ci_finding *f, const char *cls)
{
        _cleanup_free_ char *name = ci_describe(x, f, true), *rule = ci_text(f->rule);
        const char *type = f->asked ? "asked" : !strcmp(f->decision, "kill") ? "killed" : "denied";
        const char *verb = f->asked                       ? "asked and refused"
                           : !strcmp(f->decision, "kill") ? "killed the caller"
                                                          : "denied";

        fprintf(m, "    <testcase classname=\"%s\" name=\"", cls);
        xml_put(m, name);
        fprintf(m, "\" time=\"0\">\n      <failure type=\"%s\" message=\"", type);
        xml_put(m, name);
        fprintf(m, ": %s %lu %s (", verb, f->count, f->count == 1 ? "time" : "times");
        xml_put(m, rule);
        fprintf(m, ")\">%s %lu %s\n", verb, f->count, f->count == 1 ? "time" : "times");
        if (*f->right) {
                detail(m, "object", f->object);
                detail(m, "right", f->right);
        }
        detail(m, "rule", f->rule);
        detail(m, "decided by", f->by);
        detail(m, "syscall", f->syscall);
        detail(m, "program", f->exe);
        detail(m, "call", f->call);
        detail(m, "path given", f->path);
        detail(m, "destination", f->dest);
        detail(m, "why", f->why);
        detail(m, "result", f->result);
        fputs("</failure>\n    </testcase>\n", m);
}

/* The properties every suite carries: what ran, and the log. */
static void junit_properties(const struct ci_ctx *x, FILE *m, const struct ci_log *log)
{
        _cleanup_free_ char *cmd = ci_command(x), *file = ci_text_bytes(x->o->audit_log, 0),
                            *session = ci_text(log->session);
        char status[16];

        snprintf(status, sizeof(status), "%d", x->o->job_status);
        fputs("    <properties>\n", m);
        xml_property(m, "command", cmd);
        xml_property(m, "exit_status", status);
        xml_property(m, "session", session);
        xml_property(m, "audit_log", file);
        xml_property(m, "audit_head", log->head);
        fputs("    </properties>\n", m);
}

static void junit_suite(const struct ci_ctx *x, FILE *m, const struct ci_log *log,
                        const struct ci_finding *const *v, enum ci_area area, unsigned long *tests,
                        unsigned long *failures)
{
        const char *cls = area == CI_FILES       ? "interpose.files"
                          : area == CI_NETWORK   ? "interpose.network"
                          : area == CI_PROCESSES ? "interpose.processes"
                                                 : "interpose.environment";
        unsigned long n = 0, failed = 0;

        for (size_t i = 0; i < log->nf; i++)
                n += v[i]->area == area;
        failed = n + (log->f_over[area] ? 1 : 0);
        n = area == CI_ENVIRONMENT || !failed ? 1 : failed;
        fprintf(m, "  <testsuite name=\"%s\" tests=\"%lu\" failures=\"%lu\" errors=\"0\" skipped=\"0\" time=\"0\"",
                cls, n, failed);
        if (log->started[0]) {
                fputs(" timestamp=\"", m);
                xml_log(m, log->started);
                fputc('"', m);
        }
        fputs(">\n", m);
        junit_properties(x, m, log);
        for (size_t i = 0; i < log->nf; i++)
                if (v[i]->area == area)
                        junit_failure(x, m, v[i], cls);
        if (log->f_over[area])
                fprintf(m,
                        "    <testcase classname=\"%s\" name=\"objects past the first %d\" time=\"0\">\n"
                        "      <failure type=\"denied\" message=\"%lu more calls denied on other objects\">"
                        "not listed: see the audit log</failure>\n    </testcase>\n",
                        cls, CI_KEEP_MAX, log->f_over[area]);
        if (area == CI_ENVIRONMENT) {
                _cleanup_free_ char *names = ci_text(log->env_removed ? log->env_removed : "");
                fprintf(m, "    <testcase classname=\"%s\" name=\"%s\" time=\"0\">\n", cls,
                        *names ? "secrets removed from the environment" : "no secrets in the environment");
                if (*names) {
                        fputs("      <system-out>", m);
                        for (char *p = names; *p; p++)
                                *p == ',' ? fputc('\n', m) : xml_put(m, (char[]){ *p, 0 });
                        fputs("</system-out>\n", m);
                }
                fputs("    </testcase>\n", m);
        } else if (!failed) {
                fprintf(m, "    <testcase classname=\"%s\" name=\"nothing denied\" time=\"0\"/>\n", cls);
        }
        fputs("  </testsuite>\n", m);
        *tests += n;
        *failures += failed;
}

int ci_write_junit(const struct ci_ctx *x, const struct ci_log *log)
{
        _cleanup_free_ const struct ci_finding **v = ci_sorted(log);
        _cleanup_free_ char *body = NULL, *text = NULL;
        unsigned long tests = 0, failures = 0;
        size_t bsize = 0, size = 0;
        FILE *m = open_memstream(&body, &bsize), *t;

        if (!m)
                abort();
        for (int a = 0; a < CI_AREAS; a++)
                junit_suite(x, m, log, v, a, &tests, &failures);
        fclose(m);
        t = open_memstream(&text, &size);
        if (!t)
                abort();
        fprintf(t,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<testsuites name=\"interpose\" tests=\"%lu\" failures=\"%lu\" errors=\"0\" time=\"0\">\n%s"
                "</testsuites>\n",
                tests, failures, body);
        fclose(t);
        return ci_write_file(x, x->o->junit_fd, x->o->junit, "JUnit report", text, size, false);
}
