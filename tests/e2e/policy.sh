#!/bin/sh
# `interpose policy check|show`: the effective rules of a profile, a policy
# file and flags; a malformed file gets FILE:LINE:COL and exit 125.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err
mkdir "$T/ws" && cd "$T/ws" || exit 99

cat >"$T/good.json" <<'JSON'
{
  "profile": "agent",
  "rules": [
    { "path": "/srv/data", "allow": ["read", "list"] },
    { "path": "build", "deny": "write", "comment": "in the workspace" }
  ]
}
JSON
run "$o" "$e" "$INTERPOSE" policy check "$T/good.json"
check_eq "policy check of a good file: status" 0 "$rc"
check_match "policy check says ok" "good.json: ok" "$o"

printf '{\n  "rules": [\n    { "path": "/a", "allow": "raed" }\n  ]\n}\n' >"$T/typo.json"
run "$o" "$e" "$INTERPOSE" policy check "$T/typo.json"
check_eq "policy check of a bad right: status" 125 "$rc"
check_match "names the place and the problem" "typo.json:3:30: unknown right 'raed'" "$e"

# The same file given to a session: nothing runs.
run "$o" "$e" "$INTERPOSE" --policy="$T/typo.json" sh -c "touch $T/ran"
check_eq "a session with a bad policy: status" 125 "$rc"
check_match "the session names the place and the problem" "typo.json:3:30: unknown right 'raed'" "$e"
check_true "the guest did not run" test ! -e "$T/ran"

printf '{ "rules": [ }' >"$T/syntax.json"
run "$o" "$e" "$INTERPOSE" policy check "$T/syntax.json"
check_eq "policy check of bad JSON: status" 125 "$rc"
check_match "names the place" "syntax.json:1:[0-9]+: " "$e"

run "$o" "$e" "$INTERPOSE" policy check "$T/missing.json"
check_eq "policy check of a missing file: status" 125 "$rc"
check_match "says why" "missing.json: No such file" "$e"

# show: the workspace is the current directory; flags extend the profile.
run "$o" "$e" "$INTERPOSE" policy show --policy="$T/good.json" --deny="$T/ws/secret" --allow-write=/srv/out
check_eq "policy show: status" 0 "$rc"
check_match "the workspace is writable" "^$T/ws +all +- +profile agent" "$o"
check_match "the file's rule, with its place" "^/srv/data +read,list +- +$T/good.json:4:5" "$o"
check_match "a --deny flag" "^$T/ws/secret +- +all +--deny" "$o"
check_match "a --allow-write flag" "^/srv/out +read,write,create,delete,list +- +--allow-write" "$o"
check_match "credential stores stay denied" "/\.ssh +- +all +profile agent" "$o"
# Keys other services keep in /etc, 0600 root: a root guest owns and reads them.
for k in /etc/rancher /etc/krb5.keytab /etc/letsencrypt /etc/mysql/debian.cnf /etc/openvpn; do
  check_match "the agent profile denies keys services keep in /etc ($k)" "^$k +- +all +profile agent" "$o"
done

run "$o" "$e" "$INTERPOSE" policy show --profile=strict --json
check_eq "policy show --json: status" 0 "$rc"
check_true "policy show --json is JSON with a read-only workspace" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
ws = [r for r in d["rules"] if r["path"] == d["workspace"]]
assert d["profile"] == "strict" and ws and "write" not in ws[0]["allow"], d
' "$o"

run "$o" "$e" "$INTERPOSE" policy show --profile=yolo
check_eq "unknown profile: status" 125 "$rc"
check_match "names the profiles" "unknown profile 'yolo'.*agent, strict or ci" "$e"
run "$o" "$e" "$INTERPOSE" policy show --profile=strict --policy="$T/good.json"
check_eq "file and flag disagree on the profile: status" 125 "$rc"
check_match "says so" "good.json:2:14: the file asks for profile 'agent' but --profile says 'strict'" "$e"
# A workspace that is a system tree (interpose started from /, or /etc)
# would make it writable: refused, with what to do.
(cd / && "$INTERPOSE" true) >"$o" 2>"$e"
check_eq "started from /: exit 125" 125 "$?"
check_match "started from /: says so and what to do" "workspace would be /, a system directory.*--workspace=DIR" "$e"
run "$o" "$e" "$INTERPOSE" --workspace=/etc true
check_eq "--workspace=/etc: exit 125" 125 "$rc"
run "$o" "$e" "$INTERPOSE" --workspace=/proc/self true
check_eq "--workspace in /proc: exit 125" 125 "$rc"

