//! `mistype learn`: the organisation's real correspondents, from its own past mail, as a policy
//! fragment (`known`) that the CLI, the filter and the browser module all read.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use mistype::{Engine, Finding};
use serde_json::json;

use super::audit::{formats_read, InputArgs};
use super::policy::load_engine;
use crate::exit::fail;
use crate::input::record::{domain_of, Message, Skip, Status};
use crate::reading::progress::Bar;
use crate::reading::reader::{Progress, Reader, Sink};

/// `mistype learn` options.
#[derive(Args, Debug)]
pub struct LearnArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the policy fragment (standard output when absent or "-").
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The organisation's own domain (repeatable). Without it, every sender domain that sent at
    /// least a tenth of the messages is taken as the organisation's.
    #[arg(long = "org", value_name = "DOMAIN")]
    pub org: Vec<String>,
    /// Learn a domain the organisation sent at least this many messages to...
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub min_messages: u64,
    /// ...from at least this many different senders...
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_senders: u64,
    /// ...or, whatever those counts, one it sent mail to and received at least this many
    /// messages from.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_received: u64,
}

/// A candidate that looks like a slip of a learned domain is left out when it got less than
/// one part in this many of that domain's mail.
pub const SLIP_SHARE: u64 = 10;
/// Different senders remembered per pair (enough for any sensible `--min-senders`).
const MAX_SENDERS: usize = 64;
/// Most (sender domain, recipient domain) pairs counted.
const MAX_PAIRS: usize = 1 << 21;

#[derive(Debug, Default, Clone)]
struct PairStat {
    /// Messages not refused.
    messages: u64,
    /// Messages refused (bounced, failed).
    refused: u64,
    senders: Vec<u64>,
}

/// The counts `learn` gathers while reading.
#[derive(Debug, Default)]
pub struct Tally {
    by_sender_domain: HashMap<String, u64>,
    pairs: HashMap<(String, String), PairStat>,
    messages: u64,
    dropped_pairs: u64,
    skipped: u64,
    first_skips: Vec<Skip>,
}

fn hash_of(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.to_ascii_lowercase().hash(&mut h);
    h.finish()
}

impl Tally {
    /// Count one message.
    pub fn add(&mut self, m: &Message) {
        self.messages += 1;
        let Some(sender) = m.sender.as_deref() else {
            return;
        };
        let Some(sd) = domain_of(sender) else { return };
        let sd = sd.to_ascii_lowercase();
        *self.by_sender_domain.entry(sd.clone()).or_default() += 1;
        let who = hash_of(sender);
        let mut seen: HashSet<String> = HashSet::new();
        for r in &m.rcpts {
            let Some(rd) = domain_of(&r.address) else {
                continue;
            };
            let rd = rd.to_ascii_lowercase();
            if !seen.insert(rd.clone()) {
                continue;
            }
            let key = (sd.clone(), rd);
            if !self.pairs.contains_key(&key) && self.pairs.len() >= MAX_PAIRS {
                self.dropped_pairs += 1;
                continue;
            }
            let p = self.pairs.entry(key).or_default();
            if matches!(r.status, Status::Bounced | Status::Refused) {
                p.refused += 1;
            } else {
                p.messages += 1;
            }
            if p.senders.len() < MAX_SENDERS && !p.senders.contains(&who) {
                p.senders.push(who);
            }
        }
    }
}

struct LearnSink {
    tally: Tally,
}

impl Sink for LearnSink {
    fn message(&mut self, m: Message) {
        self.tally.add(&m);
    }
    fn skip(&mut self, s: Skip) {
        self.tally.skipped += 1;
        if self.tally.first_skips.len() < 20 {
            self.tally.first_skips.push(s);
        }
    }
}

/// The thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// See `--min-messages`.
    pub min_messages: u64,
    /// See `--min-senders`.
    pub min_senders: u64,
    /// See `--min-received`.
    pub min_received: u64,
}

/// One domain's correspondence with the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correspondent {
    /// The domain (lower case).
    pub domain: String,
    /// Messages the organisation sent there (not refused).
    pub sent: u64,
    /// Messages refused by it.
    pub refused: u64,
    /// Different senders of the organisation who wrote there.
    pub senders: u64,
    /// Messages received from it.
    pub received: u64,
    /// The organisation's domain that sent there most.
    pub via: String,
}

