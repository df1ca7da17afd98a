/* SPDX-License-Identifier: MIT */
/* The file policy: profiles, precedence, identity pins, file errors. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "policy/policy.h"

static char ws[256], home[256];

__attribute__((format(printf, 2, 3))) static unsigned rights(const struct policy *p, const char *fmt, ...)
{
        char path[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        return policy_decide(p, path, NULL);
}

static void profile(struct policy *p, const char *name)
{
        struct policy_error err;

        policy_free(p);
        if (policy_profile(p, name, home, ws, NULL, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                exit(EXIT_HARD);
        }
}

static void check_agent(void)
{
        struct policy p;
        const struct policy_rule *r;

        policy_init(&p);
        profile(&p, "agent");
        CHECK(rights(&p, "%s", "/usr/bin/gcc") & PR_EXEC, "exec in /usr");
        CHECK(!(rights(&p, "%s", "/usr/bin/gcc") & PR_WRITE), "no write in /usr");
        CHECK(rights(&p, "%s", "/etc/passwd") == PR_RO, "/etc/passwd read-only");
        CHECK(rights(&p, "%s", "/etc/shadow") == 0, "/etc/shadow denied");
        CHECK(rights(&p, "%s", "/etc/sudoers.d/90-cloud") == 0, "/etc/sudoers.d denied");
        CHECK(rights(&p, "%s", "/etc/ssh/ssh_host_ed25519_key") == 0, "host keys denied");
        CHECK(rights(&p, "%s", "/etc/ssh/ssh_config") == PR_RO, "ssh_config readable");
        CHECK((rights(&p, "%s/src/main.c", ws) & PR_RW) == PR_RW, "workspace read-write");
        CHECK(rights(&p, "%s/.env", ws) == 0, ".env in the workspace denied");
        CHECK(rights(&p, "%s/app/.env.production", ws) == 0, ".env.* anywhere denied");
        CHECK(rights(&p, "%s/.environment/x", ws) == 0, "below a .env* directory denied");
        CHECK(rights(&p, "%s/.ssh/id_ed25519", home) == 0, "~/.ssh denied");
        CHECK(rights(&p, "%s/.aws/credentials", home) == 0, "~/.aws denied");
        CHECK(rights(&p, "%s/.bash_history", home) == 0, "shell history denied");
        static const char *const more[] = { ".config/git/credentials",  ".config/github-copilot/hosts.json",
                                            ".cache/huggingface/token", ".gradle/gradle.properties",
                                            ".m2/settings.xml",         ".local/share/python_keyring/x",
                                            ".config/zsh/.zsh_history", ".config/containers/auth.json" };
        for (size_t i = 0; i < sizeof(more) / sizeof(*more); i++)
                CHECK(rights(&p, "%s/%s", home, more[i]) == 0, "~/%s denied", more[i]);
        CHECK(rights(&p, "%s/.gradle/caches/x.jar", home) & PR_READ, "the rest of ~/.gradle stays readable");
        /* Below the readable ~/.config, ~/.local/share and ~/.cache. */
        static const char *const stores[] = { ".config/google-chrome/Default/Login Data",
                                              ".config/chromium/Default/Cookies",
                                              ".config/BraveSoftware/Brave-Browser/Default/Cookies",
                                              ".config/Slack/Cookies",
                                              ".config/discord/Local Storage/leveldb/0.ldb",
                                              ".config/Code/User/globalStorage/state.vscdb",
                                              ".config/mozilla/firefox/p.default/logins.json",
                                              ".cache/mozilla/firefox/p.default/x",
                                              ".config/glab-cli/config.yml",
                                              ".config/stripe/config.toml",
                                              ".config/composer/auth.json",
                                              ".config/helm/registry/config.json",
                                              ".config/pip/pip.conf",
                                              ".config/configstore/firebase-tools.json",
                                              ".local/share/com.vercel.cli/auth.json",
                                              ".local/share/atuin/history.db",
                                              ".local/share/jupyter/runtime/kernel-1.json",
                                              ".config/Bitwarden CLI/data.json",
                                              ".config/netlify/config.json" };
        for (size_t i = 0; i < sizeof(stores) / sizeof(*stores); i++)
                CHECK(rights(&p, "%s/%s", home, stores[i]) == 0, "~/%s denied", stores[i]);
        static const char *const tools[] = { ".config/composer/config.json",
                                             ".config/configstore/update-notifier-npm.json",
                                             ".local/share/jupyter/kernels/python3/kernel.json",
                                             ".config/helm/repository/cache/x.yaml", ".cache/pip/http/x" };
        for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++)
                CHECK(rights(&p, "%s/%s", home, tools[i]) & PR_READ, "~/%s stays readable", tools[i]);
        CHECK(rights(&p, "%s", "/etc/apt/auth.conf.d/x.conf") == 0, "/etc/apt/auth.conf.d denied");
        CHECK(rights(&p, "%s", "/etc/kubernetes/admin.conf") == 0, "/etc/kubernetes denied");
        static const char *const etc_keys[] = {
                "/etc/rancher/k3s/k3s.yaml", "/etc/krb5.keytab",
                "/etc/ppp/chap-secrets",     "/etc/ipsec.secrets",
                "/etc/openvpn/client.key",   "/etc/letsencrypt/live/example.org/privkey.pem",
                "/etc/mysql/debian.cnf",     "/etc/ceph/ceph.client.admin.keyring",
                "/etc/postfix/sasl_passwd",  "/etc/netplan/50-wifi.yaml"
        };
        for (size_t i = 0; i < sizeof(etc_keys) / sizeof(*etc_keys); i++)
                CHECK(rights(&p, "%s", etc_keys[i]) == 0, "%s denied", etc_keys[i]);
        CHECK(rights(&p, "%s", "/etc/ceph/ceph.conf") & PR_READ, "/etc/ceph/ceph.conf stays readable");
        CHECK(rights(&p, "%s", "/etc/mysql/my.cnf") & PR_READ, "/etc/mysql/my.cnf stays readable");
        CHECK(rights(&p, "%s/.pyenv/shims/python3", home) & PR_EXEC, "pyenv runs");
        bool literal = false;
        for (size_t i = 0; i < p.n; i++)
                literal |= !strcmp(p.rules[i].path, "/proc/self");
        CHECK(literal, "/proc/self is a rule as written, not the pid of the process that made it");
        CHECK(!(rights(&p, "%s/.pyenv/shims/python3", home) & PR_WRITE), "pyenv read-only");
        CHECK(rights(&p, "%s/notes.txt", home) == 0, "the rest of home is out");
        CHECK(rights(&p, "%s", "/var/log/syslog") == 0, "unlisted trees are out");
        CHECK(rights(&p, "%s", "/var/lib/dpkg/status") == (PR_READ | PR_LIST),
              "the package records are read-only");
        CHECK(rights(&p, "%s", "/") == PR_LIST, "/ can be listed, nothing more");
        CHECK(policy_is_ancestor(&p, "/home") || strncmp(home, "/home/", 6), "/home is an ancestor");
        CHECK(!policy_is_ancestor(&p, "/srv"), "/srv is not an ancestor");
        policy_decide(&p, "/etc/shadow", &r);
        CHECK(r && !strcmp(r->origin, "profile agent") && r->deny, "the denying rule is reported");
        policy_free(&p);
}

