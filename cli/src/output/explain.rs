//! The explanation of a verdict for people: each flagged recipient with its kind, what was meant
//! and why; the errors; the recipients found in order. Colour on request.

use mistype::{CheckRequest, Finding, Severity, Verdict};

/// ANSI colours, or none.
#[derive(Debug)]
pub struct Paint {
    on: bool,
}

impl Paint {
    /// Colours when `on`.
    pub fn new(on: bool) -> Paint {
        Paint { on }
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The explanation of verdict `v` of request `req`.
pub fn explain_text(req: &CheckRequest, v: &Verdict, p: &Paint) -> String {
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
