#!/bin/sh
# The network broker (issue 5). --net=none (the default) gives the guest
# no egress: its own servers on loopback answer it, the host's do not.
# --allow-net / --deny-net open and close destinations (deny wins);
# --net=host opens everything. Names are resolved by the session's own
# resolver: a name not allowed is NXDOMAIN and never leaves the session,
# an allowed one is forwarded to --dns-upstream and its addresses become
# connectable. Cloud metadata stays shut unless named by address, and the
# host's abstract unix sockets are not the guest's. Every connect, bind,
# listen and DNS decision is audited.
#
# The servers the guest must not reach are started here, outside
# interpose; each records what reached it, so a refusal is also checked
# on the far side.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err
I="$INTERPOSE --workspace=$T"
# A background server lives at most this long even if the exit trap never
# runs (the trap kills it as soon as the test ends).
LIFE=$((POLL_LIMIT * 20))

# --- helpers -----------------------------------------------------------------

# audit_has FILE KEY=REGEX...: some record of FILE has every KEY (a field,
# its whole value matched, case-insensitively) matching REGEX; the key
# "line" searches the record's raw text instead.
audit_has() {
  "$PY" - "$@" <<'EOF'
import json, re, sys
path, conds = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
try:
    lines = open(path).read().splitlines()
except OSError:
    sys.exit(1)
for line in lines:
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if all(re.search(v, line) if k == "line" else
           re.fullmatch(v, str(rec.get(k, "")), re.I) for k, v in conds):
        sys.exit(0)
sys.exit(1)
EOF
}

# check_audit DESCRIPTION FILE KEY=REGEX...
check_audit() {
  _d=$1 _f=$2; shift 2
  if audit_has "$_f" "$@"; then pass; else
    fail "$_d: no record with $* in $_f; its network records:"
    grep -E '"syscall":"(connect|bind|listen|send[a-z]*|dns)"' "$_f" 2>/dev/null | head -40 | sed 's/^/    | /' >&2
  fi
}

# check_out DESCRIPTION ERE: the last run's stdout has a matching line (on
# failure its stderr is shown too).
check_out() {
  _n=$failures
  check_match "$1" "$2" "$o"
  [ "$_n" = "$failures" ] || sed 's/^/    stderr| /' "$e" >&2
}

# guest NAME [INTERPOSE OPTIONS...] -- PROGRAM [ARGS...]: a session with
# the audit log $T/NAME.jsonl; the guest programs catch their own errors,
# so anything but status 0 is a failure. After a few sessions that hung
# the rest are not tried (each would only wait out its deadline).
hung=0
guest() {
  _g=$1; shift
  run "$o" "$e" $I --audit="$T/$_g.jsonl" "$@"
  if [ "$rc" = 0 ]; then pass; else
    fail "session $_g: status $rc"; sed 's/^/    | /' "$o" "$e" >&2
  fi
  case $rc in
    124 | 137)
      hung=$((hung + 1))
      [ "$hung" -lt 3 ] || { fail "3 sessions hung: the remaining cases are not run"; finish; } ;;
  esac
}

# serve NAME MODE [ARG]: start a host server (outside interpose) and wait
# until it listens. Its port is then in $T/NAME.port and one line per
# connection, datagram or request that reached it in $T/NAME.port.log.
serve() {
  _n=$1 _m=$2; shift 2
  timeout -k 5 "$LIFE" "$PY" "$T/hostsrv.py" "$_m" "$T/$_n.port" "$@" >"$T/$_n.out" 2>&1 &
  at_exit "kill $! 2>/dev/null"
  if ! poll "the host $_m server ($_n) to listen" file_nonempty "$T/$_n.port"; then
    sed 's/^/    | /' "$T/$_n.out" >&2
    finish
  fi
}
lines() { wc -l <"$1" | tr -d ' '; }

cat >"$T/hostsrv.py" <<'PY'
import functools, http.server, os, socket, sys
mode, portfile = sys.argv[1], sys.argv[2]
log = portfile + ".log"
def note(what):
    with open(log, "a") as f:
        f.write(what + "\n")
def ready(port):
    open(log, "a").close()
    with open(portfile + ".tmp", "w") as f:
        f.write("%s\n" % port)
    os.rename(portfile + ".tmp", portfile)
def greet(s, name):
    s.listen(16)
    ready(name)
    while True:
        c, _ = s.accept()
        note("connection")
        c.sendall(b"hello from host\n")
        c.close()
if mode in ("tcp", "tcp6", "tcp-reuseport", "tcp-any"):
    fam, host = (socket.AF_INET6, "::1") if mode == "tcp6" else (socket.AF_INET, "127.0.0.1")
    if mode == "tcp-any":
        host = "0.0.0.0"
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == "tcp-reuseport":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, 0))
    greet(s, s.getsockname()[1])
elif mode == "abstract":
    s = socket.socket(socket.AF_UNIX)
    s.bind("\0" + sys.argv[3])
    greet(s, sys.argv[3])
elif mode in ("udp", "udp-any-reuse", "udplite", "udp-reuseport"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136 if mode == "udplite" else 0)
    if mode == "udp-any-reuse":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == "udp-reuseport":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0" if mode == "udp-any-reuse" else "127.0.0.1", 0))
    ready(s.getsockname()[1])
    while True:
        data, peer = s.recvfrom(2048)
        note("datagram " + data.decode(errors="replace"))
        s.sendto(data, peer)
elif mode == "http":
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            note("request " + fmt % args)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(Handler, directory=sys.argv[3]))
    ready(srv.server_address[1])
    srv.serve_forever()
PY

