"""Shared by the Python drivers: the rig's environment, the case loop and what a case reports.
A driver is an app: it uses its library as documented and shows what the library gives it."""

import base64
import json
import os
import sys

BASE = os.environ.get("RIG_BASE", "")
TOKEN = os.environ.get("RIG_TOKEN", "")
SENDER = os.environ.get("RIG_SENDER", "")
LIB = os.environ.get("RIG_LIB", "")
FLOWS = [f for f in os.environ.get("RIG_FLOWS", "").split(",") if f]
RECIPIENTS = json.loads(os.environ.get("RIG_RECIPIENTS", "{}"))
CLEAN = RECIPIENTS.get("clean", "")

# The inbox message (seeded by the mail server) whose sender is each recipient kind.
INBOX = {"typo": "in-typo", "provider": "in-provider", "clean": "in-clean"}


# Request bodies a driver captured itself (path, bytes), for connections the rig's relay does not
# parse (HTTP/2): run_all reports them with each case.
WIRE = []


class Refused(Exception):
    """An app-level refusal that is not an exception of the library (a JMAP notCreated, a $batch
    item's error status)."""

    def __init__(self, shown, status, body):
        super().__init__(shown)
        self.shown, self.status, self.body = shown, status, body


def find_confirm(value):
    """The first {"header", "token"} under a "confirm" key anywhere in `value`."""
    if isinstance(value, dict):
        conf = value.get("confirm")
        if isinstance(conf, dict) and isinstance(conf.get("token"), str):
            return {"header": conf.get("header") or "x-mistype-confirm", "token": conf["token"]}
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            found = find_confirm(v)
            if found:
                return found
    return None


def parse_json(data):
    try:
        return json.loads(data)
    except (TypeError, ValueError):
        return None


def err_text(e):
    return "%s: %s" % (type(e).__name__, e)


def emit(case):
    sys.stdout.write(json.dumps(case) + "\n")
    sys.stdout.flush()


def run_all(flows, describe):
    """Every flow with every recipient kind. flows[name](tag, address, kind) prepares the case and
    returns send(extra_headers), the final send step; describe(exc) -> {shown, status, confirm}."""
    for flow in FLOWS:
        for kind, address in RECIPIENTS.items():
            tag = "[rig:%s:%s:%s]" % (LIB, flow, kind)
            case = {"lib": LIB, "flow": flow, "rcpt": kind, "tag": tag}
            WIRE.clear()
            try:
                if flow not in flows:
                    raise KeyError("no such flow " + flow)
                try:
                    send = flows[flow](tag, address, kind)
                except Exception as e:
                    raise RuntimeError("preparing the case: " + err_text(e))
                # Every send carries the case's tag in a header, so that the mail server can count
                # the requests of this send that reached it (a refused one must open none).
                case_header = {"x-rig-case": tag}
                try:
                    send(dict(case_header))
                    case["blocked"] = False
                except Exception as e:
                    d = describe(e)
                    case.update({"blocked": True, "shown": d["shown"], "status": d["status"]})
                    if d.get("confirm"):
                        case["token"] = d["confirm"]["token"]
                        try:
                            send(dict(case_header, **{d["confirm"]["header"]: d["confirm"]["token"]}))
                            case["confirmed"] = True
                        except Exception as e2:
                            case["confirmed"] = False
                            case["confirm_shown"] = describe(e2)["shown"]
            except Exception as e:
                case["error"] = err_text(e)
            if WIRE:
                case["wire"] = [{"path": p, "b64": base64.b64encode(b).decode()} for p, b in WIRE]
            emit(case)
