#!/usr/bin/python3.11
"""The asker's terminal prompt on a real pseudo-terminal.

    asker-pty.py DRIVER

Plays the user's job-control shell (a session leader on a fresh pty that
runs DRIVER, tests/unit/asker-driver.c, as its foreground job) and the
person at the terminal, phase by phase as the driver announces them:

  1  typeahead typed before the question must not answer it; a wrong answer
     and an escape sequence (a terminal's answer-back) are refused; "a"
     answers "always"; a guest process of the job that reads the terminal
     meanwhile stops, and is continued afterwards
  2  ^C denies
  3  "deny always" denies for the session; a second question asked at the
     same time is put after it, and "once" allows once
  4  an answer on the control socket closes the prompt
  5  with interpose in the background, the terminal is not taken: a notice
     says how to answer, and the socket's answer counts
  6  the session ends while the prompt is up

After each prompt the driver checks that the terminal's foreground group and
modes are as before. Exit 0 pass, 1 fail, 99 error.
"""
import fcntl
import json
import os
import re
import select
import signal
import socket
import sys
import termios
import time

DEADLINE = float(os.environ.get("POLL_LIMIT", "60"))


def spawn(driver):
    """The shell: a session leader on the pty running DRIVER as a job in
    its own process group, in the foreground (so that group is not
    orphaned: a background read then stops it, as in a real shell)."""
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
            for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
                signal.signal(s, signal.SIG_DFL)
            job = os.fork()
            if job == 0:
                os.setpgid(0, 0)
                signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                os.tcsetpgrp(0, os.getpgrp())
                signal.signal(signal.SIGTTOU, signal.SIG_DFL)
                os.execv(driver, [driver])
            try:
                os.setpgid(job, job)
            except OSError:
                pass  # the job did it first
            _, st = os.waitpid(job, 0)
            os._exit(os.waitstatus_to_exitcode(st) & 0xFF)
        except BaseException as e:  # noqa: BLE001 - report, never return into the test
            os.write(2, ("shell: %r\n" % e).encode())
            os._exit(99)
    os.close(slave)
    return pid, master


class Pty:
    def __init__(self, master):
        self.master = master
        self.out = b""
        self.end = time.monotonic() + DEADLINE

    def pump(self, until):
        """Read output until until(out) holds, EOF, or the deadline."""
        while not until(self.out):
            left = self.end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.master], [], [], left)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: every slave fd is closed
                return until(self.out)
            if not data:
                return until(self.out)
            self.out += data
        return True

    def expect(self, pattern, since=0):
        """Wait for the regular expression pattern in the output after
        since; the match, or None."""
        rx = re.compile(pattern)
        found = []

        def seen(out):
            m = rx.search(out, since)
            if m:
                found.append(m)
            return bool(m)

        self.pump(seen)
        return found[0] if found else None

    def type(self, text):
        os.write(self.master, text)


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        sys.stderr.write("FAIL: %s\n" % what)


