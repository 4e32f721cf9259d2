//! The engine: built once from a policy (the references indexed, `index`), then judges
//! requests. The stages of a check, each in its own module:
//!
//! 1. Parse the recipients (`address`) and normalise their domains (`domain`, with the public
//!    suffix from `suffix_list`). Is the domain a reference (policy, default, sender, contacts)
//!    or under one? Then only destination rules can apply.
//! 2. Which references could it be a slip of? `candidates`: from indexes (same label with
//!    another suffix, labels one edit apart, joined labels, lookalike skeletons, embedded names,
//!    a dropped subdomain dot), never from a scan; the sender's own suffix adds one candidate.
//! 3. How likely is each slip? `score`: a weighted edit distance (`slips`), lowered by context
//!    (the sender's own domain and suffix, contacts, protected domains), against a budget that
//!    grows with the length of the name (short names need a near-certain slip) and that named
//!    rules adjust (closed registries: `registries`).
//! 4. Judge (here): the best candidate wins; two within a hair of each other are both reported
//!    (never the first in a list). No candidate: an impossible suffix or mixed scripts still get
//!    a finding.
//! 5. Destination rules (`*.mil` → `*.ml`, here) add or raise a finding.
//! 6. Word it: `explain` holds every reason sentence and the one `Finding` constructor.

use crate::address::{
    clip, parse_address_list, plain_mailbox, AddressError, Mailbox, MAX_INPUT_LEN,
};
use crate::candidates::Finder;
use crate::context::Context;
use crate::domain::{normalize, Domain};
use crate::explain;
use crate::index::{Class, Ref, RefSet};
use crate::lenient::readings;
use crate::policy::{prepared, Pattern, Policy, Protection, Rule};
use crate::score::{confidence, severity_of, Candidate, TIE_MARGIN};
use crate::slips::single_edit;
use crate::suffix_repair::repaired_suffix;
use crate::verdict::{
    CheckRequest, Finding, Kind, RecipientError, RecipientErrorKind, Severity, Verdict,
};
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
    /// What the policy protects, for scoring.
    protection: Protection,
    limits: Limits,
}

