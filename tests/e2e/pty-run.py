#!/usr/bin/python3.11
"""Run a command on a fresh pseudo-terminal, as a terminal user would, for
the end-to-end signal tests. Not a test by itself.

    pty-run.py MODE ROWS COLS -- CMD...

The command starts as a session leader with the pty as its controlling
terminal and the given window size already set. It must print "ready" when
it is set up. Then, by MODE:

  wait         nothing more; just collect the output
  winch R C    change the window size to R x C on the master (the kernel
               sends SIGWINCH to the foreground process group)
  intr TEXT    type TEXT and a newline, wait until the command has echoed
               it back (so it is reading), then type ^C
  quit TEXT    the same with ^\\
  state        nothing more; after the command ends, print the terminal's
               state as it left it: "excl N echo N tostop N writable N"
               (exclusive mode, echo, TOSTOP, output not suspended)

Prints the whole transcript on stdout, then a last line "status N" with N
the status a shell would report (128+sig when killed). Exits 0, or 124 if
the command did not finish within the deadline (it is killed then).
"""
import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time

DEADLINE = float(os.environ.get("POLL_LIMIT", "30"))
TIOCGEXCL = 0x80045440  # _IOR('T', 0x40, int); the termios module lacks it


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    mode = args.pop(0)
    rows, cols = int(args.pop(0)), int(args.pop(0))
    extra = []
    while args and args[0] != "--":
        extra.append(args.pop(0))
    cmd = args[1:]

    master, slave = os.openpty()
    slave_name = os.ttyname(slave)
    set_size(slave, rows, cols)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
            signal.signal(s, signal.SIG_DFL)
        os.execvp(cmd[0], cmd)
    os.close(slave)

    out = b""
    end = time.monotonic() + DEADLINE
    status = None

    def pump(until):
        """Read output until until(out) holds or the command exits."""
        nonlocal out
        while not until(out):
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([master], [], [], left)
            if not r:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                return until(out)
            if not data:
                return until(out)
            out += data
        return True

    ok = pump(lambda o: b"ready" in o)
    if ok and mode == "winch":
        set_size(master, int(extra[0]), int(extra[1]))
    elif ok and mode in ("intr", "quit"):
        text = extra[0].encode()
        os.write(master, text + b"\n")
        # Once from the terminal's echo, once from the command itself.
        ok = pump(lambda o: o.count(text) >= 2)
        if ok:
            os.write(master, b"\x03" if mode == "intr" else b"\x1c")
    pump(lambda o: False)  # to EOF or the deadline
    while status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = st
            break
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            sys.stdout.write("\ntimeout: the command did not finish\n")
            sys.exit(124)
        select.select([], [], [], 0.02)
    sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
    if mode == "state":
        # Opened again by name (root may open an exclusive terminal).
        fd = os.open(slave_name, os.O_RDWR | os.O_NOCTTY)
        excl = struct.unpack("i", fcntl.ioctl(fd, TIOCGEXCL, b"\0" * 4))[0]
        echo = 1 if termios.tcgetattr(fd)[3] & termios.ECHO else 0
        tostop = 1 if termios.tcgetattr(fd)[3] & termios.TOSTOP else 0
        # Output suspended (TCOOFF) takes no more: a write would block.
        fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
        try:
            writable = 1 if os.write(fd, b"\n") == 1 else 0
        except BlockingIOError:
            writable = 0
        os.close(fd)
        sys.stdout.write("\nexcl %d echo %d tostop %d writable %d" % (excl, echo, tostop, writable))
    code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    sys.stdout.write("\nstatus %d\n" % code)


main()
