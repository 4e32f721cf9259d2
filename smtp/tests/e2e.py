#!/usr/bin/env python3
"""mistype-smtpd with real parts, on loopback.

Builds the Debian package (cargo deb), installs it with dpkg -i, and runs the installed
/usr/sbin/mistype-smtpd as the package's system user with the package's policy file. In front of
it, Debian's Postfix as a private instance (scripts/private_postfix.py) with:

  - an smtpd listener using the policy service (check_policy_service, as docs/smtp.md says);
  - a submission listener with SASL through Dovecot's auth service, also using it;
  - an smtpd listener using the milter (smtpd_milters), and the milter for mail handed to
    sendmail(1) (non_smtpd_milters);

relaying everything to an SMTP sink that keeps what arrives. swaks and Python's smtplib are the
clients. Each case checks what the client was told and what reached the sink. The package is
purged at the end (where systemd runs, installing it also starts the packaged service on its
default ports for the duration of the test).

    smtp/tests/e2e.py            # needs root, Postfix, Dovecot, swaks, cargo-deb
"""
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from private_postfix import (DovecotAuth, Postfix, Sink, free_port, policy_restrictions,  # noqa: E402
                             smtpd_listener, wait_port)

BIN = "/usr/sbin/mistype-smtpd"
JAN_PASSWORD = "mistype-test"
REFUSAL = ("navy.ml is in Mali, not navy.mil - did you mean {local}@navy.mil? "
           "To send it as written, send it again within 10 minutes.")

results = []


def case(name):
    def wrap(fn):
        def run(*a):
            try:
                fn(*a)
                results.append((name, None))
                print(f"ok   {name}")
            except AssertionError as e:
                results.append((name, str(e)))
                print(f"FAIL {name}: {e}")
        run.__name__ = fn.__name__
        return run
    return wrap


def message(sender, to, subject, extra=b""):
    """A complete message (Date and Message-ID included, so Postfix adds nothing but Received)."""
    mid = f"<{time.time_ns()}@army.mil>"
    return (f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: {mid}\r\nFrom: {sender}\r\n"
            f"To: {to}\r\nSubject: {subject}\r\n").encode() + extra + b"\r\nSchedule attached.\r\n"


def swaks(port, sender, rcpts, subject, *more):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", sender,
                        "--to", ",".join(rcpts), "--header", f"Subject: {subject}",
                        "--body", "Schedule attached.", *more],
                       capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


def headers_of(data: bytes):
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def arrived(sink, subject, rcpt, seconds=30):
    return sink.wait_for(lambda m: rcpt in m["rcpt"] and f"Subject: {subject}".encode() in m["data"],
                         seconds)


def nothing_for(sink, rcpt, subject):
    return not [m for m in sink.messages if rcpt in m["rcpt"] and f"Subject: {subject}".encode() in m["data"]]


class Env:
    pass


def install_package():
    out = subprocess.run(["cargo", "deb", "-p", "mistype-smtp"], cwd=REPO, capture_output=True,
                         text=True)
    if out.returncode != 0:
        sys.exit(f"cargo deb failed:\n{out.stdout}{out.stderr}")
    deb = out.stdout.strip().splitlines()[-1]
    r = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"dpkg -i {deb} failed:\n{r.stdout}{r.stderr}")
    return deb


def start_service(env, *extra):
    log = open(env.svc_log, "ab")
    env.svc = subprocess.Popen(
        ["setpriv", "--reuid=mistype", "--regid=mistype", "--clear-groups", BIN,
         "--policy", "/etc/mistype/policy.json",
         "--policy-listen", f"inet:127.0.0.1:{env.policy_port}",
         "--milter-listen", f"inet:127.0.0.1:{env.milter_port}",
         "--metrics-listen", f"127.0.0.1:{env.metrics_port}",
         "--history", env.history, *extra],
        stdout=log, stderr=log)
    for p in (env.policy_port, env.milter_port, env.metrics_port):
        wait_port(p, "mistype-smtpd")


