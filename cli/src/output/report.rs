//! The audit's report: totals and groupings for people, one line per finding for machines
//! (JSON lines or CSV). Pure: the caller writes the strings.

use std::collections::{BTreeMap, HashMap};

use mistype::Finding;
use serde_json::json;

use crate::input::record::{clip, Loc, Rcpt, Skip, Status};

/// One misaddressed recipient of one message.
#[derive(Debug, Clone)]
pub struct Row {
    /// When the message was sent or logged.
    pub time: Option<String>,
    /// The sender's address.
    pub sender: Option<String>,
    /// The Message-ID.
    pub message_id: Option<String>,
    /// The recipient.
    pub rcpt: Rcpt,
    /// What the engine found.
    pub finding: Finding,
}

/// How many findings and unreadable entries the human report lists one by one.
pub const LISTED: usize = 50;

/// The running totals of an audit.
#[derive(Debug, Default)]
pub struct Summary {
    /// Messages read.
    pub messages: u64,
    /// Recipients read.
    pub recipients: u64,
    /// Recipients per delivery status (all recipients).
    pub status: BTreeMap<Status, u64>,
    /// Misaddressed recipients.
    pub flagged: u64,
    /// Messages with at least one misaddressed recipient.
    pub flagged_messages: u64,
    /// Misaddressed recipients per delivery status.
    pub flagged_status: BTreeMap<Status, u64>,
    /// Misaddressed recipients let through because their sender sent them again after a
    /// refusal (`X-Mistype: confirmed`).
    pub confirmed: u64,
    /// Per intended domain: count, and the typed domains with their counts.
    pub by_intended: BTreeMap<String, (u64, BTreeMap<String, u64>)>,
    /// Per kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Per severity.
    pub by_severity: BTreeMap<&'static str, u64>,
    /// Per sender of misaddressed mail.
    pub senders: HashMap<String, u64>,
    /// Earliest and latest time of a finding.
    pub first: Option<String>,
    /// Latest time of a finding.
    pub last: Option<String>,
    /// The first findings, for the human report.
    pub rows: Vec<Row>,
    /// Recipients the engine could not judge, and a few of them.
    pub unjudged: u64,
    /// A few unjudged recipients: (location, why).
    pub unjudged_examples: Vec<(Loc, String)>,
    /// Unreadable lines, messages and inputs.
    pub skipped: u64,
    /// The first unreadable ones.
    pub skips: Vec<Skip>,
    /// Lines of other programs, or without mail records.
    pub other_lines: u64,
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Summary {
    /// Count one misaddressed recipient.
    pub fn add(&mut self, row: Row) {
        let f = &row.finding;
        self.flagged += 1;
        *self.flagged_status.entry(row.rcpt.status).or_default() += 1;
        self.confirmed += u64::from(row.rcpt.confirmed);
        let intended = f
            .intended
            .clone()
            .unwrap_or_else(|| format!("({})", f.kind));
        let e = self.by_intended.entry(intended).or_default();
        e.0 += 1;
        *e.1.entry(f.domain.clone()).or_default() += 1;
        *self.by_kind.entry(f.kind.as_str()).or_default() += 1;
        *self.by_severity.entry(f.severity.as_str()).or_default() += 1;
        *self
            .senders
            .entry(row.sender.clone().unwrap_or_else(|| "<>".into()))
            .or_default() += 1;
        if let Some(t) = &row.time {
            if self.first.as_ref().is_none_or(|x| t < x) {
                self.first = Some(t.clone());
            }
            if self.last.as_ref().is_none_or(|x| t > x) {
                self.last = Some(t.clone());
            }
        }
        if self.rows.len() < LISTED {
            self.rows.push(row);
        }
    }

    /// Count one unreadable entry (the first ones are kept for the report).
    pub fn skip(&mut self, s: Skip) {
        self.skipped += 1;
        if self.skips.len() < LISTED {
            self.skips.push(s);
        }
    }

    /// The human report.
    pub fn human(&self, names: &[String], formats: &str) -> String {
        let place = |l: &Loc| place(names, l);
        let mut s = String::new();
        let pct = |n: u64, of: u64| {
            if of == 0 {
                "0%".to_string()
            } else {
                format!("{:.3}%", 100.0 * n as f64 / of as f64)
            }
        };
        s += &format!(
            "mistype audit: {} input{} ({formats}): {} messages, {} recipients.\n",
            thousands(names.len() as u64),
            if names.len() == 1 { "" } else { "s" },
            thousands(self.messages),
            thousands(self.recipients),
        );
        if self.flagged == 0 {
            s += "No misaddressed recipients found.\n";
        } else {
            s += &format!(
                "Misaddressed: {} recipients ({} of all) in {} messages, from {} senders.\n",
                thousands(self.flagged),
                pct(self.flagged, self.recipients),
                thousands(self.flagged_messages),
                thousands(self.senders.len() as u64)
            );
            if let (Some(a), Some(b)) = (&self.first, &self.last) {
                s += &format!("First seen {a}, last seen {b}.\n");
            }
            s += &self.delivery();
            s += "\nBy intended domain:\n";
            let mut by: Vec<_> = self.by_intended.iter().collect();
            by.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
            for (intended, (n, typed)) in by.iter().take(20) {
                let mut t: Vec<_> = typed.iter().collect();
                t.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let t: Vec<String> = t
                    .iter()
                    .take(5)
                    .map(|(d, n)| format!("{d} ({n})"))
                    .collect();
                s += &format!(
                    "  {:>7}  {intended}  typed as {}\n",
                    thousands(*n),
                    t.join(", ")
                );
            }
            if by.len() > 20 {
                s += &format!("  ... and {} more intended domains\n", by.len() - 20);
            }
            s += "\nBy kind:\n";
            let mut kinds: Vec<_> = self.by_kind.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (k, n) in kinds {
                s += &format!("  {:>7}  {k}\n", thousands(*n));
            }
            let sev: Vec<String> = self
                .by_severity
                .iter()
                .map(|(k, v)| format!("{k} {}", thousands(*v)))
                .collect();
            s += &format!("By severity: {}.\n", sev.join(", "));
            s += "\nWorst senders:\n";
            let mut snd: Vec<_> = self.senders.iter().collect();
            snd.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (who, n) in snd.iter().take(10) {
                s += &format!("  {:>7}  {who}\n", thousands(**n));
            }
            s += &format!(
                "\nFindings{}:\n",
                if self.flagged as usize > self.rows.len() {
                    format!(
                        " (the first {} of {}; --json or --csv lists all)",
                        self.rows.len(),
                        thousands(self.flagged)
                    )
                } else {
                    String::new()
                }
            );
            for r in &self.rows {
                let f = &r.finding;
                s += &format!(
                    "  {}  {} -> {}  {} ({}, {}), {}  [{}]\n",
                    r.time.as_deref().unwrap_or("-"),
                    r.sender.as_deref().unwrap_or("<>"),
                    f.recipient,
                    f.suggestion
                        .as_ref()
                        .map(|x| format!("meant {x}?"))
                        .unwrap_or_else(|| "no suggestion".into()),
                    f.kind,
                    f.severity,
                    status_words(&r.rcpt),
                    place(&r.rcpt.loc),
                );
            }
        }
        if self.unjudged > 0 {
            s += &format!(
                "\nCould not be judged: {} recipients",
                thousands(self.unjudged)
            );
            let ex: Vec<String> = self
                .unjudged_examples
                .iter()
                .map(|(l, why)| format!("{why} [{}]", place(l)))
                .collect();
            s += &format!(" (for example: {}).\n", ex.join("; "));
        }
        if self.other_lines > 0 {
            s += &format!(
                "\n{} log lines were other programs' or carried no sender or recipient.\n",
                thousands(self.other_lines)
            );
        }
        if self.skipped > 0 {
            s += &format!(
                "\nUnreadable: {} (skipped, the run went on):\n",
                thousands(self.skipped)
            );
            for k in &self.skips {
                s += &format!("  {}: {}\n", place(&k.loc), k.reason);
            }
            if self.skipped as usize > self.skips.len() {
                s += &format!(
                    "  ... and {} more (--json lists every one)\n",
                    thousands(self.skipped - self.skips.len() as u64)
                );
            }
        }
        s
    }

    /// What became of the misaddressed mail: stopped at submission, or how what left was
    /// delivered.
    fn delivery(&self) -> String {
        let stopped = self
            .flagged_status
            .get(&Status::Refused)
            .copied()
            .unwrap_or(0);
        let left: Vec<String> = self
            .flagged_status
            .iter()
            .filter(|(k, _)| **k != Status::Refused)
            .map(|(k, v)| format!("{} {}", k.as_str(), thousands(*v)))
            .collect();
        let confirmed = match self.confirmed {
            0 => String::new(),
            n => format!(
                " ({} sent again by the sender after a refusal, confirmed)",
                thousands(n)
            ),
        };
        if stopped == 0 {
            return format!(
                "Delivery of the misaddressed mail: {}{confirmed}.\n",
                left.join(", ")
            );
        }
        let mut s = format!(
            "Stopped at submission: {} (refused by mistype-smtpd with the reason; not sent).\n",
            thousands(stopped)
        );
        if left.is_empty() {
            s += "None of the misaddressed mail left.\n";
        } else {
            s += &format!(
                "Delivery of the misaddressed mail that left: {}{confirmed}.\n",
                left.join(", ")
            );
        }
        s
    }

    /// The totals as one JSON object (the last line of `--json`).
    pub fn json(&self, names: &[String]) -> serde_json::Value {
        let mut by_intended: Vec<_> = self.by_intended.iter().collect();
        by_intended.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        let mut senders: Vec<_> = self.senders.iter().collect();
        senders.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        json!({
            "type": "summary",
            "inputs": names.len(),
            "messages": self.messages,
            "recipients": self.recipients,
            "misaddressed": self.flagged,
            "misaddressed_messages": self.flagged_messages,
            "misaddressed_by_status": self.flagged_status.iter().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "misaddressed_confirmed": self.confirmed,
            "by_intended": by_intended.iter().map(|(d, (n, typed))| json!({"intended": d, "count": n, "typed": typed})).collect::<Vec<_>>(),
            "by_kind": self.by_kind,
            "by_severity": self.by_severity,
            "senders": senders.iter().take(100).map(|(s, n)| json!({"sender": s, "count": n})).collect::<Vec<_>>(),
            "first_seen": self.first,
            "last_seen": self.last,
            "unjudged": self.unjudged,
            "unreadable": self.skipped,
            "other_lines": self.other_lines,
        })
    }
}

/// What became of one recipient, in the human report's words.
fn status_words(r: &Rcpt) -> String {
    match (r.status, r.confirmed) {
        (Status::Refused, _) => "refused at submission, not sent".to_string(),
        (st, true) => format!("{}, confirmed by a resend", st.as_str()),
        (st, false) => st.as_str().to_string(),
    }
}

/// `file:line` (or just `file` for a whole input).
pub fn place(names: &[String], l: &Loc) -> String {
    let name = names
        .get(l.input as usize)
        .map(String::as_str)
        .unwrap_or("?");
    if l.line == 0 {
        name.to_string()
    } else {
        format!("{name}:{}", l.line)
    }
}

/// One finding as a JSON line.
pub fn finding_json(names: &[String], r: &Row) -> String {
    let f = &r.finding;
    json!({
        "type": "finding",
        "input": names.get(r.rcpt.loc.input as usize),
        "line": r.rcpt.loc.line,
        "time": r.time,
        "sender": r.sender,
        "recipient": r.rcpt.address,
        "name": r.rcpt.name,
        "field": r.rcpt.field.as_str(),
        "status": r.rcpt.status.as_str(),
        "confirmed": r.rcpt.confirmed,
        "message_id": r.message_id,
        "domain": f.domain,
        "kind": f.kind,
        "severity": f.severity,
        "intended": f.intended,
        "suggestion": f.suggestion,
        "score": f.score,
        "reason": f.reason,
    })
    .to_string()
}

/// One unreadable entry as a JSON line.
pub fn skip_json(names: &[String], s: &Skip) -> String {
    json!({
        "type": "unreadable",
        "input": names.get(s.loc.input as usize),
        "line": s.loc.line,
        "reason": s.reason,
    })
    .to_string()
}

/// The CSV header row.
pub const CSV_HEADER: &str = "input,line,time,sender,recipient,name,field,status,message_id,domain,kind,severity,intended,suggestion,score,reason,confirmed";

fn csv_field(s: &str) -> String {
    // Quote always; a leading =, +, - or @ is prefixed so that spreadsheets do not run it.
    let risky = s.starts_with(['=', '+', '@'])
        || (s.starts_with('-') && !s[1..].starts_with(|c: char| c == '-' || c.is_ascii_digit()));
    let s = if risky {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One finding as a CSV row.
pub fn finding_csv(names: &[String], r: &Row) -> String {
    let f = &r.finding;
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    [
        names
            .get(r.rcpt.loc.input as usize)
            .cloned()
            .unwrap_or_default(),
        r.rcpt.loc.line.to_string(),
        o(&r.time),
        o(&r.sender),
        r.rcpt.address.clone(),
        o(&r.rcpt.name),
        r.rcpt.field.as_str().into(),
        r.rcpt.status.as_str().into(),
        o(&r.message_id),
        f.domain.clone(),
        f.kind.to_string(),
        f.severity.to_string(),
        o(&f.intended),
        o(&f.suggestion),
        format!("{:.2}", f.score),
        clip(&f.reason, 400),
        r.rcpt.confirmed.to_string(),
    ]
    .iter()
    .map(|x| csv_field(x))
    .collect::<Vec<_>>()
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_fields() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=cmd()"), "\"'=cmd()\"");
    }
}
