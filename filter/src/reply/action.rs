//! What the filter does with a request ([`Action`]), and the one place where the headers and
//! bytes of its answers are built: a local reply ([`Action::local`], [`Action::local_json`]) and
//! the response headers of a send that passes with a verdict ([`verdict_headers`]).

use mistype::{Severity, Verdict};
use serde_json::{json, Value};

/// Response header naming the verdict (`warn` or `block`).
pub const VERDICT_HEADER: &str = "x-mistype-verdict";
/// Response header with the findings, as ASCII JSON.
pub const FINDINGS_HEADER: &str = "x-mistype-findings";
/// [`VERDICT_HEADER`]'s value on a send let through by a valid confirm token: the send went
/// ahead, and no client may read it as a refusal (`block`).
pub const CONFIRMED: &str = "confirmed";
/// At most this many findings go into [`FINDINGS_HEADER`].
pub const MAX_HEADER_FINDINGS: usize = 10;

/// What the filter does with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Let it through; add these headers to the response.
    Continue {
        /// Response headers to add.
        response_headers: Vec<(String, String)>,
    },
    /// Answer locally; the upstream never sees the request.
    Reply {
        /// HTTP status.
        status: u32,
        /// Response headers (`content-type` included).
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
}

impl Action {
    /// A local reply: its `content-type`, `cache-control: no-store`, and [`VERDICT_HEADER`] when
    /// the reply carries a verdict.
    pub fn local(
        status: u32,
        content_type: &str,
        verdict: Option<Severity>,
        body: Vec<u8>,
    ) -> Action {
        let mut headers = vec![
            ("content-type".to_string(), content_type.to_string()),
            ("cache-control".to_string(), "no-store".to_string()),
        ];
        if let Some(v) = verdict {
            headers.push((VERDICT_HEADER.to_string(), v.as_str().to_string()));
        }
        Action::Reply {
            status,
            headers,
            body,
        }
    }

    /// A local reply whose body is `body` as one line of JSON.
    pub fn local_json(
        status: u32,
        content_type: &str,
        verdict: Option<Severity>,
        body: &Value,
    ) -> Action {
        let mut bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        bytes.push(b'\n');
        Action::local(status, content_type, verdict, bytes)
    }
}

/// JSON text with every non-ASCII character escaped as `\uXXXX`, so it is a valid header value.
pub fn ascii_json(v: &Value) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The response headers that describe a verdict: [`VERDICT_HEADER`], and [`FINDINGS_HEADER`]
/// with at most [`MAX_HEADER_FINDINGS`] findings.
pub fn verdict_headers(verdict: &Verdict) -> Vec<(String, String)> {
    headers(verdict.verdict.as_str(), verdict)
}

/// The response headers of a send let through by a valid confirm token: [`VERDICT_HEADER`] is
/// [`CONFIRMED`], [`FINDINGS_HEADER`] names what was confirmed.
pub fn confirmed_headers(verdict: &Verdict) -> Vec<(String, String)> {
    headers(CONFIRMED, verdict)
}

fn headers(value: &str, verdict: &Verdict) -> Vec<(String, String)> {
    let findings: Vec<Value> = verdict
        .findings
        .iter()
        .take(MAX_HEADER_FINDINGS)
        .map(|f| {
            json!({"address": f.address, "kind": f.kind.as_str(), "severity": f.severity.as_str(),
                   "suggestion": f.suggestion})
        })
        .collect();
    vec![
        (VERDICT_HEADER.to_string(), value.to_string()),
        (
            FINDINGS_HEADER.to_string(),
            ascii_json(&Value::Array(findings)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::{Finding, Kind};

    #[test]
    fn local_replies_carry_their_type_no_store_and_the_verdict() {
        let a = Action::local_json(
            422,
            "application/json",
            Some(Severity::Block),
            &json!({"a": 1}),
        );
        assert_eq!(
            a,
            Action::Reply {
                status: 422,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("cache-control".into(), "no-store".into()),
                    ("x-mistype-verdict".into(), "block".into()),
                ],
                body: b"{\"a\":1}\n".to_vec(),
            }
        );
        let Action::Reply { headers, .. } = Action::local(400, "text/html", None, Vec::new())
        else {
            panic!("a local reply");
        };
        assert_eq!(
            headers.len(),
            2,
            "no verdict header without a verdict: {headers:?}"
        );
    }

    #[test]
    fn verdict_headers_hold_at_most_ten_findings_in_ascii() {
        let mut v = Verdict::empty(Value::Null);
        v.verdict = Severity::Block;
        for i in 0..12 {
            v.findings.push(Finding {
                recipient: format!("x{i}@аrmy.mil"),
                address: format!("x{i}@аrmy.mil"),
                domain: "аrmy.mil".into(),
                kind: Kind::Lookalike,
                severity: Severity::Block,
                suggestion: Some(format!("x{i}@army.mil")),
                intended: Some("army.mil".into()),
                score: 0.97,
                reason: "r".into(),
            });
        }
        let h = verdict_headers(&v);
        assert_eq!(h[0], (VERDICT_HEADER.into(), "block".into()));
        assert_eq!(h[1].0, FINDINGS_HEADER);
        assert!(h[1].1.is_ascii(), "{}", h[1].1);
        let f: Value = serde_json::from_str(&h[1].1).unwrap();
        assert_eq!(f.as_array().map(Vec::len), Some(MAX_HEADER_FINDINGS));
        assert_eq!(
            f[0],
            json!({"address": "x0@аrmy.mil", "kind": "lookalike", "severity": "block",
                   "suggestion": "x0@army.mil"})
        );
    }

    #[test]
    fn header_json_is_ascii() {
        let v = json!([{"address": "x@аrmy.mil", "e": "😀"}]);
        let s = ascii_json(&v);
        assert!(s.is_ascii());
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}
