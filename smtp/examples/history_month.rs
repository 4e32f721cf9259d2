//! What the sender history changes: a generated month of an organisation's outgoing mail (the
//! audit benchmark's generator, `mistype_testdata::maillog`: 10,000 people, 8 messages a working
//! day, one recipient in 2,000 a slip of the domain meant), every recipient judged by the service
//! in order, as the policy service would at RCPT, once with each sender's history and once
//! without. Counts what was refused and what was flagged, among the slips and among the rest.
//!
//!   cargo run --release -p mistype-smtp --example history_month [PEOPLE DAYS PER_DAY]
//!
//! The history runs twice: with the service's default threshold (a domain written to 3 times is
//! a contact) and with 1 (every domain once written to).

use std::collections::{HashMap, HashSet};

use mistype_smtp::decide::Decision;
use mistype_smtp::history::History;
use mistype_smtp::service::{Config, Sender, Service};

use mistype_testdata::{lcg, maillog};

#[derive(Default, Debug)]
struct Tally {
    slips: u64,
    slips_refused: u64,
    slips_flagged: u64,
    others: u64,
    others_refused: u64,
    others_flagged: u64,
    /// Slips and slips refused, by what was meant: the organisation, a provider, a partner.
    by_class: [(u64, u64); 3],
}

/// Whether `a` becomes `b` by one change, insertion, deletion or swap of neighbours.
fn one_slip(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let s = a[p..]
        .iter()
        .rev()
        .zip(b[p..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (x, y) = (&a[p..a.len() - s], &b[p..b.len() - s]);
    matches!(
        (x.len(), y.len()),
        (1, 1) | (0, 1) | (1, 0) | (0, 2) | (2, 0)
    ) || (x.len() == 2 && y.len() == 2 && x[0] == y[1] && x[1] == y[0])
}

fn class_of(slip: &str) -> usize {
    let (name, _) = slip.split_once('.').unwrap_or((slip, ""));
    if one_slip(slip, maillog::ORG) || maillog::ORG.starts_with(&format!("{name}.")) {
        0
    } else if maillog::PROVIDERS
        .iter()
        .any(|p| one_slip(slip, p) || p.starts_with(&format!("{name}.")))
    {
        1
    } else {
        2
    }
}

fn run(log: &str, legit: &HashSet<String>, history: Option<u32>) -> Result<Tally, String> {
    let mut cfg = Config::default();
    cfg.history.min_messages = history.unwrap_or(1);
    let svc = Service::new(
        mistype_smtp::engine::build(None, None)?,
        cfg.clone(),
        History::new(cfg.history),
    );
    let mut users: HashMap<&str, String> = HashMap::new();
    let mut t = Tally::default();
    for line in log.lines() {
        // "... postfix/smtpd[N]: QID: client=..., sasl_username=USER"
        let Some((_, rest)) = line.split_once("]: ") else {
            continue;
        };
        let Some((qid, rest)) = rest.split_once(": ") else {
            continue;
        };
        if let Some(user) = rest.split(", sasl_username=").nth(1) {
            users.insert(qid, format!("{user}@{}", maillog::ORG));
            continue;
        }
        let Some(rcpt) = rest
            .strip_prefix("to=<")
            .and_then(|r| r.split_once('>'))
            .map(|r| r.0)
        else {
            continue;
        };
        let Some(user) = users.get(qid) else { continue };
        let who = Sender {
            address: user.clone(),
            authenticated: history.is_some(),
        };
        let d = svc.decide(&who, rcpt, 0);
        svc.settle(&who, rcpt, &d, 0);
        let domain = rcpt.rsplit('@').next().unwrap_or("");
        let refused = matches!(d, Decision::Refuse(_) | Decision::Confirmed(_));
        let flagged = d.finding().is_some();
        if legit.contains(domain) {
            t.others += 1;
            t.others_refused += u64::from(refused);
            t.others_flagged += u64::from(flagged);
        } else {
            t.slips += 1;
            t.slips_refused += u64::from(refused);
            t.slips_flagged += u64::from(flagged);
            let c = &mut t.by_class[class_of(domain)];
            c.0 += 1;
            c.1 += u64::from(refused);
        }
    }
    Ok(t)
}

fn main() -> Result<(), String> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let people = args.first().copied().unwrap_or(10_000);
    let days = args.get(1).copied().unwrap_or(30);
    let per_day = args.get(2).copied().unwrap_or(8);
    let seed = 2026;
    let mut buf = Vec::new();
    let w = maillog::write_postfix_log(&mut buf, people, days, per_day, seed)
        .map_err(|e| e.to_string())?;
    let log = String::from_utf8(buf).unwrap_or_default();
    // Every domain the generator means (the organisation, the providers, its partners): a
    // recipient domain outside it is an injected slip.
    let mut rng = lcg::Lcg::new(seed);
    let mut legit: HashSet<String> = maillog::partner_domains(3000, &mut rng)
        .into_iter()
        .collect();
    legit.extend(maillog::PROVIDERS.iter().map(|s| s.to_string()));
    legit.insert(maillog::ORG.to_string());
    println!(
        "{days} days, {people} people: {} messages, {} recipients, {} slips injected",
        w.messages, w.recipients, w.slips
    );
    println!("| | slips refused | slips flagged | other recipients refused | other recipients flagged | slips of the organisation / providers / partners refused |");
    println!("|---|---|---|---|---|---|");
    for (name, history) in [
        ("without history", None),
        (
            "each sender's history, contacts from 3 messages (default)",
            Some(3),
        ),
        ("each sender's history, contacts from 1 message", Some(1)),
    ] {
        let t = std::time::Instant::now();
        let r = run(&log, &legit, history)?;
        let pct = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
        let cls: Vec<String> = r
            .by_class
            .iter()
            .map(|(n, k)| format!("{k} of {n}"))
            .collect();
        println!(
            "| {name} | {} of {} ({:.1}%) | {} ({:.1}%) | {} of {} ({:.4}%) | {} ({:.4}%) | {} |",
            r.slips_refused,
            r.slips,
            pct(r.slips_refused, r.slips),
            r.slips_flagged,
            pct(r.slips_flagged, r.slips),
            r.others_refused,
            r.others,
            pct(r.others_refused, r.others),
            r.others_flagged,
            pct(r.others_flagged, r.others),
            cls.join(" / "),
        );
        eprintln!("({name}: {:.1} s)", t.elapsed().as_secs_f64());
    }
    Ok(())
}
