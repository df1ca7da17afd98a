#!/usr/bin/env python3
"""udppeer.py [--timeout=S] COMMAND...: run COMMAND (its argument "PORT"
replaced by the port of a UDP socket on 127.0.0.1, the peer); when the
first datagram from the command arrives, send it one datagram from
127.0.0.2 (another host: "STRANGER") and then one from the peer ("PEER"),
in that order, and pass on the command's output and status.

Loopback delivers a datagram within the sendto, so the stranger's, if the
command's socket takes it, is queued before the peer's."""
import socket
import subprocess
import sys

args = sys.argv[1:]
timeout = 60.0
if args and args[0].startswith("--timeout="):
    timeout = float(args.pop(0).split("=", 1)[1])
peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
peer.bind(("127.0.0.1", 0))
stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
stranger.bind(("127.0.0.2", 0))
port = str(peer.getsockname()[1])
cmd = [port if a == "PORT" else a for a in args]
p = subprocess.Popen(cmd)
peer.settimeout(timeout)
try:
    data, addr = peer.recvfrom(100)
    stranger.sendto(b"STRANGER", addr)
    peer.sendto(b"PEER", addr)
except socket.timeout:
    print("udppeer: no datagram from the command", file=sys.stderr)
    p.kill()
sys.exit(p.wait(timeout=timeout))
