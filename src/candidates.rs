//! Finding candidates: which references a typed domain could be a slip of. Candidates come from
//! indexes (same label with another suffix, labels one edit apart, joined labels, lookalike
//! skeletons), never from a scan; from structure (embedded names, a dropped subdomain dot, a
//! missing or run-on suffix); and from the sender's own suffix. Each is scored (`score`); the
//! candidates within budget come back best first.

use crate::context::Context;
use crate::domain::{find_byte, last_label, normalize, Domain};
use crate::index::{Class, Ref, RefSet};
use crate::policy::Protection;
use crate::score::{bonus, dots, score, structural, Candidate};
use crate::slips::{one_slip_in_name, skeleton};
use crate::suffix_list::{has_deeper_suffixes, is_known_suffix};
use crate::suffix_repair::second_levels_only;
use crate::verdict::Kind;

/// Prefixes that name a country, region or mail subdomain (`se.ibm.com` typed as `seibm.com`).
/// Three-letter country codes that are English words or word beginnings (`can`, `ind`, `bra`)
/// are left out: they begin ordinary names (`canford.com` is a school, not `can.ford.com`).
const SUBDOMAIN_PREFIXES: &[&str] = &[
    "us", "uk", "ca", "au", "de", "fr", "se", "nl", "jp", "cn", "in", "br", "it", "es", "ch", "be",
    "at", "dk", "no", "fi", "ie", "il", "kr", "sg", "nz", "za", "mx", "pl", "eu", "aus", "chn",
    "usa", "ger", "deu", "fra", "jpn", "gbr", "apac", "emea",
];

/// Where candidates are found: the engine's references and what its policy protects (each
/// search brings the request's context).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Finder<'a> {
    /// The policy's references (and any extra ones the engine was built with).
    pub refs: &'a RefSet,
    /// What the policy protects.
    pub protection: &'a Protection,
}