def stop_service(env):
    if env.svc and env.svc.poll() is None:
        env.svc.send_signal(signal.SIGTERM)
        env.svc.wait(20)
    env.svc = None


def svc_log(env):
    return open(env.svc_log, errors="replace").read()


def metrics(env):
    with urllib.request.urlopen(f"http://127.0.0.1:{env.metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines()
            if l and not l.startswith("#")}


# --- the cases -----------------------------------------------------------------------------

@case("package: dpkg -i installs the binary, the unit, the configuration and the system user")
def package(env):
    assert os.access(BIN, os.X_OK), BIN
    unit = open("/usr/lib/systemd/system/mistype-smtpd.service").read()
    assert "ExecStart=/usr/sbin/mistype-smtpd $MISTYPE_SMTPD_OPTS" in unit, unit
    assert "User=mistype" in unit, unit
    assert "--policy-listen inet:127.0.0.1:10031" in open("/etc/default/mistype-smtpd").read()
    json.load(open("/etc/mistype/policy.json"))
    pw = pwd.getpwnam("mistype")
    st = os.stat("/var/lib/mistype-smtp")
    assert st.st_uid == pw.pw_uid, "the state directory belongs to the service's user"
    v = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert v.stdout.startswith("mistype-smtpd "), v.stdout


@case("policy: a navy.ml recipient gets the 550 with the reason; nothing reaches the sink")
def refused(env):
    out = swaks(env.smtp_port, "ray.k@army.mil", ["c@navy.ml"], "policy-refused")
    want = "550 5.1.1 <c@navy.ml>: Recipient address rejected: " + REFUSAL.format(local="c")
    assert want in out, out
    time.sleep(1)
    assert nothing_for(env.sink, "c@navy.ml", "policy-refused")


@case("policy: the resend within the window arrives, with the X-Mistype: confirmed header")
def confirmed(env):
    msg = message("ray.k@army.mil", "c@navy.ml", "policy-confirmed")
    with smtplib.SMTP("127.0.0.1", env.smtp_port, timeout=30) as s:
        refused = s.sendmail("ray.k@army.mil", ["c@navy.ml"], msg)
    assert refused == {}, refused
    m = arrived(env.sink, "policy-confirmed", "c@navy.ml")
    assert m, "the confirmed message did not reach the sink"
    h = headers_of(m["data"])
    assert ("X-Mistype: confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean "
            "c@navy.mil?") in h, h
    # Postfix's own log names the confirmed message by its queue id (header_checks INFO).
    line = env.postfix.wait_log(lambda l: "info: header X-Mistype: confirmed c@navy.ml" in l, 10)
    assert line and "to=<c@navy.ml>" in line, env.postfix.log_text()[-2000:]


@case("policy: a clean recipient arrives byte-identical (only Postfix's Received: added)")
def clean(env):
    msg = message("ray.k@army.mil", "d.jones@navy.mil", "policy-clean",
                  extra="X-Note: caf\u00e9 8-bit and  two  spaces\r\n".encode())
    with smtplib.SMTP("127.0.0.1", env.smtp_port, timeout=30) as s:
        assert s.sendmail("ray.k@army.mil", ["d.jones@navy.mil"], msg) == {}
    m = arrived(env.sink, "policy-clean", "d.jones@navy.mil")
    assert m, "the clean message did not reach the sink"
    data = m["data"]
    assert data.endswith(msg), f"the message changed:\n{data!r}\nsent:\n{msg!r}"
    added = data[: len(data) - len(msg)].decode("latin-1")
    assert re.fullmatch(r"Received: [^\r]*\r\n(\s[^\r]*\r\n)*", added), added
    assert b"X-Mistype" not in data