static void check_profiles(void)
{
        struct policy p;
        struct policy_error err;

        policy_init(&p);
        profile(&p, "strict");
        CHECK(!(rights(&p, "%s/a.c", ws) & PR_WRITE) && (rights(&p, "%s/a.c", ws) & PR_READ),
              "strict: read-only");
        profile(&p, "ci");
        CHECK(rights(&p, "%s/.cache/pip/x", home) & PR_CREATE, "ci: ~/.cache writable");
        CHECK(rights(&p, "%s/.cargo/registry/index", home) & PR_WRITE, "ci: cargo registry writable");
        CHECK(rights(&p, "%s/.cargo/bin/cargo", home) & PR_EXEC, "ci: cargo runs");
        profile(&p, "agent");
        CHECK(!(rights(&p, "%s/.cache/pip/x", home) & PR_CREATE), "agent: ~/.cache read-only");
        CHECK(policy_profile(&p, "yolo", home, ws, NULL, &err) == -EINVAL &&
                      strstr(err.msg, "agent, strict or ci"),
              "unknown profile: %s", err.msg);
        policy_free(&p);
}

static void check_precedence(void)
{
        struct policy p;
        struct policy_error err;
        char path[512];

        policy_init(&p);
        profile(&p, "agent");
        /* Deny beats allow, whatever the order and specificity. */
        snprintf(path, sizeof(path), "%s/.ssh", home);
        CHECK(policy_add(&p, path, PR_RO, 0, "--allow-read", false, &err) == 0, "add");
        CHECK(rights(&p, "%s/.ssh/id_rsa", home) == 0, "an allow flag does not reopen ~/.ssh");
        CHECK(policy_add(&p, "/", PR_ALL, 0, "--allow-write", false, &err) == 0, "add /");
        CHECK(rights(&p, "%s", "/etc/shadow") == 0, "allowing / does not reopen /etc/shadow");
        /* Otherwise the most specific rule wins: a narrower one narrows. */
        CHECK(policy_add(&p, "vendor", PR_RO, 0, "--allow-read", true, &err) == 0, "add relative");
        CHECK(rights(&p, "%s/vendor/lib.c", ws) == PR_RO, "vendor read-only inside a writable workspace");
        CHECK((rights(&p, "%s/src/lib.c", ws) & PR_RW) == PR_RW, "the rest stays writable");
        /* A deny flag takes away from the profile. */
        CHECK(policy_add(&p, "secret", 0, PR_ALL, "--deny", true, &err) == 0, "add deny");
        CHECK(rights(&p, "%s/secret/key", ws) == 0, "--deny inside the workspace");
        CHECK(policy_add(&p, "relative", PR_RO, 0, "x", false, &err) == -EINVAL,
              "relative refused when not allowed");
        CHECK(policy_add(&p, "/a", PR_RO, PR_READ, "x", false, &err) == -EINVAL && strstr(err.msg, "both"),
              "allow and deny of one right: %s", err.msg);
        policy_free(&p);
}