/// What `learn` concluded.
#[derive(Debug, Default)]
pub struct Learned {
    /// The organisation's domains.
    pub org: Vec<String>,
    /// Learned, most mail first.
    pub known: Vec<Correspondent>,
    /// Left out, with why.
    pub left_out: Vec<(Correspondent, String)>,
    /// Already in the policy.
    pub already: Vec<Correspondent>,
    /// Domains mailed below the thresholds.
    pub below: u64,
}

/// Whether every finding is a warning the filter would not refuse.
fn worth_a_check(findings: &[Finding]) -> bool {
    findings
        .iter()
        .all(|f| f.severity == mistype::Severity::Warn && f.score < mistype::SURE_WARNING_SCORE)
}

fn describe(f: &Finding) -> String {
    let meant = f
        .intended
        .as_ref()
        .map(|i| format!(" of {i}"))
        .unwrap_or_default();
    format!("flagged {} ({}{meant}): {}", f.severity, f.kind, f.reason)
}

/// The organisation's domains: given, or every sender domain with at least a tenth of the
/// messages (at least the largest one).
pub fn infer_org(tally: &Tally, given: &[String]) -> Vec<String> {
    if !given.is_empty() {
        return given
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .collect();
    }
    let total: u64 = tally.by_sender_domain.values().sum();
    let mut v: Vec<(&String, &u64)> = tally.by_sender_domain.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut org: Vec<String> = v
        .iter()
        .filter(|(_, n)| **n * 10 >= total)
        .map(|(d, _)| d.to_string())
        .collect();
    if org.is_empty() {
        org.extend(v.first().map(|(d, _)| d.to_string()));
    }
    org
}

fn under(domain: &str, parent: &str) -> bool {
    domain == parent || domain.ends_with(&format!(".{parent}"))
}

