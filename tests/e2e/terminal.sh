#!/bin/sh
# The terminal is shared with the user's shell, so it must not become a way
# to reach processes outside the guest's tree (security invariant 6):
#  * O_ASYNC on a terminal makes the terminal pick the owner that gets
#    SIGIO (and, with F_SETSIG, any signal): natively its foreground
#    process group, the whole job including interpose and, after a
#    tcsetpgrp, the user's shell. Under interpose the owner is the guest.
#  * tcsetpgrp may hand the terminal to a group of the guest's tree or back
#    to the job it started in, never to the user's shell.
# Each case runs natively first (in a job-control shell on a fresh pty, so
# the job has its own process group, as in an interactive shell).
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

PTY="$SRC_DIR/e2e/pty-run.py"
cat >"$T/guest.py" <<'PY'
import fcntl, os, signal, struct
F_GETOWN_EX, F_OWNER_PID = 16, 1
fd = 1
print("ready", flush=True)
fl = fcntl.fcntl(fd, fcntl.F_GETFL)
fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_ASYNC)
kind, who = struct.unpack("ii", fcntl.fcntl(fd, F_GETOWN_EX, bytes(8)))
print("owner", "self" if (kind, who) == (F_OWNER_PID, os.getpid()) else "group" if kind != F_OWNER_PID else who,
      flush=True)
fcntl.fcntl(fd, fcntl.F_SETFL, fl)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # as job-control shells do
try:
    os.tcsetpgrp(fd, os.getsid(0))
    os.tcsetpgrp(fd, os.getpgrp())
    print("tcsetpgrp-shell ok", flush=True)
except OSError as e:
    print("tcsetpgrp-shell", e.strerror, flush=True)
try:
    os.tcsetpgrp(fd, os.getpgrp())
    print("tcsetpgrp-own ok", flush=True)
except OSError as e:
    print("tcsetpgrp-own", e.strerror, flush=True)
PY
# set -m: the shell runs the command as a job in its own process group.
"$PY" "$PTY" wait 24 80 -- sh -c "set -m; $PY $T/guest.py" >"$T/native" 2>&1
check_match "natively the terminal makes its foreground group the owner" "^owner group" "$T/native"
check_match "natively tcsetpgrp to the shell works" "^tcsetpgrp-shell ok" "$T/native"

"$PY" "$PTY" wait 24 80 -- sh -c "set -m; $INTERPOSE --audit=$T/audit.jsonl $PY $T/guest.py" >"$T/guest" 2>&1
check_match "under interpose the guest is the owner" "^owner self" "$T/guest"
check_match "tcsetpgrp to the user's shell is refused" "^tcsetpgrp-shell Operation not permitted" "$T/guest"
check_match "tcsetpgrp to the guest's own job works" "^tcsetpgrp-own ok" "$T/guest"
check_match "the guest finished normally" "^status 0" "$T/guest"
check_match "the refusal is audited" '"syscall":"ioctl".*"decision":"deny","rule":"own-tree"' "$T/audit.jsonl"

# What the guest leaves set on the terminal outlives the session: an
# exclusive mode (every later open of the terminal fails with EBUSY, so ssh,
# sudo and gpg cannot prompt) or echo turned off. interpose puts the
# terminal back as it found it when the session ends in the foreground.
cat >"$T/tty-tamper.py" <<'PY'
import fcntl, termios
fcntl.ioctl(0, termios.TIOCEXCL)
a = termios.tcgetattr(0)
a[3] &= ~termios.ECHO
termios.tcsetattr(0, termios.TCSANOW, a)
print("ready", flush=True)
PY
"$PY" "$PTY" state 24 80 -- "$PY" "$T/tty-tamper.py" >"$T/tty.native" 2>&1
check_match "natively the terminal stays exclusive and without echo" '^excl 1 echo 0$' "$T/tty.native"
"$PY" "$PTY" state 24 80 -- "$INTERPOSE" --audit="$T/tty.jsonl" -- "$PY" "$T/tty-tamper.py" >"$T/tty.guest" 2>&1
check_match "the guest's session ran" '^status 0$' "$T/tty.guest"
check_match "after the session the terminal is as it was" '^excl 0 echo 1$' "$T/tty.guest"
finish
