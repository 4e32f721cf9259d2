//! `demo/run.sh` run as a user would: start it with `MISTYPE_DEMO_PORT=0` (Envoy binds a port
//! of the OS's choosing and keeps it; the banner names it), send through it with curl, stop it
//! with SIGINT to its process group (Ctrl-C), and check that nothing is left running.
//!
//! Uses the already built artifacts (MISTYPE_DEMO_SKIP_BUILD=1): `make test-host` builds the
//! filter and the web-lint package first. A missing package fails the test, saying how to build
//! it.

mod support_envoy;

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support_envoy::*;

/// The running demo; on drop (a failed assertion) its whole process group is killed.
struct Demo {
    child: Child,
    pgid: u32,
    log: std::path::PathBuf,
    _dir: TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            signal_group(self.pgid, "KILL");
            let _ = self.child.wait();
        }
    }
}

fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stderr(Stdio::null())
        .status();
}

/// The pids whose process group is `pgid` (from /proc/<pid>/stat).
fn group_members(pgid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...
        let Some((comm, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            continue; // a zombie about to be reaped is not running
        }
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) {
            let name = comm
                .split_once('(')
                .map(|(_, c)| c)
                .unwrap_or("")
                .to_owned();
            out.push((pid, name));
        }
    }
    out
}

fn start_demo() -> Demo {
    let dir = TempDir::new("demo");
    let log = dir.path().join("demo.log");
    let out = fs::File::create(&log).expect("demo log");
    let err = out.try_clone().expect("demo log");
    let mut cmd = Command::new(repo_root().join("demo/run.sh"));
    cmd.env("MISTYPE_DEMO_PORT", "0")
        .env("MISTYPE_DEMO_SKIP_BUILD", "1")
        .env("MISTYPE_FILTER_WASM", filter_wasm())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let child = cmd.spawn().expect("spawn demo/run.sh");
    let pgid = child.id();
    Demo {
        child,
        pgid,
        log,
        _dir: dir,
    }
}

fn outbox(port: u16) -> Vec<serde_json::Value> {
    let r = curl(&Request::get(format!(
        "http://127.0.0.1:{port}/outbox.json"
    )));
    assert_eq!(r.status, 200);
    r.json()["messages"].as_array().cloned().unwrap_or_default()
}

/// The port of the banner's `compose page   http://127.0.0.1:PORT/` line.
fn banner_port(log: &str) -> Option<u16> {
    log.lines()
        .find_map(|l| l.trim().strip_prefix("compose page"))
        .and_then(|rest| rest.trim().strip_prefix("http://127.0.0.1:"))
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|p| p.parse().ok())
}

#[test]
fn the_banner_names_the_port() {
    let banner = "\n  mistype demo is running (Ctrl-C stops it).\n\n    compose page   http://127.0.0.1:40123/\n    outbox         http://127.0.0.1:40123/outbox\n";
    assert_eq!(banner_port(banner), Some(40123));
    assert_eq!(banner_port("compose page   http://127.0.0.1:/"), None);
    assert_eq!(banner_port("[demo] starting"), None);
}