def answer_on_socket(path, qid, verdict):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(path)
    s.sendall(json.dumps({"op": "answer", "id": qid, "verdict": verdict, "by": "py"}).encode() + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        data = s.recv(4096)
        if not data:
            break
        reply += data
    s.close()
    return json.loads(reply) if reply else {}


def phase(p, n):
    m = p.expect(rb"phase %d\r*\n" % n)
    check(m is not None, "phase %d begins" % n)
    return m.end() if m else len(p.out)


def prompt(p, since, qid):
    m = p.expect(rb"allow \[o\]nce, \[a\]lways, \[d\]eny, deny al\[w\]ays\? ", since)
    check(m is not None, "question %d is asked on the terminal" % qid)
    return m.end() if m else len(p.out)


def expect(p, pattern, since, what):
    m = p.expect(pattern, since)
    check(m is not None, what)
    return m


def run(p):
    m = expect(p, rb"control (\S+)\r*\n", 0, "the driver names its control socket")
    control = m.group(1).decode() if m else ""
    expect(p, rb"ready", 0, "the driver is ready")

    # 1: typeahead, wrong answers, an answer-back, a stopped reader.
    at = phase(p, 1)
    p.type(b"d\n")  # typed for the guest, before the question
    at = prompt(p, at, 1)
    text = p.out.decode(errors="replace")
    check("[1] python3.11 (pid 4242) asks to read /home/u/notes-1.txt" in text, "the question names it all")
    check('openat(AT_FDCWD, "/home/u/notes-1.txt", O_RDONLY)   rule: --ask-read=/home/u' in text,
          "the call and the rule")
    expect(p, rb"reader stopped", at, "a reader of the job stops while the prompt has the terminal")
    p.type(b"x\n")
    at = expect(p, rb"answer o \(once\), a \(always\), d \(deny\) or w \(deny always\)\r*\n.*\? ", at,
                "a wrong answer is refused").end()
    p.type(b"\x1b[12;1Ra\n")
    m = expect(p, rb"ignored: the answer holds control characters\r*\n.*\? ", at, "an escape sequence is refused")
    at = m.end() if m else at
    p.type(b"a\n")
    expect(p, rb"answer 1 always by tty", at, "'a' answers always, by tty (the typeahead 'd' did not)")
    expect(p, rb"reader continued", at, "the reader is continued")
    expect(p, rb"restored 1 yes", at, "terminal restored after 1")

    # 2: ^C denies.
    at = prompt(p, phase(p, 2), 2)
    p.type(b"\x03")
    expect(p, rb"answer 2 deny by tty", at, "^C denies")
    expect(p, rb"restored 2 yes", at, "terminal restored after 2")

    # 3: the words; a second question waits its turn.
    at = prompt(p, phase(p, 3), 3)
    check(b"[7]" not in p.out[at:], "one question at a time")
    p.type(b"deny always\n")
    expect(p, rb"answer 3 deny-always by tty", at, "'deny always' denies for the session")
    m = expect(p, rb"\[7\] python3.11 \(pid 4242\) asks to read /home/u/notes-7.txt", at, "then question 7")
    at = prompt(p, m.end() if m else at, 7)
    p.type(b"once\n")
    expect(p, rb"answer 7 once by tty", at, "'once' allows once")
    expect(p, rb"restored 3 yes", at, "terminal restored after 3 and 7")

    # 4: answered on the socket while the prompt is up.
    at = prompt(p, phase(p, 4), 4)
    reply = answer_on_socket(control, 4, "once")
    check(reply.get("ok") is True, "the socket's answer is taken: %r" % reply)
    expect(p, rb"answer 4 once by socket uid=\d+ pid=\d+ name=py", at, "the sentry gets the socket's answer")
    expect(p, rb"answered: once, by socket", at, "the prompt says it was answered elsewhere")
    expect(p, rb"restored 4 yes", at, "terminal restored after 4")

    # 5: in the background, the terminal is not taken.
    at = phase(p, 5)
    expect(p, rb"interpose is in the background: answer with `interpose approve 5`", at,
           "a background interpose prints how to answer")
    check(b"allow [o]nce" not in p.out[at:], "no prompt while in the background")
    reply = answer_on_socket(control, 5, "deny")
    check(reply.get("ok") is True, "the socket's answer is taken: %r" % reply)
    expect(p, rb"answer 5 deny by socket", at, "answered on the socket")
    expect(p, rb"foreground kept yes", at, "the shell kept the terminal")

    # 6: the session ends with the prompt up.
    at = prompt(p, phase(p, 6), 6)
    expect(p, rb"the session ended before an answer", at, "the prompt says the session ended")
    expect(p, rb"restored 6 yes", at, "terminal restored after 6")
    expect(p, rb"done", at, "the driver finished")


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.stderr.write("usage: asker-pty.py DRIVER\n")
        sys.exit(99)
    pid, master = spawn(sys.argv[1])
    p = Pty(master)
    try:
        run(p)
    finally:
        p.pump(lambda o: False)  # to EOF or the deadline
        status = None
        while status is None:
            got, st = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                status = os.waitstatus_to_exitcode(st)
            elif time.monotonic() > p.end:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = "timeout"
            else:
                select.select([], [], [], 0.02)
    check(status == 0, "the driver exits 0 (%s)" % status)
    if failures:
        sys.stderr.write("--- transcript ---\n%s\n" % p.out.decode(errors="replace"))
        sys.exit(1)
    print("ok: %d phases" % 6)


main()