/// Decide what to learn. Each candidate is judged by the engine with its organisation sender,
/// and against the domains already learned from more mail (so that a slip of a learned domain
/// is not learned beside it).
pub fn decide(engine: &Engine, tally: &Tally, org: &[String], t: Thresholds) -> Learned {
    let is_org = |d: &str| org.iter().any(|o| under(d, o));
    let mut per: HashMap<&str, Correspondent> = HashMap::new();
    let mut senders: HashMap<&str, HashSet<u64>> = HashMap::new();
    let mut via: HashMap<&str, (u64, &str)> = HashMap::new();
    for ((sd, rd), p) in &tally.pairs {
        let (s_org, r_org) = (is_org(sd), is_org(rd));
        if s_org && !r_org {
            let c = per.entry(rd).or_insert_with(|| Correspondent {
                domain: rd.clone(),
                sent: 0,
                refused: 0,
                senders: 0,
                received: 0,
                via: String::new(),
            });
            c.sent += p.messages;
            c.refused += p.refused;
            senders
                .entry(rd)
                .or_default()
                .extend(p.senders.iter().copied());
            let v = via.entry(rd).or_insert((0, sd));
            if p.messages > v.0 || (p.messages == v.0 && sd.as_str() < v.1) {
                *v = (p.messages, sd);
            }
        } else if !s_org && r_org {
            let c = per.entry(sd).or_insert_with(|| Correspondent {
                domain: sd.clone(),
                sent: 0,
                refused: 0,
                senders: 0,
                received: 0,
                via: String::new(),
            });
            c.received += p.messages;
        }
    }
    let mut cands: Vec<Correspondent> = Vec::new();
    let mut out = Learned {
        org: org.to_vec(),
        ..Learned::default()
    };
    let mut contexts: HashMap<String, mistype::Context> = HashMap::new();
    let mut flagged: Vec<(Correspondent, String)> = Vec::new();
    for (d, mut c) in per {
        c.senders = senders.get(d).map_or(0, |s| s.len() as u64);
        c.via = via
            .get(d)
            .map(|v| v.1.to_string())
            .unwrap_or_else(|| org[0].clone());
        if c.sent + c.refused > 0 {
            // Every domain mailed is judged, however rarely: a slip mailed for years by one
            // person is exactly what must be reported, not learned.
            let ctx = contexts
                .entry(c.via.clone())
                .or_insert_with(|| engine.context(Some(&format!("postmaster@{}", c.via)), &[]));
            let v = engine.check_recipient(&format!("x@{}", c.domain), ctx);
            if let Some(f) = v.findings.first() {
                // Mail both ways settles a finding that is only worth a check (a short name one
                // slip from a reference, `td.com` beside `gd.com`): nobody receives mail from a
                // slip. Anything firmer is never learned.
                if !(worth_a_check(&v.findings) && c.sent >= 1 && c.received >= t.min_received) {
                    let why = describe(f);
                    flagged.push((c, why));
                    continue;
                }
            }
        }
        let qualifies = (c.sent >= t.min_messages && c.senders >= t.min_senders)
            || (c.sent >= 1 && c.received >= t.min_received);
        if qualifies {
            cands.push(c);
        } else if c.sent > 0 {
            out.below += 1;
        }
    }
    flagged.sort_by(|a, b| {
        (b.0.sent + b.0.refused)
            .cmp(&(a.0.sent + a.0.refused))
            .then(a.0.domain.cmp(&b.0.domain))
    });
    cands.sort_by(|a, b| {
        (b.sent + b.received)
            .cmp(&(a.sent + a.received))
            .then(a.domain.cmp(&b.domain))
    });
    let policy = engine.policy();
    let listed = |d: &str| -> Option<&'static str> {
        let m = |ps: &[mistype::Pattern]| ps.iter().any(|p| p.matches(d));
        if m(&policy.protected) {
            Some("protected")
        } else if m(&policy.trusted) {
            Some("trusted")
        } else if m(&policy.known) {
            Some("known")
        } else {
            None
        }
    };
    // Learned domains so far, as contacts: `big` rebuilt every BATCH acceptances, `recent` the
    // ones since.
    const BATCH: usize = 64;
    let mut accepted: Vec<String> = Vec::new();
    let mut mail_of: HashMap<String, u64> = HashMap::new();
    let mut big_upto = 0usize;
    let mut big = engine.context(None, &[]);
    for c in cands {
        if listed(&c.domain).is_some() {
            out.already.push(c);
            continue;
        }
        let addr = format!("x@{}", c.domain);
        let v = engine.check_recipient(&addr, &big);
        if let Some(e) = v.errors.first() {
            let why = format!("cannot be judged: {}", e.message);
            out.left_out.push((c, why));
            continue;
        }
        if accepted.len() - big_upto >= BATCH {
            big = engine.context(None, &accepted);
            big_upto = accepted.len();
        }
        let recent = engine.context(None, &accepted[big_upto..]);
        let slip = [&big, &recent].iter().find_map(|ctx| {
            engine
                .check_recipient(&addr, ctx)
                .findings
                .into_iter()
                .next()
        });
        // A slip gets a small share of the mail its look-alike gets; two similar names that
        // both get plenty are two real correspondents.
        let meant = slip.as_ref().and_then(|f| f.intended.clone());
        let meant_mail = meant
            .as_deref()
            .and_then(|m| mail_of.get(m).copied())
            .unwrap_or(0);
        if let (Some(f), true) = (slip, (c.sent + c.received) * SLIP_SHARE < meant_mail) {
            let why = format!(
                "looks like a slip of {} ({meant_mail} messages, learned): {}",
                meant.as_deref().unwrap_or("a learned domain"),
                f.reason
            );
            out.left_out.push((c, why));
            continue;
        }
        mail_of.insert(c.domain.clone(), c.sent + c.received);
        accepted.push(c.domain.clone());
        out.known.push(c);
    }
    // Engine-flagged first (most mail first), then slips of learned domains.
    flagged.append(&mut out.left_out);
    out.left_out = flagged;
    out
}

/// The policy fragment.
pub fn fragment(l: &Learned, messages: u64, t: Thresholds) -> serde_json::Value {
    json!({
        "_comment": format!(
            "Learned by mistype learn from {messages} messages of {}: domains sent to at least {} times by at least {} senders, or sent to and received from at least {} times; none the engine flags.",
            l.org.join(", "), t.min_messages, t.min_senders, t.min_received
        ),
        "known": l.known.iter().map(|c| c.domain.clone()).collect::<Vec<_>>(),
        "_learned": l.known.iter().map(|c| json!({
            "domain": c.domain, "sent": c.sent, "senders": c.senders, "received": c.received,
        })).collect::<Vec<_>>(),
        "_left_out": l.left_out.iter().map(|(c, why)| json!({
            "domain": c.domain, "sent": c.sent, "senders": c.senders, "received": c.received, "reason": why,
        })).collect::<Vec<_>>(),
    })
}

