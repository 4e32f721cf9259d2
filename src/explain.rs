//! Sentences a person can act on: every reason a finding gives, and the one constructor of a
//! [`Finding`].

use crate::address::Mailbox;
use crate::domain::Domain;
use crate::index::Class;
use crate::policy::Rule;
use crate::registries::unregistered_note;
use crate::score::{
    confidence, severity_of, Candidate, MIXED_SCRIPTS_SCORE, NOT_ASCII_UNDER_MIL_SCORE,
    NO_SUFFIX_SCORE, REPAIRED_SUFFIX_SCORE, RULE_SCORE,
};
use crate::suffix_repair::second_levels_only;
use crate::verdict::{Finding, Kind, Severity};

/// Country or territory of a country-code TLD, for the ones people most often land on by mistake.
pub(crate) fn country(tld: &str) -> Option<&'static str> {
    Some(match tld {
        "ml" => "Mali",
        "mil" => "the US military",
        "nl" => "the Netherlands",
        "cm" => "Cameroon",
        "co" => "Colombia",
        "om" => "Oman",
        "ne" => "Niger",
        "nu" => "Niue",
        "mi" => "nowhere (no such TLD)",
        "gv" => "nowhere (no such TLD)",
        "go" => "nowhere (no such TLD)",
        "ai" => "Anguilla",
        "io" => "the British Indian Ocean Territory",
        "me" => "Montenegro",
        "mo" => "Macao",
        "mk" => "North Macedonia",
        "mn" => "Mongolia",
        "ms" => "Montserrat",
        "mu" => "Mauritius",
        "mv" => "the Maldives",
        "mw" => "Malawi",
        "mx" => "Mexico",
        "my" => "Malaysia",
        "mz" => "Mozambique",
        "ma" => "Morocco",
        "md" => "Moldova",
        "mg" => "Madagascar",
        "mm" => "Myanmar",
        "ng" => "Nigeria",
        "ni" => "Nicaragua",
        "no" => "Norway",
        "np" => "Nepal",
        "nz" => "New Zealand",
        "uk" => "the United Kingdom",
        "us" => "the United States",
        "ca" => "Canada",
        "cn" => "China",
        "de" => "Germany",
        "dk" => "Denmark",
        "fr" => "France",
        "be" => "Belgium",
        "ch" => "Switzerland",
        "at" => "Austria",
        "it" => "Italy",
        "es" => "Spain",
        "pt" => "Portugal",
        "pl" => "Poland",
        "cz" => "Czechia",
        "sk" => "Slovakia",
        "se" => "Sweden",
        "fi" => "Finland",
        "ee" => "Estonia",
        "lv" => "Latvia",
        "lt" => "Lithuania",
        "ru" => "Russia",
        "ua" => "Ukraine",
        "by" => "Belarus",
        "ro" => "Romania",
        "bg" => "Bulgaria",
        "gr" => "Greece",
        "tr" => "Türkiye",
        "il" => "Israel",
        "ir" => "Iran",
        "iq" => "Iraq",
        "sa" => "Saudi Arabia",
        "ae" => "the United Arab Emirates",
        "qa" => "Qatar",
        "in" => "India",
        "pk" => "Pakistan",
        "jp" => "Japan",
        "kr" => "South Korea",
        "kp" => "North Korea",
        "tw" => "Taiwan",
        "hk" => "Hong Kong",
        "sg" => "Singapore",
        "au" => "Australia",
        "br" => "Brazil",
        "ar" => "Argentina",
        "cl" => "Chile",
        "pe" => "Peru",
        "ve" => "Venezuela",
        "cu" => "Cuba",
        "za" => "South Africa",
        "eg" => "Egypt",
        "ke" => "Kenya",
        "sn" => "Senegal",
        "ci" => "Côte d'Ivoire",
        "cd" => "the DR Congo",
        "cg" => "the Congo",
        "ga" => "Gabon",
        "gq" => "Equatorial Guinea",
        "cf" => "the Central African Republic",
        "tk" => "Tokelau",
        "tv" => "Tuvalu",
        "ws" => "Samoa",
        "ie" => "Ireland",
        "is" => "Iceland",
        "hu" => "Hungary",
        "si" => "Slovenia",
        "hr" => "Croatia",
        "rs" => "Serbia",
        "af" => "Afghanistan",
        "sy" => "Syria",
        "ly" => "Libya",
        "so" => "Somalia",
        "sd" => "Sudan",
        "ye" => "Yemen",
        "vn" => "Vietnam",
        "th" => "Thailand",
        "id" => "Indonesia",
        "ph" => "the Philippines",
        _ => return None,
    })
}

