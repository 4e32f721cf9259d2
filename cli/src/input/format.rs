//! The input formats, and telling them apart from an input's first bytes. Pure.

use super::{exim, headers, mbox, postfix, trace_csv};

/// A kind of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Postfix log (syslog or `maillog_file`).
    Postfix,
    /// An Exim main log.
    Exim,
    /// A message-trace or email-log CSV export (Microsoft 365 / Exchange, Google Workspace).
    Csv,
    /// An mbox file.
    Mbox,
    /// A Maildir folder (a directory with `cur/` and `new/`).
    Maildir,
    /// One message (`.eml`).
    Eml,
}

impl Format {
    /// The names `--format` takes.
    pub const NAMES: [&'static str; 7] =
        ["auto", "postfix", "exim", "csv", "mbox", "maildir", "eml"];

    /// Parse a `--format` value (`auto` is `None`).
    pub fn parse(name: &str) -> Result<Option<Format>, String> {
        Ok(Some(match name.to_ascii_lowercase().as_str() {
            "auto" => return Ok(None),
            "postfix" => Format::Postfix,
            "exim" => Format::Exim,
            "csv" | "m365" | "exchange" | "google" => Format::Csv,
            "mbox" => Format::Mbox,
            "maildir" => Format::Maildir,
            "eml" => Format::Eml,
            other => {
                return Err(format!(
                    "unknown --format '{other}'; use one of {}",
                    Format::NAMES.join(", ")
                ))
            }
        }))
    }

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Postfix => "postfix",
            Format::Exim => "exim",
            Format::Csv => "csv",
            Format::Mbox => "mbox",
            Format::Maildir => "maildir",
            Format::Eml => "eml",
        }
    }
}

/// The first line of a CSV export, past a PowerShell `#TYPE` line and a byte-order mark.
pub fn csv_header(head: &[u8]) -> Option<(String, usize)> {
    let text = String::from_utf8_lossy(head);
    let mut skipped = 0;
    for line in text.split_inclusive('\n').take(3) {
        let l = line.trim_start_matches('\u{feff}').trim_end();
        if l.starts_with("#TYPE") || l.is_empty() {
            skipped += 1;
            continue;
        }
        return Some((l.to_string(), skipped));
    }
    None
}

/// Tell the format of a file from its first bytes (already decompressed).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if mbox::looks_like(head) {
        return Some(Format::Mbox);
    }
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').take(200).collect();
    if postfix::looks_like(&lines) {
        return Some(Format::Postfix);
    }
    if exim::looks_like(&lines) {
        return Some(Format::Exim);
    }
    if csv_header(head).is_some_and(|(h, _)| trace_csv::looks_like(&h)) {
        return Some(Format::Csv);
    }
    if headers::looks_like(head) {
        return Some(Format::Eml);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_formats_apart() {
        assert_eq!(
            sniff(b"From a@b Sun Nov 29 20:07:57 2026\nFrom: a@b.org\n"),
            Some(Format::Mbox)
        );
        assert_eq!(
            sniff(b"Nov 29 20:07:57 mx postfix/qmgr[1]: A14A298C010: from=<a@b.org>, size=1, nrcpt=1 (queue active)\n"),
            Some(Format::Postfix)
        );
        assert_eq!(
            sniff(b"2026-11-29 20:07:57 1tXyZ1-000ABC-Q1 <= a@b.org H=x\n"),
            Some(Format::Exim)
        );
        assert_eq!(
            sniff(b"#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace\n\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Status\"\n"),
            Some(Format::Csv)
        );
        assert_eq!(
            sniff(b"Received: from x\nFrom: a@b.org\nTo: c@d.org\n\nhi\n"),
            Some(Format::Eml)
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0"), None);
        assert_eq!(sniff(b""), None);
        assert!(Format::parse("nope").unwrap_err().contains("postfix"));
    }
}
