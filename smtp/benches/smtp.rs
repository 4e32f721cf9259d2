//! The cost of one decision inside the service, without the network: a Postfix request read
//! by the policy protocol reader and answered (clean and misaddressed recipients), and a milter
//! RCPT packet framed and parsed. The load run over loopback is `examples/policy_load.rs`
//! (docs/smtp.md, "Performance").

use criterion::{criterion_group, criterion_main, Criterion};
use mistype_smtp::history::History;
use mistype_smtp::milter_proto::{parse, Frames};
use mistype_smtp::policy::answer;
use mistype_smtp::policy_proto::{Event, Reader};
use mistype_smtp::service::{Config, Service};
use std::hint::black_box;

fn request(rcpt: &str) -> Vec<u8> {
    format!(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.7\n\
         client_name=ws7.example\nhelo_name=ws.example\nqueue_id=\nsender=ray.k@army.mil\nrecipient={rcpt}\n\
         recipient_count=0\ninstance=1a.2b.3c\nsize=12345\nsasl_method=\nsasl_username=\n\n"
    )
    .into_bytes()
}

fn policy(c: &mut Criterion) {
    let svc = Service::new(
        mistype_smtp::engine::build(None, None)
            .unwrap_or_else(|_| mistype::Engine::with_default_policy()),
        Config::default(),
        History::new(Default::default()),
    );
    let mut g = c.benchmark_group("policy");
    // As a connection of the service does: one reader, each request given back once answered.
    let mut reader = Reader::new();
    let mut out: Vec<Event> = Vec::with_capacity(1);
    let mut now = 0;
    let mut answer_one = |bytes: &[u8], out: &mut Vec<Event>| {
        reader.feed(black_box(bytes), out);
        now += 1;
        for ev in out.drain(..) {
            black_box(answer(&svc, &ev, now, "bench"));
            reader.recycle(ev);
        }
    };
    for (name, rcpt) in [("clean", "d.jones@navy.mil"), ("misaddressed", "c@navy.ml")] {
        let bytes = request(rcpt);
        g.bench_function(format!("read and answer a {name} recipient"), |b| {
            b.iter(|| answer_one(&bytes, &mut out))
        });
    }
    // A domain the sender has not written to before: the engine judges it (a domain found clean
    // is then remembered for the sender's domain, up to 4,096 of them: after the first 4,096 of
    // these 100,000 domains, the engine judges each).
    let fresh: Vec<Vec<u8>> = (0..100_000)
        .map(|i| request(&format!("x@partner{i}.example.com")))
        .collect();
    let mut i = 0;
    g.bench_function(
        "read and answer a clean recipient of a domain new to the sender",
        |b| {
            b.iter(|| {
                i = (i + 1) % fresh.len();
                answer_one(&fresh[i], &mut out)
            })
        },
    );
    let bytes = request("d.jones@navy.mil");
    let mut r = Reader::new();
    g.bench_function("read a request only", |b| {
        b.iter(|| {
            r.feed(black_box(&bytes), &mut out);
            for ev in out.drain(..) {
                r.recycle(ev);
            }
        })
    });
    g.finish();
}

fn milter(c: &mut Criterion) {
    let mut pkt = 13u32.to_be_bytes().to_vec();
    pkt.push(b'R');
    pkt.extend_from_slice(b"<c@navy.ml>\0");
    c.bench_function("milter: frame and parse a RCPT packet", |b| {
        b.iter(|| {
            let mut f = Frames::new();
            f.feed(black_box(&pkt));
            if let Ok(Some(p)) = f.next_packet() {
                black_box(parse(&p).ok());
            }
        })
    });
}

criterion_group!(benches, policy, milter);
criterion_main!(benches);