@case("policy: one typo among several recipients: only it is refused, the rest arrive")
def multi(env):
    msg = message("ray.k@army.mil", "d.jones@navy.mil, e@navy.ml, ann@army.mil", "policy-multi")
    with smtplib.SMTP("127.0.0.1", env.smtp_port, timeout=30) as s:
        refused = s.sendmail("ray.k@army.mil", ["d.jones@navy.mil", "e@navy.ml", "ann@army.mil"], msg)
    assert list(refused) == ["e@navy.ml"], refused
    code, text = refused["e@navy.ml"]
    assert code == 550 and text.decode() == "5.1.1 <e@navy.ml>: Recipient address rejected: " + REFUSAL.format(local="e"), refused
    m = arrived(env.sink, "policy-multi", "d.jones@navy.mil")
    assert m and sorted(m["rcpt"]) == ["ann@army.mil", "d.jones@navy.mil"], m and m["rcpt"]


@case("policy: gmial.com (a sure warning) is refused with gmail.com")
def gmial(env):
    out = swaks(env.smtp_port, "ray.k@army.mil", ["x@gmial.com"], "policy-gmial")
    assert ("550 5.1.1 <x@gmial.com>: Recipient address rejected: gmial.com looks like a typo of "
            "gmail.com ('ai' swapped) - did you mean x@gmail.com? To send it as written, send it "
            "again within 10 minutes.") in out, out


@case("policy: a warning only worth a check passes with an X-Mistype: check header")
def check_only(env):
    msg = message("ray.k@army.mil", "x@ibn.com", "policy-check")
    with smtplib.SMTP("127.0.0.1", env.smtp_port, timeout=30) as s:
        assert s.sendmail("ray.k@army.mil", ["x@ibn.com"], msg) == {}
    m = arrived(env.sink, "policy-check", "x@ibn.com")
    assert m, "the message did not arrive"
    assert "X-Mistype: check x@ibn.com: ibn.com looks like a typo of ibm.com" in headers_of(m["data"]), headers_of(m["data"])


@case("policy + SASL (Dovecot): a Dutch login writing to army.ml gets army.nl")
def sasl(env):
    out = swaks(env.sub_port, "noreply@example.org", ["p@army.ml"], "sasl-refused",
                "--auth", "PLAIN", "--auth-user", "jan@mindef.nl", "--auth-password", JAN_PASSWORD)
    assert "235 2.7.0 Authentication successful" in out, out
    assert ("550 5.1.1 <p@army.ml>: Recipient address rejected: army.ml is in Mali, not army.nl - "
            "did you mean p@army.nl?") in out, out
    # The same recipient from the same envelope, not logged in: no Dutch context, so the
    # protected army.mil is what it resembles most.
    out = swaks(env.smtp_port, "noreply@example.org", ["p@army.ml"], "unauthenticated")
    assert "did you mean p@army.mil?" in out, out
    # A clean message from the login feeds its history.
    out = swaks(env.sub_port, "jan@mindef.nl", ["p.devries@army.nl"], "sasl-clean",
                "--auth", "PLAIN", "--auth-user", "jan@mindef.nl", "--auth-password", JAN_PASSWORD)
    assert arrived(env.sink, "sasl-clean", "p.devries@army.nl"), out


@case("milter over SMTP: the typo is refused at RCPT with its address; the resend arrives with the header")
def milter_smtp(env):
    out = swaks(env.milter_smtp_port, "ray.k@army.mil", ["m@navy.ml", "d.jones@navy.mil"], "milter-refused")
    assert "550 5.1.1 <m@navy.ml>: " + REFUSAL.format(local="m") in out, out
    m = arrived(env.sink, "milter-refused", "d.jones@navy.mil")
    assert m and m["rcpt"] == ["d.jones@navy.mil"], m and m["rcpt"]
    msg = message("ray.k@army.mil", "m@navy.ml", "milter-confirmed")
    with smtplib.SMTP("127.0.0.1", env.milter_smtp_port, timeout=30) as s:
        assert s.sendmail("ray.k@army.mil", ["m@navy.ml"], msg) == {}
    m = arrived(env.sink, "milter-confirmed", "m@navy.ml")
    assert m, "the confirmed message did not arrive"
    h = headers_of(m["data"])
    assert "X-Mistype: confirmed m@navy.ml: navy.ml is in Mali" in h, h


