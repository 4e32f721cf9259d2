#!/usr/bin/env python3
"""`mistype audit` on the log of a real Postfix.

Starts Debian's Postfix as a private instance (scripts/private_postfix.py: its own configuration,
queue and log file in a temporary directory; no listener, no chroot) relaying every message to
that module's SMTP sink on an ephemeral loopback port. The sink accepts, refuses (550) or defers (450) recipients by
their local part. A known mix of correctly addressed and misaddressed mail goes in through
Postfix's `sendmail`; once Postfix has logged every recipient, the instance is stopped and
`mistype audit --json` must find exactly the misaddressed recipients, with their senders and
delivery status. Postfix is stopped (and its master killed if need be) whatever happens.

    cli/tests/postfix.py path/to/mistype
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from private_postfix import Postfix, Sink  # noqa: E402

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

def sink_reply(rcpt):
    """The sink refuses local part "nobody" and defers "later"; it accepts the rest."""
    local = rcpt.lower().split("@", 1)[0]
    return {"nobody": "550 5.1.1 no such user", "later": "450 4.2.0 try again later"}.get(local)


def main(tmp):
    if shutil.which("postfix") is None:
        sys.exit("postfix is not installed: run scripts/ensure-tools.sh postfix")
    sink = Sink(rcpt_reply=sink_reply).start()
    pf = Postfix(tmp, sink.port)
    log = pf.log
    try:
        try:
            pf.start()
        except RuntimeError as e:
            sys.exit(str(e))
        for sender, rcpts in MAIL:
            body = f"From: {sender}\nTo: {', '.join(rcpts)}\nSubject: audit test\n\nhello\n"
            pf.sendmail(sender, rcpts, body.encode())
        # Every recipient's delivery attempt logged (the sink answers at once).
        want = sum(len(r) for _, r in MAIL)
        deadline = time.time() + 60
        while True:
            text = pf.log_text()
            attempts = {l.split("to=<", 1)[1].split(">", 1)[0]
                        for l in text.splitlines() if "postfix/smtp[" in l and " to=<" in l}
            if len(attempts & {r for _, rs in MAIL for r in rs}) == want:
                break
            if time.time() > deadline:
                sys.exit(f"Postfix did not log every recipient within 60 s:\n{text}")
            time.sleep(0.2)
    finally:
        pf.stop()
        sink.stop()

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
