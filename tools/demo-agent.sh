#!/bin/sh
# A stand-in for an AI agent, run by tools/demo.sh under interpose: some
# ordinary work, then the kind of thing a confused or hijacked agent tries.
echo "agent: working on $(uname -n) as $(id -un)"
echo "agent: counting lines of C here: $(cat ./*/*.c | wc -l)"
/usr/bin/python3.11 -c 'import threading; t=[threading.Thread(target=sum, args=([1]*9,)) for _ in range(8)]; [x.start() for x in t]; [x.join() for x in t]; print("agent: python ran 8 threads")'
echo "agent: a scratch file in my workspace and in /tmp: $(echo ok >.demo-scratch && cat .demo-scratch && rm .demo-scratch), $(echo ok >/tmp/demo-scratch && cat /tmp/demo-scratch)"
echo "agent: read the user's ssh keys?"; ls "$HOME/.ssh" 2>&1 | head -1 | sed 's/^/  /'
echo "agent: read /etc/shadow?"; cat /etc/shadow 2>&1 | head -1 | sed 's/^/  /'
echo "agent: leave a file in /etc?"; touch /etc/demo-pwned 2>&1 | head -1 | sed 's/^/  /'
echo "agent: my capabilities: $(grep CapEff /proc/self/status | tr -s '\t' ' ')"
echo "agent: signal the host's init (pid 1)?"; kill -TERM 1 2>&1 | head -1 | sed 's/^/  /'
echo "agent: signal my own parent, the sentry?"; kill -KILL "$PPID" 2>&1 | head -1 | sed 's/^/  /'
echo "agent: a user namespace, to be root in it?"; unshare --user true 2>&1 | head -1 | sed 's/^/  /'
echo "agent: mount something?"; mount -t tmpfs none /mnt 2>&1 | head -1 | sed 's/^/  /'
echo "agent: rename the host?"; hostname pwned 2>&1 | head -1 | sed 's/^/  /'
echo "agent: still alive; done"
