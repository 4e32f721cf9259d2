//! The `mistype` command line: batch checks for machines, explanations for people, policy checks.

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use mistype::{CheckRequest, Engine, Finding, Policy, Severity, Verdict};

mod cli;

/// Catch misaddressed email: recipient domains that are typos or lookalikes of what was meant.
///
/// With addresses, explains for a person what is wrong with each and what was meant:
///
///   mistype c@navy.ml --from a.b@army.mil
///
/// `mistype check` reads check requests as JSON lines (from a file or standard input) and writes
/// one verdict line per request, in order, for machines.
///
/// Exit status: 0 when nothing was found, 1 when a recipient was flagged (warn or block), 2 when
/// the policy, the input or the arguments cannot be used.
#[derive(Parser, Debug)]
#[command(
    name = "mistype",
    version,
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    explain: ExplainArgs,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// Recipient addresses to judge (each may be an RFC 5322 list: "A <a@x.org>, b@y.org").
    #[arg(value_name = "ADDRESS")]
    addresses: Vec<String>,
    /// The sender's address: its domain and suffix are context ("a .mil sender who types .ml
    /// meant .mil").
    #[arg(long, value_name = "ADDR")]
    from: Option<String>,
    /// An address or domain the sender already corresponds with (repeatable).
    #[arg(long = "contact", value_name = "ADDR_OR_DOMAIN")]
    contacts: Vec<String>,
    /// A policy JSON file (see the README); without it the embedded default policy applies.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print the verdict as JSON instead of an explanation.
    #[arg(long)]
    json: bool,
    /// Colour: auto (when writing to a terminal and NO_COLOR is unset), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Judge check requests given as JSON lines; write one verdict line per request, in order.
    ///
    /// Each line is a check request: {"id": ..., "from": "...", "to": [...], "cc": [...],
    /// "bcc": [...], "contacts": [...]}. A line that is not valid JSON, or not a check request,
    /// gets {"id": <its id or null>, "error": "..."} and the run continues. Blank lines are skipped.
    Check {
        /// A policy JSON file; without it the embedded default policy applies.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Print "N requests: ... allow, ... warn, ... block, ... errors" to standard error at the end.
        #[arg(long)]
        summary: bool,
        /// The JSON lines file; standard input when absent or "-".
        #[arg(value_name = "INPUT")]
        input: Option<PathBuf>,
    },
    /// Find the misaddressed mail in past mail: mail logs, message traces, mailboxes.
    ///
    /// Reads Postfix and Exim logs, Microsoft 365 / Exchange message-trace and Google Workspace
    /// email-log CSV exports, mbox files, Maildir folders and message files, plain or gzip, told
    /// apart by their content. Prints a summary (how much was read, what was misaddressed, to
    /// which intended domains, by whom, when, and whether it was delivered); --json and --csv
    /// give one line per finding. Unreadable lines and messages are counted and listed with
    /// their place, never fatal. Exit status: 0 nothing found, 1 findings, 2 unusable arguments.
    /// See docs/audit.md.
    Audit(cli::audit::AuditArgs),
    /// Learn the organisation's real correspondents from its past mail, as a policy fragment.
    ///
    /// Reads the same inputs as `audit` and writes {"known": [...]} with the domains the
    /// organisation sent to repeatedly (or exchanged mail with), never one the engine flags as
    /// a slip of a protected or known domain; what was left out, and why, is in the fragment's
    /// "_left_out" and on standard error. Use it as a policy file (`--policy`), or merge its
    /// "known" list into yours. See docs/audit.md.
    Learn(cli::learn::LearnArgs),
    /// Validate a policy file, or print the embedded default policy.
    Policy {
        /// Print the embedded default policy as JSON.
        #[arg(long, conflicts_with = "file")]
        default: bool,
        /// The policy file to validate.
        #[arg(value_name = "FILE", required_unless_present = "default")]
        file: Option<PathBuf>,
    },
}

/// Writes `text` to standard output (never `print!`, which panics when the reader has gone).
fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A reader that has gone away (`mistype ... | head`) is not an error: it has what it wanted, so
/// the command stops quietly with `status`. Any other write error is reported (exit 2).
fn stop_writing(e: &io::Error, status: ExitCode) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        status
    } else {
        fail(format!("cannot write to standard output: {e}"))
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("mistype: {msg}");
    ExitCode::from(2)
}