# A deny rule without "delete" lets what it names be removed, not moved
# where its files would be read: renamed (or swapped with renameat2's
# RENAME_EXCHANGE, or linked) out of the denied tree, a file no rule pins
# would match no rule. Checked natively first.
mkdir -p "$T/ws/private" "$T/ws/open" && echo HIDDEN_NOTE >"$T/ws/private/n.txt"
echo '{"rules":[{"path":"private","deny":["read","list"]}]}' >"$T/pol.json"
cat >"$T/ws/swap.py" <<'PY'
import ctypes
libc = ctypes.CDLL(None)
if libc.renameat2(-100, b"private", -100, b"open", 2) == 0:  # RENAME_EXCHANGE
    print(open("open/n.txt").read())
    libc.renameat2(-100, b"private", -100, b"open", 2)
PY
cat >"$T/ws/mv.sh" <<SH
mv private p2 && cat p2/n.txt && mv p2 private
mv private/n.txt n.txt && cat n.txt && mv n.txt private/n.txt
ln private/n.txt l.txt && cat l.txt && rm l.txt
$PY "$T/ws/swap.py"
cat private/n.txt; true
SH
run "$o" "$e" sh "$T/ws/mv.sh"
check_eq "natively the note is read every way" 5 "$(grep -c HIDDEN_NOTE "$o")"
run "$o" "$e" "$INTERPOSE" --policy="$T/pol.json" -- sh "$T/ws/mv.sh"
check_nomatch "a partly denied tree or its file moved out is not read" 'HIDDEN_NOTE' "$o"
check_true "the denied file stayed where its rule is" test -s "$T/ws/private/n.txt"
check_match "...the move refused with EACCES" "cannot move 'private' to 'p2': Permission denied" "$e"
run "$o" "$e" "$INTERPOSE" --policy="$T/pol.json" -- sh -c 'mv open o2 && rm private/n.txt && rmdir private && echo GONE'
check_match "what no rule withholds anything from moves; the denied tree may be removed" '^GONE$' "$o"

# A deny pattern the matcher cannot follow (a glob in a directory, **
# between names) would load and deny nothing: refused instead.
for pat in '**/keys/*.pem' "$T/**/k.pem" "$T/*/k.pem" '**/keys/**'; do
  printf '{"rules": [{"path": "%s", "deny": "all"}]}\n' "$pat" >"$T/glob.json"
  run "$T/o" "$T/e" "$INTERPOSE" policy check "$T/glob.json"
  check_eq "a pattern with a glob outside its last name is refused ($pat)" 125 "$rc"
  check_match "...saying which patterns there are ($pat)" 'a pattern is \*\*/NAME' "$T/e"
done
run "$T/o" "$T/e" "$INTERPOSE" --deny='**/keys/*.pem' -- true
check_eq "--deny with such a pattern: refused" 125 "$rc"

# The workspace is the home: the startup files the profile keeps read-only
# (.bashrc, .profile, .gitconfig) and its read-only tool trees may not be
# made either, by any call that makes a name; making one writes it (a
# ~/.gitconfig with core.fsmonitor runs for the user later). Other names
# in the home are the workspace's.
hw=$T/homews
mkdir -p "$hw"
run "$o" "$e" env HOME="$hw" "$INTERPOSE" --workspace="$hw" -- sh -c "
  cd $hw
  echo x >.bashrc || echo refused-open
  echo y >gc.lock && { mv gc.lock .gitconfig || echo refused-rename; }
  ln -s /etc/passwd .profile || echo refused-symlink
  mkdir .cargo || echo refused-mkdir
  echo ok >notes.txt && echo made-other"
check_eq "home as workspace: status" 0 "$rc"
check_eq "home as workspace: read-only startup files are not made" "refused-open
refused-rename
refused-symlink
refused-mkdir
made-other" "$(cat "$o")"
check_true "...and none is there" test ! -e "$hw/.bashrc" -a ! -e "$hw/.gitconfig" -a ! -L "$hw/.profile" -a ! -e "$hw/.cargo"

# ...nor a directory or a symlink put where it would hold one: ~/.local
# (~/.local/bin read-only, on the user's PATH) moved in whole or made a
# link to the guest's own tree, ~/.docker above the denied config.json.
# Its own empty directory is made: what goes in meets the rules.
hw2=$T/homews2
mkdir -p "$hw2"
run "$o" "$e" env HOME="$hw2" "$INTERPOSE" --workspace="$hw2" -- sh -c "
  cd $hw2
  mkdir -p d/bin dk && echo evil >d/bin/ls && echo {} >dk/config.json || echo setup-failed
  mv d .local || echo refused-rename
  ln -s d .local || echo refused-symlink
  ln -s d l && { mv l .local || echo refused-link-rename; }
  ln -P l .local || echo refused-link-link
  mv dk .docker || echo refused-rename-denied
  mkdir .local && echo made-empty"
check_eq "home as workspace: status of trees put above rules" 0 "$rc"
check_eq "home as workspace: no tree is put above a read-only or denied rule" "refused-rename
refused-symlink
refused-link-rename
refused-link-link
refused-rename-denied
made-empty" "$(cat "$o")"
check_true "...and nothing is under them" test ! -e "$hw2/.local/bin" -a ! -e "$hw2/.docker"

finish