/* A deny rule pins the object: another name for it is denied too. */
static void check_hardlink(void)
{
        struct policy p;
        struct policy_error err;
        char secret[512], link_[512];
        struct stat st;

        snprintf(secret, sizeof(secret), "%s/secret.txt", ws);
        snprintf(link_, sizeof(link_), "%s/innocent.txt", ws);
        FILE *f = fopen(secret, "w");
        if (!f)
                exit(EXIT_HARD);
        fclose(f);
        unlink(link_);
        if (link(secret, link_) < 0 || stat(link_, &st) < 0)
                exit(EXIT_HARD);
        policy_init(&p);
        profile(&p, "agent");
        CHECK(policy_add(&p, secret, 0, PR_ALL, "--deny", false, &err) == 0, "add");
        CHECK(policy_decide(&p, link_, NULL) & PR_READ, "by name alone the link looks allowed");
        CHECK(policy_decide_object(&p, link_, st.st_dev, st.st_ino, NULL) == 0, "by identity it is denied");
        unlink(link_);
        unlink(secret);
        policy_free(&p);
}

/* A policy file with a problem: FILE:LINE:COL and the problem, nothing applied. */
static void expect_error(const char *text, const char *where, const char *what)
{
        struct policy p;
        struct policy_error err = { "" };
        size_t before;

        policy_init(&p);
        profile(&p, "agent");
        before = p.n;
        CHECK(policy_load_buffer(&p, "t.json", text, strlen(text), &err) < 0, "accepted: %s", text);
        CHECK(!strncmp(err.msg, where, strlen(where)) && strstr(err.msg, what),
              "for %s\n  got '%s'\n  want '%s...%s'", text, err.msg, where, what);
        CHECK(p.n == before, "a bad file changed the policy");
        policy_free(&p);
}

