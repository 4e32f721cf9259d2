//! The engine: built once from a policy, then judges requests.
//!
//! For each recipient domain it asks, in order:
//! 1. Is it a reference (policy, default, sender, contacts) or under one? Then only destination
//!    rules can apply.
//! 2. Which references could it be a slip of? Candidates come from indexes (same label with
//!    another suffix, labels one edit apart, joined labels, lookalike skeletons, embedded names,
//!    a dropped subdomain dot), never from a scan; the sender's own suffix adds one candidate.
//! 3. How likely is each slip? A weighted edit distance (see `slips`), lowered by context (the
//!    sender's own domain and suffix, contacts, protected domains), against a budget that grows
//!    with the length of the name: short names need a near-certain slip.
//! 4. The best candidate wins; two within a hair of each other are both reported (never the
//!    first in a list). No candidate: an impossible suffix or mixed scripts still get a finding.
//! 5. Destination rules (`*.mil` → `*.ml`) add or raise a finding.

use crate::address::{clip, parse_address_list, Mailbox};
use crate::domain::{
    dotgov_registered, find_byte, has_deeper_suffixes, is_known_suffix, last_label, normalize,
    prepared, Domain,
};
use crate::explain;
use crate::index::{Class, Ref, RefSet};
use crate::policy::{Pattern, Policy, Rule};
use crate::slips::{cost, cost_named, skeleton};
use crate::verdict::{CheckRequest, Finding, Kind, RecipientError, Severity, Verdict};
use crate::Error;

/// Caps on the work done for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most recipients judged per request; the rest get one `limit` error.
    pub max_recipients: usize,
    /// Most contacts read per request; the rest are ignored.
    pub max_contacts: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_recipients: 1000,
            max_contacts: 10_000,
        }
    }
}

/// The detection engine. Build it once (it indexes every reference domain), share it, and call
/// [`Engine::check`] per request.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    refs: RefSet,
    /// The protected patterns' names (a domain pattern covers its subdomains, a suffix pattern
    /// everything under it: both are "this name or a parent of it").
    protected_set: crate::index::FastSet<String>,
    /// The bases of the protected suffix patterns (`mil`, `gov.uk`, `mod.uk`): namespaces that
    /// belong to a government or its forces as a whole.
    namespace_set: crate::index::FastSet<String>,
    limits: Limits,
}

#[derive(Debug, Clone)]
struct Sender {
    domain: Domain,
    /// The sender's own domain is protected (government, military, defence).
    protected: bool,
}

/// The per-request context: the sender and the sender's contacts, prepared once and reused for
/// every recipient (and every keystroke in the browser).
#[derive(Debug, Clone, Default)]
pub struct Context {
    sender: Option<Sender>,
    refs: RefSet,
    errors: Vec<RecipientError>,
}

/// A possible intended domain for a typed one.
#[derive(Debug, Clone)]
struct Cand {
    intended: Domain,
    class: Class,
    protected: bool,
    kind: Kind,
    /// Raw slip cost.
    cost: f32,
    /// Cost after context.
    eff: f32,
    budget: f32,
}

/// Context lowers the cost of a slip towards a reference and raises the budget.
fn bonus(class: Class) -> f32 {
    match class {
        Class::Sender => 0.3,
        Class::Contact => 0.25,
        Class::Protected => 0.1,
        Class::Trusted => 0.05,
        Class::Known => 0.0,
    }
}

/// How much slip a name of this many characters can absorb and still be recognised.
fn budget_for(head_len: usize) -> f32 {
    match head_len {
        0..=2 => 0.35,
        // Every three-letter name is somebody's: one likely slip at most.
        3 => 0.6,
        4 => 0.75,
        5..=6 => 1.05,
        7..=9 => 1.3,
        _ => 1.5,
    }
}

/// Whether `d` sits in a closed registry and is not a name anyone could have registered there:
/// anything under `.mil` that is not a reference, a short `.gov` name missing from CISA's
/// registry, or a `.gov.uk` name too short for its rules.
fn closed_and_unregistered(d: &Domain) -> bool {
    let s = d.suffix();
    if s == "mil" || s.starts_with("mil.") || s.ends_with(".mil") {
        return true;
    }
    unregistered_note(d).is_some()
}

/// Why a government name cannot exist, for the finding's reason: a short `.gov` name that
/// CISA's registry does not hold, or a `.gov.uk` name under the 3 characters GOV.UK's naming
/// rules require. Nobody can receive mail there.
fn unregistered_note(d: &Domain) -> Option<&'static str> {
    match d.suffix() {
        "gov" if dotgov_registered(d.label()) == Some(false) => {
            Some("; no such .gov name is registered")
        }
        "gov.uk" if (1..3).contains(&d.label().len()) => {
            Some("; .gov.uk names have at least 3 characters")
        }
        _ => None,
    }
}

/// Prefixes that name a country, region or mail subdomain (`se.ibm.com` typed as `seibm.com`).
const SUBDOMAIN_PREFIXES: &[&str] = &[
    "us", "uk", "ca", "au", "de", "fr", "se", "nl", "jp", "cn", "in", "br", "it", "es", "ch", "be",
    "at", "dk", "no", "fi", "ie", "il", "kr", "sg", "nz", "za", "mx", "pl", "eu", "aus", "chn",
    "usa", "ger", "deu", "fra", "jpn", "ind", "bra", "can", "gbr", "apac", "emea",
];