@case("milter through sendmail(1): the message is refused at its end, the bounce names the display name")
def milter_sendmail(env):
    msg = message("ray.k@army.mil", '"Lt J. Smith" <j.smith@navy.ml>', "sendmail-refused")
    env.postfix.sendmail("ray.k@army.mil", ["j.smith@navy.ml"], msg)
    bounce = env.sink.wait_for(lambda m: m["from"] == "" and b"sendmail-refused" in m["data"])
    assert bounce, f"no bounce reached the sender\n{env.postfix.log_text()[-3000:]}"
    assert bounce["rcpt"] == ["ray.k@army.mil"], bounce["rcpt"]
    text = bounce["data"].decode("latin-1")
    want = ("Not sent: misaddressed recipient: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, "
            "not navy.mil - did you mean j.smith@navy.mil? To send it as written, send it again "
            "within 10 minutes.")
    assert want in re.sub(r"\s+", " ", text), text  # Postfix folds the report's lines
    assert nothing_for(env.sink, "j.smith@navy.ml", "sendmail-refused")
    msg = message("ray.k@army.mil", '"Lt J. Smith" <j.smith@navy.ml>', "sendmail-confirmed")
    env.postfix.sendmail("ray.k@army.mil", ["j.smith@navy.ml"], msg)
    m = arrived(env.sink, "sendmail-confirmed", "j.smith@navy.ml")
    assert m, f"the confirmed message did not arrive\n{env.postfix.log_text()[-3000:]}"
    assert "X-Mistype: confirmed j.smith@navy.ml" in headers_of(m["data"])
    # A header the milter adds is seen by milter_header_checks only; the audit reads this line.
    line = env.postfix.wait_log(lambda l: "info: header X-Mistype: confirmed j.smith@navy.ml" in l, 10)
    assert line, env.postfix.log_text()[-2000:]


@case("operations: the metrics count refusals, confirmations and both protocols")
def metrics_case(env):
    m = metrics(env)
    assert m["mistype_smtp_refusals_total"] >= 6, m
    assert m["mistype_smtp_confirmations_total"] >= 3, m
    assert m['mistype_smtp_decisions_total{protocol="milter",decision="refused"}'] >= 2, m
    assert m['mistype_smtp_decisions_total{protocol="policy",decision="check"}'] >= 1, m
    assert m["mistype_smtp_decision_seconds_count"] >= 15, m


@case("operations: SIGTERM saves the history; a restart keeps it and forgets the confirmations")
def restart(env):
    stop_service(env)
    hist = [json.loads(l) for l in open(env.history)]
    jan = [h for h in hist if h["sender"] == "jan@mindef.nl"]
    assert jan and jan[0]["domains"].get("army.nl") == 1, hist
    assert not [h for h in hist if h["sender"] == "noreply@example.org"], "an unauthenticated envelope fed the history"
    start_service(env)
    out = swaks(env.smtp_port, "ray.k@army.mil", ["c@navy.ml"], "after-restart")
    assert "Recipient address rejected: " + REFUSAL.format(local="c") in out, out


@case("fail-open: with the service stopped, Postfix's default_action=DUNNO lets mail through")
def fail_open(env):
    stop_service(env)
    try:
        msg = message("ray.k@army.mil", "f@navy.ml", "service-down")
        with smtplib.SMTP("127.0.0.1", env.smtp_port, timeout=60) as s:
            assert s.sendmail("ray.k@army.mil", ["f@navy.ml"], msg) == {}
        assert arrived(env.sink, "service-down", "f@navy.ml"), "mail stalled with the service down"
    finally:
        start_service(env)