static void check_files(void)
{
        struct policy p;
        struct policy_error err = { "" };
        const struct policy_rule *r;
        const char *good = "{\n"
                           "  \"rules\": [\n"
                           "    { \"path\": \"/srv/data\", \"allow\": \"read\" },\n"
                           "    { \"path\": \"build\", \"deny\": [\"write\", \"delete\"] }\n"
                           "  ]\n"
                           "}\n";

        expect_error("{\"rules\": [", "t.json:1:11:", "expected");
        expect_error("{\n  \"rules\": 3\n}", "t.json:2:12:", "\"rules\" is a list");
        expect_error("{\n  \"rulez\": []\n}", "t.json:2:3:", "unknown key 'rulez'");
        expect_error("{\"rules\": [\n  {\"path\": \"/a\", \"allow\": [\"read\", \"fly\"]}\n]}",
                     "t.json:2:36:", "unknown right 'fly'");
        expect_error("{\"rules\": [\n  {\"path\": \"/a\", \"allow\": \"read\", \"deny\": \"all\"}\n]}",
                     "t.json:2:3:", "contradictory");
        expect_error("{\"rules\": [\n {\"path\": \"/a\", \"allow\": \"read\"},\n {\"path\": \"/a\", "
                     "\"deny\": \"read\"}\n]}",
                     "t.json:3:2:", "second rule for /a (the first is at line 2)");
        expect_error("{\"rules\": [{\"allow\": \"read\"}]}", "t.json:1:12:", "needs a \"path\"");
        expect_error("{\"rules\": [{\"path\": \"/a\"}]}",
                     "t.json:1:12:", "needs \"allow\", \"ask\" or \"deny\"");
        expect_error("{\"rules\": [{\"path\": \"/a\", \"allow\": \"read\", \"x\": 1}]}",
                     "t.json:1:44:", "unknown key 'x' in a rule");
        expect_error("{\"profile\": \"yolo\"}", "t.json:1:13:", "unknown profile 'yolo'");
        expect_error("[1, 2]", "t.json:1:1:", "a policy is a JSON object");
        expect_error("{\"rules\": [], \"rules\": []}", "t.json:1:", "duplicate");

        policy_init(&p);
        profile(&p, "agent");
        CHECK(policy_load_buffer(&p, "t.json", good, strlen(good), &err) == 0, "good file: %s", err.msg);
        CHECK(policy_decide(&p, "/srv/data/x", &r) == PR_READ && r && !strcmp(r->origin, "t.json:3:5"),
              "rule from the file, with its place: %s", r ? r->origin : "-");
        CHECK(!(rights(&p, "%s/build/out.o", ws) & PR_WRITE) && (rights(&p, "%s/build/out.o", ws) & PR_READ),
              "a deny in the workspace");
        /* A file that names the profile rebuilds the base; --profile wins
         * only when it agrees. */
        CHECK(policy_load_buffer(&p, "t.json", "{\"profile\": \"strict\"}", 21, &err) == 0, "profile switch");
        CHECK(!strcmp(p.profile, "strict") && !(rights(&p, "%s/a.c", ws) & PR_WRITE), "now strict");
        p.profile_explicit = true;
        CHECK(policy_load_buffer(&p, "t.json", "{\"profile\": \"ci\"}", 17, &err) < 0 &&
                      strstr(err.msg, "--profile"),
              "explicit profile conflict: %s", err.msg);
        policy_free(&p);
}

/* Rights given on request (ask): above the granted ones, never granted
 * by themselves; an ask beats an allow as specific or less, deny beats an
 * ask; a network ask rule beats an allow rule. */
