//! `mistype audit` and `mistype learn` as a user runs them: every input format, the outputs,
//! hostile inputs, and the learned policy read back by the CLI and the core. The real-Postfix
//! test is `make test-audit` (cli/tests/postfix.py).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::support::{mistype, run, Run};

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "mistype-audit-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn audit_json(args: &[&str], stdin: &[u8]) -> (Run, Vec<Value>) {
    let mut cmd = mistype();
    cmd.args(["audit", "--json"]).args(args);
    let r = run(&mut cmd, stdin);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.err);
    let lines = r
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (r, lines)
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

fn summary(lines: &[Value]) -> &Value {
    let s = lines.last().expect("a summary line");
    assert_eq!(s["type"], "summary");
    s
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut sin = child.stdin.take().unwrap();
    let d = data.to_vec();
    let w = std::thread::spawn(move || sin.write_all(&d).unwrap());
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    out.stdout
}

const POSTFIX_LOG: &str = "\
Nov 29 20:07:57 mx postfix/pickup[78]: A14A298C010: uid=1000 from=<ray.k@army.mil>
Nov 29 20:07:57 mx postfix/cleanup[18]: A14A298C010: message-id=<m1@army.mil>
Nov 29 20:07:57 mx postfix/qmgr[79]: A14A298C010: from=<ray.k@army.mil>, size=305, nrcpt=2 (queue active)
Nov 29 20:07:57 mx postfix/cleanup[18]: B5524A1B2C3: message-id=<m2@army.mil>
Nov 29 20:07:57 mx postfix/qmgr[79]: B5524A1B2C3: from=<ann@army.mil>, size=277, nrcpt=2 (queue active)
Nov 29 20:07:58 mx postfix/smtp[24]: A14A298C010: to=<d.jones@navy.mil>, relay=mx.navy.mil[1.2.3.4]:25, delay=0.12, delays=0.07/0.01/0.05/0, dsn=2.0.0, status=sent (250 ok)
Nov 29 20:07:58 mx postfix/smtp[24]: A14A298C010: to=<j.smith@navy.ml>, relay=mx.navy.ml[5.6.7.8]:25, delay=0.12, delays=0.07/0.01/0.05/0, dsn=2.0.0, status=sent (250 ok)
Nov 29 20:07:58 mx postfix/qmgr[79]: A14A298C010: removed
Nov 29 20:07:58 mx dovecot: imap(ann): Logged out
Nov 29 20:07:58 mx postfix/smtp[25]: B5524A1B2C3: to=<bob@gmial.com>, relay=none, delay=0.1, delays=0.04/0.01/0.04/0.01, dsn=4.4.1, status=deferred (connect timed out)
Nov 29 20:37:58 mx postfix/smtp[25]: B5524A1B2C3: to=<bob@gmial.com>, relay=gmial.com[9.9.9.9]:25, delay=1800, delays=0.04/1800/0.04/0.01, dsn=5.1.1, status=bounced (550 no such user)
Nov 29 20:37:58 mx postfix/smtp[25]: B5524A1B2C3: to=<carol@example.org>, relay=example.org[9.9.9.8]:25, delay=1800, dsn=2.0.0, status=sent (250 ok)
Nov 29 20:37:58 mx postfix/qmgr[79]: B5524A1B2C3: removed
";

#[test]
fn postfix_log_joined_by_queue_id_from_a_file_a_gzip_and_stdin() {
    let dir = TempDir::new("postfix");
    std::fs::write(dir.path("mail.log"), POSTFIX_LOG).unwrap();
    std::fs::write(dir.path("mail.log.1.gz"), gzip(POSTFIX_LOG.as_bytes())).unwrap();
    for args in [
        vec![dir.path("mail.log").display().to_string()],
        vec![dir.path("mail.log.1.gz").display().to_string()],
        vec![],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (r, lines) = audit_json(&args, POSTFIX_LOG.as_bytes());
        assert_eq!(r.code, 1, "{}", r.err);
        let f = of_type(&lines, "finding");
        assert_eq!(f.len(), 2, "{lines:?}");
        assert_eq!(f[0]["recipient"], "j.smith@navy.ml");
        assert_eq!(f[0]["sender"], "ray.k@army.mil");
        assert_eq!(f[0]["status"], "delivered");
        assert_eq!(f[0]["suggestion"], "j.smith@navy.mil");
        assert_eq!(f[0]["severity"], "block");
        assert_eq!(f[0]["message_id"], "m1@army.mil");
        assert_eq!(f[0]["line"], 7);
        assert_eq!(f[0]["time"], "--11-29 20:07:57");
        // Deferred, then bounced: the final status counts, the first attempt's line is kept.
        assert_eq!(f[1]["recipient"], "bob@gmial.com");
        assert_eq!(f[1]["status"], "bounced");
        assert_eq!(f[1]["line"], 10);
        let s = summary(&lines);
        assert_eq!(s["messages"], 2);
        assert_eq!(s["recipients"], 4);
        assert_eq!(s["misaddressed"], 2);
        assert_eq!(s["unreadable"], 0);
        // Dovecot's line (pickup's names the sender, as qmgr's does).
        assert_eq!(s["other_lines"], 1);
        // The human summary goes to standard error with --json.
        assert!(r.err.contains("Misaddressed: 2 recipients"), "{}", r.err);
    }
}

