//! mistype-smtpd's milter protocol: any bytes are framed, parsed and answered by a milter
//! session without a panic, and a lying length never makes the reader hold more than one packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistype_smtp::history::History;
use mistype_smtp::milter::{DecideAt, OnBlock, Session, Settings};
use mistype_smtp::milter_proto::{parse, Frames, MAX_PACKET};
use mistype_smtp::service::{Config, Service};
use std::sync::OnceLock;

fn service() -> &'static Service {
    static S: OnceLock<Service> = OnceLock::new();
    S.get_or_init(|| {
        Service::new(mistype::Engine::with_default_policy(), Config::default(), History::new(Default::default()))
    })
}

fuzz_target!(|data: &[u8]| {
    let decide_at = match data.first().map(|b| b % 3) {
        Some(0) => DecideAt::Rcpt,
        Some(1) => DecideAt::End,
        _ => DecideAt::Auto,
    };
    let mut session = Session::new(Settings { decide_at, on_block: OnBlock::Reject });
    let mut frames = Frames::new();
    for chunk in data.chunks(7) {
        frames.feed(chunk);
        loop {
            match frames.next_packet() {
                Ok(Some(p)) => {
                    if let Ok(cmd) = parse(&p) {
                        let step = session.handle(service(), cmd, 0);
                        for r in step.replies {
                            let bytes = r.encode();
                            let len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                            assert_eq!(len as usize + 4, bytes.len());
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(frames.pending() <= MAX_PACKET + 4 + 7);
    }
});