static void check_asks(void)
{
        static const char file[] = "{\"rules\": [\n"
                                   " {\"path\": \"/srv/docs\", \"allow\": \"read\", \"ask\": [\"write\"]},\n"
                                   " {\"path\": \"/srv/docs/private\", \"deny\": \"all\"}\n"
                                   "],\n"
                                   "\"net\": {\"allow\": [\"*\"], \"ask\": [\"pastebin.com\"]}}";
        struct policy_error err;
        const struct policy_rule *r;
        struct policy p;
        unsigned v;

        policy_init(&p);
        profile(&p, "agent");
        CHECK(!p.asks, "the profile asks nothing");
        CHECK(policy_add(&p, "/srv/ask", PR_ASKED | PR_RO, 0, "--ask-read", false, &err) == 0, "add ask");
        CHECK(p.asks, "now it does");
        v = policy_decide(&p, "/srv/ask/notes.txt", &r);
        CHECK((v & PR_ALL) == 0 && PR_ASK_RIGHTS(v) == PR_RO && r && !strcmp(r->origin, "--ask-read"),
              "asked, not granted: %#x by %s", v, r ? r->origin : "-");
        CHECK(policy_is_ancestor(&p, "/srv"), "the way to an asked tree may be looked up");
        /* An ask on the workspace itself asks what the profile allows there. */
        CHECK(policy_add(&p, ws, PR_ASKED | PR_WRITE | PR_CREATE | PR_DELETE, 0, "--ask-write", false,
                         &err) == 0,
              "ask write on the workspace");
        v = rights(&p, "%s/a.c", ws);
        CHECK((v & PR_RO) == PR_RO && !(v & PR_WRITE) && (PR_ASK_RIGHTS(v) & PR_WRITE),
              "workspace: read granted, write asked: %#x", v);
        /* An allow below an asked tree is not asked. */
        CHECK(policy_add(&p, "/srv/ask/open", PR_RO, 0, "--allow-read", false, &err) == 0, "allow below");
        v = rights(&p, "/srv/ask/open/x");
        CHECK(v == PR_RO, "allowed below the ask: %#x", v);
        /* Deny beats an ask. */
        CHECK(policy_add(&p, "/srv/ask/secret", 0, PR_ALL, "--deny", false, &err) == 0, "deny below");
        CHECK(rights(&p, "/srv/ask/secret/x") == 0, "denied, not asked");
        policy_free(&p);

        policy_init(&p);
        profile(&p, "agent");
        CHECK(policy_load_buffer(&p, "t.json", file, strlen(file), &err) == 0, "a file with asks: %s",
              err.msg);
        v = rights(&p, "/srv/docs/a");
        CHECK((v & PR_ALL) == PR_READ && PR_ASK_RIGHTS(v) == PR_WRITE, "allow read, ask write: %#x", v);
        CHECK(rights(&p, "/srv/docs/private/a") == 0, "denied below");
        {
                struct net_addr a = { .family = AF_INET, .addr = { 93, 184, 216, 34 }, .port = 443 };
                const struct net_rule *nr;
                const char *why;
                CHECK(net_addr_allowed(&p.net, &a, "pastebin.com", &nr, &why) && nr && nr->ask,
                      "a name asked beats '*'");
                CHECK(net_addr_allowed(&p.net, &a, "example.com", &nr, &why) && nr && !nr->ask,
                      "others allowed by '*'");
        }
        policy_free(&p);
        expect_error("{\"rules\": [\n {\"path\": \"/a\", \"allow\": \"read\", \"ask\": \"read\"}\n]}",
                     "t.json:2:2:", "both asked and allowed");
        expect_error("{\"rules\": [{\"path\": \"/a\", \"ask\": \"fly\"}]}",
                     "t.json:1:", "unknown right 'fly'");
        expect_error("{\"net\": {\"ask\": [\"no such host!\"]}}", "t.json:1:", "not a domain name");
}

/* Bind mounts: a denied tree shown again elsewhere is denied there too,
 * whether the mount shows all of it, a part of it, or a tree holding it. */
static void check_bind_mounts(void)
{
        static const char mountinfo[] =
                "21 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                "22 21 0:5 / /proc rw - proc proc rw\n"
                "30 21 8:1 /home/tester/.ssh /srv/ws/keys rw - ext4 /dev/sda1 rw\n"
                "31 21 8:1 /home/tester/.ssh/old /srv/ws/old\\040keys rw - ext4 /dev/sda1 rw\n"
                "32 21 8:1 /home /srv/ws/homes rw - ext4 /dev/sda1 rw\n"
                "33 21 8:2 /home/tester/.ssh /srv/ws/other-disk rw - ext4 /dev/sdb1 rw\n"
                "34 21 8:1 /home/tester/keys /srv/ws/kb rw - ext4 /dev/sda1 rw\n"
                "35 21 8:1 /home/tester/keys/x.pem /srv/ws/one.pem rw - ext4 /dev/sda1 rw\n";
        struct policy_error err;
        struct policy p;

        policy_init(&p);
        CHECK(policy_add(&p, "/srv/ws", PR_RW, 0, "ws", false, &err) == 0, "add ws");
        CHECK(policy_add(&p, "/home/tester/.ssh", 0, PR_ALL, "--deny", false, &err) == 0, "add deny");
        CHECK(policy_add(&p, "/home/tester/keys/*.pem", 0, PR_ALL, "--deny", false, &err) == 0,
              "add pattern");
        CHECK(policy_add(&p, "/srv/ws/secrets/*.pem", 0, PR_ALL, "--deny", false, &err) == 0, "add pattern");
        CHECK(rights(&p, "/srv/ws/keys/id_rsa") == PR_RW, "before: the bind mount is just a path");
        CHECK(policy_deny_bind_mounts(&p, mountinfo, &err) == 0, "bind mounts: %s", err.msg);
        CHECK(rights(&p, "/srv/ws/keys/id_rsa") == 0, "the denied tree mounted again is denied");
        CHECK(rights(&p, "/srv/ws/old keys/x") == 0, "a part of it (escaped name) is denied");
        CHECK(rights(&p, "/srv/ws/homes/tester/.ssh/id_rsa") == 0, "inside a mount of its parent, denied");
        CHECK(rights(&p, "/srv/ws/homes/tester/notes") == PR_RW, "the rest of that mount is not");
        CHECK(rights(&p, "/srv/ws/other-disk/id_rsa") == PR_RW,
              "the same path on another file system is not it");
        CHECK(rights(&p, "/srv/ws/kb/a.pem") == 0, "a pattern rule follows its directory into a mount");
        CHECK(rights(&p, "/srv/ws/kb/notes") == PR_RW, "...for the names it matches only");
        CHECK(rights(&p, "/srv/ws/one.pem") == 0, "a mount of one matching file is denied");
        CHECK(policy_holds_rule(&p, "/srv/ws/secrets") != NULL, "a directory with a pattern rule holds it");
        CHECK(policy_holds_rule(&p, "/srv/ws/src") == NULL, "other directories do not");
        policy_free(&p);
}