#[test]
fn human_report_and_csv() {
    let dir = TempDir::new("human");
    std::fs::write(dir.path("mail.log"), POSTFIX_LOG).unwrap();
    let log = dir.path("mail.log").display().to_string();
    let r = run(mistype().args(["audit", &log]), b"");
    assert_eq!(r.code, 1, "{}", r.err);
    for want in [
        "mistype audit: 1 input (postfix 1): 2 messages, 4 recipients.",
        "Misaddressed: 2 recipients (50.000% of all) in 2 messages, from 2 senders.",
        "First seen --11-29 20:07:57, last seen --11-29 20:07:57.",
        "Delivery of the misaddressed mail: delivered 1, bounced 1.",
        "navy.mil  typed as navy.ml (1)",
        "suffix-typo",
        "Worst senders:",
        "ray.k@army.mil -> j.smith@navy.ml  meant j.smith@navy.mil? (suffix-typo, block), delivered  [",
    ] {
        assert!(r.out.contains(want), "missing {want:?} in\n{}", r.out);
    }
    // The summary comes before the list of findings.
    assert!(r.out.find("By intended domain").unwrap() < r.out.find("Findings").unwrap());
    let r = run(mistype().args(["audit", "--csv", &log]), b"");
    let rows: Vec<&str> = r.out.lines().collect();
    assert_eq!(rows.len(), 3, "{}", r.out);
    assert!(rows[0].starts_with("input,line,time,sender,recipient"));
    assert!(rows[1].contains("\"j.smith@navy.ml\""), "{}", rows[1]);
    assert!(rows[2].contains("\"bounced\""), "{}", rows[2]);
    // Nothing misaddressed: exit 0.
    let clean = POSTFIX_LOG
        .replace("navy.ml>", "navy.mil>")
        .replace("gmial", "gmail");
    let r = run(mistype().args(["audit", "-"]), clean.as_bytes());
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(
        r.out.contains("No misaddressed recipients found."),
        "{}",
        r.out
    );
}

/// Postfix behind mistype-smtpd: an excerpt of what Debian's Postfix 3.7 wrote in
/// smtp/tests/e2e.py's run (host and client renamed), refused by the policy service (alone, and
/// beside recipients that went), by the milter at RCPT and at the end of a message handed to
/// sendmail(1) (with the bounce Postfix sends its sender), a confirmed resend, a slip that went out
/// while the service was down; and one of Postfix's own refusals, which says nothing of a typo.
const SMTPD_LOG: &str = "\
Dec 06 12:44:44 mx postfix/smtpd[49]: connect from ws[10.1.2.3]
Dec 06 12:44:44 mx postfix/smtpd[49]: NOQUEUE: reject: RCPT from ws[10.1.2.3]: 550 5.1.1 <c@navy.ml>: Recipient address rejected: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<c@navy.ml> proto=ESMTP helo=<ws>
Dec 06 12:44:44 mx postfix/smtpd[49]: disconnect from ws[10.1.2.3] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
Dec 06 12:44:45 mx postfix/smtpd[49]: 28C829FE27E: client=ws[10.1.2.3]
Dec 06 12:44:45 mx postfix/cleanup[35]: 28C829FE27E: info: header X-Mistype: confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? from ws[10.1.2.3]; from=<ray.k@army.mil> to=<c@navy.ml> proto=ESMTP helo=<ws>
Dec 06 12:44:45 mx postfix/cleanup[35]: 28C829FE27E: message-id=<c2@army.mil>
Dec 06 12:44:45 mx postfix/qmgr[45]: 28C829FE27E: from=<ray.k@army.mil>, size=474, nrcpt=1 (queue active)
Dec 06 12:44:45 mx postfix/smtp[36]: 28C829FE27E: to=<c@navy.ml>, relay=mx.navy.ml[5.6.7.8]:25, delay=0.13, delays=0.03/0.04/0.05/0, dsn=2.0.0, status=sent (250 2.0.0 queued)
Dec 06 12:44:45 mx postfix/qmgr[45]: 28C829FE27E: removed
Dec 06 12:44:45 mx postfix/smtpd[49]: 520339FE27E: client=ws[10.1.2.3]
Dec 06 12:44:45 mx postfix/smtpd[49]: 520339FE27E: reject: RCPT from ws[10.1.2.3]: 550 5.1.1 <e@navy.ml>: Recipient address rejected: navy.ml is in Mali, not navy.mil - did you mean e@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<e@navy.ml> proto=ESMTP helo=<ws>
Dec 06 12:44:45 mx postfix/cleanup[35]: 520339FE27E: message-id=<e1@army.mil>
Dec 06 12:44:45 mx postfix/qmgr[45]: 520339FE27E: from=<ray.k@army.mil>, size=390, nrcpt=2 (queue active)
Dec 06 12:44:45 mx postfix/smtp[36]: 520339FE27E: to=<ann@army.mil>, relay=mx.army.mil[1.2.3.5]:25, delay=0.05, delays=0/0/0.04/0, dsn=2.0.0, status=sent (250 2.0.0 queued)
Dec 06 12:44:45 mx postfix/smtp[36]: 520339FE27E: to=<d.jones@navy.mil>, relay=mx.navy.mil[1.2.3.4]:25, delay=0.05, delays=0/0/0.04/0, dsn=2.0.0, status=sent (250 2.0.0 queued)
Dec 06 12:44:45 mx postfix/qmgr[45]: 520339FE27E: removed
Dec 06 12:44:45 mx postfix/smtpd[50]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <a@gmial.com>: Relay access denied; from=<s@spam.example> to=<a@gmial.com> proto=ESMTP helo=<x>
Dec 06 12:44:46 mx postfix/smtpd[52]: NOQUEUE: milter-reject: RCPT from ws[10.1.2.3]: 550 5.1.1 <m@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean m@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<m@navy.ml> proto=ESMTP helo=<ws>
Dec 06 12:44:46 mx postfix/pickup[44]: A604F9FE281: uid=33 from=<ray.k@army.mil>
Dec 06 12:44:46 mx postfix/cleanup[35]: A604F9FE281: message-id=<j1@army.mil>
Dec 06 12:44:46 mx postfix/cleanup[35]: A604F9FE281: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.1.1 Not sent: misaddressed recipient: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean j.smith@navy.mil? To send it as written, send it again within 10 minutes.; from=<ray.k@army.mil> to=<j.smith@navy.ml>
Dec 06 12:44:46 mx postfix/cleanup[35]: A604F9FE281: to=<j.smith@navy.ml>, relay=none, delay=0.03, delays=0.03/0/0/0, dsn=5.1.1, status=bounced (Not sent: misaddressed recipient: Lt J. Smith <j.smith@navy.ml>: navy.ml is in Mali, not navy.mil - did you mean j.smith@navy.mil? To send it as written, send it again within 10 minutes.)
Dec 06 12:44:46 mx postfix/cleanup[60]: AAFFF9FE284: message-id=<20261206124446.AAFFF9FE284@mx.army.mil>
Dec 06 12:44:46 mx postfix/qmgr[45]: AAFFF9FE284: from=<>, size=2597, nrcpt=1 (queue active)
Dec 06 12:44:46 mx postfix/bounce[59]: A604F9FE281: sender non-delivery notification: AAFFF9FE284
Dec 06 12:44:46 mx postfix/local[61]: AAFFF9FE284: to=<ray.k@army.mil>, relay=local, delay=0.06, delays=0.02/0/0/0.04, dsn=2.0.0, status=sent (delivered to mailbox)
Dec 06 12:44:46 mx postfix/qmgr[45]: AAFFF9FE284: removed
Dec 06 12:44:47 mx postfix/smtpd[49]: warning: connect to 127.0.0.1:10031: Connection refused
Dec 06 12:44:47 mx postfix/smtpd[49]: warning: problem talking to server 127.0.0.1:10031: Connection refused
Dec 06 12:44:48 mx postfix/smtpd[49]: 34E8B9FE28B: client=ws[10.1.2.3]
Dec 06 12:44:48 mx postfix/cleanup[35]: 34E8B9FE28B: message-id=<f1@army.mil>
Dec 06 12:44:48 mx postfix/qmgr[45]: 34E8B9FE28B: from=<ray.k@army.mil>, size=377, nrcpt=1 (queue active)
Dec 06 12:44:48 mx postfix/smtp[36]: 34E8B9FE28B: to=<f@navy.ml>, relay=mx.navy.ml[5.6.7.8]:25, delay=1.1, delays=1/0/0.05/0, dsn=2.0.0, status=sent (250 2.0.0 queued)
Dec 06 12:44:48 mx postfix/qmgr[45]: 34E8B9FE28B: removed
";

