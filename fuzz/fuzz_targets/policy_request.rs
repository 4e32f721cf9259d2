//! mistype-smtpd's policy protocol: any bytes, cut anywhere, are read into requests, and every
//! request gets exactly one one-line answer; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistype_smtp::history::History;
use mistype_smtp::policy::answer;
use mistype_smtp::policy_proto::{reply, Reader};
use mistype_smtp::service::{Config, Service};
use std::sync::OnceLock;

fn service() -> &'static Service {
    static S: OnceLock<Service> = OnceLock::new();
    S.get_or_init(|| {
        Service::new(mistype::Engine::with_default_policy(), Config::default(), History::new(Default::default()))
    })
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let (mut whole, mut split) = (Vec::new(), Vec::new());
    Reader::new().feed(data, &mut whole);
    let mut r = Reader::new();
    r.feed(&data[..cut], &mut split);
    r.feed(&data[cut..], &mut split);
    assert_eq!(whole, split, "the same bytes cut elsewhere read differently");
    let ends = data.iter().filter(|&&b| b == b'\n').count();
    assert!(whole.len() <= ends);
    for (i, ev) in whole.iter().enumerate() {
        let a = answer(service(), ev, i as u64, "fuzz");
        let line = reply(&a.action);
        assert!(line.starts_with("action=") && line.ends_with("\n\n"));
        assert_eq!(line.matches('\n').count(), 2, "{line:?}");
    }
});