/* A home reached through a symlink: rules name where things really are,
 * those not made yet too (a ~/.aws the guest creates stays denied). */
static void check_symlinked_home(void)
{
        char real[300], link[300], path[400];
        struct policy_error err;
        struct policy p;

        snprintf(real, sizeof(real), "%s/real-home", ws);
        snprintf(link, sizeof(link), "%s/home-link", ws);
        snprintf(path, sizeof(path), "%s/.ssh", real);
        if (mkdir(real, 0700) < 0 || mkdir(path, 0700) < 0 || symlink(real, link) < 0)
                exit(EXIT_HARD);
        policy_init(&p);
        CHECK(policy_profile(&p, "agent", link, ws, NULL, &err) == 0, "profile: %s", err.msg);
        CHECK(rights(&p, "%s/.ssh/id_rsa", real) == 0, "an existing ~/.ssh is denied where it is");
        CHECK(rights(&p, "%s/.aws/credentials", real) == 0, "a ~/.aws made later is denied where it will be");
        CHECK(rights(&p, "%s/.netrc", real) == 0, "so is a ~/.netrc");
        policy_free(&p);
        policy_init(&p);
        CHECK(policy_add(&p, ws, PR_RW, 0, "ws", false, &err) == 0, "add: %s", err.msg);
        snprintf(path, sizeof(path), "%s/.npmrc", link);
        CHECK(policy_add(&p, path, 0, PR_ALL, "--deny", false, &err) == 0, "add: %s", err.msg);
        CHECK(rights(&p, "%s/.npmrc", real) == 0, "a flag's missing file is denied where it will be");
        policy_free(&p);
        unlink(link);
        snprintf(path, sizeof(path), "%s/.ssh", real);
        rmdir(path);
        rmdir(real);
}

/* A rule naming a symlink (/lib on a merged-/usr system, a dotfile kept
 * elsewhere) decides for what it points to, and lets the link itself be
 * read (lstat, readlink): that name alone, nothing below it. */
static void check_linked_rule(void)
{
        char real[300], link[300], dlink[300];
        struct policy_error err;
        struct policy p;

        snprintf(real, sizeof(real), "%s/tools-real", ws);
        snprintf(link, sizeof(link), "%s/tools-link", ws);
        snprintf(dlink, sizeof(dlink), "%s/denied-link", ws);
        if (mkdir(real, 0700) < 0 || symlink("tools-real", link) < 0 || symlink("elsewhere", dlink) < 0)
                exit(EXIT_HARD);
        policy_init(&p);
        CHECK(policy_add(&p, "/", PR_LIST | PR_EXACT, 0, "root", false, &err) == 0, "add: %s", err.msg);
        CHECK(policy_add(&p, link, PR_RX, 0, "--allow-read", false, &err) == 0, "add: %s", err.msg);
        CHECK(policy_add(&p, dlink, 0, PR_ALL, "--deny", false, &err) == 0, "add: %s", err.msg);
        CHECK(rights(&p, "%s/bin/tool", real) == PR_RX, "the rule decides where the link points, got %#x",
              rights(&p, "%s/bin/tool", real));
        CHECK(rights(&p, "%s", link) == PR_READ, "the link itself may be read, got %#x",
              rights(&p, "%s", link));
        CHECK(rights(&p, "%s/bin/tool", link) == 0, "nothing below the link's name");
        CHECK(rights(&p, "%s", dlink) == 0, "a denied link gets nothing");
        policy_free(&p);
        policy_init(&p);
        CHECK(policy_add(&p, link, PR_READ | PR_ASKED, 0, "--ask-read", false, &err) == 0, "add: %s",
              err.msg);
        CHECK(rights(&p, "%s", link) == 0, "an asked rule gives the link nothing unasked");
        policy_free(&p);
        unlink(link);
        unlink(dlink);
        rmdir(real);
}