#[test]
fn demo_blocks_confirms_delivers_and_stops_cleanly() {
    // The compose page needs the web-lint package (git-ignored: built, not committed).
    for file in ["mistype_web_lint.js", "mistype_web_lint_bg.wasm"] {
        let path = repo_root().join("web-lint/pkg").join(file);
        assert!(
            path.is_file(),
            "{} is missing: build the package with web-lint/build.sh (make test-host does)",
            path.display()
        );
    }
    let mut demo = start_demo();

    // Ready when the banner names the port Envoy bound and the outbox answers through it.
    let ready = wait_for(Duration::from_secs(120), || {
        if let Ok(Some(status)) = demo.child.try_wait() {
            panic!(
                "demo/run.sh exited early ({status}):\n{}",
                fs::read_to_string(&demo.log).unwrap_or_default()
            );
        }
        let log = fs::read_to_string(&demo.log).unwrap_or_default();
        let port = banner_port(&log)?;
        http_get(port, "/outbox.json")
            .is_some_and(|(s, _)| s == 200)
            .then_some(port)
    });
    let Some(port) = ready else {
        panic!(
            "the demo did not come up:\n{}",
            fs::read_to_string(&demo.log).unwrap_or_default()
        );
    };
    let base = format!("http://127.0.0.1:{port}");
    let banner = fs::read_to_string(&demo.log).unwrap_or_default();
    assert!(banner.contains("mistype demo is running"), "{banner}");
    assert!(
        banner.contains("curl -s"),
        "the banner shows curl lines: {banner}"
    );

    // What the page needs: the compose page, its config, the package.
    let page = curl(&Request::get(format!("{base}/")));
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    let cfg = curl(&Request::get(format!("{base}/demo-config.json"))).json();
    assert_eq!(cfg["send_url"], "/jmap/api");
    assert_eq!(cfg["confirm_header"], "x-mistype-confirm");
    let js = curl(&Request::get(format!("{base}/pkg/mistype_web_lint.js")));
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .is_some_and(|c| c.contains("javascript")));
    let wasm = curl(&Request::get(format!(
        "{base}/pkg/mistype_web_lint_bg.wasm"
    )));
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert!(wasm.body.starts_with(b"\0asm"));

    // A misaddressed send: refused in a JMAP response with the suggestion and a token; not in
    // the outbox.
    let typo = fs::read(repo_root().join("demo/send-misaddressed.json")).expect("sample send");
    let r = curl(&Request::post(
        format!("{base}/jmap/api"),
        "application/json",
        &typo,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-mistype-verdict"), Some("block"));
    assert_eq!(
        r.json()["methodResponses"][1][1]["notCreated"]["s1"]["type"],
        "forbiddenToSend",
        "{}",
        r.text()
    );
    let v = r.json()["mistype"].clone();
    assert_eq!(v["verdict"], "block", "{v}");
    assert!(
        v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["suggestion"] == "j.smith@navy.mil"),
        "{v}"
    );
    let token = v["confirm"]["token"]
        .as_str()
        .expect("a confirm token")
        .to_owned();
    assert_eq!(v["confirm"]["header"], "x-mistype-confirm");
    assert!(
        outbox(port).is_empty(),
        "a blocked send is not in the outbox"
    );

    // Sent anyway, with the token: it arrives.
    let r = curl(
        &Request::post(format!("{base}/jmap/api"), "application/json", &typo)
            .header("x-mistype-confirm", &token),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let created = &r.json()["methodResponses"][1][1]["created"]["s1"]["id"];
    assert!(created.is_string(), "JMAP answer: {}", r.text());
    let msgs = outbox(port);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["rcpt_to"], serde_json::json!(["j.smith@navy.ml"]));

    // A clean send arrives.
    let clean = fs::read(repo_root().join("demo/send-clean.json")).expect("sample send");
    let r = curl(&Request::post(
        format!("{base}/jmap/api"),
        "application/json",
        &clean,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let msgs = outbox(port);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["rcpt_to"], serde_json::json!(["j.smith@navy.mil"]));
    let html = curl(&Request::get(format!("{base}/outbox")));
    assert!(html.text().contains("j.smith@navy.mil"));

    // Ctrl-C: SIGINT to the process group; everything stops, bounded.
    let pgid = demo.pgid;
    assert!(group_members(pgid).len() >= 3, "{:?}", group_members(pgid));
    signal_group(pgid, "INT");
    let deadline = Instant::now() + Duration::from_secs(30);
    while demo.child.try_wait().ok().flatten().is_none() {
        assert!(
            Instant::now() < deadline,
            "demo/run.sh did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = wait_for(Duration::from_secs(10), || {
        let m = group_members(pgid);
        m.is_empty().then_some(())
    });
    assert!(
        left.is_some(),
        "processes left behind: {:?}\n{}",
        group_members(pgid),
        fs::read_to_string(&demo.log).unwrap_or_default()
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port} any more"
    );
}
