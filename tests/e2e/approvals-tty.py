#!/usr/bin/python3.11
"""The approval prompt of a real session on a real terminal (approvals.sh).

    approvals-tty.py INTERPOSE ASKED_DIR

interpose runs as the foreground job of a fresh pty (a session leader, as a
login shell's job) with --ask-read=ASKED_DIR; its guest reads ASKED_DIR/a.txt
and then a line from its stdin, the same terminal. The person (this script)
waits for the prompt on interpose's terminal, types a wrong answer and then
"o" (once), then types a line for the guest. The guest must get the file
and that line, not the answer: the prompt's keystrokes never reach the
guest. A second session answers ^C (deny): EACCES, handled.

Prints the transcripts; exit 0 pass, 1 fail, 99 error.
"""
import fcntl
import os
import select
import sys
import termios
import time

DEADLINE = float(os.environ.get("POLL_LIMIT", "30"))
GUEST = r"""
import errno, sys
try:
    print("read", open(sys.argv[1]).read().strip(), flush=True)
except OSError as e:
    print("read", errno.errorcode[e.errno], flush=True)
print("line please", flush=True)
print("got", sys.stdin.readline().strip(), flush=True)
"""


def spawn(argv):
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            os.execv(argv[0], argv)
        finally:
            os._exit(99)
    os.close(slave)
    return pid, master


class Term:
    def __init__(self, master):
        self.master = master
        self.buf = b""

    def read_until(self, what, start=0):
        """Wait until the transcript (from offset start) holds what; the
        offset just past it, or None at the deadline or end of output."""
        end = time.monotonic() + DEADLINE
        while True:
            i = self.buf.find(what, start)
            if i >= 0:
                return i + len(what)
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.master], [], [], left)
            if not r:
                return None
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return None
            if not data:
                return None
            self.buf += data

    def type(self, text):
        os.write(self.master, text)


def session(interpose, asked, answer, mark):
    pid, master = spawn([interpose, "--ask-read=" + asked, "--", "/usr/bin/python3.11", "-c", GUEST,
                         asked + "/a.txt"])
    t = Term(master)
    ok = True
    at = t.read_until(b"allow [o]nce")
    if at is None:
        print(f"{mark}: no prompt came; transcript:\n{t.buf.decode(errors='replace')}")
        return False
    if b"asks to read" not in t.buf or asked.encode() + b"/a.txt" not in t.buf or b"python3" not in t.buf:
        print(f"{mark}: the prompt does not name the program, the right and the object")
        ok = False
    if answer == "once":
        t.type(b"maybe\r")  # not an answer: asked again
        at = t.read_until(b"allow [o]nce", at)
        if at is None:
            print(f"{mark}: a wrong answer was not asked again")
            return False
        t.type(b"o\r")
    else:
        t.type(b"\x03")  # ^C at the prompt: deny
    if t.read_until(b"line please", at) is None:
        print(f"{mark}: the guest did not go on after the answer")
        ok = False
    t.type(b"hello\r")
    t.read_until(b"got hello")
    _, status = os.waitpid(pid, 0)
    text = t.buf.decode(errors="replace")
    print(f"--- {mark} transcript ---\n{text}\n--- status {status}")
    want = "read alpha" if answer == "once" else "read EACCES"
    if want not in text:
        print(f"{mark}: expected '{want}'")
        ok = False
    if "got hello" not in text:
        print(f"{mark}: the guest's line was not the one typed for it (the answer reached the guest?)")
        ok = False
    if os.WEXITSTATUS(status) != 0:
        print(f"{mark}: interpose exited {status}")
        ok = False
    return ok


STEALER = r"""
import errno, os, signal, sys, threading
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
stop, seen = False, set()
def steal():
    told = False
    while not stop:
        try:
            os.tcsetpgrp(0, os.getpgrp())
            if told:
                seen.add("ok")
        except OSError as e:
            seen.add(errno.errorcode[e.errno])
            if not told:
                told = True
                os.write(1, ("tried-" + errno.errorcode[e.errno] + "\n").encode())
threading.Thread(target=steal, daemon=True).start()
try:
    print("read", open(sys.argv[1]).read().strip(), flush=True)
except OSError as e:
    print("read", errno.errorcode[e.errno], flush=True)
stop = True
print("steal", ",".join(sorted(seen)), flush=True)
"""


def stealer(interpose, asked):
    """A guest thread keeps taking the terminal back while the prompt holds
    it: refused, so the person's answer goes to the prompt."""
    pid, master = spawn([interpose, "--ask-read=" + asked, "--", "/usr/bin/python3.11", "-c", STEALER,
                         asked + "/a.txt"])
    t = Term(master)
    if t.read_until(b"allow [o]nce") is None or t.read_until(b"tried-") is None:
        print(f"stealer: no prompt, or no attempt to take the terminal:\n{t.buf.decode(errors='replace')}")
        os.kill(pid, 9)
        return False
    t.type(b"o\r")
    t.read_until(b"steal ")
    t.read_until(b"\n", t.buf.find(b"steal "))
    os.waitpid(pid, 0)
    text = t.buf.decode(errors="replace")
    print(f"--- stealer transcript ---\n{text}")
    ok = "read alpha" in text and "tried-EPERM" in text and "steal EPERM" in text
    if not ok:
        print("stealer: the guest took the terminal while the prompt was up, or the answer missed the prompt")
    return ok


def main():
    interpose, asked = sys.argv[1], sys.argv[2]
    ok = session(interpose, asked, "once", "once")
    ok = session(interpose, asked, "deny", "ctrl-c") and ok
    ok = stealer(interpose, asked) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