/* `policy show --json` as jansson wrote it before it was written by hand:
 * the audit log's policy_hash is the SHA-256 of that text, so the two must
 * agree byte for byte. */
static int by_path(const void *a, const void *b)
{
        const struct policy_rule *x = *(const struct policy_rule *const *)a;
        const struct policy_rule *y = *(const struct policy_rule *const *)b;
        int c = strcmp(x->path, y->path);
        return c ? c : (x < y ? -1 : 1);
}

static char *show_jansson(const struct policy *p)
{
        const struct policy_rule *sorted[256];
        char a[64], d[64], *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        json_t *rules = json_array(), *net = json_array(), *top;

        if (!f || p->n > 256)
                exit(EXIT_HARD);
        for (size_t i = 0; i < p->n; i++)
                sorted[i] = &p->rules[i];
        qsort(sorted, p->n, sizeof(*sorted), by_path);
        for (size_t i = 0; i < p->n; i++) {
                const struct policy_rule *r = sorted[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "path", r->path, "allow",
                                      policy_rights_str(r->allow, a, sizeof(a)), "deny",
                                      policy_rights_str(r->deny, d, sizeof(d)), "from", r->origin);
                if (r->ask)
                        json_object_set_new(o, "ask", json_string(policy_rights_str(r->ask, a, sizeof(a))));
                json_array_append_new(rules, o);
        }
        for (size_t i = 0; i < p->net.n; i++) {
                const struct net_rule *r = &p->net.rules[i];
                char host[300];
                json_array_append_new(net, json_pack("{s:s, s:i, s:i, s:s, s:s}", "host",
                                                     net_rule_host(r, host, sizeof(host)), "port_lo",
                                                     (int)r->port_lo, "port_hi", (int)r->port_hi, "decision",
                                                     r->deny  ? "deny"
                                                     : r->ask ? "ask"
                                                              : "allow",
                                                     "from", r->origin));
        }
        top = json_pack("{s:s?, s:s?, s:o, s:{s:s, s:o, s:s?}}", "profile", p->profile, "workspace",
                        p->workspace, "rules", rules, "net", "mode",
                        p->net.mode == NET_HOST ? "host" : "none", "rules", net, "dns_upstream",
                        p->net.dns_upstream);
        json_dumpf(top, f, JSON_INDENT(1));
        fputc('\n', f);
        json_decref(top);
        fclose(f);
        return text;
}

static char *show_json(const struct policy *p)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                exit(EXIT_HARD);
        policy_show(p, f, true);
        fclose(f);
        return text;
}

static void check_show_json(void)
{
        static const char *const odd[] = {
                "/srv/quote\"d",    "/srv/back\\slash",      "/srv/tab\there",
                "/srv/new\nline",   "/srv/ctl\x01\x1f",      "/srv/del\x7f",
                "/srv/caf\xc3\xa9", "/srv/snow\xe2\x98\x83", "/srv/emoji\xf0\x9f\x99\x82",
                "/srv/cr\r\b\f",
        };
        struct policy_error err;
        struct policy p;
        char why[256];
        char *mine, *ref;

        policy_init(&p);
        mine = show_json(&p);
        ref = show_jansson(&p);
        CHECK(!strcmp(mine, ref), "an empty policy's JSON is jansson's:\n%s\n---\n%s", mine, ref);
        free(mine);
        free(ref);

        profile(&p, "agent");
        for (size_t i = 0; i < sizeof(odd) / sizeof(*odd); i++)
                CHECK(policy_add(&p, odd[i], i % 2 ? PR_RO : PR_ASKED | PR_READ, i % 3 ? 0 : PR_WRITE,
                                 odd[i] + 5, false, &err) == 0,
                      "add %s: %s", odd[i], err.msg);
        CHECK(net_policy_add(&p.net, "example.com:443", NET_RULE_ALLOW, "--allow-net", why, sizeof(why)) == 0,
              "net rule: %s", why);
        CHECK(net_policy_add(&p.net, "*.example.org", NET_RULE_ASK, "--ask-net", why, sizeof(why)) == 0,
              "net rule: %s", why);
        CHECK(net_policy_add(&p.net, "10.0.0.0/8:1-1024", NET_RULE_DENY, "f\"ile", why, sizeof(why)) == 0,
              "net rule: %s", why);
        p.net.mode = NET_HOST;
        p.net.dns_upstream = strdup("127.0.0.1:53");
        mine = show_json(&p);
        ref = show_jansson(&p);
        CHECK(!strcmp(mine, ref), "the agent profile's JSON with odd names is jansson's:\n%s\n---\n%s", mine,
              ref);
        free(mine);
        free(ref);

        /* Not UTF-8: jansson refused the string and dropped the rule; it
         * stays, its byte escaped. */
        CHECK(policy_add(&p, "/srv/latin\xe9", PR_RO, 0, "latin-1", false, &err) == 0, "add: %s", err.msg);
        mine = show_json(&p);
        CHECK(strstr(mine, "\"/srv/latin\\u00E9\"") != NULL, "a byte that is not UTF-8 is escaped");
        free(mine);
        policy_free(&p);
}