/// Two candidates each one plain edit from the typed name and this close in weighted cost are
/// equally likely (see `judge`).
const ONE_SLIP_TIE_MARGIN: f32 = 0.35;

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
        let mut e = Engine {
            refs: RefSet::default(),
            protection: Protection::of(&policy),
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
                        let protected = e.protection.is_protected(&domain.ascii);
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
                let protected =
                    class == Class::Protected || e.protection.is_protected(&domain.ascii);
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
        crate::suffix_list::parse_all();
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

    /// Prepare the sender context: the sender's domain and suffix, and the contacts (addresses or
    /// bare domains; unusable ones are skipped), indexed like the policy's references.
    pub fn context(&self, from: Option<&str>, contacts: &[String]) -> Context {
        let mut ctx = Context::prepare(&self.protection, self.limits.max_contacts, from, contacts);
        if let Some(sender) = ctx.sender() {
            let rules = (self.policy.rules.iter().enumerate())
                .filter(|(_, r)| r.from.matches(&sender.domain.ascii))
                .map(|(i, _)| i)
                .collect();
            ctx.sender_rules = rules;
        }
        ctx
    }

    /// Where this engine's candidates are found.
    fn finder(&self) -> Finder<'_> {
        Finder {
            refs: &self.refs,
            protection: &self.protection,
        }
    }

    /// Judge one request.
    pub fn check(&self, request: &CheckRequest) -> Verdict {
        self.check_parts(
            request.id.clone(),
            request.from.as_deref(),
            request.recipients(),
            &request.contacts,
        )
    }

    /// Judge a request given as its parts, without building a [`CheckRequest`] (a caller that
    /// holds them borrowed, as the filter does, copies nothing): `id`, the sender, the
    /// recipients in order (to, then cc, then bcc) and the contacts. The verdict is
    /// [`Engine::check`]'s for the same request.
    pub fn check_parts<'r>(
        &self,
        id: serde_json::Value,
        from: Option<&str>,
        recipients: impl IntoIterator<Item = &'r str>,
        contacts: &[String],
    ) -> Verdict {
        let ctx = self.context(from, contacts);
        let mut verdict = Verdict::empty(id);
        verdict.errors.extend(ctx.errors().iter().cloned());
        let mut seen = 0usize;
        for entry in recipients {
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
        // The common shape first (`local@domain`, `Name <local@domain>`), read without the
        // tokenizer; a reference's recipient is then settled by one lookup.
        if let Some(plain) = plain_mailbox(entry) {
            if self.count(entry, v, seen) && !self.plainly_clean(plain.domain, ctx) {
                self.judge_mailbox(plain.to_mailbox(), ctx, v);
            }
            return;
        }
        if crate::text::is_blank(entry) {
            v.errors.push(RecipientError {
                recipient: String::new(),
                kind: RecipientErrorKind::Syntax,
                message: "an empty recipient; expected an address such as name@example.org".into(),
            });
            return;
        }
        for r in parse_address_list(entry) {
            if !self.count(entry, v, seen) {
                return;
            }
            match r {
                Ok(m) => self.judge_mailbox(m, ctx, v),
                Err(e) => self.judge_unreadable(entry, e, ctx, v, seen),
            }
        }
    }

    /// Count one more recipient of the request (found in `entry`): whether it is still within
    /// the limit. The first one beyond it is the verdict's `limit` error.
    fn count(&self, entry: &str, v: &mut Verdict, seen: &mut usize) -> bool {
        *seen += 1;
        if *seen == self.limits.max_recipients + 1 {
            v.errors.push(self.over_limit(entry));
        }
        *seen <= self.limits.max_recipients
    }

    /// A recipient that is not a valid address (`e`, found in `entry`): its error, and beside it
    /// the findings of what a lenient mail server would deliver to instead (`lenient`), so that
    /// a syntax error never hides a misaddressed domain. The error names what was judged.
    fn judge_unreadable(
        &self,
        entry: &str,
        e: AddressError,
        ctx: &Context,
        v: &mut Verdict,
        seen: &mut usize,
    ) {
        let mut judged: Vec<String> = Vec::new();
        // Not an address, or one over the RFC 5321 lengths (servers deliver longer local
        // parts); not a whole field over the parser's cap, nor the recipients over the limit.
        let readable = matches!(
            e.kind,
            RecipientErrorKind::Syntax | RecipientErrorKind::TooLong
        ) && e.span.len() <= MAX_INPUT_LEN;
        if readable {
            let text = entry.get(e.span.clone()).unwrap_or_default();
            for (k, r) in readings(text).into_iter().enumerate() {
                // The error counted as one recipient; each further reading is one more.
                if k > 0 && !self.count(entry, v, seen) {
                    break;
                }
                let Ok(d) = normalize(&r.domain) else {
                    continue;
                };
                let m = Mailbox {
                    raw: e.input.clone(),
                    display_name: None,
                    local: r.local.to_string(),
                    domain: r.domain,
                };
                judged.push(clip(&m.address(), 80));
                v.findings.extend(self.judge(&m, &d, ctx));
            }
        }
        let message = match judged.as_slice() {
            [] => e.message,
            [one] => format!(
                "{}; judged as {one}, as lenient mail servers read it",
                e.message
            ),
            [first @ .., last] if judged.len() <= 4 => format!(
                "{}; judged as {} and {last}, as lenient mail servers read it",
                e.message,
                first.join(", ")
            ),
            more => format!(
                "{}; judged as {} and {} more, as lenient mail servers read it",
                e.message,
                more[..3].join(", "),
                more.len() - 3
            ),
        };
        v.errors.push(RecipientError {
            recipient: e.input,
            kind: e.kind,
            message,
        });
    }

    /// The error for the recipients beyond the limit, found in `entry`.
    fn over_limit(&self, entry: &str) -> RecipientError {
        RecipientError {
            recipient: clip(entry, 256),
            kind: RecipientErrorKind::Limit,
            message: format!(
                "more than {} recipients in one request; the rest were not judged",
                self.limits.max_recipients
            ),
        }
    }

    /// Judge one mailbox: its findings, or the error of a domain that is not a usable name.
    fn judge_mailbox(&self, m: Mailbox, ctx: &Context, v: &mut Verdict) {
        match normalize(&m.domain) {
            Ok(d) => v.findings.extend(self.judge(&m, &d, ctx)),
            Err(e) => v.errors.push(RecipientError {
                recipient: clip(&m.raw, 256),
                kind: RecipientErrorKind::Domain,
                message: format!("in '{}': {e}", clip(&m.address(), 80)),
            }),
        }
    }

    /// The common case, settled without normalising: `domain` as typed is, after folding ASCII
    /// case and a trailing dot, exactly a reference, a contact or the sender's own domain, and
    /// no destination rule applies. What [`Engine::judge`] finds nothing for; `false` sends the
    /// recipient the whole way.
    fn plainly_clean(&self, domain: &str, ctx: &Context) -> bool {
        let typed = domain.strip_suffix('.').unwrap_or(domain).as_bytes();
        let mut buf = [0u8; 253];
        if typed.is_empty() || typed.len() > buf.len() {
            return false;
        }
        for (to, &c) in buf.iter_mut().zip(typed) {
            *to = match c {
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => c,
                b'A'..=b'Z' => c.to_ascii_lowercase(),
                _ => return false,
            };
        }
        let Ok(name) = std::str::from_utf8(&buf[..typed.len()]) else {
            return false;
        };
        let listed = self.refs.get(name);
        let contact = match listed {
            Some(_) => None,
            // Only the context knows it: unless a policy reference covers it (its subdomains
            // are judged against the reference's), the whole way would find nothing either.
            None => match ctx.class_of(name) {
                Some(c) if !self.under_a_reference(name) => Some(c),
                _ => return false,
            },
        };
        // The destination rules skip known and trusted domains and contacts.
        ctx.sender_rules.is_empty()
            || listed.is_some_and(|r| matches!(r.class, Class::Known | Class::Trusted))
            || contact == Some(Class::Contact)
            || !self.sender_rules(ctx).any(|r| r.to.matches(name))
    }

    /// The policy's destination rules whose sender pattern matches `ctx`'s sender.
    fn sender_rules<'a>(&'a self, ctx: &'a Context) -> impl Iterator<Item = &'a Rule> + 'a {
        ctx.sender_rules
            .iter()
            .filter_map(|&i| self.policy.rules.get(i))
    }

    /// Whether a parent domain of `name` (a lower-case ASCII name) is a reference.
    fn under_a_reference(&self, name: &str) -> bool {
        name.bytes()
            .enumerate()
            .any(|(i, c)| c == b'.' && self.refs.get(&name[i + 1..]).is_some())
    }

    /// All findings for one mailbox.
    fn judge(&self, m: &Mailbox, d: &Domain, ctx: &Context) -> Vec<Finding> {
        let mut out = Vec::new();
        let cover = self.refs.covering(d).or_else(|| ctx.refs().covering(d));
        if let Some(r) = cover.filter(|r| r.domain.ascii != d.ascii) {
            // Under a reference: only a slip of one of its listed subdomains (`uss.af.mil` for
            // `us.af.mil`) is worth a word; the rest is the owner's business.
            let parent = format!(".{}", r.domain.ascii);
            let candidates: Vec<Candidate> = self
                .finder()
                .candidates(d, ctx)
                .into_iter()
                .filter(|c| c.intended.ascii.ends_with(&parent) && c.kind != Kind::Embedded)
                .collect();
            if let Some(c) = candidates.first() {
                out.push(explain::slip(m, d, c, ctx.sender().map(|s| s.domain)));
            }
        }
        let legit = cover.is_some();
        if !legit {
            let candidates = self.finder().candidates(d, ctx);
            let mut tied = ties(&candidates, d, ctx);
            // Equally likely: report all, the most severe first, the ones only worth a check
            // last, then by score (never list order).
            tied.sort_by(|a, b| {
                severity_of(b)
                    .cmp(&severity_of(a))
                    .then(a.weak.cmp(&b.weak))
                    .then(confidence(b).total_cmp(&confidence(a)))
                    .then(a.cost_in_context.total_cmp(&b.cost_in_context))
                    .then(a.intended.ascii.cmp(&b.intended.ascii))
            });
            out.extend(
                tied.into_iter()
                    .map(|c| explain::slip(m, d, c, ctx.sender().map(|s| s.domain))),
            );
            if out.is_empty() {
                if let Some(f) = self.orphan(m, d, ctx) {
                    out.push(f);
                }
            }
        }
        self.apply_rules(m, d, ctx, &mut out);
        out
    }

    /// A finding with no intended domain: an impossible suffix (with a repaired one when a
    /// popular suffix is one slip away), or a label mixing scripts.
    fn orphan(&self, m: &Mailbox, d: &Domain, ctx: &Context) -> Option<Finding> {
        if !d.suffix_known {
            let intended = repaired_suffix(d, ctx.sender().map(|s| s.domain.suffix()));
            let severity = match &intended {
                Some(i) if self.protection.is_protected(&i.ascii) => Severity::Block,
                _ => Severity::Warn,
            };
            return Some(explain::impossible_suffix(
                m,
                d,
                intended.as_ref(),
                severity,
            ));
        }
        if !d.unicode.is_ascii() && crate::registries::is_mil(d) {
            return Some(explain::not_ascii_under_mil(m, d));
        }
        if !d.unicode.is_ascii() {
            let mixed = d
                .unicode
                .split('.')
                .find(|l| !crate::uts39::is_highly_restrictive(l));
            if let Some(l) = mixed {
                return Some(explain::mixed_scripts(m, d, l));
            }
        }
        None
    }

    /// Destination rules (`*.mil` → `*.ml`): a finding of their own when nothing else was
    /// found, else the findings raised to the rule's severity.
    fn apply_rules(&self, m: &Mailbox, d: &Domain, ctx: &Context, out: &mut Vec<Finding>) {
        // (No sender, or no rule for it: nothing to apply.)
        if ctx.sender_rules.is_empty() {
            return;
        }
        if self
            .refs
            .covering(d)
            .is_some_and(|r| matches!(r.class, Class::Known | Class::Trusted))
            || ctx
                .refs()
                .covering(d)
                .is_some_and(|r| r.class == Class::Contact)
        {
            return;
        }
        // (The context's rules are those whose sender pattern matches its sender.)
        let rule: Option<&Rule> = self
            .sender_rules(ctx)
            .filter(|r| r.to.matches(&d.ascii))
            .max_by_key(|r| r.severity);
        let Some(rule) = rule else { return };
        if out.is_empty() {
            out.push(explain::risky_destination(m, d, rule));
        } else {
            for f in out.iter_mut() {
                if rule.severity > f.severity {
                    f.severity = rule.severity;
                    f.reason.push_str(&explain::policy_stops(rule));
                }
            }
        }
    }
}

