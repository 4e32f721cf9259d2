//! The built `mistype-smtpd` on loopback under hostile input to both protocols, many dropped
//! connections, a reload under an open connection, and the dry run. Each test starts its own
//! service on ephemeral ports and reads the ports from its `event=started` log line.

#![allow(clippy::unwrap_used, clippy::panic)] // a test: failing loudly is the point

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Svc {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    policy: SocketAddr,
    milter: SocketAddr,
    metrics: SocketAddr,
}

impl Drop for Svc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Svc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mistype-smtpd"))
        .args([
            "--policy-listen",
            "inet:127.0.0.1:0",
            "--milter-listen",
            "inet:127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let unknown: SocketAddr = "0.0.0.0:0".parse().unwrap();
    // Killed on drop even if what follows fails.
    let mut svc = Svc {
        policy: unknown,
        milter: unknown,
        metrics: unknown,
        child,
        log: log.clone(),
    };
    let started = wait_log(&log, "event=started", Duration::from_secs(30));
    let addr = |key: &str| -> SocketAddr {
        let at = started.find(key).unwrap() + key.len();
        let rest = started[at..]
            .trim_start_matches("inet:")
            .trim_start_matches("http://");
        let end = rest.find([',', '"', '/']).unwrap_or(rest.len());
        rest[..end].parse().unwrap()
    };
    svc.policy = addr("policy=");
    svc.milter = addr("milter=");
    svc.metrics = addr("metrics=");
    svc
}

fn wait_log(log: &Arc<Mutex<Vec<String>>>, what: &str, within: Duration) -> String {
    let until = Instant::now() + within;
    loop {
        if let Some(l) = log.lock().unwrap().iter().find(|l| l.contains(what)) {
            return l.clone();
        }
        assert!(
            Instant::now() < until,
            "no log line with {what:?}: {:?}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn connect(a: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Send `req` and read one reply (`action=...\n\n`).
fn ask(s: &mut TcpStream, req: &[u8]) -> String {
    s.write_all(req).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\n\n") {
        assert_eq!(
            s.read(&mut b).unwrap(),
            1,
            "the service closed the connection: {got:?}"
        );
        got.push(b[0]);
    }
    String::from_utf8(got).unwrap()
}

fn rcpt(sender: &str, rcpt: &str) -> Vec<u8> {
    format!(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nsender={sender}\nrecipient={rcpt}\n\n"
    )
    .into_bytes()
}

fn metrics(svc: &Svc) -> String {
    let mut s = connect(svc.metrics);
    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

fn metric(svc: &Svc, name: &str) -> u64 {
    let text = metrics(svc);
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

fn alive(svc: &mut Svc) {
    assert!(
        svc.child.try_wait().unwrap().is_none(),
        "the service exited"
    );
}

const REFUSED: &str = "action=550 5.1.1 navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes.\n\n";

#[test]
fn policy_hostile_input_is_answered_dunno_and_logged_and_the_connection_goes_on() {
    let mut svc = start(&[]);
    let mut s = connect(svc.policy);
    // A line without '=', unknown attributes, binary, a line of 100 KB, an empty request.
    assert_eq!(
        ask(&mut s, b"request=smtpd_access_policy\ngarbage\n\n"),
        "action=DUNNO\n\n"
    );
    assert_eq!(
        ask(&mut s, b"recipient=\xff\xfe\x00\x01@x\n\n"),
        "action=DUNNO\n\n"
    );
    let mut long = b"request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=".to_vec();
    long.extend(std::iter::repeat_n(b'a', 100_000));
    long.extend_from_slice(b"@navy.ml\n\n");
    assert_eq!(ask(&mut s, &long), "action=DUNNO\n\n");
    assert_eq!(ask(&mut s, b"\n"), "action=DUNNO\n\n");
    let mut unknown = b"x_future_attribute=1\nccert_subject=\xc3\xa9\n".to_vec();
    unknown.extend(rcpt("ray.k@army.mil", "c@navy.ml"));
    assert_eq!(
        ask(&mut s, &unknown),
        REFUSED,
        "unknown attributes are ignored"
    );
    // Truncated: half a request, then the connection ends.
    let mut t = connect(svc.policy);
    t.write_all(b"request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=c@na")
        .unwrap();
    drop(t);
    wait_log(
        &svc.log,
        "problem=\"the connection ended inside a request\"",
        Duration::from_secs(10),
    );
    wait_log(
        &svc.log,
        "problem=\"a line longer than 4096 bytes\"",
        Duration::from_secs(1),
    );
    wait_log(
        &svc.log,
        "problem=\"a line without '=': \\\"garbage\\\"\"",
        Duration::from_secs(1),
    );
    assert_eq!(
        metric(
            &svc,
            "mistype_smtp_protocol_errors_total{protocol=\"policy\"}"
        ),
        5
    );
    alive(&mut svc);
}

fn packet(cmd: u8, data: &[u8]) -> Vec<u8> {
    let mut v = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    v.push(cmd);
    v.extend_from_slice(data);
    v
}

fn optneg() -> Vec<u8> {
    let mut d = Vec::new();
    for v in [6u32, 0x1ff, 0x1f_ffff] {
        d.extend_from_slice(&v.to_be_bytes());
    }
    packet(b'O', &d)
}

/// Whether the service closes the connection (EOF) within the read timeout.
fn closed_by_service(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    matches!(s.read(&mut b), Ok(0))
}

#[test]
fn milter_hostile_input_closes_that_connection_only_and_is_logged() {
    let mut svc = start(&[]);
    // A lying length: 2 GiB announced, a few bytes sent. Refused before it is read.
    let mut s = connect(svc.milter);
    s.write_all(&[0x7f, 0xff, 0xff, 0xff, b'R', b'<']).unwrap();
    assert!(closed_by_service(&mut s));
    wait_log(
        &svc.log,
        "problem=\"a packet of 2147483647 bytes (at most 262144)\"",
        Duration::from_secs(5),
    );
    // An unknown command; a truncated option negotiation; a length of zero.
    for bad in [
        packet(b'z', b"x"),
        packet(b'O', &[0, 0, 0, 6]),
        vec![0, 0, 0, 0],
    ] {
        let mut s = connect(svc.milter);
        s.write_all(&bad).unwrap();
        assert!(closed_by_service(&mut s), "{bad:?}");
    }
    wait_log(
        &svc.log,
        "problem=\"unknown milter command 0x7a\"",
        Duration::from_secs(5),
    );
    wait_log(&svc.log, "too short for its fields", Duration::from_secs(5));
    // A packet cut short, then the connection ends: nothing to answer, nothing held.
    let mut s = connect(svc.milter);
    s.write_all(&packet(b'R', b"<c@navy.ml>\0")[..8]).unwrap();
    drop(s);
    // A real conversation still works, binary in headers included.
    let mut s = connect(svc.milter);
    let mut conv = optneg();
    conv.extend(packet(b'C', b"client\x004\x9c\x40192.0.2.1\0"));
    conv.extend(packet(b'M', b"<ray.k@army.mil>\0"));
    conv.extend(packet(b'L', b"Subject\0\xff\xfe\x00"));
    conv.extend(packet(b'R', b"<c@navy.ml>\0"));
    s.write_all(&conv).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while !got.windows(9).any(|w| w == b"5.1.1 <c@") {
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed: {got:?}");
        got.extend_from_slice(&b[..n]);
    }
    assert_eq!(&got[..5], &[0, 0, 0, 13, b'O']);
    assert_eq!(
        metric(
            &svc,
            "mistype_smtp_protocol_errors_total{protocol=\"milter\"}"
        ),
        4
    );
    alive(&mut svc);
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn ten_thousand_connections_opened_and_dropped_leak_nothing() {
    let mut svc = start(&[]);
    let pid = svc.child.id();
    // Warm up (runtime threads, buffers), then take the baseline.
    let mut s = connect(svc.policy);
    assert_eq!(ask(&mut s, &rcpt("ray.k@army.mil", "c@navy.ml")), REFUSED);
    drop(s);
    std::thread::sleep(Duration::from_millis(200));
    let (fds0, rss0) = (open_fds(pid), rss_kib(pid));
    for i in 0..10_000u32 {
        let to = if i % 2 == 0 { svc.policy } else { svc.milter };
        let mut c = TcpStream::connect(to).unwrap();
        match i % 4 {
            0 => {
                let _ = c.write_all(b"request=smtpd_access_policy\nrecipient=");
            }
            1 => {
                let _ = c.write_all(&[0, 0, 0, 9, b'O']);
            }
            _ => {}
        }
    }
    // (Until every connection is closed and counted: one the client dropped while it waited in
    // the listen queue is accepted, counted and closed later, so "none open" alone can come
    // before the last ones are counted.)
    let until = Instant::now() + Duration::from_secs(30);
    let counted = |svc: &Svc| {
        metric(svc, "mistype_smtp_connections_total{protocol=\"policy\"}")
            + metric(svc, "mistype_smtp_connections_total{protocol=\"milter\"}")
    };
    while metric(&svc, "mistype_smtp_connections_open{protocol=\"policy\"}") > 0
        || metric(&svc, "mistype_smtp_connections_open{protocol=\"milter\"}") > 0
        || counted(&svc) <= 10_000
    {
        assert!(
            Instant::now() < until,
            "connections still open: {}",
            metrics(&svc)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let total = counted(&svc);
    assert!(total > 10_000, "{total} connections counted");
    let (fds1, rss1) = (open_fds(pid), rss_kib(pid));
    // The metrics connection itself may still be closing.
    assert!(fds1 <= fds0 + 2, "descriptors {fds0} -> {fds1}");
    assert!(
        rss1 < rss0 + 16 * 1024,
        "resident memory {rss0} KiB -> {rss1} KiB"
    );
    let mut s = connect(svc.policy);
    assert_eq!(ask(&mut s, &rcpt("ray.k@army.mil", "c@navy.ml")), REFUSED.replace("action=550 5.1.1 navy.ml is in Mali, not navy.mil - did you mean c@navy.mil? To send it as written, send it again within 10 minutes.", "action=PREPEND X-Mistype: confirmed c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil?"));
    alive(&mut svc);
}

#[test]
fn sighup_reloads_the_policy_without_dropping_a_connection() {
    let dir = std::env::temp_dir().join(format!("mistype-smtp-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(&policy, "{}").unwrap();
    let mut svc = start(&["--policy", policy.to_str().unwrap()]);
    let mut s = connect(svc.policy);
    let typo = rcpt("a@partner.example", "x@northwnd-defence.com");
    assert_eq!(ask(&mut s, &typo), "action=DUNNO\n\n");
    std::fs::write(&policy, r#"{"protected": ["northwind-defence.com"]}"#).unwrap();
    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(hup(svc.child.id()).success());
    wait_log(&svc.log, "event=reloaded", Duration::from_secs(30));
    let a = ask(&mut s, &typo);
    assert!(
        a.starts_with(
            "action=550 5.1.1 northwnd-defence.com looks like a typo of northwind-defence.com"
        ),
        "{a}"
    );
    // A broken file: said, counted, and the policy in force stays.
    std::fs::write(&policy, r#"{"protected": 5}"#).unwrap();
    assert!(hup(svc.child.id()).success());
    wait_log(&svc.log, "event=reload-failed", Duration::from_secs(30));
    assert!(ask(&mut s, &typo)
        .starts_with("action=PREPEND X-Mistype: confirmed x@northwnd-defence.com"));
    assert_eq!(metric(&svc, "mistype_smtp_reload_failures_total"), 1);
    alive(&mut svc);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dry_run_never_refuses_and_says_what_it_would_have_done() {
    let svc = start(&["--dry-run"]);
    let mut s = connect(svc.policy);
    assert_eq!(
        ask(&mut s, &rcpt("ray.k@army.mil", "c@navy.ml")),
        "action=PREPEND X-Mistype: would-refuse c@navy.ml: navy.ml is in Mali, not navy.mil - did you mean c@navy.mil?\n\n"
    );
    wait_log(
        &svc.log,
        "event=would-refuse protocol=policy sender=ray.k@army.mil recipient=c@navy.ml",
        Duration::from_secs(5),
    );
}

#[test]
fn a_unix_socket_serves_the_policy_protocol() {
    use std::os::unix::net::UnixStream;
    let dir = std::env::temp_dir().join(format!("mistype-smtp-Unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("Policy.sock");
    let listen = format!("unix:{}", path.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_mistype-smtpd"))
        .args(["--policy-listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let started = wait_log(&log, "event=started", Duration::from_secs(30));
    assert!(
        started.contains(&format!("listen=\"policy={listen}\"")),
        "{started}"
    );
    let mut s = UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&rcpt("ray.k@army.mil", "c@navy.ml")).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\n\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1);
        got.push(b[0]);
    }
    assert_eq!(String::from_utf8(got).unwrap(), REFUSED);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_silent_connection_is_closed_and_a_busy_one_is_not() {
    let svc = start(&["--idle-timeout", "1s"]);
    let mut quiet = connect(svc.policy);
    let mut busy = connect(svc.policy);
    assert!(ask(&mut quiet, &rcpt("a@army.mil", "b@navy.mil")).starts_with("action=DUNNO"));
    // The busy one asks every 300 ms for 2.4 s, well past the limit of the first question.
    let began = Instant::now();
    while began.elapsed() < Duration::from_millis(2400) {
        assert_eq!(
            ask(&mut busy, &rcpt("a@army.mil", "b@navy.mil")),
            "action=DUNNO\n\n"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // By now the quiet one has been closed by the service (read gives 0), the busy one not.
    let mut b = [0u8; 1];
    assert_eq!(
        quiet.read(&mut b).unwrap(),
        0,
        "the silent connection is open"
    );
    assert_eq!(
        ask(&mut busy, &rcpt("a@army.mil", "b@navy.mil")),
        "action=DUNNO\n\n"
    );
}