/* A move may not give an object a right a rule withholds where it is;
 * what it merely lacks there it may gain. */
static void check_moves(void)
{
        struct stat file = { .st_mode = S_IFREG, .st_dev = 1, .st_ino = 7 };
        struct stat dir = { .st_mode = S_IFDIR, .st_dev = 1, .st_ino = 8 };
        struct policy_error err;
        struct policy p;

        policy_init(&p);
        CHECK(policy_add(&p, "/srv/ws", PR_RW | PR_EXEC, 0, "ws", false, &err) == 0, "add ws");
        CHECK(policy_add(&p, "/srv/tmp", PR_RW, 0, "tmp", false, &err) == 0, "add tmp");
        CHECK(policy_add(&p, "/srv/ws/private", 0, PR_READ | PR_LIST, "deny", false, &err) == 0, "add deny");
        CHECK(policy_add(&p, "/srv/ws/docs", PR_ASKED | PR_READ, 0, "ask", false, &err) == 0, "add ask");
        CHECK(policy_move_widens(&p, "/srv/ws/private", "/srv/ws/p2", &dir) != NULL,
              "a partly denied directory does not move out of its rule");
        CHECK(policy_move_widens(&p, "/srv/ws/private/n", "/srv/ws/n", &file) != NULL,
              "nor does a file below it");
        CHECK(policy_move_widens(&p, "/srv/ws/private/n", "/srv/ws/private/m", &file) == NULL,
              "within the rule it moves");
        CHECK(policy_move_widens(&p, "/srv/ws/docs", "/srv/ws/d2", &dir) != NULL,
              "an asked directory does not move where it is not asked");
        CHECK(policy_move_widens(&p, "/srv/ws/d2", "/srv/ws/docs", &dir) == NULL,
              "anything may move where it is asked");
        CHECK(policy_move_widens(&p, "/srv/tmp/a.out", "/srv/ws/a.out", &file) == NULL,
              "a right only lacked (exec in tmp) may be gained");
        policy_free(&p);
}

/* What a repository's address rule may not name (tools/policy.c). */
static void check_guarded_rules(void)
{
        static const char *const specs[] = { "127.0.0.0/16", "168.63.0.0/16", "[fd00:ec2::]/48",
                                             "10.1.0.0/16" };
        struct net_policy n;
        char e[256];

        net_policy_init(&n);
        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
                CHECK(net_policy_add(&n, specs[i], NET_RULE_ALLOW, "t", e, sizeof(e)) == 0, "add %s: %s",
                      specs[i], e);
        CHECK(net_rule_guarded(&n.rules[0]), "a range within loopback is guarded");
        CHECK(net_rule_guarded(&n.rules[1]), "a range holding a metadata address is");
        CHECK(net_rule_guarded(&n.rules[2]), "an IPv6 range holding one is");
        CHECK(!net_rule_guarded(&n.rules[3]), "a private range is not");
        net_policy_free(&n);
}

int main(void)
{
        char tmpl[] = "/tmp/interpose-policy-XXXXXX";

        if (!mkdtemp(tmpl))
                return EXIT_HARD;
        snprintf(ws, sizeof(ws), "%s", tmpl);
        snprintf(home, sizeof(home), "/home/tester");
        check_agent();
        check_profiles();
        check_precedence();
        check_hardlink();
        check_files();
        check_bind_mounts();
        check_show_json();
        check_symlinked_home();
        check_linked_rule();
        check_asks();
        check_moves();
        check_guarded_rules();
        rmdir(tmpl);
        printf("policy: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