def main(tmp):
    os.chmod(tmp, 0o755)  # the postfix, dovecot and mistype users walk into it
    for tool in ("postfix", "swaks", "cargo-deb", "/usr/sbin/dovecot"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed: run scripts/ensure-tools.sh smtp")
    deb = install_package()
    try:
        run_cases(tmp, deb)
    finally:
        # Leave the machine as it was: the package goes (its system user stays, as Debian's
        # packages leave theirs).
        subprocess.run(["dpkg", "--purge", "mistype-smtp"], capture_output=True)


def run_cases(tmp, deb):
    env = Env()
    env.svc = None
    env.svc_log = os.path.join(tmp, "mistype-smtpd.log")
    svc_dir = os.path.join(tmp, "svc")
    os.mkdir(svc_dir)
    pw = pwd.getpwnam("mistype")
    os.chown(svc_dir, pw.pw_uid, pw.pw_gid)
    env.history = os.path.join(svc_dir, "history.jsonl")
    (env.policy_port, env.milter_port, env.metrics_port, env.smtp_port, env.sub_port,
     env.milter_smtp_port) = (free_port() for _ in range(6))
    env.sink = Sink().start()
    dovecot = DovecotAuth(tmp, {"jan@mindef.nl": JAN_PASSWORD}).start()
    # The submission listener uses the named list docs/smtp.md shows; so does header_checks.
    with open(os.path.join(tmp, "header_checks"), "w") as f:
        f.write("/^X-Mistype: / INFO\n")
    main_extra = policy_restrictions(env.policy_port) + f"""
header_checks = regexp:{tmp}/header_checks
milter_header_checks = regexp:{tmp}/header_checks
mistype_submission_restrictions =
  check_policy_service {{ inet:127.0.0.1:{env.policy_port}, timeout=10s, default_action=DUNNO }},
  permit_sasl_authenticated, reject
non_smtpd_milters = inet:127.0.0.1:{env.milter_port}
milter_default_action = accept
milter_connect_timeout = 10s
milter_command_timeout = 10s
"""
    master_extra = (
        smtpd_listener(env.smtp_port)
        + smtpd_listener(env.sub_port, "smtpd_sasl_auth_enable=yes", "smtpd_sasl_type=dovecot",
                         f"smtpd_sasl_path=inet:127.0.0.1:{dovecot.port}",
                         "smtpd_tls_security_level=none", "smtpd_sasl_security_options=noanonymous",
                         "smtpd_recipient_restrictions=$mistype_submission_restrictions")
        + smtpd_listener(env.milter_smtp_port, f"smtpd_milters=inet:127.0.0.1:{env.milter_port}",
                         "smtpd_recipient_restrictions=permit_mynetworks,reject"))
    os.mkdir(os.path.join(tmp, "postfix"))
    env.postfix = Postfix(os.path.join(tmp, "postfix"), env.sink.port, main_extra, master_extra)
    try:
        start_service(env)
        env.postfix.start()
        for p in (env.smtp_port, env.sub_port, env.milter_smtp_port):
            wait_port(p, "Postfix")
        for c in (package, refused, confirmed, clean, multi, gmial, check_only, sasl, milter_smtp,
                  milter_sendmail, metrics_case, restart, fail_open):
            c(env)
    finally:
        stop_service(env)
        env.postfix.stop()
        dovecot.stop()
        env.sink.stop()
    # What `mistype audit` will read: Postfix's refusal and the service's own lines.
    print("--- Postfix's refusal line, and its line for the confirmed resend:")
    print(env.postfix.wait_log(lambda l: "Recipient address rejected" in l and "c@navy.ml" in l, 1))
    print(env.postfix.wait_log(lambda l: "info: header X-Mistype: confirmed c@navy.ml" in l, 1))
    print("--- the service's refusal and confirmation lines:")
    for l in svc_log(env).splitlines():
        if "event=refused protocol=policy" in l and "c@navy.ml" in l or "event=confirmed protocol=policy" in l:
            print(l)
            if "confirmed" in l:
                break
    failed = [(n, e) for n, e in results if e]
    print(f"e2e.py ({os.path.basename(deb)}, Postfix {postconf('mail_version')}): "
          f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print("--- mistype-smtpd log (last 40 lines):\n" + "\n".join(svc_log(env).splitlines()[-40:]))
        print("--- Postfix log (last 40 lines):\n" + "\n".join(env.postfix.log_text().splitlines()[-40:]))
        sys.exit(1)


def postconf(name):
    return subprocess.run(["postconf", "-d", "-h", name], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    TMP = tempfile.mkdtemp(prefix="mistype-smtp-e2e-")
    try:
        main(TMP)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
