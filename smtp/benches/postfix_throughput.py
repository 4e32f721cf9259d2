#!/usr/bin/env python3
"""Postfix's throughput with the policy service beside without it, in one run.

A private Postfix (scripts/private_postfix.py) with two smtpd listeners: one with no policy
service, one with mistype-smtpd as its check_policy_service (the snippet docs/smtp.md
recommends); both relay to Postfix's own smtp-sink. Postfix's smtp-source sends the same load to
each in alternating rounds; the figure is the median messages per second of each, and their
ratio.

    cargo build --release -p mistype-smtp
    smtp/benches/postfix_throughput.py [MESSAGES_PER_ROUND] [ROUNDS] [SESSIONS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from private_postfix import Postfix, free_port, policy_restrictions, smtpd_listener, wait_port  # noqa: E402

BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release", "mistype-smtpd")


def main(tmp):
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sessions = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    os.chmod(tmp, 0o755)
    sink_port, policy_port, plain_port, checked_port = (free_port() for _ in range(4))
    procs = [subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{sink_port}", "256"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([BIN, "--policy-listen", f"inet:127.0.0.1:{policy_port}"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "svc.log"), "w"))]
    os.mkdir(os.path.join(tmp, "pf"))
    pf = Postfix(os.path.join(tmp, "pf"), sink_port,
                 main_extra=policy_restrictions(policy_port) + "default_process_limit = 200\n",
                 master_extra=smtpd_listener(plain_port, "smtpd_recipient_restrictions=permit_mynetworks,reject")
                 + smtpd_listener(checked_port))
    try:
        wait_port(sink_port, "smtp-sink")
        wait_port(policy_port, "mistype-smtpd")
        pf.start()
        wait_port(plain_port, "Postfix")
        wait_port(checked_port, "Postfix")
        rates = {"without": [], "with": []}
        for r in range(rounds + 1):
            for name, port in (("without", plain_port), ("with", checked_port)):
                t = time.monotonic()
                subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(n), "-f", "ray.k@army.mil",
                                "-t", "d.jones@navy.mil", f"127.0.0.1:{port}"], check=True)
                rate = n / (time.monotonic() - t)
                if r > 0:  # the first round of each warms up
                    rates[name].append(rate)
                print(f"round {r} {name:>7} the policy service: {rate:7.0f} messages/s", flush=True)
        wo, w = statistics.median(rates["without"]), statistics.median(rates["with"])
        print(f"median: without {wo:.0f} messages/s, with {w:.0f} messages/s: {100 * w / wo:.1f}% "
              f"({rounds} rounds of {n} messages, {sessions} sessions)")
        refusals = [l for l in open(os.path.join(tmp, "svc.log")) if "event=refused" in l]
        assert not refusals, f"the load was misjudged: {refusals[:3]}"
    finally:
        pf.stop()
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    TMP = tempfile.mkdtemp(prefix="mistype-throughput-")
    try:
        main(TMP)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
