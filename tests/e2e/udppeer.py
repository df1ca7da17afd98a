#!/usr/bin/env python3
"""udppeer.py [--timeout=S] COMMAND...: run COMMAND (its argument "PORT"
replaced by the port of a UDP socket on 127.0.0.1, the peer); when the
first datagram from the command arrives, send it one datagram from the
host's first address that is not loopback (another host, as far as the
command can tell: "STRANGER"; to the port the datagram names if it says
"port N") and then one from the peer ("PEER"), in that order, and pass
on the command's output and status.

udppeer.py --probe: print that address; exit 1 if the host has none.

Loopback delivers a datagram within the sendto, so the stranger's, if the
command's socket takes it, is queued before the peer's."""
import socket
import subprocess
import sys

def stranger_address():
    """The host's first IPv4 address outside 127/8 (SIOCGIFADDR)."""
    import fcntl, struct
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _, name in socket.if_nameindex():
        try:
            raw = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
        except OSError:
            continue
        addr = socket.inet_ntoa(raw[20:24])
        if not addr.startswith("127."):
            return addr
    return None


args = sys.argv[1:]
timeout = 60.0
if args and args[0].startswith("--timeout="):
    timeout = float(args.pop(0).split("=", 1)[1])
if args == ["--probe"]:
    a = stranger_address()
    print(a or "none")
    sys.exit(0 if a else 1)
peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
peer.bind(("127.0.0.1", 0))
stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
stranger.bind((stranger_address(), 0))
port = str(peer.getsockname()[1])
cmd = [port if a == "PORT" else a for a in args]
p = subprocess.Popen(cmd)
peer.settimeout(timeout)
try:
    data, addr = peer.recvfrom(100)
    # "port N": the stranger's datagram goes to that port of the sender's
    # address (another socket of the command's) instead.
    to = (addr[0], int(data.split()[1])) if data.startswith(b"port ") else addr
    stranger.sendto(b"STRANGER", to)
    peer.sendto(b"PEER", addr)
except socket.timeout:
    print("udppeer: no datagram from the command", file=sys.stderr)
    p.kill()
sys.exit(p.wait(timeout=timeout))