/// The candidates (best first) that are as likely as the best one for `d`: every intended
/// domain they name is reported, never one picked by weights this close.
/// - Within [`TIE_MARGIN`] of the best cost.
/// - One slip each in the name, in the same suffix, whatever the keyboard says a little likelier
///   (`hs.gov`: `dhs.gov` and `hhs.gov`), within [`ONE_SLIP_TIE_MARGIN`].
/// - One slip each anywhere in the name or its suffix, of any class, with scores within
///   [`TIE_MARGIN`] of each other (`army.ml`: `army.mil` and `army.nl`), unless the request's
///   context decides: a candidate the sender or a contact stands behind (the sender's own
///   domain or suffix, a contact) is not tied with one nobody does (from `.mil`, `army.mil`
///   only; from `.nl`, `army.nl` only).
fn ties<'c>(candidates: &'c [Candidate], d: &Domain, ctx: &Context) -> Vec<&'c Candidate> {
    let Some(best) = candidates.first() else {
        return Vec::new();
    };
    let one_slip_in_name = |c: &Candidate| c.is_one_slip_in_name(d);
    let one_slip = |c: &Candidate| single_edit(&d.ascii, &c.intended.ascii);
    let sender_suffix = ctx.sender().map(|s| s.domain.suffix());
    let context_behind = |c: &Candidate| {
        matches!(c.class, Class::Sender | Class::Contact)
            || sender_suffix == Some(c.intended.suffix())
    };
    let (best_in_name, best_anywhere) = (one_slip_in_name(best), one_slip(best));
    let best_score = confidence(best);
    candidates
        .iter()
        .filter(|c| {
            let extra = c.cost_in_context - best.cost_in_context;
            extra <= TIE_MARGIN
                || (best_in_name && extra <= ONE_SLIP_TIE_MARGIN && one_slip_in_name(c))
                || (best_anywhere
                    && one_slip(c)
                    && context_behind(c) == context_behind(best)
                    && best_score - confidence(c) <= f64::from(TIE_MARGIN) + 1e-9)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict of `recipient` the whole way (parsed by the tokenizer, no plain shortcut).
    fn the_whole_way(e: &Engine, recipient: &str, ctx: &Context) -> Verdict {
        let mut v = Verdict::empty(serde_json::Value::Null);
        for m in parse_address_list(recipient) {
            e.judge_mailbox(m.unwrap(), ctx, &mut v);
        }
        v
    }

    #[test]
    fn the_plain_shortcut_settles_only_what_the_whole_way_finds_nothing_for() {
        let e = Engine::from_policy_json(
            r#"{"known": ["partner.ml"], "protected": ["base.ml"],
                "rules": [{"from": "*.mil", "to": "*.ml", "severity": "block"}]}"#,
        )
        .unwrap();
        let contacts = ["friend.ml".to_string(), "uss.af.mil".to_string()];
        let from_mil = e.context(Some("a@army.mil"), &contacts);
        let from_org = e.context(Some("a@example.org"), &contacts);
        let nobody = e.context(None, &[]);
        // (domain, context, settled by the shortcut)
        let cases: [(&str, &Context, bool); 14] = [
            ("gmail.com", &from_mil, true),
            ("GMail.COM.", &from_org, true),
            ("gmail.com", &nobody, true),
            // Known and contacts are never a rule's destination.
            ("partner.ml", &from_mil, true),
            ("friend.ml", &from_mil, true),
            ("army.mil", &from_mil, true),
            // A protected reference a rule stops: the whole way.
            ("base.ml", &from_mil, false),
            ("base.ml", &from_org, true),
            // A contact under a reference is judged against that reference's subdomains.
            ("uss.af.mil", &from_org, false),
            // Not a reference, or not plain ASCII: the whole way.
            ("gmial.com", &from_org, false),
            ("navy.ml", &from_mil, false),
            ("xn--rmy-5cd.mil", &from_org, false),
            ("gmail.com..", &from_org, false),
            ("bücher.de", &from_org, false),
        ];
        for (domain, ctx, settled) in cases {
            assert_eq!(e.plainly_clean(domain, ctx), settled, "{domain}");
            let whole = the_whole_way(&e, &format!("x@{domain}"), ctx);
            if settled {
                assert_eq!(whole, Verdict::empty(serde_json::Value::Null), "{domain}");
            }
            // The same verdict either way.
            assert_eq!(e.check_recipient(&format!("x@{domain}"), ctx), {
                let mut w = whole;
                w.settle();
                w
            });
        }
        // The cases the shortcut leaves do have findings the whole way.
        for (domain, ctx) in [("base.ml", &from_mil), ("uss.af.mil", &from_org)] {
            assert!(!the_whole_way(&e, &format!("x@{domain}"), ctx)
                .findings
                .is_empty());
        }
    }
}
