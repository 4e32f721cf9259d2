//! How a command ends: its output written to standard output, a reader that has gone treated as
//! no error, a failure named on standard error with exit status 2, and the status of a verdict.

use std::io::{self, Write};
use std::process::ExitCode;

use mistype::{Severity, Verdict};

/// Writes `text` to standard output (never `print!`, which panics when the reader has gone).
pub fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A reader that has gone away (`mistype ... | head`) is not an error: it has what it wanted, so
/// the command stops quietly with `status`. Any other write error is reported (exit 2).
pub fn stop_writing(e: &io::Error, status: ExitCode) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        status
    } else {
        fail(format!("cannot write to standard output: {e}"))
    }
}

/// The exit status of a judged verdict: 1 when something was flagged (warn or block), else 3 when
/// an address could not be read as written (an error in the verdict: no judge can call that
/// recipient clean), else 0. `--help` documents these.
pub fn verdict_status(v: &Verdict) -> ExitCode {
    if v.verdict != Severity::Allow {
        ExitCode::from(1)
    } else if !v.errors.is_empty() {
        ExitCode::from(UNREADABLE)
    } else {
        ExitCode::SUCCESS
    }
}

/// The exit status when an address (or the sender) could not be read and nothing was flagged.
pub const UNREADABLE: u8 = 3;

/// `mistype: MSG` on standard error, and exit status 2 (the arguments, the policy or the input
/// cannot be used).
pub fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("mistype: {msg}");
    ExitCode::from(2)
}