# Guest programs. Each prints one line per probe, "ok WHAT" or
# "refused ERRNO-NAME" (timeout when nothing came back in 5 s). A connect
# that succeeds is "ok" even if nothing is read after it.
tcp_probe='
import errno, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.settimeout(5)
try:
    s.connect((host, port))
except socket.timeout:
    sys.exit(print("refused timeout"))
except OSError as e:
    sys.exit(print("refused", errno.errorcode.get(e.errno, e.errno)))
try:
    print("ok", s.recv(64).decode().strip())
except OSError as e:
    print("ok (connected, nothing read: %s)" % e)
'
# udp_probe HOST PORT sendto|connect
udp_probe='
import errno, socket, sys
dest = (sys.argv[1], int(sys.argv[2]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
try:
    if sys.argv[3] == "connect":
        s.connect(dest)
        s.send(b"ping-guest")
    else:
        s.sendto(b"ping-guest", dest)
    print("ok", s.recv(64).decode())
except socket.timeout:
    print("refused timeout")
except OSError as e:
    print("refused", errno.errorcode.get(e.errno, e.errno))
'
# attempt NAME F: prints "NAME ok RESULT" or "NAME refused ERRNO-NAME".
attempt_py='
import errno, socket, sys, threading
def attempt(name, f):
    try:
        print(name, "ok", f())
    except socket.timeout:
        print(name, "refused timeout")
    except OSError as e:
        print(name, "refused", errno.errorcode.get(e.errno, e.errno))
'
# The guest's own servers: TCP and UDP on 127.0.0.1, each with its client.
own_probe="$attempt_py"'
def tcp():
    srv = socket.socket()
    srv.settimeout(5)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    def serve():
        c, _ = srv.accept()
        c.sendall(b"hello from guest\n")
        c.close()
    threading.Thread(target=serve, daemon=True).start()
    c = socket.socket()
    c.settimeout(5)
    c.connect(srv.getsockname())
    return c.recv(64).decode().strip()
def udp(proto=0):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, proto)
    srv.settimeout(5)
    srv.bind(("127.0.0.1", 0))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, proto)
    c.settimeout(5)
    c.sendto(b"ping-own", srv.getsockname())
    data, peer = srv.recvfrom(64)
    srv.sendto(data, peer)
    return c.recv(64).decode()
attempt("tcp", tcp)
attempt("udp", udp)
attempt("udplite", lambda: udp(136))
'
# Abstract unix sockets: the host's (argv[1]) and one of the guest's own.
abstract_probe="$attempt_py"'
def host():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect("\0" + sys.argv[1])
    return s.recv(64).decode().strip()
def own():
    srv = socket.socket(socket.AF_UNIX)
    srv.settimeout(5)
    srv.bind("\0" + sys.argv[2])
    srv.listen(1)
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect("\0" + sys.argv[2])
    a, _ = srv.accept()
    a.sendall(b"hello from guest\n")
    return c.recv(64).decode().strip()
attempt("host", host)
attempt("own", own)
'
# dns_probe NAME HTTPPORT OTHERPORT: resolve NAME and bad.test, GET
# http://NAME:HTTPPORT/ (no proxy), connect to 127.0.0.1:OTHERPORT.
dns_probe='
import errno, socket, sys, urllib.request
name, port, other = sys.argv[1], sys.argv[2], int(sys.argv[3])
socket.setdefaulttimeout(5)
def attempt(what, f):
    try:
        print(what, f())
    except socket.gaierror as e:
        print(what, "gaierror", e.args[0])
    except Exception as e:
        print(what, "error", type(e).__name__, e)
def addrs(host):
    return " ".join(sorted({a[4][0] for a in socket.getaddrinfo(host, None)}))
attempt("good", lambda: addrs(name))
attempt("bad", lambda: addrs("bad.test"))
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
attempt("http", lambda: opener.open("http://%s:%s/" % (name, port), timeout=5).read().decode().strip())
def connect_other():
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", other))
        return "connected"
    except socket.timeout:
        return "refused timeout"
    except OSError as e:
        return "refused " + errno.errorcode.get(e.errno, str(e.errno))
attempt("other", connect_other)
'

# --- host servers, and that they answer natively -------------------------------

mkdir -p "$T/www"
echo "served by the host" >"$T/www/index.html"
abs_name=interpose-e2e-net-host-$$
own_abs=interpose-e2e-net-own-$$
serve tcp tcp
serve udp udp
serve abs abstract "$abs_name"
serve http http "$T/www"
serve reuse tcp-reuseport
serve any tcp-any
serve udpreuse udp-any-reuse
serve udpreuseport udp-reuseport
serve udplite udplite
tcp_port=$(cat "$T/tcp.port") udp_port=$(cat "$T/udp.port") http_port=$(cat "$T/http.port")

run "$o" "$e" "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "natively the host TCP server answers" "^ok hello from host$"
run "$o" "$e" "$PY" -c "$udp_probe" 127.0.0.1 "$udp_port" sendto
check_out "natively the host UDP server echoes" "^ok ping-guest$"
run "$o" "$e" "$PY" -c "$abstract_probe" "$abs_name" "$own_abs-native"
check_out "natively the host abstract socket answers" "^host ok hello from host$"

# --- (a) a host service on loopback ---------------------------------------------

before=$(lines "$T/tcp.port.log")
guest tcp-default -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "by default a host TCP server on loopback is refused" "^refused ECONNREFUSED$"
check_eq "the refused connection never reached the host server" "$before" "$(lines "$T/tcp.port.log")"
check_audit "the refused connect is audited" "$T/tcp-default.jsonl" syscall=connect decision=deny

