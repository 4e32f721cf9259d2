"""Debian's Postfix as a private instance, for tests on loopback.

Its own configuration, queue and data directories and log file (postlogd) in a temporary
directory; no chroot; nothing system-wide is touched or started. Listeners, restrictions and
milters come from the caller as extra main.cf lines and master.cf entries. Also an SMTP sink
that keeps what it receives, and Dovecot as a SASL service only (no IMAP), for Postfix's
`smtpd_sasl_type = dovecot`.

    from private_postfix import Postfix, Sink, DovecotAuth, free_port
    sink = Sink(); sink.start()
    pf = Postfix(tmp, relay_port=sink.port, main_extra="...", master_extra="...")
    pf.start(); ...; pf.stop()

Used by smtp/tests/e2e.py, cli/tests/postfix.py and, through `python3 scripts/private_postfix.py serve`, by the
webmail tests (Roundcube sending over SMTP). Root is needed (Postfix's queue belongs to the
postfix user).
"""
import json
import os
import pwd
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

# Postfix's own services, without a listener: callers add theirs.
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, seconds=20):
    deadline = time.time() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline:
                raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}")
            time.sleep(0.1)


class Sink:
    """An SMTP server that keeps each message as {"from", "rcpt": [...], "data": bytes} (data
    exactly as received, dot-unstuffed). It accepts every recipient, unless `rcpt_reply` (a
    function of the address) gives another reply for it, e.g. "550 5.1.1 no such user"."""

    def __init__(self, rcpt_reply=None):
        self.messages = []
        self.cond = threading.Condition()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def say(s):
                    self.wfile.write((s + "\r\n").encode())

                say("220 sink ESMTP")
                cur = {"from": None, "rcpt": []}
                for raw in self.rfile:
                    cmd = raw.decode("latin-1").rstrip("\r\n")
                    up = cmd.upper()
                    if up.startswith("EHLO"):
                        say("250-sink")
                        say("250-8BITMIME")
                        say("250 SMTPUTF8")
                    elif up.startswith("MAIL"):
                        cur = {"from": cmd.split(":", 1)[1].strip().split(" ")[0].strip("<>"), "rcpt": []}
                        say("250 2.1.0 ok")
                    elif up.startswith("RCPT"):
                        rcpt = cmd.split(":", 1)[1].strip().split(" ")[0].strip("<>")
                        reply = rcpt_reply(rcpt) if rcpt_reply else None
                        if reply:
                            say(reply)
                        else:
                            cur["rcpt"].append(rcpt)
                            say("250 2.1.5 ok")
                    elif up == "DATA":
                        say("354 go ahead")
                        data = bytearray()
                        for line in self.rfile:
                            if line in (b".\r\n", b".\n"):
                                break
                            data += line[1:] if line.startswith(b"..") else line
                        cur["data"] = bytes(data)
                        with sink.cond:
                            sink.messages.append(cur)
                            sink.cond.notify_all()
                        cur = {"from": None, "rcpt": []}
                        say("250 2.0.0 queued")
                    elif up == "QUIT":
                        say("221 bye")
                        return
                    else:
                        say("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()

    def wait_for(self, pred, seconds=30):
        """The first message matching pred, waiting up to `seconds`; None if none came."""
        deadline = time.time() + seconds
        with self.cond:
            while True:
                for m in self.messages:
                    if pred(m):
                        return m
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)


class DovecotAuth:
    """Dovecot's auth service only, on a loopback TCP port, with users from a passwd file."""

    def __init__(self, tmp, users):
        self.dir = os.path.join(tmp, "dovecot")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        with open(os.path.join(self.dir, "users"), "w") as f:
            for user, password in users.items():
                f.write(f"{user}:{{PLAIN}}{password}\n")
        os.chmod(os.path.join(self.dir, "users"), 0o644)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""base_dir = {self.dir}/run
state_dir = {self.dir}/state
protocols = none
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {self.dir}/dovecot.log
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {self.port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        wait_port(self.port, "Dovecot auth")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


class Postfix:
    """A private Postfix instance relaying everything to 127.0.0.1:relay_port."""

    def __init__(self, tmp, relay_port, main_extra="", master_extra="", myorigin="army.mil"):
        os.chmod(tmp, 0o755)  # the postfix user walks into its queue and data directories
        self.tmp = tmp
        self.conf, self.queue, data = (os.path.join(tmp, d) for d in ("conf", "queue", "data"))
        for d in (self.conf, self.queue, data):
            os.mkdir(d)
        pw = pwd.getpwnam("postfix")
        os.chown(data, pw.pw_uid, pw.pw_gid)
        self.log = os.path.join(tmp, "maillog")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
myhostname = mistype-test.localdomain
mydomain = localdomain
myorigin = {myorigin}
mydestination =
relayhost = [127.0.0.1]:{relay_port}
smtp_dns_support_level = disabled
maillog_file = {self.log}
maillog_file_prefixes = {tmp}
alias_maps =
alias_database =
biff = no
{main_extra}
""")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF + master_extra)
        self.started = False

    def run(self, *args):
        return subprocess.run(["postfix", "-c", self.conf, *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.run("start")
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stdout}{r.stderr}\n{self.log_text()}")
        self.started = True
        return self

    def log_text(self):
        return open(self.log, errors="replace").read() if os.path.exists(self.log) else ""

    def wait_log(self, pred, seconds=30):
        """The first log line matching pred, waiting up to `seconds`; None if none came."""
        deadline = time.time() + seconds
        while True:
            for line in self.log_text().splitlines():
                if pred(line):
                    return line
            if time.time() > deadline:
                return None
            time.sleep(0.1)

    def sendmail(self, sender, rcpts, message: bytes):
        subprocess.run(["sendmail", "-C", self.conf, "-f", sender, *rcpts], input=message,
                       check=True, timeout=30)

    def stop(self):
        if not self.started:
            return
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        pid = int(open(pidfile).read().strip()) if os.path.exists(pidfile) else None
        self.run("stop")
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
        self.started = False


def smtpd_listener(port, *options):
    """A master.cf smtpd listener on 127.0.0.1:port with `-o name=value` options."""
    opts = "".join(f"\n  -o {o}" for o in options)
    return f"127.0.0.1:{port} inet n - n - - smtpd{opts}\n"


def serve():
    """`python3 scripts/private_postfix.py serve RELAY_PORT POLICY_PORT`: a Postfix with one
    listener using the policy service at 127.0.0.1:POLICY_PORT, relaying to RELAY_PORT. Prints
    {"port": N, "log": PATH} on one line, runs until standard input closes, then stops."""
    relay, policy = int(sys.argv[2]), int(sys.argv[3])
    # SIGTERM (the caller stopping its children) stops Postfix too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = tempfile.mkdtemp(prefix="mistype-postfix-")
    port = free_port()
    pf = Postfix(tmp, relay, main_extra=policy_restrictions(policy),
                 master_extra=smtpd_listener(port))
    try:
        pf.start()
        wait_port(port, "Postfix")
        print(json.dumps({"port": port, "log": pf.log}), flush=True)
        sys.stdin.read()
    finally:
        pf.stop()
        subprocess.run(["rm", "-rf", tmp])


def policy_restrictions(policy_port):
    """main.cf lines: the policy service at RCPT, as docs/smtp.md recommends (a short timeout,
    DUNNO when the service cannot answer)."""
    return f"""smtpd_recipient_restrictions =
  check_policy_service {{ inet:127.0.0.1:{policy_port}, timeout=10s, default_action=DUNNO }},
  permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
"""


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "serve":
    serve()
