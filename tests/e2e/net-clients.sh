#!/bin/sh
# Real clients through the network broker (issue 5), against a test host
# of their own: a network namespace this test creates, joined to the
# host's by a veth pair, with an address nothing else has (10.213.N.2)
# and an imitation of the cloud metadata service (169.254.169.254) on it.
# No traffic leaves the machine. The names are served by a test resolver
# (dnsserver.py) that the session uses as its --dns-upstream.
#
# pip downloads a wheel from a package index by name, git clones from a
# git daemon by name, curl reaches the host by name and by '*'; nothing is
# reached without a rule, and the metadata address stays shut under '*'
# unless named by address. Each client is run natively first, so a
# failure under interpose is interpose's.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

[ "$(id -u)" = 0 ] || skip "creating the test host's network namespace needs root"
need ip git curl
"$PY" -m pip --version >/dev/null 2>&1 || skip "pip for $PY is not installed (tools/setup.sh)"
wheel=$(ls /usr/share/python-wheels/setuptools-*-py3-none-any.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || skip "no setuptools wheel in /usr/share/python-wheels (python3-pip-whl)"

o=$T/out e=$T/err
I="$INTERPOSE --workspace=$T"
n=$(($$ % 250 + 1))
ns=ipx$$ host_if=ipxh$$ ns_if=ipxn$$
HOSTIP=10.213.$n.2
META=169.254.169.254
LIFE=$((POLL_LIMIT * 20))

ip netns add "$ns" 2>"$e" || skip "cannot create a network namespace: $(cat "$e")"
at_exit "ip netns del $ns 2>/dev/null; ip link del $host_if 2>/dev/null"
ip link add "$host_if" type veth peer name "$ns_if" netns "$ns" &&
  ip addr add "10.213.$n.1/24" dev "$host_if" && ip link set "$host_if" up &&
  ip -n "$ns" addr add "$HOSTIP/24" dev "$ns_if" && ip -n "$ns" addr add "$META/32" dev "$ns_if" &&
  ip -n "$ns" link set "$ns_if" up && ip -n "$ns" link set lo up &&
  ip route add "$META/32" dev "$host_if" src "10.213.$n.1" 2>"$e" ||
  { fail "setting up the test host: $(cat "$e")"; finish; }
at_exit "ip route del $META/32 dev $host_if 2>/dev/null"

# The test host's services, in its namespace.
# exec: so that $! of "inns ... &" is the server (through timeout), which
# the exit trap then stops.
inns() { exec timeout -k 5 "$LIFE" ip netns exec "$ns" "$@"; }
mkdir -p "$T/index/simple/setuptools" "$T/git" "$T/meta"
cp "$wheel" "$T/index/"
w=$(basename "$wheel")
printf '<html><body><a href="../../%s">%s</a></body></html>\n' "$w" "$w" >"$T/index/simple/setuptools/index.html"
printf 'instance secrets\n' >"$T/meta/index.html"
git init -q --bare "$T/git/repo.git"
git init -q "$T/src" && (cd "$T/src" && printf 'hello\n' >README &&
  git add README && git -c user.email=t@example.com -c user.name=t commit -qm first &&
  git push -q "$T/git/repo.git" HEAD:refs/heads/main) >"$e" 2>&1 || { fail "making the test repository: $(cat "$e")"; finish; }
git --git-dir="$T/git/repo.git" symbolic-ref HEAD refs/heads/main

inns "$PY" -m http.server --bind "$HOSTIP" --directory "$T/index" 8080 >"$T/index.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
inns "$PY" -m http.server --bind "$META" --directory "$T/meta" 80 >"$T/meta.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
inns git daemon --reuseaddr --export-all --base-path="$T/git" --listen="$HOSTIP" --port=9418 \
  >"$T/gitd.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
timeout -k 5 "$LIFE" "$PY" "$SRC_DIR/e2e/dnsserver.py" --port-file "$T/dns.port" \
  pkgs.test="$HOSTIP" git.test="$HOSTIP" meta.test="$META" >"$T/dns.out" 2>&1 &
at_exit "kill $! 2>/dev/null"

listening() { curl -s -o /dev/null --noproxy '*' --max-time 1 "$1"; }
poll "the package index to listen" listening "http://$HOSTIP:8080/simple/" || finish
poll "the metadata imitation to listen" listening "http://$META/" || finish
poll "the git daemon to listen" sh -c "git ls-remote git://$HOSTIP:9418/repo.git >/dev/null 2>&1" || finish
poll "the test resolver to listen" test -s "$T/dns.port" || finish
D="--dns-upstream=127.0.0.1:$(cat "$T/dns.port")"

# pip and git by name need the names resolved: natively the test host is
# known by address only, so the native runs use the address.
run "$o" "$e" "$PY" -m pip download --no-cache-dir --no-deps --disable-pip-version-check -q \
  --trusted-host "$HOSTIP" --index-url "http://$HOSTIP:8080/simple" -d "$T/native-dl" "setuptools"
check_true "natively pip downloads the wheel from the test host" test -s "$T/native-dl/$w"
run "$o" "$e" git clone -q "git://$HOSTIP:9418/repo.git" "$T/native-clone"
check_true "natively git clones from the test host" test -s "$T/native-clone/README"

# --- pip ------------------------------------------------------------------------
export HOME=$T
run "$o" "$e" $I --audit="$T/pip.jsonl" "$D" --allow-net=pkgs.test:8080 -- sh -c \
  "$PY -m pip download --no-cache-dir --no-deps --disable-pip-version-check -q --trusted-host pkgs.test --index-url http://pkgs.test:8080/simple -d $T/dl setuptools"
if [ -s "$T/dl/$w" ]; then pass; else fail "pip download by name under --allow-net=pkgs.test:8080: status $rc"; sed 's/^/    | /' "$o" "$e" >&2; fi
run "$o" "$e" $I "$D" -- sh -c \
  "$PY -m pip download --no-cache-dir --no-deps --disable-pip-version-check -q --retries 0 --timeout 3 --trusted-host pkgs.test --index-url http://pkgs.test:8080/simple -d $T/dl-none setuptools"
check_true "pip without a rule gets nothing" test ! -e "$T/dl-none/$w"

# --- git -------------------------------------------------------------------------
run "$o" "$e" $I --audit="$T/git.jsonl" "$D" --allow-net=git.test:9418 -- git clone -q git://git.test:9418/repo.git "$T/clone"
if [ -s "$T/clone/README" ]; then pass; else fail "git clone by name under --allow-net=git.test:9418: status $rc"; sed 's/^/    | /' "$o" "$e" >&2; fi
run "$o" "$e" $I "$D" --allow-net=git.test:80 -- git clone -q git://git.test:9418/repo.git "$T/clone-other"
check_true "git clone on a port the rule does not name fails" test ! -e "$T/clone-other/README"

# --- curl: '*', and the metadata service ------------------------------------------
run "$o" "$e" $I "$D" --allow-net='*' -- curl -sS --noproxy '*' --max-time 5 "http://pkgs.test:8080/simple/setuptools/"
check_match "curl under --allow-net='*' reaches the test host by name" "setuptools" "$o"
run "$o" "$e" $I "$D" -- curl -sS --noproxy '*' --max-time 5 "http://$HOSTIP:8080/simple/"
check_ne "curl to the test host's address without a rule fails" 0 "$rc"
run "$o" "$e" $I --audit="$T/meta.jsonl" "$D" --allow-net='*' -- curl -sS --noproxy '*' --max-time 5 http://meta.test/
check_ne "the metadata service under --allow-net='*' (by name) is refused" 0 "$rc"
check_nomatch "...and told nothing" "instance secrets" "$o"
run "$o" "$e" $I "$D" --allow-net='*' -- curl -sS --noproxy '*' --max-time 5 "http://$META/"
check_ne "the metadata service under --allow-net='*' (by address) is refused" 0 "$rc"
run "$o" "$e" $I "$D" --allow-net="$META:80" -- curl -sS --noproxy '*' --max-time 5 "http://$META/"
check_match "the metadata service named by address is reached" "instance secrets" "$o"
if grep -q '"syscall":"connect".*"decision":"deny".*169\.254\.169\.254' "$T/meta.jsonl"; then pass; else
  fail "the refused metadata connect is not in the audit log"; fi

finish
