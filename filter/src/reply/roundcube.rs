//! The reply to a Roundcube send the filter stops: a page Roundcube displays.
//!
//! Roundcube posts its compose form into a hidden iframe; a reply without its
//! `<meta name="generator" content="Roundcube">` makes it show "Connection Error", and a `422`
//! cannot carry anything the user sees. This page is shaped like Roundcube's own framed replies:
//! `200`, the generator meta, and a script that unlocks the compose window
//! (`parent.rcmail.iframe_loaded(<_unlock>)`), shows the reason in Roundcube's message area
//! (`parent.rcmail.display_message(…, 'error')`) and hands the verdict, with the confirm token and
//! the addresses that refused the send (`refused`), to the mistype plugin
//! (`parent.rcmail.triggerEvent('mistype_blocked', …)`), which offers to send again with the token
//! in [`crate::extract::ROUNDCUBE_CONFIRM_FIELD`], or sends again at once when the user has just
//! confirmed every refused address.

use super::action::Action;
use crate::extract::ROUNDCUBE_CONFIRM_FIELD;
use crate::send::RemoteCall;
use mistype::{Finding, Severity};
use serde_json::{json, Value};

/// At most this many findings are named in the message line.
const MAX_NAMED: usize = 3;

/// What the plugin's `mistype_blocked` handler gets: `verdict`, the JSON body the filter would
/// send to an API client (the verdict, `confirm` with the token when confirmation is enabled,
/// `confirm_error`), with the line for the message area (`message`), the addresses of `refused`
/// (its findings that refuse the send, `crate::decide::refused`) and the form field the token
/// goes back in; and that line.
fn event(verdict: &Value, refused: &[&Finding]) -> (Value, String) {
    let confirm_error = verdict
        .get("confirm_error")
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str);
    let message = message(refused, confirm_error);
    let mut event = verdict.clone();
    if let Value::Object(m) = &mut event {
        m.insert("message".into(), Value::String(message.clone()));
        let addresses: Vec<&str> = refused.iter().map(|f| f.address.as_str()).collect();
        m.insert("refused".into(), json!(addresses));
        if let Some(Value::Object(c)) = m.get_mut("confirm") {
            c.insert("field".into(), json!(ROUNDCUBE_CONFIRM_FIELD));
        }
    }
    (event, message)
}

/// The answer to a blocked send that Roundcube posted with its `http_post` (a bounce): the JSON
/// its `http_response` reads, shaped like Roundcube's own (`action`, `unlock`, `exec`). It
/// releases the client's lock, shows the line in the message area and hands the verdict to the
/// plugin, as the page does.
pub fn blocked_remote(verdict: &Value, refused: &[&Finding], call: &RemoteCall) -> Action {
    let (event, message) = event(verdict, refused);
    let exec = format!(
        "this.display_message({}, 'error', 15000);this.triggerEvent('mistype_blocked', {});",
        script_json(&Value::String(message)),
        script_json(&event),
    );
    let body = json!({"action": call.action, "unlock": call.unlock, "exec": exec});
    Action::local(
        200,
        "application/json; charset=utf-8",
        Some(Severity::Block),
        body.to_string().into_bytes(),
    )
}

/// The page for a blocked send from the compose window; `verdict` and `refused` as [`event`]
/// takes them.
pub fn blocked_page(verdict: &Value, refused: &[&Finding]) -> Action {
    let (event, message) = event(verdict, refused);
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"generator\" content=\"Roundcube\">\n<title>mistype</title>\n</head>\n<body>\n\
<p id=\"mistype-message\">{text}</p>\n<script>\n\
(function () {{\n\
  var verdict = {event};\n\
  var m = /[?&]_unlock=([a-z0-9]+)/i.exec(window.location.search);\n\
  var rc = window.parent && window.parent !== window ? window.parent.rcmail : null;\n\
  if (!rc) return;\n\
  rc.iframe_loaded(m ? m[1] : 0);\n\
  rc.display_message(verdict.message, 'error', 15000);\n\
  rc.triggerEvent('mistype_blocked', verdict);\n\
}})();\n\
</script>\n</body>\n</html>\n",
        text = html_text(&message),
        event = script_json(&event),
    );
    Action::local(
        200,
        "text/html; charset=utf-8",
        Some(Severity::Block),
        body.into_bytes(),
    )
}