/// Popular suffixes tried when a typed suffix does not exist, with a small prior cost.
const REPAIR_SUFFIXES: &[(&str, f32)] = &[
    ("com", 0.0),
    ("net", 0.05),
    ("org", 0.05),
    ("edu", 0.1),
    ("gov", 0.1),
    ("mil", 0.1),
    ("int", 0.15),
    ("info", 0.1),
    ("biz", 0.15),
    ("io", 0.1),
    ("co", 0.1),
    ("uk", 0.1),
    ("co.uk", 0.1),
    ("de", 0.1),
    ("fr", 0.1),
    ("nl", 0.1),
    ("it", 0.1),
    ("es", 0.1),
    ("ca", 0.1),
    ("us", 0.1),
    ("ru", 0.1),
    ("jp", 0.1),
    ("cn", 0.1),
    ("br", 0.1),
    ("in", 0.1),
    ("au", 0.1),
    ("ch", 0.1),
    ("se", 0.1),
    ("no", 0.1),
    ("dk", 0.1),
    ("fi", 0.1),
    ("pl", 0.1),
    ("be", 0.1),
    ("at", 0.1),
    ("cz", 0.1),
];

/// Two candidates this close are equally likely: report both.
const TIE: f32 = 0.08;

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

fn severity_of(c: &Cand) -> Severity {
    if c.protected {
        Severity::Block
    } else {
        Severity::Warn
    }
}

/// Whether `ascii` or one of its parent domains is in `set`: one lookup per parent.
fn covered(set: &crate::index::FastSet<String>, ascii: &str) -> bool {
    let mut s = ascii;
    loop {
        if set.contains(s) {
            return true;
        }
        match find_byte(s, b'.') {
            Some(p) => s = &s[p + 1..],
            None => return false,
        }
    }
}

impl Engine {
    /// The engine with the embedded default policy.
    pub fn with_default_policy() -> Engine {
        Engine::build(Policy::embedded(), std::iter::empty())
    }

    /// Build from a validated policy (its `defaults` flag adds the embedded default policy).
    pub fn new(policy: &Policy) -> Engine {
        Engine::with_references(policy, std::iter::empty())
    }

    /// Build from a policy plus extra reference domains (each `(domain, class)` with class
    /// `"protected"`, `"trusted"` or `"known"`), e.g. a large directory. Unusable names are
    /// skipped. The benchmarks build 100,000-reference engines this way.
    pub fn with_references<'a>(
        policy: &Policy,
        extra: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Engine {
        Engine::build(policy.resolved(), extra)
    }

