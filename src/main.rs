//! The `mistype` command line: batch checks for machines, explanations for people, policy checks.

use std::fs;
use std::io::{self, BufRead, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use mistype::{CheckRequest, Engine, Finding, Policy, Severity, Verdict};

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
        None => run_explain(&cli.explain),
    }
}

fn run_policy(default: bool, file: Option<&PathBuf>) -> ExitCode {
    if default {
        print!("{}", include_str!("../data/default-policy.json"));
        return ExitCode::SUCCESS;
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
            println!(
                "{}: valid. {} protected, {} trusted, {} known, {} rules{}; {} reference domains in all.",
                path.display(),
                p.protected.len(),
                p.trusted.len(),
                p.known.len(),
                p.rules.len(),
                if p.defaults { ", plus the embedded defaults" } else { "" },
                engine.reference_count()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{}: {e}", path.display())),
    }
}

fn run_check(policy: Option<&PathBuf>, input: Option<&PathBuf>, summary: bool) -> ExitCode {
    let engine = match load_engine(policy) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let reader: Box<dyn BufRead> = match input {
        Some(p) if p.as_os_str() != "-" => match fs::File::open(p) {
            Ok(f) => Box::new(io::BufReader::new(f)),
            Err(e) => return fail(format!("cannot read the input '{}': {e}", p.display())),
        },
        _ => Box::new(io::BufReader::new(io::stdin())),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let (mut n, mut counts, mut errors) = (0usize, [0usize; 3], 0usize);
    for (lineno, line) in reader.split(b'\n').enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return fail(format!("reading line {}: {e}", lineno + 1)),
        };
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        n += 1;
        // Verdicts keep the key order of docs/contract.md (id, verdict, findings, errors).
        let line = match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => {
                errors += 1;
                serde_json::json!({"id": null, "error": format!("line {}: not valid JSON ({e})", lineno + 1)})
                    .to_string()
            }
            Ok(value) => {
                let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
                match serde_json::from_value::<CheckRequest>(value) {
                    Err(e) => {
                        errors += 1;
                        serde_json::json!({"id": id, "error": format!(
                            "line {}: not a check request ({e}); expected {{\"to\": [\"addr\", ...], \"from\"?: \"addr\", \"cc\"?, \"bcc\"?, \"contacts\"?}}",
                            lineno + 1
                        )})
                        .to_string()
                    }
                    Ok(req) => {
                        let v = engine.check(&req);
                        counts[v.verdict as usize] += 1;
                        serde_json::to_string(&v).unwrap_or_default()
                    }
                }
            }
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::SUCCESS; // a closed pipe: the reader has what it wanted
        }
    }
    let _ = out.flush();
    if summary {
        eprintln!(
            "{n} requests: {} allow, {} warn, {} block, {errors} errors",
            counts[0], counts[1], counts[2]
        );
    }
    ExitCode::SUCCESS
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
    if a.json {
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let on = match a.color.as_str() {
            "always" => true,
            "never" => false,
            _ => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        print!("{}", explain_text(&req, &v, &Paint { on }));
    }
    if v.verdict == Severity::Allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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