guest tcp-none --net=none -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "--net=none refuses it as the default does" "^refused ECONNREFUSED$"

guest tcp-allow --allow-net=127.0.0.1:"$tcp_port" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "--allow-net=127.0.0.1:PORT reaches it" "^ok hello from host$"
check_audit "the allowed connect is audited" "$T/tcp-allow.jsonl" syscall=connect decision=allow

other=$((tcp_port == 65535 ? tcp_port - 1 : tcp_port + 1))
guest tcp-otherport --allow-net=127.0.0.1:"$other" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "an allowed port opens no other" "^refused ECONNREFUSED$"

guest tcp-cidr --allow-net=127.0.0.0/8:"$((tcp_port - 1))-$tcp_port" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "a CIDR with a port range holding the port reaches it" "^ok hello from host$"
guest tcp-range-out --allow-net=127.0.0.0/8:"1-$((tcp_port - 1))" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "a port range not holding the port does not" "^refused ECONNREFUSED$"

guest tcp-host --net=host -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "--net=host reaches it" "^ok hello from host$"
check_audit "--net=host's connect is audited as allowed" "$T/tcp-host.jsonl" syscall=connect decision=allow

# IPv6 loopback, where the host has it.
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  serve tcp6 tcp6
  tcp6_port=$(cat "$T/tcp6.port")
  guest tcp6-default -- "$PY" -c "$tcp_probe" ::1 "$tcp6_port"
  check_out "by default a host TCP server on ::1 is refused" "^refused ECONNREFUSED$"
  guest tcp6-allow --allow-net="[::1]:$tcp6_port" -- "$PY" -c "$tcp_probe" ::1 "$tcp6_port"
  check_out "--allow-net=[::1]:PORT reaches it" "^ok hello from host$"
  guest tcp6-cidr --allow-net="[::1]/128" -- "$PY" -c "$tcp_probe" ::1 "$tcp6_port"
  check_out "--allow-net=[::1]/128 reaches it" "^ok hello from host$"
else
  say "no IPv6 loopback here: the [::1] cases are not run"
fi

# --- (b) the guest's own servers --------------------------------------------------

guest own -- "$PY" -c "$own_probe"
check_out "the guest reaches its own TCP server on 127.0.0.1" "^tcp ok hello from guest$"
check_out "the guest's own UDP server on 127.0.0.1 answers it" "^udp ok ping-own$"
check_out "...and its own UDP-Lite server (CPython's test_socket)" "^udplite ok ping-own$"
check_audit "the guest's bind is audited" "$T/own.jsonl" syscall=bind decision=allow
check_audit "the guest's listen is audited" "$T/own.jsonl" syscall=listen decision=allow
check_audit "the connect to its own server is audited as allowed" "$T/own.jsonl" syscall=connect decision=allow

# --- (c) UDP to a host service ------------------------------------------------------

for how in sendto connect; do
  before=$(lines "$T/udp.port.log")
  guest "udp-default-$how" -- "$PY" -c "$udp_probe" 127.0.0.1 "$udp_port" "$how"
  check_out "by default UDP ($how) to a host server on loopback is refused" "^refused "
  check_eq "the refused datagram ($how) never reached the host server" "$before" "$(lines "$T/udp.port.log")"
  check_audit "the refused datagram ($how) is audited" "$T/udp-default-$how.jsonl" \
    'syscall=connect|sendto|sendmsg|sendmmsg' decision=deny
  guest "udp-allow-$how" --allow-net=127.0.0.1:"$udp_port" -- "$PY" -c "$udp_probe" 127.0.0.1 "$udp_port" "$how"
  check_out "with --allow-net=127.0.0.1:PORT UDP ($how) gets the echo" "^ok ping-guest$"
done

# --- a guest thread rewriting the destination while the sentry decides -------
# guest-netrace sends to an allowed port while its second thread rewrites
# the sockaddr (or, for fdswap, swaps the socket at the fd and msg_name)
# towards the denied host server; nothing may reach that server.
R=$GUEST_DIR/guest-netrace
# Natively, against a server of its own (its backlog drains on its own
# time, apart from the counts below).
serve udprace udp
run "$o" "$e" "$R" sendto "$(($(cat "$T/udprace.port") + 1))" "$(cat "$T/udprace.port")" 200000
poll "natively the sendto racer to reach the server it flips to (the detector works)" \
  test -s "$T/udprace.port.log" && pass
for mode in connect sendto sendmsg fdswap; do
  if [ "$mode" = connect ]; then log=$T/tcp.port.log dport=$tcp_port; else log=$T/udp.port.log dport=$udp_port; fi
  aport=$((dport + 1))
  before=$(lines "$log")
  run "$o" "$e" $I --audit="$T/race-$mode.jsonl" --allow-exec="$GUEST_DIR" --allow-net=127.0.0.1:"$aport" -- \
    "$R" "$mode" "$aport" "$dport" 3000
  check_match "the $mode racer ran" "^sent " "$o"
  check_eq "under interpose the rewritten $mode never reaches the denied server" "$before" "$(lines "$log")"
  check_nomatch "...and no connect's peer was the denied port ($mode)" "^LEAK" "$o"
done

# --- the guest's own servers are its sockets, not its port numbers -----------------
# A port the guest holds in another protocol or on another loopback address
# does not make the host's service on it the guest's; SO_REUSEPORT does not
# let the guest share a host service's port (and take its clients).
ownport_probe="$attempt_py"'
port = int(sys.argv[1])
def bound_then_connect(kind):
    if kind == "udp":
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", port))
    else:
        b = socket.socket(); b.bind(("127.0.0.2", port)); b.listen(1)
    c = socket.socket(); c.settimeout(5); c.connect(("127.0.0.1", port))
    return c.recv(64).decode().strip()
