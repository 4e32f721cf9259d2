#!/usr/bin/env python3
"""Hold listening sockets from bind to use: bind N TCP sockets on 127.0.0.1 (the kernel picks the
ports), print the ports on one line, wait for one line on stdin (the caller has written the
server's configuration with them), then run the server in this process (exec, same pid) with the
sockets as fds 3.. and LISTEN_FDS / LISTEN_PID set, as systemd's socket activation hands them over.

  socket-activate.py N -- /usr/sbin/dovecot -F -c dovecot.conf

No other process can take a port between its choice and the server's use of it.
"""

import fcntl
import os
import socket
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: socket-activate.py N -- SERVER [ARGS...]")
    count = int(sys.argv[1])
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
    if not sys.stdin.readline():
        sys.exit("socket-activate.py: stdin closed before the go-ahead")
    # Out of the way first, so that moving one socket to 3.. never closes another.
    high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 100) for s in socks]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
    os.environ["LISTEN_FDS"] = str(count)
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execv(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    main()
