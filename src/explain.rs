//! Sentences a person can act on.

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
    use unicode_script::UnicodeScript;
    let mut parts: Vec<String> = Vec::new();
    for c in s.chars().filter(|c| !c.is_ascii()) {
        let item = format!("{} '{c}' (U+{:04X})", c.script().full_name(), c as u32);
        if !parts.contains(&item) {
            parts.push(item);
        }
        if parts.len() == 3 {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
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
}
