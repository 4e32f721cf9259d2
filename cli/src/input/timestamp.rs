//! Times as sortable text: `2026-11-29 20:07:57` when the input gives a year, `--11-29 20:07:57`
//! (ISO 8601's year-less form) for classic syslog lines, which have none. Pure functions.

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn month(name: &str) -> Option<u32> {
    let n = name.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == n).map(|i| i as u32 + 1)
}

/// `HH:MM:SS` with an optional fraction; the fraction is dropped.
fn clock(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.split('.').next()?;
    let mut it = s.split(':');
    let (h, m, sec) = (
        num(it.next()?)?,
        num(it.next()?)?,
        num(it.next().unwrap_or("0"))?,
    );
    (h < 24 && m < 60 && sec < 61 && it.next().is_none()).then_some((h, m, sec))
}

fn full(y: u32, mo: u32, d: u32, (h, m, s): (u32, u32, u32)) -> Option<String> {
    ((1970..=9999).contains(&y) && (1..=12).contains(&mo) && (1..=31).contains(&d))
        .then(|| format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}"))
}

/// A classic syslog stamp at the start of `line` (`Nov 29 20:07:57`, day space-padded or not):
/// the sortable text and the number of bytes it took.
pub fn syslog_prefix(line: &str) -> Option<(String, usize)> {
    let b = line.as_bytes();
    if b.len() < 15 || b[3] != b' ' {
        return None;
    }
    let mo = month(&line[..3])?;
    let rest = &line[4..];
    let rest_trim = rest.trim_start();
    let skipped = rest.len() - rest_trim.len();
    let sp = rest_trim.find(' ')?;
    let day = num(&rest_trim[..sp])?;
    let after = &rest_trim[sp + 1..];
    let end = after.find(' ').unwrap_or(after.len());
    let (h, m, s) = clock(&after[..end])?;
    if !(1..=31).contains(&day) {
        return None;
    }
    let used = 4 + skipped + sp + 1 + end;
    Some((format!("--{mo:02}-{day:02} {h:02}:{m:02}:{s:02}"), used))
}

/// A date and time with a year: RFC 3339 (`2026-11-29T20:07:57.123+00:00`), Exim's
/// `2026-11-29 20:07:57`, `2026/11/29 20:07:57`, the US form of PowerShell exports
/// (`11/29/2026 8:07:57 PM`). Offsets and zone names are dropped (the time as written).
pub fn parse(text: &str) -> Option<String> {
    let t = text.trim().trim_matches('"');
    let (date, rest) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], t[i + 1..].trim_start()),
        None => (t, ""),
    };
    let time_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(rest.len());
    let mut hms = if rest.is_empty() {
        (0, 0, 0)
    } else {
        clock(&rest[..time_end])?
    };
    let tail = rest[time_end..].trim_start().to_ascii_lowercase();
    if tail.starts_with("pm") && hms.0 < 12 {
        hms.0 += 12;
    } else if tail.starts_with("am") && hms.0 == 12 {
        hms.0 = 0;
    }
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    if parts.len() != 3 {
        return None;
    }
    let (a, b, c) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if parts[0].len() == 4 {
        full(a, b, c, hms)
    } else if parts[2].len() == 4 && date.contains('/') {
        full(c, a, b, hms) // month/day/year
    } else {
        None
    }
}

/// Any stamp a log line starts with: syslog's or one with a year.
pub fn any(stamp: &str) -> Option<String> {
    syslog_prefix(stamp)
        .map(|(t, _)| t)
        .or_else(|| parse(stamp))
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn from_unix(secs: i64) -> Option<String> {
    if !(0..253_402_300_800).contains(&secs) {
        return None;
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as u32;
    full(y, m, d, (rem / 3600, rem / 60 % 60, rem % 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_stamps() {
        assert_eq!(
            syslog_prefix("Nov 29 20:07:57 host postfix/qmgr[1]: x"),
            Some(("--11-29 20:07:57".into(), 15))
        );
        assert_eq!(
            syslog_prefix("Mar  2 01:02:03.123456 host x"),
            Some(("--03-02 01:02:03".into(), 22))
        );
        assert_eq!(syslog_prefix("Foo 29 20:07:57 host"), None);
        assert_eq!(syslog_prefix("Nov 32 20:07:57 host"), None);
        assert_eq!(syslog_prefix("Nov"), None);
    }

    #[test]
    fn dated_stamps() {
        let want = Some("2026-11-29 20:07:57".to_string());
        assert_eq!(parse("2026-11-29T20:07:57.123456+00:00"), want);
        assert_eq!(parse("2026-11-29 20:07:57 +0100"), want);
        assert_eq!(parse("2026-11-29T20:07:57.1234567Z"), want);
        assert_eq!(parse("11/29/2026 8:07:57 PM"), want);
        assert_eq!(parse("2026/11/29 20:07:57 UTC"), want);
        assert_eq!(
            parse("12/1/2026 12:00:00 AM").as_deref(),
            Some("2026-12-01 00:00:00")
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2026-13-01 00:00:00"), None);
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(from_unix(0).as_deref(), Some("1970-01-01 00:00:00"));
        assert_eq!(
            from_unix(1_795_982_877).as_deref(),
            Some("2026-11-29 20:07:57")
        );
        assert_eq!(
            from_unix(951_782_400).as_deref(),
            Some("2000-02-29 00:00:00")
        );
        assert_eq!(from_unix(-1), None);
    }
}