impl Finder<'_> {
    /// Candidates within budget, best first, one per intended domain.
    pub(crate) fn candidates(&self, d: &Domain, ctx: &Context) -> Vec<Candidate> {
        let mut ids = Vec::with_capacity(64);
        let mut ctx_ids = Vec::with_capacity(16);
        let label = d.label();
        let sender_protected = ctx.sender().is_some_and(|s| s.protected);
        let head = d.head();
        // Built once, and only when they differ from the label.
        let joined = find_byte(head, b'.').map(|_| head.replace('.', ""));
        // Homoglyphs folded, two-letter glyphs read as one (`fnnv` for `fmv`), and `ii` read as
        // `ll` (`weIIpoint`: a capital I looks like an l).
        let folded = fold_glyphs(label);
        let typed_skeleton = skeleton(&d.unicode);
        // An international name: its look-alike label may hold a slip besides the look-alikes
        // (`arnņy` reads `arnny`, two homoglyphs of `army`).
        let skeleton_label = (!d.unicode.is_ascii())
            .then(|| typed_skeleton.strip_suffix(&[".", d.suffix()].concat()))
            .flatten()
            .map(last_label)
            .filter(|l| l.is_ascii() && !l.is_empty() && *l != label);
        // Its two-letter glyphs read as one (`aŗnny` reads `arnny`, that is `army`).
        let skeleton_label_folded = skeleton_label.and_then(fold_glyphs);
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
                if is_known_suffix(&[second, ".", d.suffix()].concat()) {
                    run_in.push(name);
                }
            }
        }
        for (set, out) in [(self.refs, &mut ids), (ctx.refs(), &mut ctx_ids)] {
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
            set.by_skeleton(&typed_skeleton, out);
            if let Some(l) = skeleton_label {
                set.by_label(l, out);
                set.near_label(l, false, out);
                set.near_short_label(l, out);
                if let Some(f) = skeleton_label_folded.as_deref() {
                    set.by_label(f, out);
                    set.near_label(f, false, out);
                }
            }
            if head.is_empty() {
                // A single label such as `gmail` or `gmailcom`.
                set.by_label(&d.ascii, out);
            }
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        for (set, list) in [(self.refs, &ids), (ctx.refs(), &ctx_ids)] {
            for &id in list {
                let r = &set.refs[id as usize];
                if let Some(c) = score(self.protection, d, &typed_skeleton, r, sender_protected) {
                    push_candidate(&mut candidates, c);
                }
            }
        }
        if candidates.is_empty() && (7..=16).contains(&label.len()) {
            // Two slips inside a long name.
            for set in [self.refs, ctx.refs()] {
                let mut more = Vec::new();
                set.near_label(label, true, &mut more);
                for id in more {
                    let r = &set.refs[id as usize];
                    if let Some(c) = score(self.protection, d, &typed_skeleton, r, sender_protected)
                    {
                        push_candidate(&mut candidates, c);
                    }
                }
            }
        }
        self.dropped_suffix_label(d, ctx, &ids, &ctx_ids, &mut candidates);
        self.habit_suffix(d, ctx, &mut candidates);
        self.sender_suffix(d, &typed_skeleton, ctx, sender_protected, &mut candidates);
        self.embedded(d, &typed_skeleton, ctx, &mut candidates);
        self.dropped_subdomain_dot(d, ctx, &mut candidates);
        if head.is_empty() {
            self.split_single_label(d, &mut candidates);
        }
        candidates.sort_by(|a, b| {
            a.cost_in_context
                .total_cmp(&b.cost_in_context)
                .then(b.class.cmp(&a.class))
        });
        self.one_slip_mates(d, ctx, &ids, &ctx_ids, &mut candidates);
        candidates
    }

    /// When the best candidate is one slip from `d` in the same suffix, the other references of
    /// its class one slip away with the same first letter are as likely, whatever the keyboard
    /// says (`162.com`: `126.com` swapped, `163.com` a neighbouring key, though different numbers
    /// usually name different things): they join as weak candidates of the same cost, so that
    /// the tie reports them.
    /// `ids`, `ctx_ids`: the references the indexes found for `d`.
    fn one_slip_mates(
        &self,
        d: &Domain,
        ctx: &Context,
        ids: &[u32],
        ctx_ids: &[u32],
        candidates: &mut Vec<Candidate>,
    ) {
        let Some(best) = candidates.first() else {
            return;
        };
        if !best.is_one_slip_in_name(d) {
            return;
        }
        let best = best.clone();
        for (set, list) in [(self.refs, ids), (ctx.refs(), ctx_ids)] {
            for &id in list {
                let r = &set.refs[id as usize];
                // The first letter is rarely the one mistyped (`tom.com` is no mate for
                // `aom.com`).
                if r.class == best.class
                    && r.domain.ascii.as_bytes().first() == d.ascii.as_bytes().first()
                    && r.domain.ascii.len().abs_diff(d.ascii.len()) <= 1
                    && one_slip_in_name(d, &r.domain)
                    && r.domain.ascii != best.intended.ascii
                    && !candidates
                        .iter()
                        .any(|c| c.intended.ascii == r.domain.ascii)
                {
                    candidates.push(Candidate {
                        intended: r.domain.clone(),
                        protected: r.protected || self.protection.is_protected(&r.domain.ascii),
                        weak: true,
                        ..best.clone()
                    });
                }
            }
        }
    }

    /// A label of a two-label suffix left out (`yahoo.za` for `yahoo.co.za`, `defence.au` for
    /// `defence.gov.au`): certain when the typed suffix takes no names itself (`.za`), and a habit
    /// slip from inside the organisation otherwise (see [`Finder::habit_suffix`]). `ids`,
    /// `ctx_ids`: the references found for `d`, among them those with its label.
    fn dropped_suffix_label(
        &self,
        d: &Domain,
        ctx: &Context,
        ids: &[u32],
        ctx_ids: &[u32],
        candidates: &mut Vec<Candidate>,
    ) {
        // A known suffix takes names of its own: the list lookup only for the rest.
        if d.head().is_empty() || d.suffix_known || !second_levels_only(d.suffix()) {
            return;
        }
        let tail = [".", d.suffix()].concat();
        for (set, list) in [(self.refs, ids), (ctx.refs(), ctx_ids)] {
            for &id in list {
                let r = &set.refs[id as usize];
                let s = r.domain.suffix();
                if r.domain.head() == d.head()
                    && s.ends_with(&tail)
                    && dots(s) == dots(d.suffix()) + 1
                {
                    let c = structural(
                        self.protection,
                        r.domain.clone(),
                        r.class,
                        r.protected,
                        Kind::InvalidDomain,
                        0.5,
                        0.75,
                    );
                    push_candidate(candidates, c);
                }
            }
        }
    }

    /// Habit slips of the suffix from inside a government or military organisation: a sender
    /// whose own domain is protected types a colleague's name with the ending the hand writes
    /// everywhere else (`army.com`, `navy.org` from `.mil`), drops a label of a two-label suffix
    /// (`defence.au` for `defence.gov.au`, `mod.uk`-style), or writes the country's commercial
    /// second level for its government one (`mod.co.uk` for `mod.gov.uk`). Only towards a
    /// protected reference (or the sender's own domain) in the sender's own suffix; these
    /// endings are someone else's real domains, so the mail would leave the organisation.
    fn habit_suffix(&self, d: &Domain, ctx: &Context, candidates: &mut Vec<Candidate>) {
        let Some(s) = ctx.sender().filter(|s| s.protected) else {
            return;
        };
        let (head, ts, ss) = (d.head(), d.suffix(), s.domain.suffix());
        if head.is_empty() || ts == ss || !habit(ts, ss) {
            return;
        }
        let name = [head, ".", ss].concat();
        for set in [self.refs, ctx.refs()] {
            if let Some(r) = set.get(&name).filter(|r| r.protected) {
                let c = structural(
                    self.protection,
                    r.domain.clone(),
                    r.class,
                    r.protected,
                    Kind::SuffixTypo,
                    0.5,
                    0.75,
                );
                push_candidate(candidates, c);
            }
        }
    }

    /// The sender's own suffix: a `.mil` sender who types `.ml` meant `.mil`. `typed_skeleton`:
    /// the look-alike form of `d`; `sender_protected`: the sender's own domain is protected.
    fn sender_suffix(
        &self,
        d: &Domain,
        typed_skeleton: &str,
        ctx: &Context,
        sender_protected: bool,
        candidates: &mut Vec<Candidate>,
    ) {
        let Some(s) = ctx.sender() else { return };
        let head = d.head();
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
                let protected = self.protection.is_protected(&intended.ascii)
                    || self.refs.get(&intended.ascii).is_some_and(|r| r.protected);
                // A reference in the sender's own suffix explains it better than a made-up name.
                let explained = candidates
                    .iter()
                    .any(|c| c.intended.suffix() == ss && c.intended.ascii != intended.ascii);
                let scored = if explained {
                    None
                } else {
                    score(
                        self.protection,
                        d,
                        typed_skeleton,
                        &Ref::new(intended.clone(), Class::Sender, protected),
                        sender_protected,
                    )
                };
                if let Some(mut c) = scored {
                    if !magnet(ds, ss) {
                        // Only the suffix is repaired; the name may hold a slip of its own.
                        c.cost_in_context += bonus(Class::Sender) - 0.15;
                    }
                    // Only a single slip, and only towards a suffix that cannot exist or a
                    // known typo magnet: two-letter country codes sit a key apart from each
                    // other, and a German writing to .se meant Sweden.
                    if c.slip_cost <= 0.75 && (!d.suffix_known || magnet(ds, ss)) {
                        c.kind = Kind::SuffixTypo;
                        if !d.suffix_known {
                            c.kind = Kind::InvalidDomain;
                        }
                        push_candidate(candidates, c);
                    }
                }
            }
        }
    }

    /// `army.mil.ml`, `army-mil.com`, `armymil.com`, `foo.google-com.net`: a reference's name
    /// inside another domain.
    /// `typed_skeleton`: the look-alike form of `d` (its skeleton).
    fn embedded(
        &self,
        d: &Domain,
        typed_skeleton: &str,
        ctx: &Context,
        candidates: &mut Vec<Candidate>,
    ) {
        let head = d.head();
        if head.is_empty() {
            return;
        }
        let labels: Vec<&str> = head.split('.').collect();
        let mut found: Vec<(Domain, Class, bool)> = Vec::new();
        let first_known = |l: &str| self.refs.has_first_label(l) || ctx.refs().has_first_label(l);
        let try_name = |name: &str, found: &mut Vec<(Domain, Class, bool)>| {
            for set in [self.refs, ctx.refs()] {
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
            let mut skeleton_head = typed_skeleton;
            for _ in 0..=dots(d.suffix()) {
                skeleton_head = skeleton_head.rfind('.').map_or("", |p| &skeleton_head[..p]);
            }
            if skeleton_head != head {
                runs(&tokens(skeleton_head), &mut found);
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
        // Impersonation: a protected or trusted organisation's whole name beside a word that
        // asks for action (`lockheedmartin-verify.com`, `clicklockheedmartin.com`), as
        // commercial products warn on "lookalike domains". Nobody types these by accident, but a
        // reply to a phishing mail goes there. Names of at least 6 characters beside a hyphen,
        // of at least 8 run into the word; the words are the phishing-URL keywords of Garera et
        // al. (2007) and the actions phishing mail asks for. Other words beside a name are
        // ordinary (`columbiacollege.edu`, `choose-health.org`, `amazon-travel.info`).
        let label = d.label();
        let brand = |name: &str, found: &mut Vec<(Domain, Class, bool)>| {
            if !first_known(name) {
                return;
            }
            let mut ids = Vec::new();
            for set in [self.refs, ctx.refs()] {
                ids.clear();
                set.by_label(name, &mut ids);
                for &id in &ids {
                    let r = &set.refs[id as usize];
                    let organisation = r.protected || r.class != Class::Known;
                    if organisation
                        && r.domain.label() == name
                        && r.domain.subdomain().is_empty()
                        && !found.iter().any(|f| f.0.ascii == r.domain.ascii)
                    {
                        found.push((r.domain.clone(), r.class, r.protected));
                    }
                }
            }
        };
        if find_byte(label, b'-').is_some() {
            if label.split('-').any(|p| ACTION_WORDS.contains(&p)) {
                for part in label.split('-').filter(|p| p.len() >= 6) {
                    brand(part, &mut found);
                }
            }
        } else if label.len() >= 11 {
            for w in ACTION_WORDS.iter().filter(|w| w.len() >= 3) {
                if let Some(name) = label.strip_prefix(w).or_else(|| label.strip_suffix(w)) {
                    if name.len() >= 8 {
                        brand(name, &mut found);
                    }
                }
            }
        }
        // A name that ends in a zone its country's registry runs itself (`asu.edu.ru`: `edu.ru`)
        // is a registration there, not `asu.edu` with a country run on.
        if found.is_empty() {
            return;
        }
        let in_zone = REGISTRY_ZONES.iter().any(|z| {
            z.strip_suffix(d.suffix())
                .and_then(|z| z.strip_suffix('.'))
                .is_some_and(|z| z == d.label())
        });
        for (intended, class, protected) in found {
            let ends_in_label = intended
                .ascii
                .strip_suffix(d.label())
                .is_some_and(|rest| rest.ends_with('.'));
            if in_zone && ends_in_label {
                continue;
            }
            push_candidate(
                candidates,
                structural(
                    self.protection,
                    intended,
                    class,
                    protected,
                    Kind::Embedded,
                    0.4,
                    1.0,
                ),
            );
        }
    }

    /// `seibm.com` for `se.ibm.com`: a short country or region prefix run into a protected or
    /// trusted name, with the dot dropped.
    fn dropped_subdomain_dot(&self, d: &Domain, ctx: &Context, candidates: &mut Vec<Candidate>) {
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
            for set in [self.refs, ctx.refs()] {
                let Some(r) = set.get(&name) else { continue };
                if r.class == Class::Known && !r.protected {
                    continue;
                }
                let Ok(intended) = normalize(&format!("{p}.{name}")) else {
                    continue;
                };
                let c = structural(
                    self.protection,
                    intended,
                    r.class,
                    r.protected,
                    Kind::MissingDot,
                    0.5,
                    0.75,
                );
                push_candidate(candidates, c);
            }
        }
    }

    /// `gmailcom`: a reference with its last dot dropped; `gmail`: a reference without its
    /// suffix (only when one reference, or one `.com` reference, has that name).
    fn split_single_label(&self, d: &Domain, candidates: &mut Vec<Candidate>) {
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
            push_candidate(
                candidates,
                structural(self.protection, i, r.class, r.protected, k, 0.6, 0.75),
            );
        }
        for (cut, _) in s.char_indices().skip(2) {
            let (a, b) = s.split_at(cut);
            if b.len() < 2 || !is_known_suffix(b) {
                continue;
            }
            if let Some(r) = self.refs.get(&format!("{a}.{b}")) {
                let (i, k) = (r.domain.clone(), Kind::InvalidDomain);
                push_candidate(
                    candidates,
                    structural(self.protection, i, r.class, r.protected, k, 0.5, 0.75),
                );
            }
        }
    }
}