fn load_engine(policy: Option<&PathBuf>) -> Result<Engine, String> {
    match policy {
        None => Ok(Engine::with_default_policy()),
        Some(p) => {
            let text = fs::read_to_string(p)
                .map_err(|e| format!("cannot read the policy file '{}': {e}", p.display()))?;
            Engine::from_policy_json(&text).map_err(|e| format!("{}: {e}", p.display()))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check {
            policy,
            summary,
            input,
        }) => run_check(policy.as_ref(), input.as_ref(), summary),
        Some(Command::Policy { default, file }) => run_policy(default, file.as_ref()),
        Some(Command::Audit(args)) => cli::audit::run(&args),
        Some(Command::Learn(args)) => cli::learn::run(&args),
        None => run_explain(&cli.explain),
    }
}

fn run_policy(default: bool, file: Option<&PathBuf>) -> ExitCode {
    if default {
        return match emit(include_str!("../data/default-policy.json")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => stop_writing(&e, ExitCode::SUCCESS),
        };
    }
    let Some(path) = file else {
        return fail("give a policy FILE or --default");
    };
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return fail(format!(
                "cannot read the policy file '{}': {e}",
                path.display()
            ))
        }
    };
    match Policy::from_json(&text) {
        Ok(p) => {
            let engine = Engine::new(&p);
            let line = format!(
                "{}: valid. {} protected, {} trusted, {} known, {} rules{}; {} reference domains in all.\n",
                path.display(),
                p.protected.len(),
                p.trusted.len(),
                p.known.len(),
                p.rules.len(),
                if p.defaults { ", plus the embedded defaults" } else { "" },
                engine.reference_count()
            );
            match emit(&line) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => stop_writing(&e, ExitCode::SUCCESS),
            }
        }
        Err(e) => fail(format!("{}: {e}", path.display())),
    }
}

fn run_check(policy: Option<&PathBuf>, input: Option<&PathBuf>, summary: bool) -> ExitCode {
    let engine = match load_engine(policy) {
        Ok(e) => e.load_suffix_list(),
        Err(e) => return fail(e),
    };
    let reader: Box<dyn Read + Send> = match input {
        Some(p) if p.as_os_str() != "-" => match fs::File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => return fail(format!("cannot read the input '{}': {e}", p.display())),
        },
        _ => Box::new(io::stdin()),
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    cli::check::run(&engine, reader, workers, summary)
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn run_explain(a: &ExplainArgs) -> ExitCode {
    let engine = match load_engine(a.policy.as_ref()) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let mut addresses = a.addresses.clone();
    if addresses.len() == 1 && addresses[0] == "-" {
        let mut s = String::new();
        if io::stdin().read_to_string(&mut s).is_err() {
            return fail("cannot read addresses from standard input");
        }
        addresses = s
            .lines()
            .map(str::to_string)
            .filter(|l| !l.trim().is_empty())
            .collect();
    }
    let req = CheckRequest {
        from: a.from.clone(),
        to: addresses,
        contacts: a.contacts.clone(),
        ..CheckRequest::default()
    };
    let v = engine.check(&req);
    let text = if a.json {
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    } else {
        let on = match a.color.as_str() {
            "always" => true,
            "never" => false,
            _ => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        explain_text(&req, &v, &Paint { on })
    };
    let status = if v.verdict == Severity::Allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    match emit(&text) {
        Ok(()) => status,
        Err(e) => stop_writing(&e, status),
    }
}

fn explain_text(req: &CheckRequest, v: &Verdict, p: &Paint) -> String {
    let mut s = String::new();
    let flagged: Vec<&Finding> = v.findings.iter().collect();
    for f in &flagged {
        let (tag, code) = match f.severity {
            Severity::Block => ("BLOCK", "1;31"),
            Severity::Warn => ("WARN ", "1;33"),
            Severity::Allow => ("ok   ", "32"),
        };
        s.push_str(&format!(
            "{} {}  ({})\n",
            p.wrap(code, tag),
            p.wrap("1", &f.recipient),
            f.kind
        ));
        if let Some(sug) = &f.suggestion {
            s.push_str(&format!("      did you mean {}?\n", p.wrap("1;36", sug)));
        }
        s.push_str(&format!("      {}\n", f.reason));
    }
    for e in &v.errors {
        s.push_str(&format!(
            "{} {}  ({})\n      {}\n",
            p.wrap("1;35", "ERROR"),
            e.recipient,
            e.kind,
            e.message
        ));
    }
    // Recipients without findings or errors.
    for r in req.recipients() {
        for m in mistype::parse_address_list(r).into_iter().flatten() {
            let bad = v.findings.iter().any(|f| f.recipient == m.raw)
                || v.errors.iter().any(|e| e.recipient == m.raw);
            if !bad {
                s.push_str(&format!("{} {}\n", p.wrap("32", "ok   "), m.raw));
            }
        }
    }
    s
}
