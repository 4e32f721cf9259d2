//! Address parsing and judging never panic, whatever the bytes: every entry is a mailbox, an
//! error, or nothing, and a judged recipient yields findings or errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static mistype::Engine {
    static E: OnceLock<mistype::Engine> = OnceLock::new();
    E.get_or_init(mistype::Engine::with_default_policy)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for m in mistype::parse_address_list(s).into_iter().flatten() {
        // The local part and domain are slices of the input.
        assert!(s.contains(&m.local) && s.contains(&m.domain));
    }
    let e = engine();
    let ctx = e.context(Some(s), &[s.to_string()]);
    let v = e.check_recipient(s, &ctx);
    for f in &v.findings {
        assert!(f.score > 0.0 && f.score <= 1.0);
    }
});