/// Words that ask for action, beside which an organisation's name is impersonation: the
/// phishing-URL keywords of Garera, Provos, Chew and Rubin, "A Framework for Detection and
/// Measurement of Phishing Attacks" (WORM 2007) (`secure`, `account`, `webscr`, `login`,
/// `signin`, `banking`, `confirm`), and the actions phishing mail asks for.
const ACTION_WORDS: &[&str] = &[
    "secure",
    "account",
    "webscr",
    "login",
    "signin",
    "banking",
    "confirm",
    "verify",
    "verification",
    "update",
    "click",
    "support",
    "helpdesk",
    "password",
    "auth",
    "sso",
    "portal",
    "payroll",
    "invoice",
    "billing",
    "alert",
    "security",
];

/// Second-level zones a country's registry runs itself but which the Public Suffix List carries
/// in its private section (the engine reads the ICANN section): the `.ru` registry's reserved
/// zones, submitted by the Coordination Center for TLD RU.
const REGISTRY_ZONES: &[&str] = &["ac.ru", "edu.ru", "gov.ru", "int.ru", "mil.ru", "test.ru"];

/// Whether `typed` is a habit slip of the government or military suffix `own` (see
/// [`Finder::habit_suffix`]): a generic `.com`/`.org`/`.net`, `own` without its first label
/// (`gov.au` → `au`), or the same country's commercial second level (`gov.uk` → `co.uk`).
fn habit(typed: &str, own: &str) -> bool {
    const GENERIC: &[&str] = &["com", "org", "net"];
    let cc = last_label(own);
    if GENERIC.contains(&cc) || own.starts_with("com.") || own.starts_with("co.") {
        return false;
    }
    if GENERIC.contains(&typed) {
        return true;
    }
    match own.split_once('.') {
        Some((_, rest)) => {
            typed == rest
                || ((typed == ["co.", cc].concat() || typed == ["com.", cc].concat())
                    && is_known_suffix(typed))
        }
        None => false,
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

/// Keep one candidate per intended domain: the cheapest, with the strongest context.
fn push_candidate(candidates: &mut Vec<Candidate>, c: Candidate) {
    if let Some(old) = candidates
        .iter_mut()
        .find(|o| o.intended.ascii == c.intended.ascii)
    {
        if c.cost_in_context < old.cost_in_context {
            let protected = old.protected || c.protected;
            *old = c;
            old.protected = protected;
        } else {
            old.protected |= c.protected;
        }
        return;
    }
    candidates.push(c);
}

/// A label with its ASCII homoglyphs folded (`0`, `1`, `rn`, `vv`, `cl`), the other two-letter
/// glyphs of dnstwist's table read as the letter they imitate (`nn`, `rr` as `m`, `lc` as `k`, `lh` as
/// `h`, `lb` as `b`, `dl` as `d`) and `ii` as `ll`; `None` when there is nothing to fold. Only a
/// key for the indexes: the slip costs decide.
fn fold_glyphs(label: &str) -> Option<String> {
    let b = label.as_bytes();
    let glyph = |w: &[u8]| {
        matches!(
            w,
            b"rn" | b"vv" | b"cl" | b"ii" | b"nn" | b"rr" | b"lc" | b"lh" | b"lb" | b"dl"
        )
    };
    if !b.iter().any(|&c| c == b'0' || c == b'1') && !b.windows(2).any(glyph) {
        return None;
    }
    let folded = crate::slips::fold_ascii(label);
    let b = folded.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let one: &[u8] = match b.get(i..i + 2) {
            Some(b"ii") => b"ll",
            Some(b"nn" | b"rr") => b"m",
            Some(b"lc") => b"k",
            Some(b"lh") => b"h",
            Some(b"lb") => b"b",
            Some(b"dl") => b"d",
            _ => {
                out.push(b[i]);
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(one);
        i += 2;
    }
    // Only ASCII pairs were replaced, so the bytes are still UTF-8.
    let f = String::from_utf8(out).ok()?;
    (f != label && !f.is_empty()).then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn habit_slips_of_government_suffixes() {
        // The generic endings, a dropped first label, the country's commercial second level.
        assert!(habit("com", "mil") && habit("org", "mil") && habit("net", "gov.uk"));
        assert!(habit("au", "gov.au") && habit("uk", "gov.uk") && habit("nz", "mil.nz"));
        assert!(habit("co.uk", "gov.uk") && habit("com.au", "gov.au"));
        // Not from a commercial suffix, nor to another country or an unlisted second level.
        assert!(!habit("org", "com") && !habit("com", "co.uk") && !habit("net", "com.au"));
        assert!(!habit("de", "gov.uk") && !habit("ml", "mil") && !habit("xx.uk", "gov.uk"));
    }
}
