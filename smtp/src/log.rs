//! Structured log lines (logfmt: `key=value`, a value with spaces or quotes in double quotes),
//! one event a line, so that `mistype audit` and log tools read them without guessing. Pure: the
//! glue writes the lines to standard error (the journal under systemd).

/// How serious a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A decision or routine event.
    Info,
    /// Input that could not be read, a reload that failed.
    Warn,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
        }
    }
}

/// One line: `level=info event=refused key=value ...`. Empty values are left out.
pub fn line(level: Level, event: &str, fields: &[(&str, &str)]) -> String {
    let mut s = format!("level={} event={event}", level.as_str());
    for (k, v) in fields {
        if v.is_empty() {
            continue;
        }
        s.push(' ');
        s.push_str(k);
        s.push('=');
        quote_into(&mut s, v);
    }
    s
}

fn quote_into(s: &mut String, v: &str) {
    let needs = v
        .chars()
        .any(|c| c == ' ' || c == '"' || c == '=' || c == '\\' || c.is_control());
    if !needs {
        s.push_str(v);
        return;
    }
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c if c.is_control() => s.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_when_they_must_be() {
        assert_eq!(
            line(
                Level::Info,
                "refused",
                &[
                    ("recipient", "c@navy.ml"),
                    ("reason", "a \"b\"\nc"),
                    ("empty", "")
                ]
            ),
            "level=info event=refused recipient=c@navy.ml reason=\"a \\\"b\\\"\\nc\""
        );
        assert_eq!(
            line(Level::Warn, "x", &[("k", "a=b")]),
            "level=warn event=x k=\"a=b\""
        );
    }
}
