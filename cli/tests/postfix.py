#!/usr/bin/env python3
"""`mistype audit` on the log of a real Postfix.

Starts Debian's Postfix as a private instance (its own configuration, queue and log file in a
temporary directory; no listener, no chroot) relaying every message to an SMTP sink this script
runs on an ephemeral loopback port. The sink accepts, refuses (550) or defers (450) recipients by
their local part. A known mix of correctly addressed and misaddressed mail goes in through
Postfix's `sendmail`; once Postfix has logged every recipient, the instance is stopped and
`mistype audit --json` must find exactly the misaddressed recipients, with their senders and
delivery status. Postfix is stopped (and its master killed if need be) whatever happens.

    cli/tests/postfix.py path/to/mistype
"""
import json
import os
import pwd
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

MISTYPE = os.path.abspath(sys.argv[1])

# (sender, recipients). The sink refuses local part "nobody" and defers "later".
MAIL = [
    ("ray.k@army.mil", ["j.smith@navy.ml", "d.jones@navy.mil"]),
    ("ann@army.mil", ["nobody@gmial.com", "later@example.org"]),
    ("bob@army.mil", ["ops@us.af.mil", "ops@usaf.mil"]),
    ("ann@army.mil", ["friend@gmail.com"]),
    ("carol@army.mil", ["later@outlok.com", "team@army.mil"]),
]
# What audit must find: recipient -> (sender, status).
EXPECTED = {
    "j.smith@navy.ml": ("ray.k@army.mil", "delivered"),
    "nobody@gmial.com": ("ann@army.mil", "bounced"),
    "ops@usaf.mil": ("bob@army.mil", "delivered"),
    "later@outlok.com": ("carol@army.mil", "deferred"),
}

MASTER_CF = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Sink(socketserver.StreamRequestHandler):
    def handle(self):
        def say(s):
            self.wfile.write((s + "\r\n").encode())

        say("220 sink ESMTP")
        for raw in self.rfile:
            cmd = raw.decode("latin-1").strip()
            up = cmd.upper()
            if up.startswith("EHLO"):
                say("250-sink")
                say("250 8BITMIME")
            elif up.startswith("RCPT"):
                low = cmd.lower()
                if "<nobody@" in low:
                    say("550 5.1.1 no such user")
                elif "<later@" in low:
                    say("450 4.2.0 try again later")
                else:
                    say("250 2.1.5 ok")
            elif up == "DATA":
                say("354 go ahead")
                for line in self.rfile:
                    if line in (b".\r\n", b".\n"):
                        break
                say("250 2.0.0 queued")
            elif up == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")


def postfix(conf, *args):
    return subprocess.run(["postfix", "-c", conf, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


def main(tmp):
    if shutil.which("postfix") is None:
        sys.exit("postfix is not installed: run scripts/ensure-tools.sh postfix")
    os.chmod(tmp, 0o755)  # the postfix user walks into its queue and data directories
    conf, queue, data = (os.path.join(tmp, d) for d in ("conf", "queue", "data"))
    for d in (conf, queue, data):
        os.mkdir(d)
    pw = pwd.getpwnam("postfix")
    os.chown(data, pw.pw_uid, pw.pw_gid)
    log = os.path.join(tmp, "maillog")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mistype-test.localdomain
mydomain = localdomain
myorigin = army.mil
mydestination =
relayhost = [127.0.0.1]:{port}
smtp_dns_support_level = disabled
maillog_file = {log}
maillog_file_prefixes = {tmp}
alias_maps =
alias_database =
biff = no
""")
    with open(os.path.join(conf, "master.cf"), "w") as f:
        f.write(MASTER_CF)

    started = False
    try:
        r = postfix(conf, "start")
        if r.returncode != 0:
            sys.exit(f"postfix start failed: {r.stdout}{r.stderr}\n{open(log).read() if os.path.exists(log) else ''}")
        started = True
        for sender, rcpts in MAIL:
            body = f"From: {sender}\nTo: {', '.join(rcpts)}\nSubject: audit test\n\nhello\n"
            subprocess.run(["sendmail", "-C", conf, "-f", sender, *rcpts], input=body.encode(),
                           check=True, timeout=30)
        # Every recipient's delivery attempt logged (the sink answers at once).
        want = sum(len(r) for _, r in MAIL)
        deadline = time.time() + 60
        while True:
            text = open(log).read() if os.path.exists(log) else ""
            attempts = {l.split("to=<", 1)[1].split(">", 1)[0]
                        for l in text.splitlines() if "postfix/smtp[" in l and " to=<" in l}
            if len(attempts & {r for _, rs in MAIL for r in rs}) == want:
                break
            if time.time() > deadline:
                sys.exit(f"Postfix did not log every recipient within 60 s:\n{text}")
            time.sleep(0.2)
    finally:
        if started:
            pidfile = os.path.join(queue, "pid", "master.pid")
            pid = int(open(pidfile).read().strip()) if os.path.exists(pidfile) else None
            postfix(conf, "stop")
            for _ in range(100):
                if pid is None:
                    break
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        server.shutdown()

    out = subprocess.run([MISTYPE, "audit", "--json", log], capture_output=True, text=True, timeout=60)
    if out.returncode != 1:
        sys.exit(f"audit exited {out.returncode}, expected 1 (findings):\n{out.stderr}")
    lines = [json.loads(l) for l in out.stdout.splitlines()]
    found = {l["recipient"]: (l["sender"], l["status"]) for l in lines if l["type"] == "finding"}
    summary = lines[-1]
    problems = []
    if found != EXPECTED:
        problems.append(f"findings {found}\n  expected {EXPECTED}")
    if summary["type"] != "summary" or summary["messages"] < len(MAIL):
        problems.append(f"summary {summary}")
    if summary["recipients"] < sum(len(r) for _, r in MAIL):
        problems.append(f"recipients read {summary['recipients']}")
    if summary["unreadable"] != 0:
        problems.append(f"unreadable lines in Postfix's own log: {out.stdout}")
    if problems:
        sys.exit("postfix.py FAILED:\n" + "\n".join(problems) + f"\n--- log:\n{open(log).read()}")
    print(f"postfix.py: real Postfix {postfix_version()} logged {summary['messages']} messages, "
          f"{summary['recipients']} recipients; audit found exactly the {len(EXPECTED)} misaddressed ones "
          "with their senders and delivery status")


def postfix_version():
    r = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True)
    return r.stdout.strip()


if __name__ == "__main__":
    TMP = tempfile.mkdtemp(prefix="mistype-postfix-")
    try:
        main(TMP)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