attempt("after-udp-bind", lambda: bound_then_connect("udp"))
attempt("after-other-addr", lambda: bound_then_connect("tcp"))
'
before=$(lines "$T/tcp.port.log")
guest ownport -- "$PY" -c "$ownport_probe" "$tcp_port"
check_out "a UDP socket of the guest on the port does not open the host's TCP service" "^after-udp-bind refused ECONNREFUSED$"
check_out "nor a TCP socket of the guest on another loopback address" "^after-other-addr refused ECONNREFUSED$"
check_eq "...and the host service never saw them" "$before" "$(lines "$T/tcp.port.log")"
reuse_probe="$attempt_py"'
def share():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
    return "bound"
attempt("reuseport", share)
'
reuse_port=$(cat "$T/reuse.port")
run "$o" "$e" "$PY" -c "$reuse_probe" "$reuse_port"
check_out "natively SO_REUSEPORT shares a host service's port" "^reuseport ok bound$"
guest reuseport -- "$PY" -c "$reuse_probe" "$reuse_port"
check_out "confined it does not" "^reuseport refused EADDRINUSE$"
check_audit "...and the refusal is audited" "$T/reuseport.jsonl" syscall=bind decision=deny

# --- more doors: a datagram port shared by SO_REUSEADDR, UDP-Lite, wide ranges -----
shareudp_probe="$attempt_py"'
def share():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    return "bound"
attempt("udp-reuseaddr", share)
'
reuse_udp=$(cat "$T/udpreuse.port")
run "$o" "$e" "$PY" -c "$shareudp_probe" "$reuse_udp"
check_out "natively SO_REUSEADDR takes a host UDP service's port (and its datagrams)" "^udp-reuseaddr ok bound$"
guest udpreuse -- "$PY" -c "$shareudp_probe" "$reuse_udp"
check_out "confined it does not" "^udp-reuseaddr refused EADDRINUSE$"
udplite_probe="$attempt_py"'
port = int(sys.argv[1])
def lite():
    own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); own.bind(("127.0.0.1", port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
    return s.sendto(b"lite", ("127.0.0.1", port))
attempt("udplite", lite)
'
lite_port=$(cat "$T/udplite.port")
before=$(lines "$T/udplite.port.log")
guest udplite -- "$PY" -c "$udplite_probe" "$lite_port"
check_out "a UDP port of the guest's does not open a host UDP-Lite service on it" "^udplite refused ECONNREFUSED$"
check_eq "...which never sees the datagram" "$before" "$(lines "$T/udplite.port.log")"
guest wide --allow-net=0.0.0.0/0 -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "--allow-net=0.0.0.0/0 (the internet) does not open host loopback" "^refused ECONNREFUSED$"
guest wide-meta --allow-net=0.0.0.0/0 -- "$PY" -c "$tcp_probe" 169.254.169.254 80
check_audit "...nor cloud metadata" "$T/wide-meta.jsonl" syscall=connect decision=deny 'line=169\.254\.169\.254'
guest lo8 --allow-net=127.0.0.0/8:"$tcp_port" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "127.0.0.0/8 does" "^ok hello from host$"

# --- the host's own addresses are the host, as loopback is ------------------------
hostip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub("/.*", "", $4); print $4; exit}')
if [ -n "$hostip" ]; then
  any_port=$(cat "$T/any.port")
  run "$o" "$e" "$PY" -c "$tcp_probe" "$hostip" "$any_port"
  check_out "natively a host service on every address answers at the host's address $hostip" "^ok hello from host$"
  before=$(lines "$T/any.port.log")
  guest hostaddr --allow-net='*' -- "$PY" -c "$tcp_probe" "$hostip" "$any_port"
  check_out "under --allow-net='*' the host's own address is refused like loopback" "^refused ECONNREFUSED$"
  check_eq "...and the host service never saw it" "$before" "$(lines "$T/any.port.log")"
  run "$o" "$e" "$PY" -c "$tcp_probe" 0.0.0.0 "$any_port"
  check_out "natively 0.0.0.0 reaches the host service too" "^ok hello from host$"
  before=$(lines "$T/any.port.log")
  guest anyaddr --allow-net='*' -- "$PY" -c "$tcp_probe" 0.0.0.0 "$any_port"
  check_out "confined 0.0.0.0 is loopback, refused for a host service under '*'" "^refused ECONNREFUSED$"
  check_eq "...which never sees the connection" "$before" "$(lines "$T/any.port.log")"
  guest hostaddr-named --allow-net="$hostip:$any_port" -- "$PY" -c "$tcp_probe" "$hostip" "$any_port"
  check_out "an address rule for it opens it" "^ok hello from host$"
else
  say "no global IPv4 address: the host-address checks are not run"
fi
guest bcast --allow-net='*' -- "$PY" -c "$udp_probe" 255.255.255.255 "$udp_port" sendto
check_out "under --allow-net='*' broadcast is refused" "^refused ECONNREFUSED$"
guest mcast --allow-net='*' -- "$PY" -c "$udp_probe" 224.0.0.1 "$udp_port" sendto
check_out "...and multicast" "^refused ECONNREFUSED$"

# --- calls a broker must not be fooled by (guest-netprobe) ------------------------
P=$GUEST_DIR/guest-netprobe
for how in sendto sendmsg; do
  before=$(lines "$T/udp.port.log")
  run "$o" "$e" "$P" "unspec-$how" "$udp_port"
  check_match "natively a datagram with family AF_UNSPEC ($how) is sent as IPv4" "^unspec-$how ok" "$o"
  poll "natively the AF_UNSPEC datagram ($how) to reach the server" sh -c "[ \$(wc -l <'$T/udp.port.log') -gt $before ]" && pass
  before=$(lines "$T/udp.port.log")
  run "$o" "$e" $I --audit="$T/unspec-$how.jsonl" --allow-exec="$GUEST_DIR" -- "$P" "unspec-$how" "$udp_port"
  check_match "confined it is judged as IPv4 and refused ($how)" "^unspec-$how refused" "$o"
  check_eq "...and never reaches the host server ($how)" "$before" "$(lines "$T/udp.port.log")"
  check_audit "...and the refusal is audited ($how)" "$T/unspec-$how.jsonl" "syscall=$how" decision=deny
done
run "$o" "$e" "$P" cmsg-overrun 0
check_match "natively an SCM_RIGHTS header longer than its buffer is EINVAL" "^cmsg-overrun refused Invalid argument" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" -- "$P" cmsg-overrun 0
check_match "confined too, and the sentry reads nothing past the buffer" "^cmsg-overrun refused Invalid argument" "$o"
check_eq "...and the session ends normally" 0 "$rc"
run "$o" "$e" "$P" rthdr "$udp_port"
check_match "natively a socket takes an IPv6 routing header" "^rthdr ok" "$o"
run "$o" "$e" $I --audit="$T/rthdr.jsonl" --allow-exec="$GUEST_DIR" -- "$P" rthdr "$udp_port"
check_match "confined a routing header (packets by way of another address) is refused" "^rthdr refused Operation not permitted" "$o"
check_audit "...and audited" "$T/rthdr.jsonl" syscall=setsockopt decision=deny
run "$o" "$e" "$P" ghost 0
check_match "natively a sender killed while blocked sends nothing" "^ghost ok" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" -- "$P" ghost 0
check_match "confined neither (the waiter drops a killed caller's send)" "^ghost ok" "$o"
run "$o" "$e" "$P" pktoptions 0
check_match "natively IPV6_2292PKTOPTIONS (which can carry a routing header) is taken" "^pktoptions ok" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" -- "$P" pktoptions 0
check_match "confined it is refused" "^pktoptions refused Operation not permitted" "$o"
# listen on a socket whose connection was dissolved (AF_UNSPEC): the kernel
# keeps the port and forgets the address, and would serve on every
# interface, reachable from other hosts.
run "$o" "$e" "$P" listen-unspec 0
check_match "natively listen after connect(AF_UNSPEC) serves on every address" "^listen-unspec ok 0.0.0.0$" "$o"
run "$o" "$e" $I --audit="$T/lunspec.jsonl" --allow-exec="$GUEST_DIR" -- "$P" listen-unspec 0
check_match "confined it is refused" "^listen-unspec refused Cannot assign requested address$" "$o"
check_audit "...and audited" "$T/lunspec.jsonl" syscall=listen decision=deny
# SO_REUSEPORT turned on by a second thread while the sentry judges a bind.
reuseport_port=$(cat "$T/udpreuseport.port")
# Natively the race needs the second thread on a CPU of its own: on a
# loaded machine (the rest of the suite) it can take many more tries.
run "$o" "$e" "$P" reuseport-race "$reuseport_port" 2000000
check_match "natively SO_REUSEPORT shares a host UDP service's port" "^reuseport-race ok" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" -- "$P" reuseport-race "$reuseport_port"
check_match "confined a thread racing SO_REUSEPORT never shares it" "^reuseport-race refused 20000 of 20000 EADDRINUSE$" "$o"
# Replies: a UDP socket's first send binds it to every address; another
# host's datagram must not reach it, only the peer's (the sentry's socket
# filter), and the guest may not take that filter off.
U="$PY $SRC_DIR/e2e/udppeer.py --timeout=$POLL_LIMIT"
# The other host is this one by an address of its own that is not
# loopback (loopback is always the guest's to hear: only this host sends
# from there). A host with none cannot show it.
if ! stranger=$($U --probe); then
  say "this host has no address but loopback: the reply filter is not tested here"
else
run "$o" "$e" $U "$P" inbound PORT
check_match "natively another host's datagram reaches a UDP socket that sent elsewhere" "^inbound LEAK" "$o"
run "$o" "$e" $U $I --audit="$T/inbound.jsonl" --allow-exec="$GUEST_DIR" --allow-net=127.0.0.1 -- "$P" inbound PORT
check_match "confined only the peer's datagram reaches it" "^inbound ok" "$o"
run "$o" "$e" $U $I --audit="$T/inbound.jsonl" --allow-exec="$GUEST_DIR" --allow-net=127.0.0.1 -- "$P" inbound-detach PORT
check_match "the guest cannot remove the filter" "^detach refused Operation not permitted" "$o"
check_match "...nor replace it" "^attach refused Operation not permitted" "$o"
check_match "...and still only the peer's datagram reaches it" "^inbound-detach ok" "$o"
check_audit "...audited" "$T/inbound.jsonl" syscall=setsockopt decision=deny rule=net-reply-filter
# The same for a socket the kernel bound by a send with no address (send,
# write: refused, but the socket is bound to every address by then).
run "$o" "$e" $U "$P" inbound-unsent PORT
check_match "natively another host's datagram reaches a socket bound by an addressless send" "^inbound-unsent LEAK" "$o"
run "$o" "$e" $U $I --allow-exec="$GUEST_DIR" --allow-net=127.0.0.1 -- "$P" inbound-unsent PORT
check_match "confined nothing reaches a socket that sent nowhere" "^inbound-unsent ok" "$o"
# Nor ICMP errors, which carry bytes any host chooses, by the error queue.
run "$o" "$e" "$P" recverr 0
check_match "natively IP_RECVERR can be set" "^recverr set" "$o"
run "$o" "$e" $I --audit="$T/recverr.jsonl" --allow-exec="$GUEST_DIR" -- "$P" recverr 0
check_match "confined IP_RECVERR on a UDP socket is taken and not set" "^recverr taken, not set" "$o"
check_audit "...audited" "$T/recverr.jsonl" syscall=setsockopt decision=deny rule=net-recverr
fi
run "$o" "$e" $I --allow-exec="$GUEST_DIR" -- "$P" filter-unix 0
check_match "a socket filter of the guest's own on a unix socket works" "^filter-unix ok" "$o"
for how in stall stall-sendmsg; do
  run "$o" "$e" $I --allow-exec="$GUEST_DIR" -- "$P" "$how" 0
  check_match "a send blocked on a full socket does not stall the session's other calls ($how)" \
    "^stall ok \(sender blocked: yes" "$o"
done

# --- (d) DNS -------------------------------------------------------------------------

timeout -k 5 "$LIFE" "$PY" "$SRC_DIR/e2e/dnsserver.py" --port-file "$T/dns.port" \
  good.test=127.0.0.1 www.good.test=127.0.0.1 >"$T/dns.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
poll "the test DNS server to listen" file_nonempty "$T/dns.port" || { sed 's/^/    | /' "$T/dns.out" >&2; finish; }
dns_port=$(cat "$T/dns.port")
dnslog=$T/dns.port.log
D="--dns-upstream=127.0.0.1:$dns_port"

guest resolv "$D" -- cat /etc/resolv.conf
check_out "the guest's /etc/resolv.conf names a resolver" "^nameserver "
if [ -f /etc/resolv.conf ]; then
  check_true "...the session's, not the host's" sh -c "! cmp -s '$o' /etc/resolv.conf"
fi

before=$(lines "$T/http.port.log")
guest dns "$D" --allow-net=good.test:"$http_port" -- "$PY" -c "$dns_probe" good.test "$http_port" "$tcp_port"
check_out "an allowed name resolves (getaddrinfo)" "^good 127\.0\.0\.1$"
check_out "a name not allowed does not (NXDOMAIN: socket.gaierror EAI_NONAME)" "^bad gaierror -2$"
check_out "HTTP to the allowed name and port works (urllib)" "^http served by the host$"
check_out "the allowed name opens only its port" "^other refused "
check_ne "the GET reached the host's HTTP server" "$before" "$(lines "$T/http.port.log")"
check_match "the allowed name was forwarded to --dns-upstream" '^good\.test$' "$dnslog"
check_audit "the DNS answer for the allowed name is audited" "$T/dns.jsonl" syscall=dns 'name=good\.test\.?' decision=allow
check_audit "the NXDOMAIN for bad.test is audited" "$T/dns.jsonl" syscall=dns 'name=bad\.test\.?' decision=deny
check_audit "the connect to the resolved address is audited" "$T/dns.jsonl" syscall=connect decision=allow

# A wildcard resolves its names, but a wildcard's name that resolves to
# loopback reaches nothing there (DNS rebinding onto host services); only
# a name written out in full, or an address rule, opens loopback.
before=$(lines "$T/http.port.log")
guest dns-wild "$D" --allow-net="*.good.test:$http_port" -- "$PY" -c "$dns_probe" www.good.test "$http_port" "$tcp_port"
check_out "*.good.test: www.good.test resolves" "^good 127\.0\.0\.1$"
check_out "*.good.test: HTTP to www.good.test, which resolves to loopback, is refused" "^http error "
check_eq "*.good.test: the GET never reached the host's HTTP server" "$before" "$(lines "$T/http.port.log")"
check_audit "*.good.test: the refused connect is audited" "$T/dns-wild.jsonl" syscall=connect decision=deny
check_out "*.good.test: bad.test still does not resolve" "^bad gaierror -2$"

# The resolver passes on nothing of the guest's but the question: records
# added to an allowed query and UPDATE messages never reach the upstream;
# a TCP client that sends half a length does not hold the resolver.
smuggle_probe='
import socket, struct, sys
ns = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
def name(n): return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"
def ask(msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(msg, (ns, 53)); r = s.recv(4096)
    return r[3] & 0xf
rr = name("smuggled-secret.example") + struct.pack("!HHIH", 16, 1, 0, 4) + b"\x03abc"
q = struct.pack("!HHHHHH", 0x1111, 0x0100, 1, 0, 0, 1) + name(sys.argv[1]) + struct.pack("!HH", 1, 1) + rr
print("extra-record rcode", ask(q))
u = struct.pack("!HHHHHH", 0x2222, 5 << 11, 1, 0, 1, 0) + name(sys.argv[1]) + struct.pack("!HH", 6, 1) + rr
print("update rcode", ask(u))
c = struct.pack("!HHHHHH", 0x1337, 0x0100, 1, 0, 0, 0) + name("GoOd.TeSt") + struct.pack("!HH", 1, 1)
print("mixed-case rcode", ask(c))
x = struct.pack("!HHHHHH", 0x4444, 0x0100, 1, 0, 0, 0) + name(sys.argv[1]) + struct.pack("!HH", 0xbeef, 1)
print("odd-type rcode", ask(x))
t = socket.create_connection((ns, 53), timeout=5); t.send(b"\x00")
print("while a TCP client holds", socket.getaddrinfo(sys.argv[1], 80)[0][4][0])
'
guest smuggle "$D" --allow-net=good.test -- "$PY" -c "$smuggle_probe" good.test
check_out "an allowed query with a record added is answered" "^extra-record rcode 0$"
check_out "an UPDATE is refused (NOTIMP)" "^update rcode 4$"
check_out "a TCP client sending half a length does not hold the resolver" "^while a TCP client holds 127\.0\.0\.1$"
smuggled=$(printf 'smuggled-secret' | od -An -tx1 | tr -d ' \n')
check_nomatch "the added record never reached the upstream" "$smuggled" "$dnslog.raw"
check_out "a mixed-case name is answered" "^mixed-case rcode 0$"
check_nomatch "...but asked upstream in the sentry's case" "$(printf 'GoOd' | od -An -tx1 | tr -d ' \n')" "$dnslog.raw"
check_nomatch "...and with an id of the sentry's" "^1337" "$dnslog.raw"
check_out "an uncommon record type is refused" "^odd-type rcode 5$"
check_nomatch "...and never asked upstream" "beef0001" "$dnslog.raw"

# Without the right to bind port 53 (an unprivileged user): no resolver,
# and the guest's /etc/hosts holds the exact names allowed, resolved at
# the start by the same upstream; other names do not resolve.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
  u=$T/unpriv
  mkdir -m 0777 "$u" "$u/state" && cp "$INTERPOSE" "$u/interpose" && chmod 0755 "$u/interpose" && chmod 0755 "$T"
  grp=nogroup
  getent group nogroup >/dev/null || grp=nobody
  run "$o" "$e" setpriv --reuid=nobody --regid="$grp" --clear-groups --inh-caps=-all \
    env -i INTERPOSE_PLATFORM="${INTERPOSE_PLATFORM:-auto}" HOME="$u" XDG_STATE_HOME="$u/state" TMPDIR="$u" PATH=/usr/bin:/bin \
    "$u/interpose" --workspace="$u" "$D" --allow-net=good.test:"$http_port" -- \
    sh -c 'getent hosts good.test; getent hosts bad.test || echo "bad not resolved"'
  check_match "unprivileged: an allowed name resolves through the hosts file" "^127\.0\.0\.1 +good\.test" "$o"
  check_match "unprivileged: another name does not" "^bad not resolved$" "$o"
fi

# The name allows what it resolves to, not the address before it is
# resolved.
guest dns-unresolved "$D" --allow-net=good.test:"$http_port" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$http_port"
check_out "an allowed name's address is not open before the name is resolved" "^refused "

# --- (e) curl ----------------------------------------------------------------------------

if command -v curl >/dev/null 2>&1; then
  guest curl "$D" --allow-net=good.test:"$http_port" -- curl -sS --noproxy '*' --max-time 5 "http://good.test:$http_port/"
  check_out "curl fetches http://good.test:PORT/" "^served by the host$"
  run "$o" "$e" $I --audit="$T/curl-bad.jsonl" "$D" --allow-net=good.test:"$http_port" -- \
    curl -sS --noproxy '*' --max-time 5 "http://bad.test:$http_port/"
  check_eq "curl cannot resolve bad.test (status 6)" 6 "$rc"
  check_audit "curl's bad.test lookup is audited" "$T/curl-bad.jsonl" syscall=dns 'name=bad\.test\.?' decision=deny
else
  say "curl is not installed: the curl cases are not run"
fi

# Checked last: no session above may have let bad.test out.
check_nomatch "bad.test was never forwarded to --dns-upstream" 'bad\.test' "$dnslog"

# --- (f) cloud metadata -------------------------------------------------------------------

guest meta-star --allow-net='*' -- "$PY" -c "$tcp_probe" 169.254.169.254 80
check_out "--allow-net='*' does not open 169.254.169.254" "^refused "
check_audit "...and the refusal is audited" "$T/meta-star.jsonl" syscall=connect decision=deny 'line=169\.254\.169\.254'
guest meta-mapped --allow-net='*' -- "$PY" -c "$tcp_probe" ::ffff:169.254.169.254 80
check_out "--allow-net='*' does not open it as ::ffff:169.254.169.254" "^refused "
check_audit "...and that refusal is audited" "$T/meta-mapped.jsonl" syscall=connect decision=deny 'line=169\.254\.169\.254'
# Named by address, it is allowed (whatever the network then does).
guest meta-named --allow-net=169.254.169.254 -- "$PY" -c "$tcp_probe" 169.254.169.254 80
check_audit "--allow-net=169.254.169.254 allows it" "$T/meta-named.jsonl" syscall=connect decision=allow 'line=169\.254\.169\.254'

# --- (g) abstract unix sockets -----------------------------------------------------------

before=$(lines "$T/abs.port.log")
guest abstract -- "$PY" -c "$abstract_probe" "$abs_name" "$own_abs"
check_out "the host's abstract socket is refused" "^host refused ECONNREFUSED$"
check_out "the guest's own abstract socket works" "^own ok hello from guest$"
check_eq "the refused connection never reached the host's abstract socket" "$before" "$(lines "$T/abs.port.log")"
check_audit "the refusal is audited" "$T/abstract.jsonl" syscall=connect decision=deny
# A name the guest bound and let go is anyone's: a host service that takes
# it next is not the guest's own server. The guest binds and closes, then
# waits on stdin; the driver binds the name outside, then lets it go on.
cat >"$T/absreuse.py" <<'PY'
import socket, subprocess, sys
name = sys.argv[1]
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
line = p.stdout.readline()
if line.strip() != "released":
    print("guest said", repr(line)); p.kill(); sys.exit(1)
host = socket.socket(socket.AF_UNIX)
host.bind("\0" + name)
host.listen(1)
p.stdin.write("go\n"); p.stdin.flush()
print(p.stdout.read(), end="")
sys.exit(p.wait())
PY
absreuse_probe='
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind("\0" + sys.argv[1])
s.close()
print("released", flush=True)
sys.stdin.readline()
c = socket.socket(socket.AF_UNIX)
try:
    c.connect("\0" + sys.argv[1])
    print("reuse connected")
except OSError as e:
    print("reuse refused", e.strerror)
'
run "$o" "$e" "$PY" "$T/absreuse.py" "$own_abs-reuse-native" "$PY" -c "$absreuse_probe" "$own_abs-reuse-native"
check_out "natively a name the process let go reaches whoever took it" "^reuse connected$"
run "$o" "$e" "$PY" "$T/absreuse.py" "$own_abs-reuse" $I --audit="$T/absreuse.jsonl" -- "$PY" -c "$absreuse_probe" "$own_abs-reuse"
check_out "confined a name the guest let go is not its own once the host holds it" "^reuse refused Connection refused$"

# A dual-stack server on every address ("::", as python -m http.server and
# node listen by default) answers its clients at 127.0.0.1 and ::1: it is
# bound to the loopback device, not narrowed to ::1 (which lost IPv4),
# and cannot unbind it.
ds_probe='
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 0)); s.listen(4)
port = s.getsockname()[1]
for host in ("127.0.0.1", "::1", "0.0.0.0", "::"):
    try:
        socket.create_connection((host, port), timeout=5).close()
        print("dual", host, "ok")
    except OSError as e:
        print("dual", host, e.strerror)
try:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"")
    print("unbind ok")
except OSError as e:
    print("unbind", e.strerror)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("::", 0))
u.connect(("::1", u.getsockname()[1]))  # its own port: a server of its own
import ctypes
un = ctypes.create_string_buffer(16)  # struct sockaddr of AF_UNSPEC
libc = ctypes.CDLL(None, use_errno=True)
libc.connect(u.fileno(), un, 16)
print("udp device after disconnect", u.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0").decode() or "none")
'
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  guest dualstack -- "$PY" -c "$ds_probe"
  check_out "the guest's dual-stack server on :: answers at 127.0.0.1" "^dual 127.0.0.1 ok$"
  check_out "...and at ::1" "^dual ::1 ok$"
  check_out "...and at 0.0.0.0 (the local host, as natively: curl http://0.0.0.0:PORT/)" "^dual 0.0.0.0 ok$"
  check_out "...and at ::" "^dual :: ok$"
  check_out "...and the guest cannot take it off the loopback device" "^unbind Operation not permitted$"
  check_out "...nor a datagram socket's, by dissolving its association" "^udp device after disconnect lo$"
fi

# The sandbox's host name resolves, to loopback, as the host's own does
# in its hosts file (hostname -f, Java's getLocalHost).
guest hostname --hostname=box.test -- "$PY" -c 'import socket; print("hostname", socket.gethostbyname(socket.gethostname()))'
check_out "the guest's host name resolves to loopback" "^hostname 127.0.1.1$"

# glibc sorts a lookup's addresses by connecting a datagram socket to port
# 0 of each (it sends nothing): allowed for a host allowed on some port,
# refused for an unlisted one.
port0_probe='
import socket, sys
for host in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((host, 0))
        print("port0", host, "ok")
    except OSError as e:
        print("port0", host, e.strerror)
'
guest port0 --allow-net=127.0.0.1:"$tcp_port" -- "$PY" -c "$port0_probe" 127.0.0.1 192.0.2.77
check_out "a datagram connect to port 0 of an allowed host works (address sorting)" "^port0 127.0.0.1 ok$"
check_out "...and of an unlisted one is refused" "^port0 192.0.2.77 Connection refused$"

# --- (h) deny beats allow ------------------------------------------------------------------

guest deny-after --allow-net=127.0.0.1 --deny-net=127.0.0.1:"$tcp_port" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "--deny-net=127.0.0.1:PORT beats --allow-net=127.0.0.1" "^refused ECONNREFUSED$"
check_audit "the denial is audited" "$T/deny-after.jsonl" syscall=connect decision=deny
guest deny-before --deny-net=127.0.0.1:"$tcp_port" --allow-net=127.0.0.1 -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "...given before the allow too" "^refused ECONNREFUSED$"
guest deny-other --allow-net=127.0.0.1 --deny-net=127.0.0.1:"$other" -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "a deny of another port leaves the allow standing" "^ok hello from host$"
guest deny-cidr --allow-net=127.0.0.1:"$tcp_port" --deny-net=127.0.0.0/8 -- "$PY" -c "$tcp_probe" 127.0.0.1 "$tcp_port"
check_out "a denied CIDR beats an allowed address in it" "^refused ECONNREFUSED$"

# --- (i) malformed values -------------------------------------------------------------------

for bad in --allow-net=999.1.1.1:99999 --deny-net=10.0.0.0/33 '--allow-net=[::1' \
    --allow-net=example.com:80-70 --net=bogus; do
  run "$o" "$e" $I "$bad" -- echo guest-ran
  check_eq "$bad: interpose fails (status 125)" 125 "$rc"
  check_match "$bad: the message names the value" "$(printf '%s' "${bad#*=}" | sed 's/[][\.*^$]/\\&/g')" "$e"
  check_nomatch "$bad: the guest did not run" "guest-ran" "$o"
done

finish
