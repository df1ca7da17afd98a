#!/bin/sh
# The end of a session removes its private /tmp, run as the user who ran
# interpose (root here) in a tree whose modes the guest chose. A guest
# that opens its /tmp to everyone, and an accomplice of another user who
# keeps swapping a directory in it for a symlink to a directory of root's
# while the removal runs, must not get anything outside the tree removed.
# (A removal by full paths, nftw's way, deleted all 20 of 20 victims.)
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need setpriv gcc
[ "$(id -u)" = 0 ] || skip "the accomplice is another user: needs root to be one"
getent passwd nobody >/dev/null || skip "no user 'nobody'"
grp=nogroup
getent group nogroup >/dev/null || grp=nobody

o=$T/out e=$T/err
chmod 0755 "$T"
victim=$T/victim
mkdir -m 0755 "$victim" "$T/sig" && chmod 0777 "$T/sig"
for i in $(seq 1 20); do echo root-data >"$victim/file$i"; done

cat >"$T/racer.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
/* racer PUB VICTIM READYFILE: directories a00..a31 in PUB full of files
 * named like the victim's, each swapped with a symlink to VICTIM over and
 * over until PUB is gone (or 30 s). */
int main(int argc, char **argv)
{
        char a[32][512], s[32][512], f[600];
        if (argc < 4)
                return 99;
        for (int i = 0; i < 32; i++) {
                snprintf(a[i], sizeof(a[i]), "%s/a%02d", argv[1], i);
                snprintf(s[i], sizeof(s[i]), "%s/s%02d", argv[1], i);
                mkdir(a[i], 0777);
                symlink(argv[2], s[i]);
                for (int k = 1; k <= 20; k++) {
                        snprintf(f, sizeof(f), "%s/file%d", a[i], k);
                        close(open(f, O_CREAT | O_WRONLY, 0666));
                }
        }
        close(open(argv[3], O_CREAT | O_WRONLY, 0666));
        for (long n = 0; n < 2000000; n++) {
                for (int i = 0; i < 32; i++)
                        syscall(SYS_renameat2, AT_FDCWD, a[i], AT_FDCWD, s[i], RENAME_EXCHANGE);
                if (access(argv[1], F_OK) < 0 && errno == ENOENT)
                        break;
        }
        return 0;
}
C
gcc -O1 -o "$T/racer" "$T/racer.c" 2>"$e" || { fail "cannot build the racer: $(cat "$e")"; finish; }
chmod 0755 "$T/racer"

# The guest: opens its /tmp to everyone, says where it is, waits for the
# accomplice to be ready, exits (and interpose removes the tree).
cat >"$T/guest.sh" <<'SH'
chmod 0777 "$TMPDIR"; mkdir -m 0777 "$TMPDIR/pub"
echo "$TMPDIR" >"$1/privdir.tmp"; mv "$1/privdir.tmp" "$1/privdir"
i=0; while [ ! -e "$1/ready" ] && [ $i -lt 1500 ]; do i=$((i + 1)); sleep 0.02; done
SH
"$INTERPOSE" --workspace="$T" -- /bin/sh "$T/guest.sh" "$T/sig" >"$o" 2>"$e" &
L=$!
at_exit "kill $L 2>/dev/null"
poll "the guest to say where its /tmp is" test -s "$T/sig/privdir" || finish
priv=$(cat "$T/sig/privdir")
timeout -k 5 60 setpriv --reuid=nobody --regid="$grp" --clear-groups --inh-caps=-all \
  "$T/racer" "$priv/pub" "$victim" "$T/sig/ready" &
R=$!
at_exit "kill $R 2>/dev/null"
wait "$L"
wait "$R"
check_eq "every file of root's the accomplice aimed the removal at is still there" 20 "$(ls "$victim" | wc -l)"
check_true "the session's /tmp is gone" test ! -e "$priv"
finish
