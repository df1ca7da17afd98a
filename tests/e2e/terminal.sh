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
check_match "natively the terminal stays exclusive and without echo" '^excl 1 echo 0 ' "$T/tty.native"
"$PY" "$PTY" state 24 80 -- "$INTERPOSE" --audit="$T/tty.jsonl" -- "$PY" "$T/tty-tamper.py" >"$T/tty.guest" 2>&1
check_match "the guest's session ran" '^status 0$' "$T/tty.guest"
check_match "after the session the terminal is as it was" '^excl 0 echo 1 ' "$T/tty.guest"
# The same from a group of the guest's own that took the foreground, with
# TOSTOP set and output suspended: the job it started in (the launcher, a
# `| cat`) would be stopped writing from the background, and the terminal
# left as it was set. The job takes the foreground back at the end.
cat >"$T/tty-fg.py" <<'PY'
import fcntl, os, signal, termios
os.setpgid(0, 0)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
os.tcsetpgrp(0, os.getpgrp())
fcntl.ioctl(0, termios.TIOCEXCL)
a = termios.tcgetattr(0)
a[3] = (a[3] & ~termios.ECHO) | termios.TOSTOP
termios.tcsetattr(0, termios.TCSANOW, a)
print("ready", flush=True)
termios.tcflow(1, termios.TCOOFF)
PY
# (Natively under sh: a session leader may not make a group of its own.)
"$PY" "$PTY" state 24 80 -- sh -c '"$0" "$1"' "$PY" "$T/tty-fg.py" >"$T/ttyfg.native" 2>&1
check_match "natively the terminal stays set and suspended" '^excl 1 echo 0 tostop 1 writable 0$' "$T/ttyfg.native"
"$PY" "$PTY" state 24 80 -- "$INTERPOSE" --summary --audit="$T/ttyfg.jsonl" -- "$PY" "$T/tty-fg.py" >"$T/ttyfg.guest" 2>&1
check_match "a guest group that took the foreground: the session ends (status 0)" '^status 0$' "$T/ttyfg.guest"
check_match "...its summary written, not stopped by TOSTOP" 'interpose: session .* exit 0' "$T/ttyfg.guest"
check_match "...and the terminal is as it was, output running" '^excl 0 echo 1 tostop 0 writable 1$' "$T/ttyfg.guest"

# Three things an interactive bash does on its terminal (shell.py SCENARIO
# [PREFIX...]), each natively and with interpose:
#  * second: bash (run as PREFIX bash) runs one foreground job, then
#    another: after the first job ends the terminal still names its (now
#    empty) group, and bash must take the terminal back for itself;
#  * bgfg: a job started in the background (PREFIX tr a-z A-Z &) reads
#    from the terminal: the whole job stops, launcher included, so the
#    shell sees it stopped and its fg continues it, and the guest reads
#    what is typed next;
#  * suspend: a job that stops its own process group (kill -TSTP 0, as
#    vim's ^Z and bash's suspend do) is seen stopped by the shell, the
#    launcher included, and fg continues it.
cat >"$T/shell.py" <<'PY'
import os, pty, select, sys, time
scenario, prefix = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "READY> "
    argv = (prefix if scenario == "second" else []) + ["bash", "--norc", "-i"]
    os.execvp(argv[0], argv)
out, deadline = b"", time.time() + float(os.environ.get("POLL_LIMIT", "30"))
def until(token, times):
    """Read until token has come times times in all; False at EOF."""
    global out
    while out.count(token) < times and time.time() < deadline:
        r, _, _ = select.select([fd], [], [], deadline - time.time())
        try:
            d = os.read(fd, 4096) if r else b""
        except OSError:
            d = b""
        if not d:
            return False
        out += d
    return out.count(token) >= times
prompts = 1
ok = until(b"READY> ", prompts)
if scenario == "second":
    for line in (b"/bin/true", b"echo after-$((1+1))"):
        if not ok:
            break
        os.write(fd, line + b"\n")
        prompts += 1
        ok = until(b"READY> ", prompts)
    print("ran second" if b"after-2" in out else "no second command", flush=True)
elif scenario == "suspend":
    # The job stops itself (as vim's ^Z and bash's suspend do).
    os.write(fd, " ".join(prefix).encode() + b" sh -c 'kill -TSTP 0; echo resumed-$((2+3))'\n")
    prompts += 1
    stopped = until(b"READY> ", prompts) and b"Stopped" in out
    print("shell saw it stopped" if stopped else "shell did not see it stop", flush=True)
    if stopped:
        os.write(fd, b"fg\n")
        prompts += 1
        until(b"READY> ", prompts)
        print("resumed by fg" if b"resumed-5" in out else "not resumed by fg", flush=True)
