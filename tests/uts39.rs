//! The compact UTS #39 tables against the `unicode-security` crate they are generated from:
//! `data/confusables.txt` must be what that crate's data gives (re-generate it with
//! `MISTYPE_BLESS=1 cargo test --test integration uts39`), and the engine's skeletons and
//! single-script test must agree with the crate's for every code point and for real names.

use unicode_normalization::UnicodeNormalization;
use unicode_security::MixedScript;

const DATA: &str = "data/confusables.txt";

/// The domain names UTS #46 can give with `c` in them: `a{c}b` mapped, when it maps.
fn mapped_with(c: char) -> Option<String> {
    let ascii = idna::domain_to_ascii(&format!("a{c}b")).ok()?;
    let (unicode, result) = idna::domain_to_unicode(&ascii);
    result.ok().map(|_| unicode)
}

/// Every character that can stand in the NFD form of a name UTS #46 has mapped (the only names
/// the engine takes skeletons of): upper case, full-width and other mapped characters cannot.
fn appearing() -> std::collections::BTreeSet<char> {
    (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter_map(mapped_with)
        .flat_map(|name| name.nfd().collect::<Vec<char>>())
        .collect()
}

fn generate() -> String {
    let (major, minor, patch) = unicode_security::UNICODE_VERSION;
    let mut out = format!(
        "# Confusable prototypes for UTS #39 skeletons, Unicode {major}.{minor}.{patch}.\n\
         # Generated from Unicode's confusables.txt data as the unicode-security crate tabulates\n\
         # it, by tests/uts39.rs (MISTYPE_BLESS=1 cargo test --test integration uts39).\n\
         # One line per character that can stand in the NFD form of a name UTS #46 has mapped\n\
         # and is not its own skeleton: its code point, a tab, and the code points of its\n\
         # skeleton (none: the character is default-ignorable and dropped). All hexadecimal.\n\
         # build.rs packs this into the tables of src/uts39.rs.\n"
    );
    for c in appearing() {
        let s = c.to_string();
        if s.nfd().ne(s.chars()) {
            continue;
        }
        let sk: String = unicode_security::skeleton(&s).collect();
        if sk == s {
            continue;
        }
        let proto: Vec<String> = sk.chars().map(|p| format!("{:04X}", p as u32)).collect();
        out.push_str(&format!("{:04X}\t{}\n", c as u32, proto.join(" ")));
    }
    out
}

#[test]
fn uts39_data_is_generated_from_unicode_security() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    let want = generate();
    let have = std::fs::read_to_string(&path).unwrap();
    if have == want {
        return;
    }
    let (old, new) = (have.lines().count(), want.lines().count());
    // Bless mode writes the file and still fails: a blessing run is never a green run.
    if std::env::var_os("MISTYPE_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        panic!(
            "MISTYPE_BLESS: wrote {DATA} ({old} -> {new} lines); review `git diff {DATA}`, then \
             run the test again without MISTYPE_BLESS"
        );
    }
    panic!(
        "{DATA} ({old} lines) differs from the unicode-security data ({new} lines); re-generate \
         it with MISTYPE_BLESS=1 cargo test --test integration uts39 and review the diff"
    );
}

#[test]
fn uts39_skeletons_agree_for_every_code_point() {
    let mut differ = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let Some(s) = mapped_with(c) else { continue };
        let theirs: String = unicode_security::skeleton(&s).collect();
        if mistype::uts39::skeleton(&s) != theirs {
            differ.push(format!("U+{:04X}", c as u32));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ: {:?}",
        differ.len(),
        &differ[..differ.len().min(20)]
    );
}

#[test]
fn uts39_skeletons_and_scripts_agree_for_names() {
    let names = [
        "\u{430}rmy.mil",
        "p\u{430}yp\u{430}l.com",
        "xn--80ak6aa92e.com",
        "café.fr",
        "bücher.de",
        "ελλάδα.gr",
        "例え.公司.cn",
        "東京タワー.jp",
        "서울123.kr",
        "ｇｍａｉｌ.com",
        "ⅿil.gov",
        "e\u{301}\u{323}x.com",
        "ǆ.com",
        "ﬁnance.com",
        "𝐚rmy.mil",
        "ạ\u{302}.vn",
    ];
    for name in names {
        // As the engine sees names: mapped by UTS #46.
        let name = &idna::domain_to_unicode(&idna::domain_to_ascii(name).unwrap()).0;
        let theirs: String = unicode_security::skeleton(name).collect();
        assert_eq!(mistype::uts39::skeleton(name), theirs, "{name}");
        for label in name.split('.') {
            assert_eq!(
                mistype::uts39::is_single_script(label),
                label.is_single_script(),
                "{label}"
            );
        }
    }
}

#[test]
fn uts39_single_script_agrees_for_every_code_point_pair_with_latin_and_cyrillic() {
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        for s in [
            format!("a{c}"),
            format!("\u{430}{c}"),
            format!("{c}\u{4e00}"),
        ] {
            assert_eq!(
                mistype::uts39::is_single_script(&s),
                s.as_str().is_single_script(),
                "{s:?}"
            );
        }
    }
}