/// "in Mali (.ml)" or "under .xyz".
pub(crate) fn where_is(suffix: &str) -> String {
    let tld = suffix.rsplit('.').next().unwrap_or(suffix);
    match country(tld) {
        Some(c) if tld.len() == 2 && !c.starts_with("nowhere") => format!("in {c} (.{suffix})"),
        _ => format!("under .{suffix}"),
    }
}

/// Describe the difference between two labels as a slip, when it is a single simple one.
pub(crate) fn describe(typed: &str, intended: &str) -> Option<String> {
    if typed.is_ascii() && intended.is_ascii() {
        return describe_in(typed.as_bytes(), intended.as_bytes(), |b: &u8| {
            char::from(*b)
        });
    }
    let (t, i): (Vec<char>, Vec<char>) = (typed.chars().collect(), intended.chars().collect());
    describe_in(&t, &i, |c: &char| *c)
}

/// The single slip between `t` and `i`, whatever their unit (bytes or chars).
fn describe_in<T: PartialEq>(t: &[T], i: &[T], ch: impl Fn(&T) -> char) -> Option<String> {
    let pre = t.iter().zip(i).take_while(|(a, b)| a == b).count();
    let suf = t[pre..]
        .iter()
        .rev()
        .zip(i[pre..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (td, id) = (&t[pre..t.len() - suf], &i[pre..i.len() - suf]);
    if td.len() > 2 || id.len() > 1 + usize::from(td.len() == 2) {
        return None;
    }
    let (td, id): (Vec<char>, Vec<char>) =
        (td.iter().map(&ch).collect(), id.iter().map(&ch).collect());
    let quoted = |cs: &[char], after: &str| {
        let mut s = String::with_capacity(16 + after.len());
        s.push('\'');
        s.extend(cs);
        s.push('\'');
        s.push_str(after);
        s
    };
    Some(match (td.len(), id.len()) {
        (0, 1) if id[0] == '.' => "a missing dot".to_string(),
        (1, 0) if td[0] == '.' => "an extra dot".to_string(),
        (0, 1) => ["a missing ", &quoted(&id, "")].concat(),
        (1, 0) => ["an extra ", &quoted(&td, "")].concat(),
        (1, 1) | (2, 1) => [quoted(&td, " typed for "), quoted(&id, "")].concat(),
        (2, 2) if td[0] == id[1] && td[1] == id[0] => quoted(&id, " swapped"),
        _ => return None,
    })
}

/// Name the characters of `s` that are not ASCII, with their script, for lookalike reasons.
pub(crate) fn foreign_chars(s: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in s.chars().filter(|c| !c.is_ascii()) {
        let item = format!(
            "{} '{c}' (U+{:04X})",
            crate::uts39::script_name(c),
            c as u32
        );
        if !parts.contains(&item) {
            parts.push(item);
        }
        if parts.len() == 3 {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The one constructor of a finding: `m` typed with domain `d`, and `intended` the domain meant
/// (the suggestion keeps the local part as typed).
pub(crate) fn finding(
    m: &Mailbox,
    d: &Domain,
    kind: Kind,
    severity: Severity,
    intended: Option<&Domain>,
    score: f64,
    reason: String,
) -> Finding {
    Finding {
        recipient: m.raw.clone(),
        address: cat(&[&m.local, "@", &d.unicode]),
        domain: d.unicode.clone(),
        kind,
        severity,
        suggestion: intended.map(|i| cat(&[&m.local, "@", &i.unicode])),
        intended: intended.map(|i| i.unicode.clone()),
        score,
        reason,
    }
}

/// The finding for a candidate: its reason names the slip and the context that made it likely.
/// `sender`: the sender's domain, when known.
pub(crate) fn slip(m: &Mailbox, d: &Domain, c: &Candidate, sender: Option<&Domain>) -> Finding {
    let i = &c.intended;
    // Plain concatenation rather than `format!`: this runs for every finding, and the
    // formatting machinery was a good part of a check's time.
    let why_context = match c.class {
        Class::Sender => match sender {
            Some(s) if s.suffix() == i.suffix() && s.ascii != i.ascii => {
                cat(&["; you write from .", i.suffix()])
            }
            _ => "; it is your own domain".to_string(),
        },
        Class::Contact => cat(&["; ", &i.unicode, " is in your contacts"]),
        _ if c.protected => cat(&["; ", &i.unicode, " is protected by your policy"]),
        _ => String::new(),
    };
    // " ('ai' swapped)": the single slip between the names, when there is one.
    let name_slip = || {
        describe(&d.ascii, &i.ascii)
            .map(|s| cat(&[" (", &s, ")"]))
            .unwrap_or_default()
    };
    let reason = match c.kind {
        Kind::SuffixTypo => cat(&[
            &d.unicode,
            " is ",
            &where_is(d.suffix()),
            ", not ",
            &i.unicode,
            ": ",
            &describe(d.suffix(), i.suffix())
                .map(|s| cat(&["the ending has ", &s]))
                .unwrap_or_else(|| "a slip in the ending".into()),
            &why_context,
        ]),
        Kind::LabelTypo => cat(&[
            &d.unicode,
            " looks like a typo of ",
            &i.unicode,
            &name_slip(),
            &why_context,
            unregistered_note(d).unwrap_or(""),
        ]),
        Kind::MissingDot => cat(&[
            &d.unicode,
            " is a different domain from ",
            &i.unicode,
            " (a dot is missing)",
            &why_context,
        ]),
        Kind::Lookalike => match foreign_chars(&d.unicode) {
            Some(chars) => cat(&[
                &d.unicode,
                " imitates ",
                &i.unicode,
                " with look-alike characters: ",
                &chars,
                &why_context,
            ]),
            None => cat(&[
                &d.unicode,
                " imitates ",
                &i.unicode,
                " with look-alike characters",
                &name_slip(),
                &why_context,
            ]),
        },
        Kind::Embedded => cat(&[
            &d.unicode,
            " is not ",
            &i.unicode,
            ": it only contains that name, and belongs to whoever owns ",
            d.registrable(),
            &why_context,
        ]),
        Kind::InvalidDomain => cat(&[
            &d.unicode,
            " cannot receive mail (.",
            d.suffix(),
            if second_levels_only(d.suffix()) {
                " takes names only under its second levels); you probably meant "
            } else {
                " is not a top-level domain); you probably meant "
            },
            &i.unicode,
            &why_context,
        ]),
        Kind::RiskyDestination => String::new(),
    };
    let reason = if !c.weak {
        reason
    } else if i.head().chars().filter(|&ch| ch != '.').count() <= 3 {
        cat(&[&reason, SHORT_NAME_NOTE])
    } else {
        // A tie's mate beside a longer name (see `Finder::one_slip_mates`).
        cat(&[&reason, TIE_NOTE])
    };
    finding(m, d, c.kind, severity_of(c), Some(i), confidence(c), reason)
}

/// Said of a weak finding of a short name.
const SHORT_NAME_NOTE: &str = "; short names are often real domains of their own, so check it";

/// Said of a weak finding beside a longer name: a tie's mate.
const TIE_NOTE: &str = "; another domain is as near, so check it";

/// The finding for a suffix that does not exist: with the popular suffix one slip away when
/// there is one (`intended`), or for a single label with no suffix at all.
pub(crate) fn impossible_suffix(
    m: &Mailbox,
    d: &Domain,
    intended: Option<&Domain>,
    severity: Severity,
) -> Finding {
    let typed = d.suffix();
    // `.za` exists (South Africa's), but takes names only under its second levels: say so.
    let no_such = if second_levels_only(typed) {
        format!(
            ".{typed} ({}) takes no names directly under it, only under its second levels",
            country(typed).unwrap_or("a country code")
        )
    } else {
        format!(".{typed} is not a top-level domain")
    };
    let reason = match intended {
        Some(i) => format!(
            "{no_such}, so mail to {} cannot arrive; you probably meant {}",
            d.unicode, i.unicode
        ),
        None if d.head().is_empty() => format!(
            "{} has no top-level domain (such as .com or .mil), so mail to it cannot arrive",
            d.unicode
        ),
        None => format!("{no_such}, so mail to {} cannot arrive", d.unicode),
    };
    let score = if intended.is_some() {
        REPAIRED_SUFFIX_SCORE
    } else {
        NO_SUFFIX_SCORE
    };
    finding(m, d, Kind::InvalidDomain, severity, intended, score, reason)
}

/// The finding for an international name under a military registry, which has none.
pub(crate) fn not_ascii_under_mil(m: &Mailbox, d: &Domain) -> Finding {
    let chars = foreign_chars(&d.unicode).unwrap_or_default();
    let reason = format!(
        "{} cannot be a real address: military registries hold only plain a-z, 0-9 and '-' names, and this one has look-alike characters ({chars})",
        d.unicode
    );
    finding(
        m,
        d,
        Kind::Lookalike,
        Severity::Block,
        None,
        NOT_ASCII_UNDER_MIL_SCORE,
        reason,
    )
}

/// The finding for a label (`label`) that mixes writing systems.
pub(crate) fn mixed_scripts(m: &Mailbox, d: &Domain, label: &str) -> Finding {
    let chars = foreign_chars(label).unwrap_or_default();
    let reason = format!(
        "'{label}' mixes writing systems ({chars}), a common disguise for a lookalike domain"
    );
    finding(
        m,
        d,
        Kind::Lookalike,
        Severity::Warn,
        None,
        MIXED_SCRIPTS_SCORE,
        reason,
    )
}

/// The finding for a destination the policy's `rule` stops, with no slip found.
pub(crate) fn risky_destination(m: &Mailbox, d: &Domain, rule: &Rule) -> Finding {
    let reason = format!(
        "your policy stops mail from {} to {}: {} is {}",
        rule.from,
        rule.to,
        d.unicode,
        where_is(d.suffix())
    );
    finding(
        m,
        d,
        Kind::RiskyDestination,
        rule.severity,
        None,
        RULE_SCORE,
        reason,
    )
}

/// What a finding's reason gains when a policy `rule` raises its severity.
pub(crate) fn policy_stops(rule: &Rule) -> String {
    format!("; your policy stops mail from {} to {}", rule.from, rule.to)
}

/// The parts joined, in one allocation (the slice type lets `&String` parts coerce).
fn cat(parts: &[&str]) -> String {
    parts.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_described() {
        assert_eq!(describe("gmial", "gmail").unwrap(), "'ai' swapped");
        assert_eq!(describe("navy.ml", "navy.mil").unwrap(), "a missing 'i'");
        assert_eq!(describe("usaf.mil", "us.af.mil").unwrap(), "a missing dot");
        assert_eq!(describe("arrny", "army").unwrap(), "'rn' typed for 'm'");
        assert_eq!(where_is("ml"), "in Mali (.ml)");
        assert_eq!(where_is("co.uk"), "in the United Kingdom (.co.uk)");
    }

    #[test]
    fn weak_findings_say_why_they_are_only_worth_a_check() {
        use crate::domain::normalize;
        let weak = |typed: &str, meant: &str| {
            let m = crate::address::parse_address_list(&format!("x@{typed}"))
                .remove(0)
                .unwrap();
            let c = Candidate {
                intended: normalize(meant).unwrap(),
                class: Class::Known,
                protected: true,
                kind: Kind::LabelTypo,
                slip_cost: 0.2,
                cost_in_context: 0.2,
                budget: 1.3,
                weak: true,
            };
            slip(&m, &normalize(typed).unwrap(), &c, None)
        };
        // A weak finding warns, protected or not, under the filter's refusal score.
        let short = weak("tim.de", "tum.de");
        assert_eq!(short.severity, Severity::Warn);
        assert!(short.score <= f64::from(crate::score::WEAK_SCORE));
        assert!(short.reason.ends_with(SHORT_NAME_NOTE), "{}", short.reason);
        // Beside a longer name it is a tie's mate.
        let mate = weak("kestrek.com", "kestrel.com");
        assert!(mate.reason.ends_with(TIE_NOTE), "{}", mate.reason);
    }
}
