/* SPDX-License-Identifier: MIT */
/* `interpose ci`: the CI defaults, and after the job its reports and gate. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sentry/util.h"
#include "ci.h"

int ci_option(struct ci_opts *ci, int code, const char *arg)
{
        switch (code) {
        case CI_OPT_FAIL_ON:
                if (!strcmp(arg, "never"))
                        ci->fail_on = CI_GATE_NEVER;
                else if (!strcmp(arg, "denied"))
                        ci->fail_on = CI_GATE_DENIED;
                else if (!strcmp(arg, "asked"))
                        ci->fail_on = CI_GATE_ASKED;
                else {
                        fprintf(stderr, "interpose ci: --fail-on=%s: give denied, asked or never\n", arg);
                        return EXIT_INTERPOSE_FAILED;
                }
                return 0;
        case CI_OPT_JUNIT:
                ci->junit = arg;
                return 0;
        case CI_OPT_ARTIFACTS:
                ci->artifacts = arg;
                return 0;
        case CI_OPT_LEARN:
                ci->learn = arg ? arg : "interpose-learned.json";
                return 0;
        case CI_OPT_NO_REPO_POLICY:
                ci->no_repo_policy = true;
                return 0;
        }
        return EXIT_INTERPOSE_FAILED;
}

/* The workspace the runner checked the repository out in. */
static const char *runner_workspace(const char **which)
{
        static const char *const vars[] = {
                "GITHUB_WORKSPACE",       /* GitHub Actions */
                "CI_PROJECT_DIR",         /* GitLab CI */
                "BUILD_SOURCESDIRECTORY", /* Azure Pipelines */
                "ZUUL_PROJECT_SRC_DIR",   /* Zuul, when the job exports zuul.project.src_dir */
                "WORKSPACE",              /* Jenkins */
        };

        for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
                const char *v = getenv(vars[i]);
                if (v && *v) {
                        *which = vars[i];
                        return v;
                }
        }
        return NULL;
}

