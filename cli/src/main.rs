//! The `mistype` command line: batch checks for machines, explanations for people, policy checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod exit;
mod input;
mod judge;
mod output;
mod reading;

use commands::{audit, check, explain, learn, policy};

/// Catch misaddressed email: recipient domains that are typos or lookalikes of what was meant.
///
/// With addresses, explains for a person what is wrong with each and what was meant:
///
///   mistype c@navy.ml --from a.b@army.mil
///
/// `mistype check` reads check requests as JSON lines (from a file or standard input) and writes
/// one verdict line per request, in order, for machines.
///
/// Exit status: 0 when every address was read and nothing was found, 1 when a recipient was
/// flagged (warn or block), 2 when the policy, the input or the arguments cannot be used, 3 when
/// nothing was flagged but an address (or the sender) could not be read as written: an address
/// that cannot be judged is not clean.
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
    explain: explain::ExplainArgs,
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
    Audit(audit::AuditArgs),
    /// Learn the organisation's real correspondents from its past mail, as a policy fragment.
    ///
    /// Reads the same inputs as `audit` and writes {"known": [...]} with the domains the
    /// organisation sent to repeatedly (or exchanged mail with), never one the engine flags as
    /// a slip of a protected or known domain; what was left out, and why, is in the fragment's
    /// "_left_out" and on standard error. Use it as a policy file (`--policy`), or merge its
    /// "known" list into yours. See docs/audit.md.
    Learn(learn::LearnArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check {
            policy,
            summary,
            input,
        }) => check::run(policy.as_ref(), input.as_ref(), summary),
        Some(Command::Policy { default, file }) => policy::run(default, file.as_ref()),
        Some(Command::Audit(args)) => audit::run(&args),
        Some(Command::Learn(args)) => learn::run(&args),
        None => explain::run(&cli.explain),
    }
}
