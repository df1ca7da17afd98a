#!/bin/sh
# Real tools under the agent profile, in the workspace (issue 4): git,
# python's venv and pip from a local wheel, tar, find, cp -a, rsync if
# installed. Each must work, and give what it gives natively.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need git
o=$T/out e=$T/err
ws=$T/ws
mkdir -p "$ws" && cd "$ws" || exit 99
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
I="$INTERPOSE --audit=$T/audit.jsonl --profile=agent"

run "$o" "$e" $I sh -c '
  set -e
  git init -q repo && cd repo
  git config user.email a@example.com && git config user.name agent
  mkdir -p src && echo "int main(void) { return 0; }" >src/main.c
  git add src && git commit -q -m first
  echo "// change" >>src/main.c
  git status --short
  git log --oneline | wc -l'
check_eq "git init, add, commit, status, log: status" 0 "$rc"
check_match "git status sees the change" "^ M src/main.c" "$o"
check_match "git log has the commit" "^1$" "$o"

# ls -la at the workspace's root asks ".." (a directory the guest may
# not read) for its security label and ACL, as natively: no error.
run "$o" "$e" $I ls -la
check_eq "ls -la at the workspace's root: status" 0 "$rc"
check_nomatch "...and no error about .." "Permission denied" "$e"

run "$o" "$e" $I sh -c '
  set -e
  mkdir -p tree/a/b && echo x >tree/a/b/f && ln -s b/f tree/a/link
  tar -cf t.tar tree && mkdir un && tar -xf t.tar -C un
  cp -a tree copy
  find copy -type f | sort
  readlink copy/a/link'
check_eq "tar, cp -a, find: status" 0 "$rc"
check_match "cp -a kept the tree" "^copy/a/b/f$" "$o"
check_match "cp -a kept the symlink" "^b/f$" "$o"

if command -v rsync >/dev/null; then
  run "$o" "$e" $I rsync -a tree/ synced/
  check_eq "rsync -a: status" 0 "$rc"
fi

# venv and pip, offline, from a wheel made here (by hand: a wheel is a
# zip with a module, METADATA, WHEEL and RECORD).
/usr/bin/python3.11 - "$ws/hello-1.0-py3-none-any.whl" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("hello/__init__.py", "def hi():\n    return 'hi'\n")
    z.writestr("hello-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: hello\nVersion: 1.0\n")
    z.writestr("hello-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("hello-1.0.dist-info/RECORD", "")
PY
run "$o" "$e" $I /usr/bin/python3.11 -m venv venv
check_eq "python -m venv: status" 0 "$rc"
run "$o" "$e" $I venv/bin/python -m pip install -q --no-index --disable-pip-version-check hello-1.0-py3-none-any.whl
check_eq "pip install of a local wheel in the venv: status" 0 "$rc"
run "$o" "$e" $I venv/bin/python -c 'import hello; print(hello.hi())'
check_match "the installed package imports" "^hi$" "$o"
# A profile rule naming a symlink (/lib -> usr/lib on a merged-/usr
# system, a ~/.gitconfig kept in a dotfiles tree) lets the link itself be
# read, as natively: lstat, readlink and realpath through it (realpath
# failed with EACCES for anything under /lib).
h2=$T/home2
mkdir -p "$h2/dotfiles" && printf '[user]\n\tname = Dot\n' >"$h2/dotfiles/gitconfig" &&
  ln -s dotfiles/gitconfig "$h2/.gitconfig"
run "$o" "$e" env HOME="$h2" $I sh -c '
  readlink ~/.gitconfig; realpath ~/.gitconfig; ls -ld ~/.gitconfig | cut -c1
  git config --global user.name; echo x >>~/.gitconfig || echo not written'
check_eq "a symlinked dotfile: status" 0 "$rc"
check_eq "a symlinked dotfile: the link is read, its file is read-only" "dotfiles/gitconfig
$h2/dotfiles/gitconfig
l
Dot
not written" "$(cat "$o")"
for l in /lib /bin /lib64; do
  [ -L "$l" ] || continue
  run "$o" "$e" $I sh -c "readlink $l; realpath $l/. ; stat -c %F $l"
  check_eq "$l, a symlink: readlink, realpath, lstat as natively" \
    "$(readlink $l; realpath $l/.; stat -c %F $l)" "$(cat "$o")"
done
# The package manager's records answer what is installed; the rest of /var
# (logs, spools, debconf's answers) stays shut.
run "$o" "$e" $I sh -c 'dpkg -s coreutils | grep ^Status:; ls /var/log >/dev/null 2>&1 || echo var-log-refused'
check_eq "dpkg -s reads the package records; /var/log is refused" "Status: install ok installed
var-log-refused" "$(cat "$o")"
finish
