//! The default command, `mistype ADDRESS... [--from ADDR]`: a check explained for people.

use std::io::{self, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mistype::CheckRequest;

use super::policy::load_engine;
use crate::exit::{emit, fail, stop_writing, verdict_status};
use crate::output::explain::{explain_text, Paint};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Recipient addresses to judge (each may be an RFC 5322 list: "A <a@x.org>, b@y.org").
    #[arg(value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// The sender's address: its domain and suffix are context ("a .mil sender who types .ml
    /// meant .mil").
    #[arg(long, value_name = "ADDR")]
    pub from: Option<String>,
    /// An address or domain the sender already corresponds with (repeatable).
    #[arg(long = "contact", value_name = "ADDR_OR_DOMAIN")]
    pub contacts: Vec<String>,
    /// A policy JSON file (see the README); without it the embedded default policy applies.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print the verdict as JSON instead of an explanation.
    #[arg(long)]
    pub json: bool,
    /// Colour: auto (when writing to a terminal and NO_COLOR is unset), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

/// Run the default command: judge the addresses and explain the verdict.
pub fn run(a: &ExplainArgs) -> ExitCode {
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
        explain_text(&req, &v, &Paint::new(on))
    };
    let status = verdict_status(&v);
    match emit(&text) {
        Ok(()) => status,
        Err(e) => stop_writing(&e, status),
    }
}
