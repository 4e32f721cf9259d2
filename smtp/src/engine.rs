//! The engine from the administrator's files: the policy JSON every surface reads, and the
//! organisation's correspondents from `mistype learn` (its `{"known": [...]}` fragment, or one
//! domain a line). Text in, engine out: the glue reads the files.

use mistype::{Engine, Policy};

/// The domains of a contacts file: `mistype learn`'s output (`{"known": [...]}`) or one domain
/// (or address) a line, `#` comments allowed. Errors name the file's problem.
pub fn contacts(text: &str) -> Result<Vec<String>, String> {
    let t = text.trim_start();
    if t.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(t).map_err(|e| format!("not JSON: {e}"))?;
        let known = v
            .get("known")
            .and_then(|k| k.as_array())
            .ok_or("a JSON contacts file needs \"known\": [domains] (mistype learn's output)")?;
        return known
            .iter()
            .map(|d| {
                d.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("\"known\" holds {d}, not a domain"))
            })
            .collect();
    }
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.rsplit('@').next().unwrap_or(l).to_string())
        .collect())
}

/// Build the engine: the policy (the embedded default when `None`) plus the contacts as known
/// domains, with the whole suffix list parsed now so that no request pays for it.
pub fn build(policy: Option<&str>, contacts_text: Option<&str>) -> Result<Engine, String> {
    let policy = match policy {
        Some(p) => Policy::from_json(p).map_err(|e| format!("policy: {e}"))?,
        None => Policy::embedded(),
    };
    let known = match contacts_text {
        Some(t) => contacts(t).map_err(|e| format!("contacts: {e}"))?,
        None => Vec::new(),
    };
    Ok(
        Engine::with_references(&policy, known.iter().map(|d| (d.as_str(), "known")))
            .load_suffix_list(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_output_and_plain_lists_are_read() {
        assert_eq!(
            contacts("{\"known\": [\"td.com\", \"partner.nl\"]}").unwrap(),
            vec!["td.com", "partner.nl"]
        );
        assert_eq!(
            contacts("# ours\ntd.com\n\nann@partner.nl  # a person\n").unwrap(),
            vec!["td.com", "partner.nl"]
        );
        assert!(contacts("{\"trusted\": []}")
            .unwrap_err()
            .contains("\"known\""));
        assert!(contacts("{\"known\": [1]}")
            .unwrap_err()
            .contains("holds 1"));
    }

    #[test]
    fn a_bad_policy_is_an_error_naming_it() {
        let e = build(Some("{\"protected\": 5}"), None).unwrap_err();
        assert!(e.starts_with("policy: "), "{e}");
        let e = build(None, Some("{")).unwrap_err();
        assert!(e.starts_with("contacts: not JSON"), "{e}");
    }

    #[test]
    fn contacts_become_references() {
        let plain = build(None, None).unwrap();
        let with = build(None, Some("kalomertan.de\n")).unwrap();
        assert_eq!(with.reference_count(), plain.reference_count() + 1);
        let ctx = with.context(Some("a@northwind-traders.com"), &[]);
        let v = with.check_recipient("p@klaomertan.de", &ctx);
        assert_eq!(v.findings[0].intended.as_deref(), Some("kalomertan.de"));
    }
}
