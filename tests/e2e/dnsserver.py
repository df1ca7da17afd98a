#!/usr/bin/python3.11
"""A tiny authoritative DNS server for the tests (stdlib only).

    dnsserver.py --port-file FILE [--bind 127.0.0.1] NAME=IPV4 [NAME=IPV4...]

Listens on UDP and TCP (RFC 1035 4.2.2: a two-byte length before each
message) on one ephemeral port, the same number for both, and writes that
number to FILE once both are ready (written whole: a reader never sees
part of it). Answers:

  A (or ANY) for a listed name    the address, TTL 60
  any other type for a listed name NOERROR, no answers (AAAA included)
  a name not listed                NXDOMAIN

Names are matched without regard to case or a trailing dot. Every name
asked is appended, one a line, to FILE.log before the answer is sent, so a
test can tell that a name was never forwarded here. Runs until killed.
"""

import argparse
import ipaddress
import os
import socket
import struct
import sys
import threading

TTL = 60
T_A, T_ANY = 1, 255
C_IN, C_ANY = 1, 255
NOERROR, FORMERR, NXDOMAIN, NOTIMP = 0, 1, 3, 4


class BadQuery(Exception):
    pass


def parse_name(msg, off):
    """The uncompressed name at off (a query's question has no pointers)."""
    labels = []
    while True:
        if off >= len(msg):
            raise BadQuery("name runs past the message")
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0:
            raise BadQuery("compressed or extended label in a question")
        if off + n > len(msg):
            raise BadQuery("label runs past the message")
        labels.append(msg[off:off + n])
        off += n
    if sum(len(l) + 1 for l in labels) + 1 > 255:
        raise BadQuery("name longer than 255 octets")
    return labels, off


def label_text(labels):
    # Bytes outside printable ASCII (and the separators) are escaped as
    # \DDD (RFC 1035 5.1), so one query is always one log line.
    out = []
    for l in labels:
        s = ""
        for b in l:
            c = chr(b)
            if b <= 0x20 or b >= 0x7F:
                s += "\\%03d" % b
            elif c in ".\\":
                s += "\\" + c
            else:
                s += c
        out.append(s)
    return ".".join(out)


class Server:
    def __init__(self, table, log_path):
        self.table = table
        self.log_path = log_path
        self.lock = threading.Lock()

    def log(self, name):
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(name + "\n")

    def answer(self, q):
        """The response to query q (bytes), or None to drop it."""
        # Every message as it came, in hex, to FILE.log.raw: what a client
        # managed to get through to this server, byte for byte.
        with self.lock:
            with open(self.log_path + ".raw", "a") as f:
                f.write(q.hex() + "\n")
        if len(q) < 12:
            return None
        qid, flags, qd, _an, _ns, _ar = struct.unpack("!HHHHHH", q[:12])
        if flags & 0x8000:
            return None  # a response: never answer those
        opcode = (flags >> 11) & 0xF
        rd = flags & 0x0100

        def reply(rcode, question=b"", answers=()):
            rflags = 0x8000 | (opcode << 11) | 0x0400 | rd | 0x0080 | rcode
            head = struct.pack("!HHHHHH", qid, rflags, 1 if question else 0,
                               len(answers), 0, 0)
            return head + question + b"".join(answers)

        if opcode != 0:
            return reply(NOTIMP)
        if qd != 1:
            return reply(FORMERR)
        try:
            labels, off = parse_name(q, 12)
        except BadQuery:
            return reply(FORMERR)
        if off + 4 > len(q):
            return reply(FORMERR)
        qtype, qclass = struct.unpack("!HH", q[off:off + 4])
        question = q[12:off + 4]
        name = label_text(labels)
        self.log(name)
        addr = self.table.get(name.lower())
        if addr is None:
            return reply(NXDOMAIN, question)
        answers = []
        if qtype in (T_A, T_ANY) and qclass in (C_IN, C_ANY):
            # The owner is a pointer to the question's name (offset 12),
            # which keeps the case the client asked with.
            answers.append(struct.pack("!HHHIH", 0xC00C, T_A, C_IN, TTL, 4) + addr)
        return reply(NOERROR, question, answers)

    def serve_udp(self, sock):
        while True:
            try:
                q, peer = sock.recvfrom(65535)
            except OSError:
                continue
            r = self.answer(q)
            if r is not None:
                try:
                    sock.sendto(r, peer)
                except OSError:
                    pass

    def serve_tcp(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.serve_conn, args=(conn,), daemon=True).start()

    def serve_conn(self, conn):
        conn.settimeout(30)
        try:
            while True:
                head = recv_exact(conn, 2)
                if head is None:
                    return
                (n,) = struct.unpack("!H", head)
                q = recv_exact(conn, n)
                if q is None:
                    return
                r = self.answer(q)
                if r is None:
                    return
                conn.sendall(struct.pack("!H", len(r)) + r)
        except OSError:
            pass
        finally:
            conn.close()


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def bind_both(host, tries=100):
    """A UDP and a TCP socket on the same ephemeral port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last = None
    for _ in range(tries):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, port))
            tcp.listen(64)
            return udp, tcp, port
        except OSError as e:
            last = e
            tcp.close()
            udp.close()
    raise SystemExit("dnsserver: no port free for both UDP and TCP: %s" % last)


def parse_mapping(arg):
    name, sep, ip = arg.partition("=")
    name = name.strip().rstrip(".").lower()
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=IPV4, got %r" % arg)
    try:
        addr = ipaddress.IPv4Address(ip.strip()).packed
    except ValueError:
        raise argparse.ArgumentTypeError("not an IPv4 address in %r" % arg)
    return name, addr


def main():
    ap = argparse.ArgumentParser(description="A tiny authoritative DNS server for the tests.")
    ap.add_argument("--port-file", required=True, help="where to write the port once listening")
    ap.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("names", nargs="*", type=parse_mapping, metavar="NAME=IPV4")
    args = ap.parse_args()

    server = Server(dict(args.names), args.port_file + ".log")
    open(server.log_path, "a").close()  # there (maybe empty) once ready
    udp, tcp, port = bind_both(args.bind)
    threading.Thread(target=server.serve_tcp, args=(tcp,), daemon=True).start()
    tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    server.serve_udp(udp)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