#[test]
fn mistype_smtpd_refusals_are_stopped_mail_and_confirmed_resends_are_marked() {
    let (r, lines) = audit_json(&["--format", "postfix"], SMTPD_LOG.as_bytes());
    assert_eq!(r.code, 1, "{}", r.err);
    let found: Vec<(String, String, bool)> = of_type(&lines, "finding")
        .iter()
        .map(|f| {
            (
                f["recipient"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
                f["confirmed"].as_bool().unwrap(),
            )
        })
        .collect();
    let want = [
        ("c@navy.ml", "refused", false),
        ("c@navy.ml", "delivered", true),
        ("e@navy.ml", "refused", false),
        ("m@navy.ml", "refused", false),
        ("f@navy.ml", "delivered", false),
        // Never removed from the queue (it was refused in cleanup): reported at the end.
        ("j.smith@navy.ml", "refused", false),
    ];
    let want: Vec<(String, String, bool)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    assert_eq!(found, want);
    let f = of_type(&lines, "finding");
    assert!(f.iter().all(|f| f["sender"] == "ray.k@army.mil"), "{f:?}");
    let s = summary(&lines);
    assert_eq!(s["misaddressed_by_status"]["refused"], 4);
    assert_eq!(s["misaddressed_by_status"]["delivered"], 2);
    assert_eq!(s["misaddressed_by_status"].get("bounced"), None);
    assert_eq!(s["misaddressed_confirmed"], 1);
    assert_eq!(s["unreadable"], 0);
    // Postfix's own refusal (relay denied) is no message; the bounce to the sender is one.
    assert_eq!(
        (s["messages"].as_u64(), s["recipients"].as_u64()),
        (Some(7), Some(9))
    );
    for want in [
        "Stopped at submission: 4 (refused by mistype-smtpd with the reason; not sent).\n",
        "Delivery of the misaddressed mail that left: delivered 2 (1 sent again by the sender after a refusal, confirmed).\n",
        "ray.k@army.mil -> c@navy.ml  meant c@navy.mil? (suffix-typo, block), refused at submission, not sent  [",
        "ray.k@army.mil -> c@navy.ml  meant c@navy.mil? (suffix-typo, block), delivered, confirmed by a resend  [",
        "ray.k@army.mil -> f@navy.ml  meant f@navy.mil? (suffix-typo, block), delivered  [",
    ] {
        assert!(r.err.contains(want), "missing {want:?} in\n{}", r.err);
    }
    let r = run(
        mistype().args(["audit", "--csv", "-"]),
        SMTPD_LOG.as_bytes(),
    );
    let rows: Vec<&str> = r.out.lines().collect();
    assert!(rows[0].ends_with(",reason,confirmed"), "{}", rows[0]);
    assert!(
        rows[2].contains("\"delivered\"") && rows[2].ends_with(",\"true\""),
        "{}",
        rows[2]
    );
    assert!(
        rows[1].contains("\"refused\"") && rows[1].ends_with(",\"false\""),
        "{}",
        rows[1]
    );
    // Every misaddressed recipient stopped: the report says none left.
    let stopped: String = SMTPD_LOG
        .lines()
        .filter(|l| l.contains("reject"))
        .map(|l| format!("{l}\n"))
        .collect();
    let r = run(mistype().args(["audit", "-"]), stopped.as_bytes());
    assert!(
        r.out.contains("Stopped at submission: 3 (")
            && r.out.contains("None of the misaddressed mail left.\n"),
        "{}",
        r.out
    );
    // `mistype learn` counts a refusal as a bounce, not as mail sent there.
    let r = run(mistype().args(["learn", "-"]), SMTPD_LOG.as_bytes());
    let v: Value = serde_json::from_str(&r.out).unwrap();
    let left = &v["_left_out"][0];
    assert_eq!(
        (left["domain"].as_str(), left["sent"].as_u64()),
        (Some("navy.ml"), Some(2)),
        "{}",
        r.out
    );
}

const EXIM_LOG: &str = "\
2026-11-29 20:07:57 1tXyZ1-000ABC-Q1 <= ray.k@army.mil H=ws1 [10.0.0.5] P=esmtps S=1234 id=m1@army.mil
2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 => j.smith@navy.ml R=dnslookup T=remote_smtp H=mx.navy.ml [1.2.3.4]
2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 -> d.jones@navy.mil R=dnslookup T=remote_smtp H=mx.navy.mil [1.2.3.5]
2026-11-29 20:07:58 1tXyZ1-000ABC-Q1 Completed
2026-11-29 20:08:00 1tXyZ2-000ABD-Q2 <= ann@army.mil U=ann P=local S=400
2026-11-29 20:08:01 1tXyZ2-000ABD-Q2 ** bob@gmial.com R=dnslookup T=remote_smtp: SMTP error from remote mail server after RCPT TO:<bob@gmial.com>: 550 no such user
2026-11-29 20:08:01 1tXyZ2-000ABD-Q2 == carol@outlok.com R=dnslookup T=remote_smtp defer (-44): retry time not reached
2026-11-29 20:08:01 1tXyZ2-000ABD-Q2 => ann <ann@army.mil> R=local_user T=local_delivery
";

#[test]
fn exim_main_log() {
    let (r, lines) = audit_json(&[], EXIM_LOG.as_bytes());
    assert_eq!(r.code, 1);
    let f: Vec<(&str, &str, &str)> = of_type(&lines, "finding")
        .iter()
        .map(|f| {
            (
                f["recipient"].as_str().unwrap(),
                f["sender"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        f,
        vec![
            ("j.smith@navy.ml", "ray.k@army.mil", "delivered"),
            ("bob@gmial.com", "ann@army.mil", "bounced"),
            ("carol@outlok.com", "ann@army.mil", "deferred"),
        ]
    );
    let s = summary(&lines);
    assert_eq!(
        (s["messages"].as_u64(), s["recipients"].as_u64()),
        (Some(2), Some(5))
    );
    assert_eq!(lines[0]["time"], "2026-11-29 20:07:57");
}

/// Writes an mbox and a Maildir with Python's `mailbox` module; the messages are built by the
/// `email` package, which folds long headers and encodes non-ASCII display names (RFC 2047).
const PYTHON_MAILBOXES: &str = r#"
import mailbox, sys
from email.message import EmailMessage
from email.policy import SMTP
out = sys.argv[1]
def msg(frm, to, cc=None, bcc=None, resent=None, date="Sun, 29 Nov 2026 20:07:57 +0100", mid="<m1@army.mil>"):
    m = EmailMessage(policy=SMTP)
    m["From"] = frm
    m["To"] = to
    if cc: m["Cc"] = cc
    if bcc: m["Bcc"] = bcc
    if resent: m["Resent-To"] = resent
    m["Date"] = date
    m["Message-ID"] = mid
    m["Subject"] = "Quarterly r\u00e9sum\u00e9 of the logistics plan for the coming exercise, with the long annexes"
    m.set_content("From the body: not a header.\nTo: nobody@navy.ml is not a recipient\n")
    return m
msgs = [
    msg("Sgt Ray K\u00f6nig <ray.k@army.mil>",
        "J\u00fcrgen Smith <j.smith@navy.ml>, \"Jones, D\" <d.jones@navy.mil>, Logistics Officer of the Day <officer.of.the.day@navy.mil>",
        cc="Planners: a.planner@gmial.com, b.planner@example.org;",
        bcc="undisclosed-recipients:;"),
    msg("Ann <ann@army.mil>", "friend@gmail.com", bcc="boss@outlok.com",
        resent="\u00c9lise <elise@yah00.com>", date="Mon, 30 Nov 2026 08:00:00 +0000", mid="<m2@army.mil>"),
]
box = mailbox.mbox(out + "/sent.mbox")
for m in msgs: box.add(m)
box.flush(); box.close()
md = mailbox.Maildir(out + "/Maildir", create=True)
for m in msgs: md.add(m)
sub = md.add_folder("Sent")
sub.add(msg("Carl <carl@army.mil>", "x@navy.ml", mid="<m3@army.mil>"))
with open(out + "/one.eml", "wb") as f:
    f.write(msgs[0].as_bytes())
raw = msgs[0].as_bytes()
assert b"=?utf-8?" in raw, raw  # encoded display names
assert b"\r\n " in raw or b"\n " in raw, raw  # folded headers
"#;

fn python_mailboxes(dir: &TempDir) {
    let st = Command::new("python3")
        .args(["-c", PYTHON_MAILBOXES, &dir.0.display().to_string()])
        .status()
        .expect("python3");
    assert!(st.success());
}

#[test]
fn mbox_maildir_and_eml_written_by_python() {
    let dir = TempDir::new("mailbox");
    python_mailboxes(&dir);
    let want = [
        ("j.smith@navy.ml", "Jürgen Smith", "to", "ray.k@army.mil"),
        ("a.planner@gmial.com", "", "cc", "ray.k@army.mil"),
        ("boss@outlok.com", "", "bcc", "ann@army.mil"),
        ("elise@yah00.com", "Élise", "resent", "ann@army.mil"),
    ];
    let got = |lines: &[Value]| -> Vec<(String, String, String, String)> {
        of_type(lines, "finding")
            .iter()
            .map(|f| {
                (
                    f["recipient"].as_str().unwrap().to_string(),
                    f["name"].as_str().unwrap_or("").to_string(),
                    f["field"].as_str().unwrap().to_string(),
                    f["sender"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    // mbox
    let (r, lines) = audit_json(&[&dir.path("sent.mbox").display().to_string()], b"");
    assert_eq!(got(&lines), want, "{}", r.err);
    let s = summary(&lines);
    assert_eq!(s["messages"], 2);
    assert_eq!(s["recipients"], 8);
    assert_eq!(s["unreadable"], 0, "{}", r.err);
    assert_eq!(s["first_seen"], "2026-11-29 19:07:57");
    assert_eq!(s["last_seen"], "2026-11-30 08:00:00");
    assert!(r.err.contains("(mbox 1)"), "{}", r.err);
    // Maildir, with its Maildir++ subfolder.
    let (r, lines) = audit_json(&[&dir.path("Maildir").display().to_string()], b"");
    let mut g = got(&lines);
    g.sort();
    let mut w = want.clone();
    w.push((
        "x@navy.ml".into(),
        "".into(),
        "to".into(),
        "carl@army.mil".into(),
    ));
    w.sort();
    assert_eq!(g, w, "{}", r.err);
    assert_eq!(summary(&lines)["messages"], 3);
    // One .eml, and --format naming it.
    let (_, lines) = audit_json(
        &[
            "--format",
            "eml",
            &dir.path("one.eml").display().to_string(),
        ],
        b"",
    );
    assert_eq!(of_type(&lines, "finding").len(), 2);
}

// Microsoft 365 / Exchange Online message trace, as `Get-MessageTrace | Export-Csv` writes it in
// Windows PowerShell 5.1 (with the #TYPE line). The properties and their order are those of the
// MessageTrace objects documented at
// https://learn.microsoft.com/en-us/powershell/module/exchange/get-messagetrace (output:
// Organization, MessageId, Received, SenderAddress, RecipientAddress, Subject, Status, ToIP,
// FromIP, Size, MessageTraceId, StartDate, EndDate, Index); Status values Delivered, Failed,
// Pending, Expanded, Quarantined, FilteredAsSpam.
const M365_TRACE: &str = "\
#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace
\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"
\"contoso.onmicrosoft.com\",\"<m1@army.mil>\",\"11/29/2026 8:07:57 PM\",\"ray.k@army.mil\",\"j.smith@navy.ml\",\"Plans, v2\",\"Delivered\",\"5.6.7.8\",\"10.0.0.5\",\"5120\",\"0b7b7d4a-1111-2222-3333-444455556666\",\"11/20/2026 12:00:00 AM\",\"11/30/2026 12:00:00 AM\",\"0\"
\"contoso.onmicrosoft.com\",\"<m1@army.mil>\",\"11/29/2026 8:07:57 PM\",\"ray.k@army.mil\",\"d.jones@navy.mil\",\"Plans, v2\",\"Delivered\",\"5.6.7.9\",\"10.0.0.5\",\"5120\",\"0b7b7d4a-1111-2222-3333-444455556666\",\"11/20/2026 12:00:00 AM\",\"11/30/2026 12:00:00 AM\",\"1\"
\"contoso.onmicrosoft.com\",\"<m2@army.mil>\",\"11/29/2026 9:00:00 PM\",\"ann@army.mil\",\"bob@gmial.com\",\"\"\"Quoted\"\" subject\nover two lines\",\"Failed\",\"\",\"10.0.0.6\",\"300\",\"0b7b7d4a-1111-2222-3333-444455556667\",\"11/20/2026 12:00:00 AM\",\"11/30/2026 12:00:00 AM\",\"2\"
\"contoso.onmicrosoft.com\",\"<m3@army.mil>\",\"11/30/2026 7:00:00 AM\",\"ann@army.mil\",\"carol@outlok.com\",\"Hi\",\"Pending\",\"\",\"10.0.0.6\",\"300\",\"0b7b7d4a-1111-2222-3333-444455556668\",\"11/20/2026 12:00:00 AM\",\"11/30/2026 12:00:00 AM\",\"3\"
";

// Exchange Online historical search, "Summary report" download: the columns of
// https://learn.microsoft.com/en-us/exchange/monitoring/trace-an-email-message/message-trace-modern-eac
// (origin_timestamp_utc, sender_address, recipient_status, message_subject, total_bytes,
// message_id, network_message_id, original_client_ip, directionality, connector_id,
// delivery_priority); recipient_status joins "address##events" with ";".
const EXO_HISTORICAL: &str = "\
origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality,connector_id,delivery_priority
2026-11-29T20:07:57.1230000Z,ray.k@army.mil,\"j.smith@navy.ml##Receive, Send;d.jones@navy.mil##Receive, Send\",Plans,5120,<m1@army.mil>,9b0c1d2e-0000-0000-0000-000000000001,10.0.0.5,Originating,,Normal
2026-11-29T21:00:00.0000000Z,ann@army.mil,\"bob@gmial.com##Receive, Fail\",Hello,300,<m2@army.mil>,9b0c1d2e-0000-0000-0000-000000000002,10.0.0.6,Originating,,Normal
";

// Google Workspace Email Log Search export: the fields of
// https://support.google.com/a/answer/13828463 ("Email log search export fields": Message ID,
// Start date, End date, Sender, Message size, Subject, Direction, Attachments, Recipient
// address, Event target, ...).
const GOOGLE_ELS: &str = "\
Message ID,Start date,End date,Sender,Message size,Subject,Direction,Attachments,Recipient address,Event target,Event status
<m1@army.mil>,2026/11/29 20:07:57 UTC,2026/11/29 20:07:58 UTC,ray.k@army.mil,5120,Plans,Sent,0,j.smith@navy.ml,SMTP_OUT,Delivered
<m1@army.mil>,2026/11/29 20:07:57 UTC,2026/11/29 20:07:58 UTC,ray.k@army.mil,5120,Plans,Sent,0,d.jones@navy.mil,SMTP_OUT,Delivered
<m2@army.mil>,2026/11/29 21:00:00 UTC,2026/11/29 21:00:01 UTC,ann@army.mil,300,Hello,Sent,1,\"bob@gmial.com, carol@example.org\",SMTP_OUT,Bounced
";

#[test]
fn message_trace_and_email_log_csvs_in_the_vendors_layouts() {
    let findings = |csv: &str| -> (Vec<(String, String, String)>, Value) {
        let (r, lines) = audit_json(&[], csv.as_bytes());
        assert!(r.err.contains("(csv 1)"), "{}", r.err);
        let f = of_type(&lines, "finding")
            .iter()
            .map(|f| {
                (
                    f["recipient"].as_str().unwrap().to_string(),
                    f["sender"].as_str().unwrap().to_string(),
                    f["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        (f, summary(&lines).clone())
    };
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let (f, s) = findings(M365_TRACE);
    assert_eq!(
        f,
        vec![
            t("j.smith@navy.ml", "ray.k@army.mil", "delivered"),
            t("bob@gmial.com", "ann@army.mil", "bounced"),
            t("carol@outlok.com", "ann@army.mil", "deferred"),
        ]
    );
    // Rows of one message id are one message.
    assert_eq!(
        (s["messages"].as_u64(), s["recipients"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(s["first_seen"], "2026-11-29 20:07:57");
    assert_eq!(s["last_seen"], "2026-11-30 07:00:00");
    assert_eq!(s["unreadable"], 0);
    let (f, s) = findings(EXO_HISTORICAL);
    assert_eq!(
        f,
        vec![
            t("j.smith@navy.ml", "ray.k@army.mil", "delivered"),
            t("bob@gmial.com", "ann@army.mil", "bounced"),
        ]
    );
    assert_eq!(s["recipients"], 3);
    let (f, s) = findings(GOOGLE_ELS);
    assert_eq!(
        f,
        vec![
            t("j.smith@navy.ml", "ray.k@army.mil", "delivered"),
            t("bob@gmial.com", "ann@army.mil", "bounced"),
        ]
    );
    assert_eq!(
        (s["messages"].as_u64(), s["recipients"].as_u64()),
        (Some(2), Some(4))
    );
}

#[test]
fn hostile_inputs_are_counted_skips_never_fatal() {
    let dir = TempDir::new("hostile");
    // A Postfix log with a 10 MB line, a NUL byte, invalid UTF-8 and a cut record.
    let mut log = Vec::new();
    let lines: Vec<&str> = POSTFIX_LOG.lines().collect();
    log.extend_from_slice(lines[..6].join("\n").as_bytes());
    log.push(b'\n');
    log.extend(std::iter::repeat_n(b'x', 10 << 20));
    log.push(b'\n');
    log.extend_from_slice(b"Nov 29 20:07:58 mx postfix/smtp[24]: A14A298C010: to=<\xff\xfe@navy.ml>, relay=x, status=sent (ok)\n");
    log.extend_from_slice(
        b"Nov 29 20:07:58 mx postfix/smtp[24]: A14A298C010: to=<cut@navy.ml, rel\n",
    );
    log.extend_from_slice(b"Nov 29 20:07:58 mx postfix/smtp[24]: \x00\x01binary\n");
    log.extend_from_slice(lines[6..].join("\n").as_bytes());
    std::fs::write(dir.path("big.log"), &log).unwrap();
    // The same log gzip-compressed and cut in half: a broken gzip stream.
    let gz = gzip(&log);
    std::fs::write(dir.path("cut.log.gz"), &gz[..gz.len() / 2]).unwrap();
    // Binary noise, and a file of garbage that claims to be gzip.
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path("noise.bin"), &noise).unwrap();
    let mut fake_gz = vec![0x1f, 0x8b];
    fake_gz.extend(&noise[..1000]);
    std::fs::write(dir.path("fake.gz"), &fake_gz).unwrap();
    // A billion laughs of Resent-To headers, and a message whose header block never ends.
    let mut laughs = String::from("From: a@army.mil\nTo: j.smith@navy.ml\n");
    for i in 0..200_000 {
        laughs.push_str(&format!("Resent-To: r{i}@example.org, r{i}@navy.ml\n"));
    }
    laughs.push('\n');
    std::fs::write(dir.path("laughs.eml"), &laughs).unwrap();
    let mut few = String::from("From: a@army.mil\nTo: j.smith@navy.ml\n");
    for i in 0..20_000 {
        few.push_str(&format!("Resent-To: r{i}@example.org\n"));
    }
    few.push('\n');
    std::fs::write(dir.path("few.eml"), &few).unwrap();
    // A truncated mbox.
    std::fs::write(
        dir.path("cut.mbox"),
        "From a@x Sun Nov 29 20:07:57 2026\nFrom: a@army.mil\nTo: j.smith@nav",
    )
    .unwrap();
    let p = |n: &str| dir.path(n).display().to_string();
    let args = [
        p("big.log"),
        p("cut.log.gz"),
        p("noise.bin"),
        p("fake.gz"),
        p("laughs.eml"),
        p("few.eml"),
        p("cut.mbox"),
        p("missing.log"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (r, lines) = audit_json(&args, b"");
    assert_eq!(r.code, 1, "{}", r.err);
    let skips: Vec<String> = of_type(&lines, "unreadable")
        .iter()
        .map(|s| {
            format!(
                "{}:{} {}",
                s["input"].as_str().unwrap(),
                s["line"],
                s["reason"].as_str().unwrap()
            )
        })
        .collect();
    let has = |file: &str, line: u64, what: &str| {
        assert!(
            skips
                .iter()
                .any(|s| s.starts_with(&format!("{}:{line} ", p(file))) && s.contains(what)),
            "no skip {file}:{line} {what:?} in {skips:#?}"
        )
    };
    has("big.log", 7, "a line of 10485761 bytes");
    has("big.log", 9, "without its closing '>'");
    has("big.log", 10, "NUL");
    has("noise.bin", 0, "cannot tell the format");
    has("fake.gz", 0, "cannot read");
    has("laughs.eml", 0, "header block is over");
    has("few.eml", 0, "more than 10000 recipients");
    has("missing.log", 0, "cannot read");
    // The broken gzip stream is reported where it ends, after the lines it gave.
    assert!(
        skips
            .iter()
            .any(|s| s.starts_with(&p("cut.log.gz")) && s.contains("the input ends here")),
        "{skips:#?}"
    );
    // The good records around the bad ones are still read: j.smith@navy.ml in big.log, the
    // invalid UTF-8 recipient judged (an impossible name, so not a finding), few.eml's To.
    let f = of_type(&lines, "finding");
    assert!(
        f.iter()
            .any(|f| f["input"] == p("big.log") && f["recipient"] == "j.smith@navy.ml"),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|f| f["input"] == p("few.eml") && f["recipient"] == "j.smith@navy.ml"),
        "{f:?}"
    );
    let s = summary(&lines);
    assert_eq!(s["unreadable"].as_u64().unwrap() as usize, skips.len());
    assert!(r.err.contains("Unreadable:"), "{}", r.err);
}

#[test]
fn bad_arguments_are_clear_errors() {
    let r = run(mistype().args(["audit", "--format", "sendmail"]), b"");
    assert_eq!(r.code, 2);
    assert!(
        r.err
            .contains("unknown --format 'sendmail'; use one of auto, postfix"),
        "{}",
        r.err
    );
    let dir = TempDir::new("badpolicy");
    std::fs::write(dir.path("p.json"), r#"{"known": 5}"#).unwrap();
    let r = run(
        mistype().args([
            "audit",
            "--policy",
            &dir.path("p.json").display().to_string(),
        ]),
        b"",
    );
    assert_eq!(r.code, 2);
    assert!(r.err.contains("'known' must be an array"), "{}", r.err);
    let r = run(mistype().args(["learn", "--org", "*.mil"]), b"");
    assert_eq!(r.code, 2);
}

#[test]
fn the_order_is_the_same_on_one_thread_and_on_many() {
    // Enough lines for many chunks.
    let mut log = String::new();
    for i in 0..40_000 {
        let to = match i % 97 {
            0 => format!("u{i}@navy.ml"),
            1 => format!("u{i}@gmial.com"),
            2 => format!("u{i}@partner-{}.de", i % 13),
            _ => format!("u{i}@example.org"),
        };
        log.push_str(&format!(
            "Nov 29 20:07:57 mx postfix/qmgr[1]: Q{i:08X}: from=<s{}@army.mil>, size=1, nrcpt=1 (queue active)\n\
             Nov 29 20:07:58 mx postfix/smtp[2]: Q{i:08X}: to=<{to}>, relay=x[1.2.3.4]:25, delay=1, dsn=2.0.0, status=sent (250 ok)\n\
             Nov 29 20:07:58 mx postfix/qmgr[1]: Q{i:08X}: removed\n",
            i % 50
        ));
    }
    let (_, one) = audit_json(&["--threads", "1"], log.as_bytes());
    let (_, four) = audit_json(&["--threads", "4"], log.as_bytes());
    assert_eq!(one, four);
    assert_eq!(summary(&one)["recipients"], 40_000);
    let typos = of_type(&one, "finding")
        .iter()
        .filter(|f| f["domain"] == "navy.ml" || f["domain"] == "gmial.com")
        .count();
    assert_eq!(typos, 2 * 413);
}

fn learn_log() -> String {
    // army.mil writes to a partner (3 senders, 40 messages), to navy.ml (a slip of navy.mil, very often),
    // to a slip of the partner (twice), to a one-off, and exchanges mail with a supplier.
    let mut log = String::new();
    let mut n = 0;
    let mut mail = |from: &str, to: &str, status: &str| {
        n += 1;
        log.push_str(&format!(
            "Nov 29 20:07:57 mx postfix/qmgr[1]: Q{n:08X}: from=<{from}>, size=1, nrcpt=1 (queue active)\n\
             Nov 29 20:07:58 mx postfix/smtp[2]: Q{n:08X}: to=<{to}>, relay=x[1.2.3.4]:25, delay=1, dsn=2.0.0, status={status} (x)\n\
             Nov 29 20:07:58 mx postfix/qmgr[1]: Q{n:08X}: removed\n"
        ));
    };
    for i in 0..40 {
        mail(
            &format!("s{}@army.mil", i % 3),
            "pm@acme-logistics.de",
            "sent",
        );
    }
    for _ in 0..40 {
        mail("ray.k@army.mil", "j.smith@navy.ml", "sent");
    }
    mail("ann@army.mil", "x@acme-logistcs.de", "sent");
    mail("bob@army.mil", "y@acme-logistcs.de", "sent");
    mail("ann@army.mil", "z@acme-logistcs.de", "sent");
    mail("ann@army.mil", "once@rare-vendor.fr", "sent");
    mail("ann@army.mil", "sales@widgetworks.io", "sent");
    mail("sales@widgetworks.io", "ann@army.mil", "sent");
    mail("sales@widgetworks.io", "bob@army.mil", "sent");
    for i in 0..4 {
        mail(&format!("s{i}@army.mil"), "info@gmail.com", "sent");
    }
    for i in 0..4 {
        mail(
            &format!("s{i}@army.mil"),
            "gone@bounce-only-example.de",
            "bounced",
        );
    }
    // Short names one slip from a reference are only worth a check: td.com (gd.com), written to
    // and heard from, is a partner; nyc.com (ngc.com), only written to, is left out.
    for i in 0..3 {
        mail(&format!("s{i}@army.mil"), "desk@td.com", "sent");
        mail("desk@td.com", &format!("s{i}@army.mil"), "sent");
        mail(&format!("s{i}@army.mil"), "desk@nyc.com", "sent");
    }
    log
}

#[test]
fn learn_writes_a_policy_the_cli_and_the_core_accept() {
    let dir = TempDir::new("learn");
    std::fs::write(dir.path("mail.log"), learn_log()).unwrap();
    let out = dir.path("correspondents.json");
    let r = run(
        mistype().args([
            "learn",
            &dir.path("mail.log").display().to_string(),
            "-o",
            &out.display().to_string(),
        ]),
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let text = std::fs::read_to_string(&out).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["known"],
        serde_json::json!(["acme-logistics.de", "td.com", "widgetworks.io"]),
        "{text}\n{}",
        r.err
    );
    let left: Vec<&str> = v["_left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        vec!["navy.ml", "nyc.com", "acme-logistcs.de"],
        "{text}"
    );
    let reasons: Vec<&str> = v["_left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("navy.mil"), "{reasons:?}");
    assert!(reasons[1].contains("ngc.com"), "{reasons:?}");
    assert!(reasons[2].contains("acme-logistics.de"), "{reasons:?}");
    for want in [
        "the organisation: army.mil",
        "Learned 3 correspondent domains",
        "Left out (3)",
        "navy.ml (40 messages",
        "Already in the policy, not repeated: 1 (gmail.com)",
        "--min-received 2): 1 domain(s)",
    ] {
        assert!(r.err.contains(want), "missing {want:?} in\n{}", r.err);
    }
    // The CLI accepts it as a policy...
    let r = run(mistype().args(["policy", &out.display().to_string()]), b"");
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains("valid. 0 protected, 0 trusted, 3 known"),
        "{}",
        r.out
    );
    // ... and the core: a learned domain is never flagged, a slip of it is caught with the
    // right suggestion (without the policy it is not).
    let engine = mistype::Engine::from_policy_json(&text).unwrap();
    let check = |engine: &mistype::Engine, to: &str| {
        engine.check(
            &mistype::CheckRequest::from_json(&format!(
                r#"{{"from": "ann@army.mil", "to": ["{to}"]}}"#
            ))
            .unwrap(),
        )
    };
    assert!(check(&engine, "pm@acme-logistics.de").findings.is_empty());
    let v = check(&engine, "pm@acme-logistcs.de");
    assert_eq!(
        v.findings[0].suggestion.as_deref(),
        Some("pm@acme-logistics.de"),
        "{v:?}"
    );
    assert!(check(
        &mistype::Engine::with_default_policy(),
        "pm@acme-logistcs.de"
    )
    .findings
    .is_empty());
    // The same through `mistype check --policy`.
    let r = run(
        mistype().args(["check", "--policy", &out.display().to_string()]),
        br#"{"id": 1, "from": "ann@army.mil", "to": ["pm@acme-logistcs.de", "sales@widgetworks.io"]}"#,
    );
    let v: Value = serde_json::from_str(r.out.trim()).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["findings"][0]["suggestion"], "pm@acme-logistics.de");
}

#[test]
fn learn_thresholds_are_options() {
    let r = run(
        mistype().args([
            "learn",
            "--min-messages",
            "1",
            "--min-senders",
            "1",
            "--org",
            "army.mil",
        ]),
        learn_log().as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    let known: Vec<&str> = v["known"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        known,
        vec![
            "acme-logistics.de",
            "td.com",
            "widgetworks.io",
            "rare-vendor.fr"
        ],
        "{}",
        r.out
    );
}

#[test]
fn check_keeps_the_order_across_chunks_and_threads() {
    // Over a megabyte of requests: several chunks, judged on every core, written in order, with
    // the line numbers of bad lines right.
    let mut input = String::new();
    for i in 0..30_000 {
        if i == 25_000 {
            input.push_str("not json\n");
        }
        let to = if i % 3 == 0 {
            "c@navy.ml"
        } else {
            "c@navy.mil"
        };
        input.push_str(&format!(
            "{{\"id\": {i}, \"from\": \"a.b@army.mil\", \"to\": [\"{to}\"], \"contacts\": [\"partner-{i}.com\"]}}\n"
        ));
    }
    assert!(input.len() > 2 << 20);
    let r = run(mistype().args(["check", "--summary"]), input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.err);
    let lines: Vec<Value> = r
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 30_001);
    for (k, l) in lines.iter().enumerate() {
        let i = if k > 25_000 { k - 1 } else { k };
        if k == 25_000 {
            assert_eq!(
                l["error"].as_str().unwrap().split(':').next(),
                Some("line 25001")
            );
            continue;
        }
        assert_eq!(l["id"], i, "line {k}");
        assert_eq!(
            l["verdict"],
            if i % 3 == 0 { "block" } else { "allow" },
            "line {k}"
        );
    }
    assert!(
        r.err
            .contains("30001 requests: 20000 allow, 0 warn, 10000 block, 1 errors"),
        "{}",
        r.err
    );
}