static int mkdir_p(const char *dir)
{
        char path[PATH_MAX];

        if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* path as an absolute one, into buf. */
static const char *absolute(const char *path, char *buf, size_t cap)
{
        char cwd[PATH_MAX];

        if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
                snprintf(buf, cap, "%s", path);
        else
                snprintf(buf, cap, "%s/%s", cwd, path);
        return buf;
}

/* Is a component of path below the workspace (where the repository's and
 * the job's files are) a symlink? */
static bool planted_link(const char *workspace, const char *path)
{
        char abs[PATH_MAX];
        size_t n = strlen(workspace);
        struct stat st;

        absolute(path, abs, sizeof(abs));
        if (strncmp(abs, workspace, n) || abs[n] != '/')
                return false;
        for (char *p = abs + n + 1;; p++) {
                if (*p != '/' && *p)
                        continue;
                char c = *p;
                *p = '\0';
                bool link = lstat(abs, &st) == 0 && S_ISLNK(st.st_mode);
                *p = c;
                if (link)
                        return true;
                if (!c)
                        return false;
        }
}

/* A report's file, opened before the job runs. fd, or -1 (said). */
static int open_output(const struct ci_opts *ci, const char *path, const char *what, bool append)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (planted_link(ci->workspace, path)) {
                fprintf(stderr,
                        "interpose ci: %s=%s: a symlink inside the workspace is on the way (the repository "
                        "may "
                        "have planted it); write the report outside the workspace, or remove the link\n",
                        what, path);
                return -1;
        }
        /* Not a FIFO (waited on for ever), nor another name of a file. */
        fd = open(path,
                  O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
                          (append ? O_APPEND : 0),
                  0644);
        if (fd < 0 || fstat(fd, &st) < 0 || fcntl(fd, F_SETFL, append ? O_APPEND : 0) < 0) {
                fprintf(stderr, "interpose ci: %s=%s: %s\n", what, path, strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
                fprintf(stderr, "interpose ci: %s=%s: not a regular file of one name; name another\n", what,
                        path);
                return -1;
        }
        return TAKE_FD(fd);
}

/* The whole of a file (malloc'd, NUL-terminated), or NULL with errno. */
static char *file_text(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        if (getdelim(&text, &len, '\0', f) < 0 && !feof(f)) {
                free(text);
                text = NULL;
        } else if (!text) {
                text = strdup("");
        }
        fclose(f);
        return text;
}

int ci_prepare(struct ci_opts *ci, struct policy_options *po, struct session_opts *o)
{
        const char *which = NULL, *ws;
        const char *forbid = getenv("INTERPOSE_CI_NO_REPO_POLICY");
        struct stat st;

        if (!po->profile)
                po->profile = "ci";
        if (!po->workspace && (ws = runner_workspace(&which))) {
                if (!realpath(ws, ci->workspace)) {
                        fprintf(stderr, "interpose ci: $%s is %s: %s (check the runner's checkout)\n", which,
                                ws, strerror(errno));
                        return EXIT_INTERPOSE_FAILED;
                }
                po->workspace = ci->workspace;
        }
        if (!po->workspace && !getcwd(ci->workspace, sizeof(ci->workspace))) {
                fprintf(stderr, "interpose ci: cannot tell the current directory: %s\n", strerror(errno));
                return EXIT_INTERPOSE_FAILED;
        }
        if (po->workspace && po->workspace != ci->workspace)
                snprintf(ci->workspace, sizeof(ci->workspace), "%s", po->workspace);
        if (forbid && *forbid && strcmp(forbid, "0"))
                ci->no_repo_policy = true;
        /* The repository's own policy, when the runner allows it: a pull
         * request can edit it, so runners that build untrusted changes
         * forbid it (--no-repo-policy, INTERPOSE_CI_NO_REPO_POLICY=1) or
         * name the base branch's copy with --policy. */
        snprintf(ci->repo_policy, sizeof(ci->repo_policy), "%s/.interpose.json", ci->workspace);
        if (!po->policy_file && lstat(ci->repo_policy, &st) == 0) {
                if (!ci->no_repo_policy && !S_ISREG(st.st_mode)) {
                        /* Read unconfined: a link to a credential would show
                         * its first word in the parse error, a FIFO would
                         * hang the job. Nothing the job runs has run yet. */
                        fprintf(stderr,
                                "interpose ci: %s is not a regular file (a symlink, a FIFO?); a repository's "
                                "policy is not followed anywhere: commit the file itself\n",
                                ci->repo_policy);
                        return EXIT_INTERPOSE_FAILED;
                }
                if (ci->no_repo_policy) {
                        fprintf(stderr,
                                "interpose ci: %s is not used (the runner forbids repository policies)\n",
                                ci->repo_policy);
                } else {
                        po->policy_file = ci->repo_policy;
                        po->policy_untrusted = true;
                        fprintf(stderr, "interpose ci: using the repository's policy %s\n", ci->repo_policy);
                }
        }
        ci->run_policy = po->policy_file;
        /* --learn merges into the policy the job ran under: read now, as
         * the session reads it, not after the job (the repository's file
         * is in the guest's workspace: swapped for a link to a credential
         * during the job, its contents would end up in the learned file). */
        if (ci->learn && ci->run_policy) {
                ci->run_policy_text = file_text(ci->run_policy);
                if (!ci->run_policy_text) {
                        fprintf(stderr, "interpose ci: --learn: cannot read %s: %s\n", ci->run_policy,
                                strerror(errno));
                        return EXIT_INTERPOSE_FAILED;
                }
        }
        /* Never ask: a CI job has nobody to answer. */
        o->approver = APPROVER_NONE;
        /* Checked before the directories are made: not through a link. */
        if (ci->artifacts && planted_link(ci->workspace, ci->artifacts)) {
                fprintf(stderr,
                        "interpose ci: --artifacts=%s: a symlink inside the workspace is on the way (the "
                        "repository may have planted it); give a directory outside it, or remove the link\n",
                        ci->artifacts);
                return EXIT_INTERPOSE_FAILED;
        }
        if (ci->artifacts) {
                int r = mkdir_p(ci->artifacts);
                if (r < 0) {
                        fprintf(stderr, "interpose ci: --artifacts=%s: %s\n", ci->artifacts, strerror(-r));
                        return EXIT_INTERPOSE_FAILED;
                }
                if (!o->audit_path) {
                        snprintf(ci->audit, sizeof(ci->audit), "%s/audit.jsonl", ci->artifacts);
                        o->audit_path = po->audit_path = ci->audit;
                }
                if (!ci->junit) {
                        snprintf(ci->junit_buf, sizeof(ci->junit_buf), "%s/junit.xml", ci->artifacts);
                        ci->junit = ci->junit_buf;
                }
        }
        o->audit_saved = ci->audit_saved;
        /* The reports' files are opened now, before the job runs: nothing
         * it does to their paths (a symlink put in their place) decides
         * where interpose, unconfined, writes them. */
        const char *step = getenv("GITHUB_STEP_SUMMARY");
        ci->junit_fd = ci->step_fd = ci->learn_fd = -1;
        if ((ci->junit && (ci->junit_fd = open_output(ci, ci->junit, "--junit", false)) < 0) ||
            (step && *step && (ci->step_fd = open_output(ci, step, "$GITHUB_STEP_SUMMARY", true)) < 0) ||
            (ci->learn && (ci->learn_fd = open_output(ci, ci->learn, "--learn", false)) < 0))
                return EXIT_INTERPOSE_FAILED;
        return 0;
}

/* Append to into each value of from it does not hold yet. */
static void add_missing(json_t *into, json_t *from)
{
        json_t *v, *w;
        size_t i, j;

        json_array_foreach(from, i, v)
        {
                bool have = false;
                json_array_foreach(into, j, w) have |= json_equal(v, w);
                if (!have)
                        json_array_append(into, v);
        }
}

/* The list o holds at key, made one if it is a single value ("allow":
 * "read") or absent. */
static json_t *list_at(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key), *arr;

        if (json_is_array(v))
                return v;
        arr = json_array();
        if (v)
                json_array_append(arr, v);
        json_object_set_new(o, key, arr);
        return arr;
}

