//! The `mistype` binary run as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

/// The `mistype` binary of this build.
pub fn mistype() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mistype"))
}

/// What a run of the binary left.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// Runs `cmd` with `stdin` (written from another thread, so that a large input cannot block on a
/// full output pipe) and waits for it.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mistype");
    let mut sin = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