/// One line for Roundcube's message area: what was stopped (`refused`) and what was probably
/// meant, and why a confirmation was not accepted (`confirm_error`).
fn message(refused: &[&Finding], confirm_error: Option<&str>) -> String {
    let mut parts: Vec<String> = refused
        .iter()
        .take(MAX_NAMED)
        .map(|f| {
            let mut s = match &f.suggestion {
                Some(sug) => format!("{} (did you mean {sug}?)", f.address),
                None => f.address.clone(),
            };
            if !f.reason.is_empty() {
                s.push_str(": ");
                s.push_str(&f.reason);
            }
            s
        })
        .collect();
    if refused.len() > MAX_NAMED {
        parts.push(format!("and {} more", refused.len() - MAX_NAMED));
    }
    let mut out = format!("Not sent, mistype stopped it. {}", parts.join("; "));
    if let Some(e) = confirm_error {
        out.push_str(&format!(" (The confirmation was not accepted: {e}.)"));
    }
    out
}

/// JSON that is safe inside a `<script>` element: no `<`, `>`, `&` or line separators that could
/// end the element or the string early.
fn script_json(v: &Value) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Text escaped for HTML element content.
fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistype::Kind;

    fn finding(
        address: &str,
        severity: Severity,
        suggestion: Option<&str>,
        reason: &str,
    ) -> Finding {
        let domain = address.rsplit('@').next().unwrap_or_default();
        Finding {
            recipient: address.into(),
            address: address.into(),
            domain: domain.into(),
            kind: Kind::LabelTypo,
            severity,
            suggestion: suggestion.map(Into::into),
            intended: None,
            score: 0.9,
            reason: reason.into(),
        }
    }

    fn navy() -> Finding {
        finding(
            "j.smith@navy.ml",
            Severity::Block,
            Some("j.smith@navy.mil"),
            "navy.ml is in Mali (.ml)",
        )
    }

    fn verdict() -> Value {
        let gmial = finding(
            "x@gmial.com",
            Severity::Warn,
            Some("x@gmail.com"),
            "gmial.com looks like gmail.com",
        );
        json!({
            "verdict": "block",
            "findings": [navy(), gmial],
            "confirm": {"header": "x-mistype-confirm", "token": "v1.abc", "expires_at": 5}
        })
    }

    fn page(v: &Value, refused: &[&Finding]) -> (u32, Vec<(String, String)>, String) {
        match blocked_page(v, refused) {
            Action::Reply {
                status,
                headers,
                body,
            } => (status, headers, String::from_utf8(body).unwrap()),
            other => panic!("not a reply: {other:?}"),
        }
    }

    #[test]
    fn a_page_roundcube_accepts_and_shows() {
        let (status, headers, body) = page(&verdict(), &[&navy()]);
        assert_eq!(status, 200);
        assert!(headers.contains(&("content-type".into(), "text/html; charset=utf-8".into())));
        // Roundcube's iframe check looks for exactly this meta.
        assert!(body.contains("<meta name=\"generator\" content=\"Roundcube\">"));
        assert!(body.contains("rc.iframe_loaded("));
        assert!(body.contains("rc.display_message(verdict.message, 'error'"));
        assert!(body.contains("rc.triggerEvent('mistype_blocked', verdict)"));
        // The token and the form field it goes back in are handed to the plugin.
        assert!(body.contains("\"token\":\"v1.abc\""));
        assert!(body.contains("\"field\":\"_mistype_confirm\""));
        // The refused addresses, for the plugin to compare with what the user confirmed.
        assert!(body.contains("\"refused\":[\"j.smith@navy.ml\"]"));
        // The message names the refused findings only, and says why a confirmation failed.
        assert!(body.contains("Not sent, mistype stopped it. j.smith@navy.ml"));
        assert!(!body.contains("x@gmial.com (did you mean"));
        let mut v = verdict();
        v["confirm_error"] = json!({"reason": "expired", "message": "the token has expired"});
        let (_, _, body) = page(&v, &[&navy()]);
        assert!(body.contains("(The confirmation was not accepted: the token has expired.)"));
    }

    #[test]
    fn the_remote_answer_runs_only_its_own_code() {
        // What a recipient can hold (typed by the user) cannot end a literal early: `exec` is
        // exactly the two calls around two JSON values, which Roundcube evaluates.
        let evil = finding(
            "\"');alert(1);//</script>\u{2028}@navy.ml",
            Severity::Block,
            Some("x@navy.mil"),
            "');alert(2);//",
        );
        let call = RemoteCall {
            action: "bounce",
            unlock: "lock\"');alert(3);//".into(),
        };
        let (status, headers, body) = match blocked_remote(&verdict(), &[&evil], &call) {
            Action::Reply {
                status,
                headers,
                body,
            } => (status, headers, body),
            other => panic!("not a reply: {other:?}"),
        };
        assert_eq!(status, 200);
        assert!(headers.contains(&(
            "content-type".into(),
            "application/json; charset=utf-8".into()
        )));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["action"], "bounce");
        assert_eq!(body["unlock"], "lock\"');alert(3);//");
        let exec = body["exec"].as_str().unwrap();
        let rest = exec.strip_prefix("this.display_message(").unwrap();
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        let message = values.next().unwrap().unwrap();
        let rest = &rest[values.byte_offset()..];
        let rest = rest
            .strip_prefix(", 'error', 15000);this.triggerEvent('mistype_blocked', ")
            .unwrap();
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        let event = values.next().unwrap().unwrap();
        assert_eq!(&rest[values.byte_offset()..], ");");
        assert!(message
            .as_str()
            .unwrap()
            .starts_with("Not sent, mistype stopped it. \"');alert(1);"));
        assert_eq!(event["refused"][0], evil.address.as_str());
        assert_eq!(event["confirm"]["field"], "_mistype_confirm");
        // Nothing that could end a script element or a JavaScript line, even as escapes allow.
        assert!(!exec.contains('<') && !exec.contains('\u{2028}'), "{exec}");
    }

    #[test]
    fn the_message_names_the_refused_findings() {
        assert_eq!(
            message(&[&navy()], None),
            "Not sent, mistype stopped it. j.smith@navy.ml (did you mean j.smith@navy.mil?): navy.ml is in Mali (.ml)"
        );
        assert!(message(&[&navy()], Some("the token has expired"))
            .ends_with("(The confirmation was not accepted: the token has expired.)"));
        // A warn finding refused for its score (a warn verdict held for confirmation).
        let gmial = finding("x@gmial.com", Severity::Warn, Some("x@gmail.com"), "");
        assert_eq!(
            message(&[&gmial], None),
            "Not sent, mistype stopped it. x@gmial.com (did you mean x@gmail.com?)"
        );
        // At most three are named.
        let many = [&navy(), &navy(), &navy(), &navy(), &navy()].map(Clone::clone);
        let refs: Vec<&Finding> = many.iter().collect();
        assert!(message(&refs, None).ends_with("; and 2 more"));
    }

    #[test]
    fn recipient_text_cannot_break_out_of_the_script_or_the_page() {
        let evil = finding(
            "</script><script>alert(1)</script>@navy.ml",
            Severity::Block,
            None,
            "a & b\u{2028}",
        );
        let v = json!({"findings": [evil]});
        let (_, _, body) = page(&v, &[&evil]);
        assert_eq!(body.matches("</script>").count(), 1);
        assert!(!body.contains("<script>alert"));
        assert!(body.contains("\\u003c/script\\u003e"));
        assert!(body.contains("&lt;/script&gt;"));
        // A line separator ends a string in older JavaScript: escaped inside the script.
        let script = &body[body.find("<script>").unwrap()..];
        assert!(!script.contains('\u{2028}'));
        // The escaped JSON is still the same JSON.
        let start = body.find("var verdict = ").unwrap() + "var verdict = ".len();
        let end = body[start..].find(";\n").unwrap() + start;
        let back: Value = serde_json::from_str(&body[start..end]).unwrap();
        assert_eq!(
            back["findings"][0]["address"],
            "</script><script>alert(1)</script>@navy.ml"
        );
    }
}
