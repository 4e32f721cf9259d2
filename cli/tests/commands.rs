//! The `mistype` binary as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::mistype;

fn run(cmd: &mut Command, stdin: &str) -> (i32, String, String) {
    let r = crate::support::run(cmd, stdin.as_bytes());
    (r.code, r.out, r.err)
}

#[test]
fn check_reads_json_lines_and_keeps_going() {
    let input = concat!(
        r#"{"id": 1, "from": "a.b@army.mil", "to": ["c@navy.ml"]}"#,
        "\n",
        "this is not json\n",
        "\n",
        r#"{"id": "x", "to": 42}"#,
        "\n",
        r#"{"id": 3, "to": ["y@gmail.com"]}"#,
        "\n",
    );
    let (code, out, err) = run(mistype().args(["check", "--summary"]), input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[0]["verdict"], "block");
    assert_eq!(lines[0]["findings"][0]["suggestion"], "c@navy.mil");
    assert!(lines[1]["id"].is_null());
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("line 2: not valid JSON"));
    assert_eq!(lines[2]["id"], "x");
    assert!(lines[2]["error"]
        .as_str()
        .unwrap()
        .contains("not a check request"));
    assert_eq!(lines[3]["verdict"], "allow");
    assert!(
        err.contains("4 requests: 1 allow, 0 warn, 1 block, 2 errors"),
        "{err}"
    );
    // Every key of a finding is present.
    let f = lines[0]["findings"][0].as_object().unwrap();
    for k in [
        "recipient",
        "address",
        "domain",
        "kind",
        "severity",
        "suggestion",
        "intended",
        "score",
        "reason",
    ] {
        assert!(f.contains_key(k), "missing {k}");
    }
}

#[test]
fn explains_for_people() {
    let (code, out, _) = run(
        mistype().args([
            "c@navy.ml",
            "ok@army.mil",
            "--from",
            "a.b@army.mil",
            "--color",
            "never",
        ]),
        "",
    );
    assert_eq!(code, 1);
    assert!(out.contains("BLOCK c@navy.ml"), "{out}");
    assert!(out.contains("did you mean c@navy.mil?"), "{out}");
    assert!(out.contains("Mali"), "{out}");
    assert!(out.contains("ok    ok@army.mil"), "{out}");
    let (code, out, _) = run(mistype().args(["y@gmail.com", "--color", "always"]), "");
    assert_eq!(code, 0);
    assert!(out.contains("\x1b[32m"), "{out}");
    let (code, out, _) = run(mistype().args(["--json", "x@gmial.com"]), "");
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["intended"], "gmail.com");
}

#[test]
fn bad_policy_and_unreadable_input_exit_2_naming_the_problem() {
    let dir = std::env::temp_dir().join(format!("mistype-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"protected": ["*.mil", "no..pe"]}"#).unwrap();
    let (code, _, err) = run(mistype().arg("check").arg("--policy").arg(&bad), "");
    assert_eq!(code, 2);
    assert!(
        err.contains("protected[1]") && err.contains("no..pe"),
        "{err}"
    );
    let (code, _, err) = run(mistype().args(["check", "/nonexistent/requests.jsonl"]), "");
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read the input '/nonexistent/requests.jsonl'"),
        "{err}"
    );
    let (code, _, err) = run(
        mistype().args(["x@y.org", "--policy", "/nonexistent/p.json"]),
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read the policy file"), "{err}");
    let (code, out, _) = run(mistype().arg("policy").arg(&bad), "");
    assert_eq!(code, 2, "{out}");
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"{"protected": ["mindef.nl"], "known": ["partner-startup.co"]}"#,
    )
    .unwrap();
    let (code, out, _) = run(mistype().arg("policy").arg(&good), "");
    assert_eq!(code, 0);
    // The whole line: "valid" alone is also inside "invalid".
    let references = mistype::Engine::from_policy_json(&std::fs::read_to_string(&good).unwrap())
        .unwrap()
        .reference_count();
    assert_eq!(
        out,
        format!(
            "{}: valid. 1 protected, 0 trusted, 1 known, 0 rules, plus the embedded defaults; \
             {references} reference domains in all.\n",
            good.display()
        )
    );
    let (code, out, _) = run(mistype().args(["policy", "--default"]), "");
    assert_eq!(code, 0);
    assert!(out.contains("\"*.mil\""));
    let (code, _, err) = run(mistype().arg("--bogus"), "");
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_address_that_cannot_be_read_is_not_clean() {
    // Nothing flagged, but an address could not be read: status 3, not 0 ("nothing found").
    let (code, out, err) = run(mistype().args(["bad@@x", "--color", "never"]), "");
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(
        out,
        "ERROR bad@@x  (syntax)\n      two '@' signs in 'bad@@x'\n"
    );
    let (code, _, _) = run(mistype().args(["y@gmail.com", "bad@@x", "--json"]), "");
    assert_eq!(code, 3);
    // The sender counts too: the recipients were judged without its context.
    let (code, _, _) = run(mistype().args(["y@gmail.com", "--from", "a@@b"]), "");
    assert_eq!(code, 3);
    // A finding beside it is status 1; every address read and clean is 0.
    let (code, _, _) = run(
        mistype().args(["c@navy.ml", "bad@@x", "--from", "a.b@army.mil"]),
        "",
    );
    assert_eq!(code, 1);
    let (code, _, _) = run(mistype().args(["y@gmail.com"]), "");
    assert_eq!(code, 0);
    let (_, help, _) = run(mistype().arg("--help"), "");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "3 when nothing was flagged but an address (or the sender) could not be read as written"
        ),
        "{help}"
    );
}

#[test]
fn help_documents_every_option() {
    let (code, out, _) = run(mistype().arg("--help"), "");
    assert_eq!(code, 0);
    for opt in [
        "--from",
        "--contact",
        "--policy",
        "--json",
        "--color",
        "check",
        "policy",
    ] {
        assert!(out.contains(opt), "--help lacks {opt}:\n{out}");
    }
    let (_, out, _) = run(mistype().args(["check", "--help"]), "");
    for opt in ["--policy", "--summary", "INPUT"] {
        assert!(out.contains(opt), "check --help lacks {opt}:\n{out}");
    }
}

/// Runs `mistype args...` with `stdin`, reads only the first `read` bytes of its output and closes
/// the pipe, as `| head -c 10` does; returns the exit code and what it wrote to standard error.
fn run_closing_early(args: &[&str], stdin: &str, read: usize) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = mistype()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mistype");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; read];
    stdout.read_exact(&mut head).expect("the first bytes");
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    feeder.join().unwrap();
    (status.code(), err)
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    // Enough output to overflow any pipe buffer, so the writes after the close do fail.
    let many: Vec<String> = (0..3000).map(|i| format!("x{i}@gmial.com")).collect();
    let lines: String = many
        .iter()
        .map(|a| format!("{{\"to\": [\"{a}\"]}}\n"))
        .collect();
    let listed = many.join("\n");
    // The policy fits in a pipe buffer: that reader closes before reading anything.
    let cases: [(&[&str], &str, usize, i32); 4] = [
        (&["--json", "-"], &listed, 10, 1),
        (&["-"], &listed, 10, 1),
        (&["check"], &lines, 10, 0),
        (&["policy", "--default"], "", 0, 0),
    ];
    for (args, stdin, read, code) in cases {
        let (status, err) = run_closing_early(args, stdin, read);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?} should say nothing on a closed pipe");
        assert_eq!(status, Some(code), "{args:?}: {err}");
    }
}
