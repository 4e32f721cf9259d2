//! Write a generated Postfix log of an organisation to standard output (the generator of the
//! `audit` benchmark, `mistype_testdata::maillog`); what was written goes to standard error.
//!
//!   cargo run --release -p mistype-benches --example maillog -- PEOPLE DAYS PER_DAY > mail.log
//!
//! Defaults: 10,000 people, 365 days, 8 messages per person per working day.

use std::io::{self, BufWriter};

use mistype_benches::maillog;

fn main() -> io::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("PEOPLE DAYS PER_DAY are numbers"))
        .collect();
    let people = args.first().copied().unwrap_or(10_000);
    let days = args.get(1).copied().unwrap_or(365);
    let per_day = args.get(2).copied().unwrap_or(8);
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
    let n = maillog::write_postfix_log(&mut w, people, days, per_day, 2026)?;
    eprintln!(
        "{} messages, {} recipients ({} slips), {} lines, {} bytes",
        n.messages, n.recipients, n.slips, n.lines, n.bytes
    );
    Ok(())
}