    /// Build from a resolved policy (taken, not copied: the browser builds the default at every
    /// start) plus extra references.
    fn build<'a>(policy: Policy, extra: impl IntoIterator<Item = (&'a str, &'a str)>) -> Engine {
        // The suffix list is indexed when a name first needs it: the default policy's names
        // come split from build.rs, so a default engine needs none of it.
        let protected_set = policy
            .protected
            .iter()
            .filter_map(|p| match p {
                Pattern::Domain(d) | Pattern::Suffix(d) => Some(d.clone()),
                Pattern::Any => None,
            })
            .collect();
        let namespace_set = policy
            .protected
            .iter()
            .filter_map(|p| match p {
                Pattern::Suffix(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        let mut e = Engine {
            refs: RefSet::default(),
            protected_set,
            namespace_set,
            policy,
            limits: Limits::default(),
        };
        let extra = extra.into_iter();
        let mut refs = Vec::with_capacity(
            e.policy.known.len()
                + e.policy.trusted.len()
                + e.policy.protected.len()
                + extra.size_hint().0,
        );
        let lists = [
            (&e.policy.known, Class::Known),
            (&e.policy.trusted, Class::Trusted),
            (&e.policy.protected, Class::Protected),
        ];
        for (list, class) in lists {
            for p in list {
                if let Pattern::Domain(d) = p {
                    if let Ok(domain) = prepared(d).map_or_else(|| normalize(d), Ok) {
                        let protected = e.is_protected(&domain.ascii);
                        refs.push(Ref::new(domain, class, protected));
                    }
                }
            }
        }
        for (name, class) in extra {
            let class = match class {
                "protected" => Class::Protected,
                "trusted" => Class::Trusted,
                _ => Class::Known,
            };
            if let Ok(domain) = normalize(name) {
                let protected = class == Class::Protected || e.is_protected(&domain.ascii);
                refs.push(Ref::new(domain, class, protected));
            }
        }
        e.refs = RefSet::build(refs);
        e
    }

    /// Parse the whole Public Suffix List now. It is otherwise parsed a top-level domain at a
    /// time, the first time a name needs it, which keeps start-up short (the browser); a host
    /// that builds its engine once at configuration time and then serves requests (the proxy
    /// filter) calls this so that no request pays for a parse. Idempotent.
    pub fn load_suffix_list(self) -> Engine {
        crate::domain::parse_all();
        self
    }

    /// Parse, validate and build from policy JSON.
    pub fn from_policy_json(json: &str) -> Result<Engine, Error> {
        Ok(Engine::new(&Policy::from_json(json)?))
    }

    /// Change the per-request caps.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// The resolved policy this engine applies.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many reference domains the engine indexes.
    pub fn reference_count(&self) -> usize {
        self.refs.len()
    }

    /// Whether a protected domain or suffix covers `ascii`: one set lookup per parent domain.
    fn is_protected(&self, ascii: &str) -> bool {
        covered(&self.protected_set, ascii)
    }

    /// Whether a protected suffix pattern covers `ascii` (or `ascii` is its base: `mod.uk`).
    fn in_namespace(&self, ascii: &str) -> bool {
        covered(&self.namespace_set, ascii)
    }

    /// Prepare the sender context: the sender's domain and suffix, and the contacts (addresses or
    /// bare domains; unusable ones are skipped), indexed like the policy's references.
    pub fn context(&self, from: Option<&str>, contacts: &[String]) -> Context {
        let mut errors = Vec::new();
        let mut refs = Vec::new();
        let mut sender = None;
        if let Some(f) = from.filter(|f| !f.trim().is_empty()) {
            match parse_address_list(f).into_iter().next() {
                Some(Ok(m)) => match normalize(&m.domain) {
                    Ok(domain) => {
                        let protected = self.is_protected(&domain.ascii);
                        refs.push(Ref::new(domain.clone(), Class::Sender, protected));
                        sender = Some(Sender { domain, protected });
                    }
                    Err(e) => errors.push(RecipientError {
                        recipient: clip(f, 256),
                        kind: "sender".into(),
                        message: format!("the sender's domain: {e}; judged without sender context"),
                    }),
                },
                Some(Err(e)) => errors.push(RecipientError {
                    recipient: clip(f, 256),
                    kind: "sender".into(),
                    message: format!("the sender: {}; judged without sender context", e.message),
                }),
                None => {}
            }
        }
        for c in contacts.iter().take(self.limits.max_contacts) {
            let domain_text = match c.rfind('@') {
                Some(_) => match parse_address_list(c).into_iter().next() {
                    Some(Ok(m)) => m.domain,
                    _ => continue,
                },
                None => c.clone(),
            };
            if let Ok(domain) = normalize(&domain_text) {
                let protected = self.is_protected(&domain.ascii);
                refs.push(Ref::new(domain, Class::Contact, protected));
            }
        }
        Context {
            sender,
            refs: RefSet::build(refs),
            errors,
        }
    }

    /// Judge one request.
    pub fn check(&self, request: &CheckRequest) -> Verdict {
        let ctx = self.context(request.from.as_deref(), &request.contacts);
        let mut verdict = Verdict::empty(request.id.clone());
        verdict.errors.extend(ctx.errors.iter().cloned());
        let mut seen = 0usize;
        for entry in request.recipients() {
            self.judge_entry(entry, &ctx, &mut verdict, &mut seen);
        }
        verdict.settle();
        verdict
    }

    /// Judge one recipient entry (which may hold a list) in a prepared context; the verdict's
    /// `id` is `null`.
    pub fn check_recipient(&self, recipient: &str, ctx: &Context) -> Verdict {
        let mut verdict = Verdict::empty(serde_json::Value::Null);
        let mut seen = 0usize;
        self.judge_entry(recipient, ctx, &mut verdict, &mut seen);
        verdict.settle();
        verdict
    }

    fn judge_entry(&self, entry: &str, ctx: &Context, v: &mut Verdict, seen: &mut usize) {
        if entry.trim().is_empty() {
            v.errors.push(RecipientError {
                recipient: String::new(),
                kind: "syntax".into(),
                message: "an empty recipient; expected an address such as name@example.org".into(),
            });
            return;
        }
        for r in parse_address_list(entry) {
            *seen += 1;
            if *seen > self.limits.max_recipients {
                if *seen == self.limits.max_recipients + 1 {
                    v.errors.push(RecipientError {
                        recipient: clip(entry, 256),
                        kind: "limit".into(),
                        message: format!(
                            "more than {} recipients in one request; the rest were not judged",
                            self.limits.max_recipients
                        ),
                    });
                }
                return;
            }
            match r {
                Ok(m) => match normalize(&m.domain) {
                    Ok(d) => v.findings.extend(self.judge(&m, &d, ctx)),
                    Err(e) => v.errors.push(RecipientError {
                        recipient: clip(&m.raw, 256),
                        kind: "domain".into(),
                        message: format!("in '{}': {e}", clip(&m.address(), 80)),
                    }),
                },
                Err(e) => v.errors.push(RecipientError {
                    recipient: e.input,
                    kind: e.kind.into(),
                    message: e.message,
                }),
            }
        }
    }

    /// All findings for one mailbox.
    fn judge(&self, m: &Mailbox, d: &Domain, ctx: &Context) -> Vec<Finding> {
        let mut out = Vec::new();
        let cover = self.refs.covering(d).or_else(|| ctx.refs.covering(d));
        if let Some(r) = cover.filter(|r| r.domain.ascii != d.ascii) {
            // Under a reference: only a slip of one of its listed subdomains (`uss.af.mil` for
            // `us.af.mil`) is worth a word; the rest is the owner's business.
            let parent = format!(".{}", r.domain.ascii);
            let cands: Vec<Cand> = self
                .candidates(d, ctx)
                .into_iter()
                .filter(|c| c.intended.ascii.ends_with(&parent) && c.kind != Kind::Embedded)
                .collect();
            if let Some(c) = cands.first() {
                out.push(self.finding(m, d, c, ctx));
            }
        }
        let legit = cover.is_some();
        if !legit {
            let cands = self.candidates(d, ctx);
            let best = cands.first().map(|c| c.eff);
            let mut tied: Vec<&Cand> = cands
                .iter()
                .filter(|c| best.is_some_and(|b| c.eff - b <= TIE))
                .collect();
            // Equally likely: report all, the most severe first (never list order).
            tied.sort_by(|a, b| {
                severity_of(b)
                    .cmp(&severity_of(a))
                    .then(a.eff.total_cmp(&b.eff))
                    .then(a.intended.ascii.cmp(&b.intended.ascii))
            });
            out.extend(tied.into_iter().map(|c| self.finding(m, d, c, ctx)));
            if out.is_empty() {
                if let Some(f) = self.orphan(m, d) {
                    out.push(f);
                }
            }
        }
        self.apply_rules(m, d, ctx, &mut out);
        out
    }

    /// Candidates within budget, best first, one per intended domain.
    fn candidates(&self, d: &Domain, ctx: &Context) -> Vec<Cand> {
        let mut ids = Vec::with_capacity(64);
        let mut ctx_ids = Vec::with_capacity(16);
        let label = d.label();
        let peer = ctx.sender.as_ref().is_some_and(|s| s.protected);
        let head = d.head();
        // Built once, and only when they differ from the label.
        let joined = find_byte(head, b'.').map(|_| head.replace('.', ""));
        // Homoglyphs folded, and `ii` read as `ll` (`weIIpoint`: a capital I looks like an l).
        let folded = ["rn", "vv", "cl", "0", "1", "ii"]
            .iter()
            .any(|g| label.contains(g))
            .then(|| crate::slips::fold_ascii(label).replace("ii", "ll"));
        let sk = skeleton(&d.unicode);
        // A dot dropped between the name and a two-label suffix (`modgov.uk` for `mod.gov.uk`):
        // the names that end where such a suffix begins. Only under top-level domains that
        // have such suffixes, so `.com` names pay nothing.
        let mut run_in: Vec<&str> = Vec::new();
        if d.suffix_known
            && find_byte(d.suffix(), b'.').is_none()
            && has_deeper_suffixes(d.suffix())
        {
            for k in 2..=4.min(label.len().saturating_sub(2)) {
                let (name, second) = label.split_at(label.len() - k);
                if is_known_suffix(&cat(&[second, ".", d.suffix()])) {
                    run_in.push(name);
                }
            }
        }
        for (set, out) in [(&self.refs, &mut ids), (&ctx.refs, &mut ctx_ids)] {
            for name in &run_in {
                set.by_label(name, out);
            }
            if !label.is_empty() {
                set.by_label(label, out);
                set.near_label(label, false, out);
                set.near_short_label(label, out);
            }
            // The label with homoglyphs folded (`socorn` → `socom`).
            if let Some(folded) = folded.as_deref().filter(|f| *f != label && !f.is_empty()) {
                set.by_label(folded, out);
                set.near_label(folded, false, out);
            }
            // Each label of a longer head (`mod.gv.uk`: a slip inside a multi-label suffix).
            if find_byte(head, b'.').is_some() {
                for l in head.split('.') {
                    set.by_label(l, out);
                }
            }
            if let Some(joined) = joined.as_deref().filter(|j| *j != label && !j.is_empty()) {
                set.by_label(joined, out);
                set.near_label(joined, false, out);
            }
            set.by_skeleton(&sk, out);
            if head.is_empty() {
                // A single label such as `gmail` or `gmailcom`.
                set.by_label(&d.ascii, out);
            }
        }
        let mut cands: Vec<Cand> = Vec::new();
        for (set, list) in [(&self.refs, &ids), (&ctx.refs, &ctx_ids)] {
            for &id in list {
                let r = &set.refs[id as usize];
                if let Some(c) = self.score(d, &sk, r, peer) {
                    push_cand(&mut cands, c);
                }
            }
        }
        if cands.is_empty() && (7..=16).contains(&label.len()) {
            // Two slips inside a long name.
            for set in [&self.refs, &ctx.refs] {
                let mut more = Vec::new();
                set.near_label(label, true, &mut more);
                for id in more {
                    let r = &set.refs[id as usize];
                    if let Some(c) = self.score(d, &sk, r, peer) {
                        push_cand(&mut cands, c);
                    }
                }
            }
        }
        // The sender's own suffix: a `.mil` sender who types `.ml` meant `.mil`.
        if let Some(s) = &ctx.sender {
            let (ss, ds) = (s.domain.suffix(), d.suffix());
            // Only towards a suffix that cannot exist or a known typo magnet (see `magnet`).
            let plausible = !d.suffix_known || magnet(ds, ss);
            if plausible
                && !head.is_empty()
                && !ss.is_empty()
                && ss != ds
                && last_label(ss) != last_label(ds)
            {
                if let Ok(intended) = normalize(&format!("{head}.{ss}")) {
                    let protected = self.is_protected(&intended.ascii)
                        || self.refs.get(&intended.ascii).is_some_and(|r| r.protected);
                    // A reference in the sender's own suffix explains it better than a made-up name.
                    let explained = cands
                        .iter()
                        .any(|c| c.intended.suffix() == ss && c.intended.ascii != intended.ascii);
                    let scored = if explained {
                        None
                    } else {
                        self.score(
                            d,
                            &sk,
                            &Ref::new(intended.clone(), Class::Sender, protected),
                            peer,
                        )
                    };
                    if let Some(mut c) = scored {
                        if !magnet(ds, ss) {
                            // Only the suffix is repaired; the name may hold a slip of its own.
                            c.eff += bonus(Class::Sender) - 0.15;
                        }
                        // Only a single slip, and only towards a suffix that cannot exist or a
                        // known typo magnet: two-letter country codes sit a key apart from each
                        // other, and a German writing to .se meant Sweden.
                        if c.cost <= 0.75 && (!d.suffix_known || magnet(ds, ss)) {
                            c.kind = Kind::SuffixTypo;
                            if !d.suffix_known {
                                c.kind = Kind::InvalidDomain;
                            }
                            push_cand(&mut cands, c);
                        }
                    }
                }
            }
        }
        self.embedded(d, &sk, ctx, &mut cands);
        self.dropped_subdomain_dot(d, ctx, &mut cands);
        if head.is_empty() {
            self.split_single_label(d, &mut cands);
        }
        cands.sort_by(|a, b| a.eff.total_cmp(&b.eff).then(b.class.cmp(&a.class)));
        cands
    }

    /// Score a slip from `intended` to `d`; `None` when it is out of budget or not a slip.
    /// `peer`: the sender's own domain is protected.
    fn score(&self, d: &Domain, sk: &str, r: &Ref, peer: bool) -> Option<Cand> {
        let (intended, class, protected, isk) = (&r.domain, r.class, r.protected, r.skeleton());
        if intended.ascii == d.ascii {
            return None;
        }
        let iprot = protected || self.is_protected(&intended.ascii);
        let class_bonus = bonus(class).max(if iprot { bonus(Class::Protected) } else { 0.0 });
        let same_head = !d.head().is_empty() && d.head() == intended.head();
        let head_len = intended.head().chars().filter(|&c| c != '.').count();
        // A slip in the name may come with one in the suffix (`gmil.con`).
        let suffix_slip = if d.suffix() != intended.suffix() {
            0.6
        } else {
            0.0
        };
        let mut budget = if same_head {
            // A suffix that cannot exist is a slip for sure; a real one needs a single slip.
            if d.suffix_known {
                0.75
            } else {
                1.3
            }
        } else {
            let name_budget = budget_for(head_len);
            if suffix_slip > 0.0 {
                // With a slip in the suffix, the name may hold one slip, not two (`freesurf.nl`
                // is not `frisurf.no`).
                name_budget.min(1.05) + suffix_slip
            } else {
                name_budget
            }
        };
        // Closed registries: nobody can register a name under .mil, and only US governments
        // under .gov (whose short names are all on CISA's registry, embedded). A name there that
        // does not exist and is one slip from a listed one is that one; `cisa.gov` exists, so it
        // is not `cia.gov`.
        if d.suffix() == intended.suffix() && closed_and_unregistered(d) {
            budget = budget.max(1.25);
        }
        // Every three-letter name is somebody's (`cisa.gov` is not `cia.gov`, `kit.edu` is not
        // `mit.edu`): a neighbouring key is too weak a sign there. Only the big mail providers,
        // where typos pile up, get it; other short names take a doubled or swapped letter, or a
        // last letter left off.
        if head_len == 3 && !same_head && class != Class::Known && budget < 1.0 {
            budget = budget.min(0.55);
        }
        // Short names get no context allowance: `usaa.com` is a bank, not a slip of `usa.com`.
        // Except between protected peers: a sender in the government and defence community one
        // slip from another member's short name meant that member, inside a government suffix
        // (`mid.gov.uk` from `army.mil`), or towards a name that is a government namespace of
        // its own (`mof.uk` for `mod.uk`, whose `*.mod.uk` the policy protects). Not towards a
        // company in an open registry (`nyc.com` is not `ngc.com`), nor for a registered `.gov`
        // name (`cisa.gov`).
        let peer_allowance = peer
            && iprot
            && if self.is_protected(&d.ascii) {
                d.suffix() != "gov" || unregistered_note(d).is_some()
            } else {
                self.in_namespace(&intended.ascii)
            };
        let budget = if head_len <= 3 && !same_head && budget < 1.0 && !peer_allowance {
            budget
        } else {
            budget + class_bonus.min(0.1)
        };
        // A different suffix must be a slip of its own before the whole names are compared
        // (`quizardal.it` is not worth aligning with `qiuzardal.com.au`).
        // Only where both suffixes are real and split the names alike.
        if !same_head
            && d.suffix_known
            && d.suffix() != intended.suffix()
            && dots(d.head()) == dots(intended.head())
            && isk != sk
            && !same_undotted(&d.ascii, &intended.ascii)
            && cost(d.suffix().as_bytes(), intended.suffix().as_bytes(), 1.0).is_none()
        {
            return None;
        }
        let c = if isk == sk {
            // Homoglyphs: the same skeleton. Cheaper the fewer characters differ.
            Some(0.15)
        } else if d.ascii.is_ascii() && intended.ascii.is_ascii() {
            let suffix_len = intended.suffix().len();
            let name_len = |x: &str| x.len().saturating_sub(suffix_len);
            let raw = cost_named(
                d.ascii.as_bytes(),
                intended.ascii.as_bytes(),
                name_len(&intended.ascii),
                budget,
            );
            let folded = if sk != d.ascii || isk != intended.ascii {
                cost_named(sk.as_bytes(), isk.as_bytes(), name_len(isk), budget).map(|c| c + 0.1)
            } else {
                None
            };
            match (raw, folded) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            None
        }?;
        // Among otherwise equal slips, .com is by far the likeliest destination.
        let popular = if intended.suffix() == "com" { 0.1 } else { 0.0 };
        let eff = c - class_bonus - popular;
        if c > budget {
            return None;
        }
        Some(Cand {
            kind: self.kind_of(d, sk, intended, isk),
            intended: intended.clone(),
            class,
            protected: iprot,
            cost: c,
            eff,
            budget,
        })
    }

    fn kind_of(&self, d: &Domain, sk: &str, intended: &Domain, isk: &str) -> Kind {
        if isk == sk {
            return Kind::Lookalike;
        }
        if !d.suffix_known {
            return Kind::InvalidDomain;
        }
        if !d.head().is_empty() && d.head() == intended.head() {
            return Kind::SuffixTypo;
        }
        if d.ascii.len() < intended.ascii.len() && same_undotted(&d.ascii, &intended.ascii) {
            return Kind::MissingDot;
        }
        Kind::LabelTypo
    }

    /// `army.mil.ml`, `army-mil.com`, `armymil.com`, `foo.google-com.net`: a reference's name
    /// inside another domain.
    /// `sk`: the look-alike form of `d` (its skeleton).
    fn embedded(&self, d: &Domain, sk: &str, ctx: &Context, cands: &mut Vec<Cand>) {
        let head = d.head();
        if head.is_empty() {
            return;
        }
        let labels: Vec<&str> = head.split('.').collect();
        let mut found: Vec<(Domain, Class, bool)> = Vec::new();
        let first_known = |l: &str| self.refs.has_first_label(l) || ctx.refs.has_first_label(l);
        let try_name = |name: &str, found: &mut Vec<(Domain, Class, bool)>| {
            for set in [&self.refs, &ctx.refs] {
                if let Some(r) = set.get(name) {
                    let min_len = if r.class == Class::Known && !r.protected {
                        3
                    } else {
                        2
                    };
                    if r.domain.label().len() >= min_len
                        && !found.iter().any(|f| f.0.ascii == r.domain.ascii)
                    {
                        found.push((r.domain.clone(), r.class, r.protected));
                    }
                }
            }
        };
        // Runs of two to four parts that name a reference, joined by dots.
        let runs = |parts: &[&str], found: &mut Vec<(Domain, Class, bool)>| {
            for i in 0..parts.len() {
                if !first_known(parts[i]) {
                    continue;
                }
                for k in 2..=4 {
                    if i + k <= parts.len() {
                        try_name(&parts[i..i + k].join("."), found);
                    }
                }
            }
        };
        // Dotted runs within the head: `army.mil` in `army.mil.ml`, `t-online.de` in
        // `t-online.de.example.com`.
        runs(&labels, &mut found);
        // Runs across hyphens and dots alike: `army-mil.com`, `mail-army.mil.com`,
        // `army.mil-mail.com`, `foo-google.com-bar.com` (browsers' target-embedding check).
        fn tokens(text: &str) -> Vec<&str> {
            text.split(['.', '-']).take(64).collect()
        }
        if find_byte(head, b'-').is_some() {
            runs(&tokens(head), &mut found);
        }
        // The same in the look-alike form of an international name (`googlé.com-login.com`).
        if !d.unicode.is_ascii() {
            let mut sk_head = sk;
            for _ in 0..=dots(d.suffix()) {
                sk_head = sk_head.rfind('.').map_or("", |p| &sk_head[..p]);
            }
            if sk_head != head {
                runs(&tokens(sk_head), &mut found);
            }
        }
        // Concatenated runs inside each label.
        for l in &labels {
            let parts: Vec<&str> = l.split('-').collect();
            // `armymil`: a reference label followed by its suffix, no separator.
            for p in &parts {
                for (cut, _) in p.char_indices().skip(2) {
                    let (a, b) = p.split_at(cut);
                    if (2..=6).contains(&b.len()) && first_known(a) && is_known_suffix(b) {
                        try_name(&format!("{a}.{b}"), &mut found);
                    }
                }
            }
            // `eagle-marine-com`: a hyphenated reference label (`eagle-marine.com`) with its
            // suffix run on after another hyphen, possibly between other words.
            if parts.len() >= 3 && parts.len() <= 8 {
                for i in 0..parts.len() {
                    if !first_known(parts[i]) {
                        continue;
                    }
                    for j in i + 2..parts.len() {
                        for k in j + 1..=parts.len() {
                            let name =
                                format!("{}.{}", parts[i..j].join("-"), parts[j..k].join("."));
                            try_name(&name, &mut found);
                        }
                    }
                }
            }
        }
        for (intended, class, protected) in found {
            push_cand(
                cands,
                self.structural(intended, class, protected, Kind::Embedded, 0.4, 1.0),
            );
        }
    }

    /// A candidate found by structure (embedded name, dropped dot, missing suffix) rather than
    /// by edit distance: a fixed cost, lowered by context like any other.
    fn structural(
        &self,
        intended: Domain,
        class: Class,
        protected: bool,
        kind: Kind,
        cost: f32,
        budget: f32,
    ) -> Cand {
        let protected = protected || self.is_protected(&intended.ascii);
        let b = bonus(class).max(if protected {
            bonus(Class::Protected)
        } else {
            0.0
        });
        Cand {
            intended,
            class,
            protected,
            kind,
            cost,
            eff: cost - b,
            budget,
        }
    }

    /// `seibm.com` for `se.ibm.com`: a short country or region prefix run into a protected or
    /// trusted name, with the dot dropped.
    fn dropped_subdomain_dot(&self, d: &Domain, ctx: &Context, cands: &mut Vec<Cand>) {
        let label = d.label();
        if !d.subdomain().is_empty() || label.len() < 5 {
            return;
        }
        let first = label.as_bytes()[0];
        for p in SUBDOMAIN_PREFIXES {
            // The first byte first: this runs for every recipient.
            if p.as_bytes()[0] != first {
                continue;
            }
            let Some(rest) = label.strip_prefix(p) else {
                continue;
            };
            if rest.len() < 3 {
                continue;
            }
            let name = format!("{rest}.{}", d.suffix());
            for set in [&self.refs, &ctx.refs] {
                let Some(r) = set.get(&name) else { continue };
                if r.class == Class::Known && !r.protected {
                    continue;
                }
                let Ok(intended) = normalize(&format!("{p}.{name}")) else {
                    continue;
                };
                let c =
                    self.structural(intended, r.class, r.protected, Kind::MissingDot, 0.5, 0.75);
                push_cand(cands, c);
            }
        }
    }

    /// `gmailcom`: a reference with its last dot dropped; `gmail`: a reference without its
    /// suffix (only when one reference, or one `.com` reference, has that name).
    fn split_single_label(&self, d: &Domain, cands: &mut Vec<Cand>) {
        let s = d.ascii.as_str();
        let mut same = Vec::new();
        self.refs.by_label(s, &mut same);
        let same: Vec<&Ref> = same
            .iter()
            .map(|&i| &self.refs.refs[i as usize])
            .filter(|r| r.domain.subdomain().is_empty())
            .collect();
        let pick = match same.as_slice() {
            [one] => Some(*one),
            many => {
                let com: Vec<&&Ref> = many.iter().filter(|r| r.domain.suffix() == "com").collect();
                (com.len() == 1).then(|| *com[0])
            }
        };
        if let Some(r) = pick {
            let (i, k) = (r.domain.clone(), Kind::InvalidDomain);
            push_cand(
                cands,
                self.structural(i, r.class, r.protected, k, 0.6, 0.75),
            );
        }
        for (cut, _) in s.char_indices().skip(2) {
            let (a, b) = s.split_at(cut);
            if b.len() < 2 || !is_known_suffix(b) {
                continue;
            }
            if let Some(r) = self.refs.get(&format!("{a}.{b}")) {
                let (i, k) = (r.domain.clone(), Kind::InvalidDomain);
                push_cand(
                    cands,
                    self.structural(i, r.class, r.protected, k, 0.5, 0.75),
                );
            }
        }
    }

    /// A finding with no intended domain: an impossible suffix (with a repaired one when a
    /// popular suffix is one slip away), or a label mixing scripts.
    fn orphan(&self, m: &Mailbox, d: &Domain) -> Option<Finding> {
        if !d.suffix_known {
            let typed = d.suffix();
            let mut best: Option<(f32, &str)> = None;
            let mut tie = false;
            if !d.head().is_empty() {
                for &(s, prior) in REPAIR_SUFFIXES {
                    if let Some(c) = cost(typed.as_bytes(), s.as_bytes(), 1.0) {
                        let c = c + prior;
                        match best {
                            Some((b, _)) if (c - b).abs() < 0.01 => tie = true,
                            Some((b, _)) if c > b => {}
                            _ => {
                                best = Some((c, s));
                                tie = false;
                            }
                        }
                    }
                }
            }
            let intended = match best {
                Some((_, s)) if !tie => normalize(&format!("{}.{s}", d.head())).ok(),
                _ => None,
            };
            let protected = intended
                .as_ref()
                .is_some_and(|i| self.is_protected(&i.ascii));
            let reason = match &intended {
                Some(i) => format!(
                    ".{typed} is not a top-level domain, so mail to {} cannot arrive; you probably meant {}",
                    d.unicode, i.unicode
                ),
                None if d.head().is_empty() => format!(
                    "{} has no top-level domain (such as .com or .mil), so mail to it cannot arrive",
                    d.unicode
                ),
                None => format!(".{typed} is not a top-level domain, so mail to {} cannot arrive", d.unicode),
            };
            return Some(Finding {
                recipient: m.raw.clone(),
                address: format!("{}@{}", m.local, d.unicode),
                domain: d.unicode.clone(),
                kind: Kind::InvalidDomain,
                severity: if protected {
                    Severity::Block
                } else {
                    Severity::Warn
                },
                suggestion: intended
                    .as_ref()
                    .map(|i| format!("{}@{}", m.local, i.unicode)),
                intended: intended.as_ref().map(|i| i.unicode.clone()),
                score: if intended.is_some() { 0.8 } else { 0.99 },
                reason,
            });
        }
        if !d.unicode.is_ascii() {
            let mixed = d
                .unicode
                .split('.')
                .find(|l| !crate::uts39::is_single_script(l));
            if let Some(l) = mixed {
                let chars = explain::foreign_chars(l).unwrap_or_default();
                return Some(Finding {
                    recipient: m.raw.clone(),
                    address: format!("{}@{}", m.local, d.unicode),
                    domain: d.unicode.clone(),
                    kind: Kind::Lookalike,
                    severity: Severity::Warn,
                    suggestion: None,
                    intended: None,
                    score: 0.7,
                    reason: format!(
                        "'{l}' mixes writing systems ({chars}), a common disguise for a lookalike domain"
                    ),
                });
            }
        }
        None
    }

    fn finding(&self, m: &Mailbox, d: &Domain, c: &Cand, ctx: &Context) -> Finding {
        let i = &c.intended;
        // A confidence, not a calibrated probability: 0.99 for a slip the context makes certain,
        // falling towards 0.6 at the edge of the budget.
        let score = (0.99 - 0.4 * (c.eff.max(0.0) / c.budget).min(1.0)).clamp(0.5, 0.99);
        // Plain concatenation rather than `format!`: this runs for every finding, and the
        // formatting machinery was a good part of a check's time.
        let why_context = match c.class {
            Class::Sender => match &ctx.sender {
                Some(s) if s.domain.suffix() == i.suffix() && s.domain.ascii != i.ascii => {
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
            explain::describe(&d.ascii, &i.ascii)
                .map(|s| cat(&[" (", &s, ")"]))
                .unwrap_or_default()
        };
        let reason = match c.kind {
            Kind::SuffixTypo => cat(&[
                &d.unicode,
                " is ",
                &explain::where_is(d.suffix()),
                ", not ",
                &i.unicode,
                ": ",
                &explain::describe(d.suffix(), i.suffix())
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
            Kind::Lookalike => match explain::foreign_chars(&d.unicode) {
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
                " is not a top-level domain); you probably meant ",
                &i.unicode,
                &why_context,
            ]),
            Kind::RiskyDestination => String::new(),
        };
        Finding {
            recipient: m.raw.clone(),
            address: cat(&[&m.local, "@", &d.unicode]),
            domain: d.unicode.clone(),
            kind: c.kind,
            severity: severity_of(c),
            suggestion: Some(cat(&[&m.local, "@", &i.unicode])),
            intended: Some(i.unicode.clone()),
            score: round2(score),
            reason,
        }
    }

    fn apply_rules(&self, m: &Mailbox, d: &Domain, ctx: &Context, out: &mut Vec<Finding>) {
        let Some(sender) = &ctx.sender else { return };
        if self
            .refs
            .covering(d)
            .is_some_and(|r| matches!(r.class, Class::Known | Class::Trusted))
            || ctx
                .refs
                .covering(d)
                .is_some_and(|r| r.class == Class::Contact)
        {
            return;
        }
        let rule: Option<&Rule> = self
            .policy
            .rules
            .iter()
            .filter(|r| r.from.matches(&sender.domain.ascii) && r.to.matches(&d.ascii))
            .max_by_key(|r| r.severity);
        let Some(rule) = rule else { return };
        if out.is_empty() {
            out.push(Finding {
                recipient: m.raw.clone(),
                address: format!("{}@{}", m.local, d.unicode),
                domain: d.unicode.clone(),
                kind: Kind::RiskyDestination,
                severity: rule.severity,
                suggestion: None,
                intended: None,
                score: 0.99,
                reason: format!(
                    "your policy stops mail from {} to {}: {} is {}",
                    rule.from,
                    rule.to,
                    d.unicode,
                    explain::where_is(d.suffix())
                ),
            });
        } else {
            for f in out.iter_mut() {
                if rule.severity > f.severity {
                    f.severity = rule.severity;
                    f.reason.push_str(&format!(
                        "; your policy stops mail from {} to {}",
                        rule.from, rule.to
                    ));
                }
            }
        }
    }
}

/// Typed suffixes that are known destinations of slips from the sender's suffix: Mali's `.ml`
/// for `.mil` (the decade of misdirected US military mail) and for the Dutch `.nl` (one key
/// away), and `.co`/`.cm`/`.om` for a protected `.com`-style sender is deliberately absent —
/// references and contacts cover those without flagging every Colombian startup.
fn magnet(typed: &str, sender: &str) -> bool {
    matches!(
        (last_label(typed), last_label(sender)),
        ("ml", "mil") | ("ml", "nl") | ("mi", "mil")
    )
}

/// The same name but for its dots (`modgov.uk`, `mod.gov.uk`).
fn same_undotted(a: &str, b: &str) -> bool {
    a.bytes()
        .filter(|&c| c != b'.')
        .eq(b.bytes().filter(|&c| c != b'.'))
}

/// The number of dots in a name.
fn dots(x: &str) -> usize {
    x.bytes().filter(|&b| b == b'.').count()
}

/// The parts joined, in one allocation (the slice type lets `&String` parts coerce).
fn cat(parts: &[&str]) -> String {
    parts.concat()
}

/// Keep one candidate per intended domain: the cheapest, with the strongest context.
fn push_cand(cands: &mut Vec<Cand>, c: Cand) {
    if let Some(old) = cands
        .iter_mut()
        .find(|o| o.intended.ascii == c.intended.ascii)
    {
        if c.eff < old.eff {
            let protected = old.protected || c.protected;
            *old = c;
            old.protected = protected;
        } else {
            old.protected |= c.protected;
        }
        return;
    }
    cands.push(c);
}