/* Add the rules of add to base (the same path: rights joined), and its
 * network destinations. */
static void merge_policy(json_t *base, json_t *add)
{
        json_t *brules = list_at(base, "rules"), *arules = json_object_get(add, "rules"), *r;
        size_t i;

        json_array_foreach(arules, i, r)
        {
                const char *path = json_string_value(json_object_get(r, "path"));
                json_t *same = NULL, *b;
                size_t j;
                json_array_foreach(brules, j, b)
                {
                        const char *bp = json_string_value(json_object_get(b, "path"));
                        if (path && bp && !strcmp(path, bp))
                                same = b;
                }
                json_t *allow = json_object_get(r, "allow");
                if (!same || !json_is_array(allow)) {
                        if (!same)
                                json_array_append(brules, r);
                        continue;
                }
                add_missing(list_at(same, "allow"), allow);
        }
        json_t *anet = json_object_get(add, "net");
        if (!json_is_object(anet))
                return;
        json_t *bnet = json_object_get(base, "net");
        if (!json_is_object(bnet)) {
                json_object_set(base, "net", anet);
                return;
        }
        add_missing(list_at(bnet, "allow"), json_object_get(anet, "allow"));
}

/* The learned file: this round's rules (the text in memfd), added to a
 * copy of the policy the job ran under when there was one, written to the
 * file opened before the job. 0 or -1 (said). */
static int learn_write(const struct ci_opts *ci, int memfd)
{
        json_error_t e = { .text = "" };
        json_t *add = NULL, *base = NULL;
        char *text = NULL;
        int r = -1;

        if (lseek(memfd, 0, SEEK_SET) < 0 || !(add = json_loadfd(memfd, 0, &e))) {
                fprintf(stderr, "interpose ci: --learn: cannot read this round's rules: %s\n", e.text);
                goto out;
        }
        if (ci->run_policy_text) {
                base = json_loads(ci->run_policy_text, 0, &e);
                if (!base) {
                        fprintf(stderr, "interpose ci: --learn: cannot read %s: %s\n", ci->run_policy,
                                e.text);
                        goto out;
                }
                merge_policy(base, add);
        }
        text = json_dumps(base ? base : add, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text || ftruncate(ci->learn_fd, 0) < 0 || lseek(ci->learn_fd, 0, SEEK_SET) < 0 ||
            write_all(ci->learn_fd, text, strlen(text)) < 0 || write_all(ci->learn_fd, "\n", 1) < 0) {
                fprintf(stderr, "interpose ci: --learn: cannot write %s: %s\n", ci->learn, strerror(errno));
                goto out;
        }
        r = 0;
out:
        free(text);
        json_decref(add);
        json_decref(base);
        return r;
}

int ci_finish(struct ci_opts *ci, const struct session_opts *o, int code)
{
        struct ci_result res = { 0 };
        _cleanup_close_ int memfd = -1;
        struct ci_report_opts ro = {
                .audit_log = ci->audit_saved,
                .argv = o->argv,
                .job_status = code,
                .fail_on = ci->fail_on,
                .junit = ci->junit,
                .step_summary = getenv("GITHUB_STEP_SUMMARY"),
                .learn = ci->learn,
                .out = stderr,
                .policy = o->policy,
                .junit_fd = ci->junit_fd,
                .step_summary_fd = ci->step_fd,
                .learn_fd = -1,
        };
        int r;

        if (!ci->audit_saved[0]) {
                fprintf(stderr,
                        "interpose ci: the audit log was not saved; no report, and the job cannot pass\n");
                return code ? code : EXIT_INTERPOSE_FAILED;
        }
        if (ro.step_summary && !*ro.step_summary)
                ro.step_summary = NULL;
        if (ci->learn) {
                /* This round's rules, in memory first (learn_write). */
                memfd = memfd_create("interpose-learned", MFD_CLOEXEC);
                if (memfd < 0) {
                        fprintf(stderr, "interpose ci: --learn: %s\n", strerror(errno));
                        return code ? code : EXIT_INTERPOSE_FAILED;
                }
                ro.learn_fd = memfd;
        }
        r = ci_reports(&ro, &res);
        if (r < 0)
                return code ? code : EXIT_INTERPOSE_FAILED;
        if (ci->learn && learn_write(ci, memfd) < 0)
                return code ? code : EXIT_INTERPOSE_FAILED;
        if (ci->learn)
                fprintf(stderr,
                        "interpose ci: --learn: the policy that would have allowed this run is in %s (review "
                        "it; use it with --policy=%s)\n",
                        ci->learn, ci->learn);
        if (code != 0)
                return code; /* the job's own failure stands */
        return res.tripped ? EXIT_CI_GATE : 0;
}