/// Run `mistype learn`.
pub fn run(args: &LearnArgs) -> ExitCode {
    let (format, workers) = match args.input.prepare() {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    for o in &args.org {
        if mistype::Pattern::parse(o).is_err() || o.contains('*') {
            return fail(format!("--org '{o}' is not a domain"));
        }
    }
    let engine = match load_engine(args.input.policy.as_ref()) {
        Ok(e) => e.load_suffix_list(),
        Err(e) => return fail(e),
    };
    let progress = Arc::new(Progress::default());
    let bar = Bar::start(progress.clone(), !args.input.no_progress);
    let mut sink = LearnSink {
        tally: Tally::default(),
    };
    let mut reader = Reader::new(format, workers, progress);
    reader.read_all(&args.input.inputs, &mut sink);
    bar.stop();
    let tally = sink.tally;
    let t = Thresholds {
        min_messages: args.min_messages,
        min_senders: args.min_senders,
        min_received: args.min_received,
    };
    let org = infer_org(&tally, &args.org);
    if org.is_empty() {
        eprintln!(
            "mistype learn: {} messages read, none with a sender: nothing to learn from.",
            tally.messages
        );
    }
    let learned = if org.is_empty() {
        Learned::default()
    } else {
        decide(&engine, &tally, &org, t)
    };
    let text = match serde_json::to_string_pretty(&fragment(&learned, tally.messages, t)) {
        Ok(s) => s + "\n",
        Err(e) => return fail(e),
    };
    let written = match &args.output {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, &text).map_err(|e| format!("cannot write '{}': {e}", p.display()))
        }
        _ => io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = written {
        return fail(e);
    }
    // The account, for people.
    let mut s = format!(
        "mistype learn: {} messages from {} input(s) ({}); the organisation: {}.\n",
        tally.messages,
        reader.names.len(),
        formats_read(&reader.formats),
        if learned.org.is_empty() {
            "-".to_string()
        } else {
            learned.org.join(", ")
        }
    );
    s += &format!("Learned {} correspondent domains", learned.known.len());
    if let Some(p) = args.output.as_ref().filter(|p| p.as_os_str() != "-") {
        s += &format!(" (written to {})", p.display());
    }
    s += ".\n";
    if !learned.already.is_empty() {
        let names: Vec<&str> = learned
            .already
            .iter()
            .take(10)
            .map(|c| c.domain.as_str())
            .collect();
        s += &format!(
            "Already in the policy, not repeated: {} ({}{}).\n",
            learned.already.len(),
            names.join(", "),
            if learned.already.len() > 10 {
                ", ..."
            } else {
                ""
            }
        );
    }
    if !learned.left_out.is_empty() {
        s += &format!(
            "Left out ({}){}:\n",
            learned.left_out.len(),
            if learned.left_out.len() > 50 {
                " (the first 50; all are in the fragment's \"_left_out\")"
            } else {
                ""
            }
        );
        for (c, why) in learned.left_out.iter().take(50) {
            s += &format!(
                "  {} ({} messages, {} senders): {why}\n",
                c.domain,
                c.sent + c.refused,
                c.senders
            );
        }
    }
    if learned.below > 0 {
        s += &format!(
            "Not learned, mailed fewer times than the thresholds (--min-messages {}, --min-senders {}, --min-received {}): {} domain(s).\n",
            t.min_messages, t.min_senders, t.min_received, learned.below
        );
    }
    if tally.dropped_pairs > 0 {
        s += &format!(
            "{} sender/recipient domain pairs past the first {MAX_PAIRS} were not counted.\n",
            tally.dropped_pairs
        );
    }
    if tally.skipped > 0 {
        s += &format!("Unreadable: {} (skipped); the first:\n", tally.skipped);
        for k in &tally.first_skips {
            s += &format!(
                "  {}: {}\n",
                crate::output::report::place(&reader.names, &k.loc),
                k.reason
            );
        }
    }
    eprint!("{s}");
    ExitCode::SUCCESS
}