else:
    os.write(fd, " ".join(prefix).encode() + b" tr a-z A-Z &\n")
    prompts += 1
    until(b"READY> ", prompts)
    # Until the shell says the job stopped (its read from the background).
    while b"Stopped" not in out and time.time() < deadline:
        os.write(fd, b"jobs\n")
        prompts += 1
        until(b"READY> ", prompts)
    os.write(fd, b"fg\n")
    until(b"A-Z\r\n", 1)  # fg shows the command line (as typed it ended in "&")
    os.write(fd, b"catline\n")
    print("read after fg" if until(b"CATLINE", 1) else "no read after fg", flush=True)
    os.write(fd, b"\x04")
    until(b"READY> ", prompts + 1)
os.write(fd, b"exit\n")
until(b"\x00", 1)  # (nothing: reads on until the shell ends, or the deadline)
os.kill(pid, 9) if os.waitpid(pid, os.WNOHANG) == (0, 0) else None
PY
"$PY" "$T/shell.py" bgfg >"$T/bgfg.native" 2>&1
check_match "natively a background job that reads is continued by fg" '^read after fg' "$T/bgfg.native"
"$PY" "$T/shell.py" bgfg "$INTERPOSE" -- >"$T/bgfg.guest" 2>&1
check_match "under interpose too" '^read after fg' "$T/bgfg.guest"
"$PY" "$T/shell.py" suspend >"$T/suspend.native" 2>&1
check_match "natively a job that stops its own group is seen stopped by the shell" '^shell saw it stopped' "$T/suspend.native"
check_match "...and fg continues it" '^resumed by fg' "$T/suspend.native"
"$PY" "$T/shell.py" suspend "$INTERPOSE" -- >"$T/suspend.guest" 2>&1
check_match "under interpose the launcher stops with the guest's group" '^shell saw it stopped' "$T/suspend.guest"
check_match "...and fg continues the guest" '^resumed by fg' "$T/suspend.guest"
"$PY" "$T/shell.py" second >"$T/ibash.native" 2>&1
check_match "natively an interactive bash runs a second command after a job" '^ran second' "$T/ibash.native"
"$PY" "$T/shell.py" second "$INTERPOSE" -- >"$T/ibash.guest" 2>&1
check_match "under interpose an interactive bash takes the terminal back after a job" '^ran second' "$T/ibash.guest"

# A guest in the background of the shared terminal may not change its
# window size: the kernel would send SIGWINCH to the foreground, the
# user's shell.
winch_bg='trap "echo shell-got-WINCH" WINCH
set -m
echo ready
"$@" &
wait
echo done'
cat >"$T/winch.py" <<'PY'
import fcntl, struct, termios
try:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 7, 13, 0, 0))
    print("set-size ok", flush=True)
except OSError as e:
    print("set-size", e.strerror, flush=True)
PY
# in_background NAME: $T/NAME.py run as a background job of a job-control
# shell on a fresh pty, natively and under interpose, into $T/NAME-bg.native
# and $T/NAME-bg.guest.
in_background() {
  "$PY" "$PTY" wait 24 80 -- sh -c "$winch_bg" sh "$PY" "$T/$1.py" >"$T/$1-bg.native" 2>&1
  "$PY" "$PTY" wait 24 80 -- sh -c "$winch_bg" sh "$INTERPOSE" --audit="$T/$1-bg.jsonl" -- "$PY" "$T/$1.py" \
    >"$T/$1-bg.guest" 2>&1
}
in_background winch
check_match "natively a background job's window size reaches the shell (SIGWINCH)" 'shell-got-WINCH' "$T/winch-bg.native"
check_match "a guest in the background may not set the window size" '^set-size Operation not permitted$' "$T/winch-bg.guest"
check_nomatch "...and the shell gets no SIGWINCH" 'shell-got-WINCH' "$T/winch-bg.guest"
# Nor take the terminal's foreground from the shell (natively a background
# process that ignores SIGTTOU may: the keys typed for the shell are then
# its own to read).
cat >"$T/steal.py" <<'PY'
import os, signal
os.setpgid(0, 0)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
try:
    os.tcsetpgrp(0, os.getpgrp())
    print("steal ok", flush=True)
    os.tcsetpgrp(0, os.getsid(0))
except OSError as e:
    print("steal", e.strerror, flush=True)
PY
in_background steal
check_match "natively a background job takes the foreground" 'steal ok' "$T/steal-bg.native"
check_nomatch "a guest in the background may not take the foreground" 'steal ok' "$T/steal-bg.guest"
check_match "...it is told so (EPERM)" 'steal Operation not permitted' "$T/steal-bg.guest"
finish
