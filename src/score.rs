//! Scoring: how likely a typed domain is a slip of one reference. A weighted edit distance (see
//! `slips`), lowered by context (the sender's own domain and suffix, contacts, protected
//! domains), against a budget that grows with the length of the name (short names need a
//! near-certain slip) and that the rules below adjust, each for the cases its comment names.

use crate::domain::{last_label, Domain};
use crate::engine::Engine;
use crate::index::{Class, Ref};
use crate::registries::{closed_and_unregistered, registered_gov};
use crate::slips::{cost, cost_named};
use crate::verdict::{Kind, Severity};

/// A possible intended domain for a typed one.
#[derive(Debug, Clone)]
pub(crate) struct Cand {
    pub intended: Domain,
    pub class: Class,
    pub protected: bool,
    pub kind: Kind,
    /// Raw slip cost.
    pub cost: f32,
    /// Cost after context.
    pub eff: f32,
    pub budget: f32,
}

/// Two candidates this close are equally likely: report both.
pub(crate) const TIE: f32 = 0.08;

/// Context lowers the cost of a slip towards a reference and raises the budget.
pub(crate) fn bonus(class: Class) -> f32 {
    match class {
        Class::Sender => 0.3,
        Class::Contact => 0.25,
        Class::Protected => 0.1,
        Class::Trusted => 0.05,
        Class::Known => 0.0,
    }
}

/// The context bonus of a reference: its class's, at least a protected domain's when it is one.
fn class_bonus(class: Class, protected: bool) -> f32 {
    bonus(class).max(if protected {
        bonus(Class::Protected)
    } else {
        0.0
    })
}

/// A slip towards a protected domain blocks; any other warns.
pub(crate) fn severity_of(c: &Cand) -> Severity {
    if c.protected {
        Severity::Block
    } else {
        Severity::Warn
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

/// The budget before context. With the same name, a suffix that cannot exist is a slip for sure
/// and a real one needs a single slip. Otherwise the budget grows with the name's length; a slip
/// in the name may come with one in the suffix (`gmil.con`), but then the name may hold one slip,
/// not two (`freesurf.nl` is not `frisurf.no`).
fn base_budget(d: &Domain, intended: &Domain, same_head: bool, head_len: usize) -> f32 {
    if same_head {
        return if d.suffix_known { 0.75 } else { 1.3 };
    }
    let name_budget = budget_for(head_len);
    if d.suffix() != intended.suffix() {
        name_budget.min(1.05) + 0.6
    } else {
        name_budget
    }
}

/// Closed registries: nobody can register a name under .mil, and only US governments under .gov
/// (whose short names are all on CISA's registry, embedded). A name there that does not exist and
/// is one slip from a listed one is that one; `cisa.gov` exists, so it is not `cia.gov`.
fn closed_registry(budget: f32, d: &Domain, intended: &Domain) -> f32 {
    if d.suffix() == intended.suffix() && closed_and_unregistered(d) {
        budget.max(1.25)
    } else {
        budget
    }
}

/// Every three-letter name is somebody's (`cisa.gov` is not `cia.gov`, `kit.edu` is not
/// `mit.edu`): a neighbouring key is too weak a sign there. Only the big mail providers, where
/// typos pile up, get it; other short names take a doubled or swapped letter, or a last letter
/// left off.
fn three_letter_names(
    budget: f32,
    head_len: usize,
    typed_len: usize,
    same_head: bool,
    class: Class,
) -> f32 {
    // The big mail providers' two-letter names (`qq.com`, `wp.pl`), where typos pile up: a
    // doubled letter (`qqq.com`, `wpp.pl`) and nothing weaker.
    if head_len == 2 && typed_len == 3 && !same_head && class == Class::Known {
        return budget.max(0.45);
    }
    if head_len == 3 && !same_head && class != Class::Known && budget < 1.0 {
        // A key added next to its neighbour (`ftum` for `tum`) makes a four-letter name, a
        // sparser namespace than the three-letter one a changed or dropped letter lands in.
        if typed_len == 4 {
            budget.min(0.6)
        } else {
            budget.min(0.55)
        }
    } else {
        budget
    }
}

/// Short names get no context allowance: `usaa.com` is a bank, not a slip of `usa.com`. Except
/// between protected peers (see [`Engine::peer_allowance`]).
fn context_allowance(
    budget: f32,
    head_len: usize,
    same_head: bool,
    peer_allowance: bool,
    class_bonus: f32,
) -> f32 {
    if head_len <= 3 && !same_head && budget < 1.0 && !peer_allowance {
        budget
    } else {
        budget + class_bonus.min(0.1)
    }
}

/// A different suffix must be a slip of its own before the whole names are compared
/// (`quizardal.it` is not worth aligning with `qiuzardal.com.au`). Only where both suffixes are
/// real and split the names alike.
fn unrelated_suffix(d: &Domain, sk: &str, intended: &Domain, isk: &str, same_head: bool) -> bool {
    !same_head
        && d.suffix_known
        && d.suffix() != intended.suffix()
        && dots(d.head()) == dots(intended.head())
        && isk != sk
        && !same_undotted(&d.ascii, &intended.ascii)
        && cost(d.suffix().as_bytes(), intended.suffix().as_bytes(), 1.0).is_none()
}

/// A slip in the name and another country's code are two independent mistakes: `lnu.se` is a
/// Swedish university, not `lmu.de` typed twice wrong, and `hot-mail.cf` is not four countries'
/// Hotmail. A different country code alone (same name) is judged as a suffix slip, and a slip in
/// the name with a generic or impossible suffix (`gmil.con`) as before. The sender's own domain
/// and contacts are context enough for two slips (`riverd3sign.pk` for a contact's
/// `riverdesign.pl`).
fn across_countries(d: &Domain, intended: &Domain, same_head: bool, class: Class) -> bool {
    let (t, i) = (last_label(d.suffix()), last_label(intended.suffix()));
    !same_head
        && !matches!(class, Class::Sender | Class::Contact)
        && d.suffix_known
        && t.len() == 2
        && i.len() == 2
        && t != i
}

/// Academic registries (`.edu`, `ac.*`, `edu.*`) admit only accredited institutions: nobody can
/// register a slip of a university's name there, so a name that exists is another institution
/// (`usma.edu` is West Point, not `usna.edu`; `stamford.edu`, `emich.edu`, `acm.ac.uk`), and one
/// that does not bounces. Between two names of the same academic suffix only the strongest slips
/// count (see [`strong_slip`]), unless the intended name is the sender's own or a contact's.
fn academic_registry(
    budget: f32,
    d: &Domain,
    intended: &Domain,
    same_head: bool,
    class: Class,
) -> f32 {
    let s = d.suffix();
    let academic = s == "edu" || s.starts_with("ac.") || s.starts_with("edu.");
    if !academic
        || same_head
        || s != intended.suffix()
        || matches!(class, Class::Sender | Class::Contact)
    {
        return budget;
    }
    if !strong_slip(d.head().as_bytes(), intended.head().as_bytes()) {
        return 0.0;
    }
    budget.min(0.55)
}

/// The slips that leave no doubt about the name, with its first letter right: a letter doubled
/// or undoubled, two neighbours swapped, the last letter left off.
fn strong_slip(t: &[u8], i: &[u8]) -> bool {
    if t.first() != i.first() {
        return false;
    }
    let pre = t.iter().zip(i).take_while(|(a, b)| a == b).count();
    match t.len() as isize - i.len() as isize {
        // `stanfford`: the extra letter repeats its neighbour.
        1 => t[pre + 1..] == i[pre..] && pre > 0 && t[pre] == t[pre - 1],
        // `stanfor`: the last letter left off; `aples` for `apples`: a doubled one undoubled.
        -1 => pre == t.len() || (t[pre..] == i[pre + 1..] && pre > 0 && i[pre] == i[pre - 1]),
        // `stanfrod`: two neighbours swapped.
        0 => {
            pre + 1 < t.len()
                && t[pre] == i[pre + 1]
                && t[pre + 1] == i[pre]
                && t[pre + 2..] == i[pre + 2..]
        }
        _ => false,
    }
}

impl Engine {
    /// Score a slip from `r` to `d`; `None` when it is out of budget or not a slip.
    /// `sk`: the look-alike form of `d` (its skeleton). `peer`: the sender's own domain is
    /// protected.
    pub(crate) fn score(&self, d: &Domain, sk: &str, r: &Ref, peer: bool) -> Option<Cand> {
        let (intended, class, protected, isk) = (&r.domain, r.class, r.protected, r.skeleton());
        if intended.ascii == d.ascii {
            return None;
        }
        let iprot = protected || self.is_protected(&intended.ascii);
        let class_bonus = class_bonus(class, iprot);
        let same_head = !d.head().is_empty() && d.head() == intended.head();
        let head_len = intended.head().chars().filter(|&c| c != '.').count();
        let budget = base_budget(d, intended, same_head, head_len);
        let budget = closed_registry(budget, d, intended);
        // A registered `.gov` name is never taken for its neighbour (`cisa.gov`, `usda.gov`).
        let typed_len = if registered_gov(d) {
            0
        } else {
            d.head().chars().filter(|&c| c != '.').count()
        };
        let budget = three_letter_names(budget, head_len, typed_len, same_head, class);
        let peer_allowance = peer && iprot && self.peer_allowance(d, intended);
        let budget = context_allowance(budget, head_len, same_head, peer_allowance, class_bonus);
        let budget = academic_registry(budget, d, intended, same_head, class);
        if unrelated_suffix(d, sk, intended, isk, same_head)
            || across_countries(d, intended, same_head, class)
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
            kind: kind_of(d, sk, intended, isk),
            intended: intended.clone(),
            class,
            protected: iprot,
            cost: c,
            eff,
            budget,
        })
    }

    /// Between protected peers (both the sender's domain and the intended one protected), a
    /// short name one slip from another member's keeps its context allowance: inside a
    /// government suffix (`mid.gov.uk` from `army.mil`), or towards a name that is a government
    /// namespace of its own (`mof.uk` for `mod.uk`, whose `*.mod.uk` the policy protects). Not
    /// towards a company in an open registry (`nyc.com` is not `ngc.com`), nor for a registered
    /// `.gov` name (`cisa.gov`).
    fn peer_allowance(&self, d: &Domain, intended: &Domain) -> bool {
        if self.is_protected(&d.ascii) {
            !registered_gov(d)
        } else {
            self.in_namespace(&intended.ascii)
        }
    }

    /// A candidate found by structure (embedded name, dropped dot, missing suffix) rather than
    /// by edit distance: a fixed cost, lowered by context like any other.
    pub(crate) fn structural(
        &self,
        intended: Domain,
        class: Class,
        protected: bool,
        kind: Kind,
        cost: f32,
        budget: f32,
    ) -> Cand {
        let protected = protected || self.is_protected(&intended.ascii);
        Cand {
            intended,
            class,
            protected,
            kind,
            cost,
            eff: cost - class_bonus(class, protected),
            budget,
        }
    }
}

/// The kind of slip from `intended` to `d` (`sk`, `isk`: their skeletons).
fn kind_of(d: &Domain, sk: &str, intended: &Domain, isk: &str) -> Kind {
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

/// The same name but for its dots (`modgov.uk`, `mod.gov.uk`).
pub(crate) fn same_undotted(a: &str, b: &str) -> bool {
    a.bytes()
        .filter(|&c| c != b'.')
        .eq(b.bytes().filter(|&c| c != b'.'))
}

/// The number of dots in a name.
pub(crate) fn dots(x: &str) -> usize {
    x.bytes().filter(|&b| b == b'.').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::normalize;
    use crate::{CheckRequest, Policy};

    fn dom(name: &str) -> Domain {
        normalize(name).unwrap()
    }

    /// The intended domains the default engine (plus `extra` known references) suggests for `to`
    /// sent from `from`.
    fn suggested(extra: &[&str], from: &str, to: &str) -> Vec<String> {
        let policy = Policy::embedded();
        let engine = Engine::with_references(&policy, extra.iter().map(|d| (*d, "known")));
        let request = CheckRequest {
            from: Some(from.to_string()),
            to: vec![format!("x@{to}")],
            ..CheckRequest::default()
        };
        let v = engine.check(&request);
        v.findings.into_iter().filter_map(|f| f.intended).collect()
    }

    #[test]
    fn base_budget_allows_one_name_slip_beside_a_suffix_slip() {
        let (typed, meant) = (dom("freesurf.nl"), dom("frisurf.no"));
        // Seven letters absorb two slips (1.3) on their own, one (1.05) beside a suffix slip.
        assert_eq!(budget_for(7), 1.3);
        assert_eq!(base_budget(&typed, &meant, false, 7), 1.05 + 0.6);
        assert_eq!(base_budget(&dom("freesurf.no"), &meant, false, 7), 1.3);
        assert!(suggested(&[], "a@example.org", "freesurf.nl").is_empty());
        assert_eq!(
            suggested(&[], "a@example.org", "gmil.con"),
            vec!["gmail.com"]
        );
        // The same name: a real suffix takes one slip, one that cannot exist more.
        assert_eq!(
            base_budget(&dom("gmail.co"), &dom("gmail.com"), true, 5),
            0.75
        );
        assert_eq!(
            base_budget(&dom("gmail.cmo"), &dom("gmail.com"), true, 5),
            1.3
        );
    }

    #[test]
    fn closed_registry_names_that_cannot_exist_get_a_wider_budget() {
        let cia = dom("cia.gov");
        // `cisa.gov` is registered: its budget stays.
        assert_eq!(closed_registry(0.6, &dom("cisa.gov"), &cia), 0.6);
        assert!(suggested(&[], "a@example.org", "cisa.gov").is_empty());
        // `cja.gov` is not on CISA's registry, nor anything under .mil but the references.
        assert_eq!(closed_registry(0.6, &dom("cja.gov"), &cia), 1.25);
        assert_eq!(
            closed_registry(0.75, &dom("arny.mil"), &dom("army.mil")),
            1.25
        );
        // Only within the same suffix.
        assert_eq!(closed_registry(0.6, &dom("cja.com"), &cia), 0.6);
    }

    #[test]
    fn strong_slips() {
        let strong = |t: &str, i: &str| strong_slip(t.as_bytes(), i.as_bytes());
        assert!(strong("stanfford", "stanford") && strong("stanfrod", "stanford"));
        assert!(strong("stanfor", "stanford") && !strong("dke", "duke"));
        assert!(strong("mit", "mitt") && !strong("usma", "usna") && !strong("emich", "umich"));
        assert!(!strong("stamford", "stanford") && !strong("uca", "ucla") && !strong("acm", "cam"));
    }

    #[test]
    fn three_letter_names_take_only_strong_slips_unless_a_mail_provider() {
        // `kit.edu` is not `mit.edu`: a neighbouring key costs more than 0.55.
        assert_eq!(three_letter_names(0.6, 3, 3, false, Class::Trusted), 0.55);
        assert_eq!(three_letter_names(0.6, 3, 3, false, Class::Known), 0.6);
        assert_eq!(
            three_letter_names(1.25, 3, 3, false, Class::Protected),
            1.25
        );
        assert_eq!(
            three_letter_names(0.75, 4, 4, false, Class::Protected),
            0.75
        );
        // A key added makes a four-letter name: a neighbouring key may have done it.
        assert_eq!(three_letter_names(0.6, 3, 4, false, Class::Trusted), 0.6);
        // A provider's two-letter name takes a doubled letter; an organisation's does not.
        assert_eq!(three_letter_names(0.35, 2, 3, false, Class::Known), 0.45);
        assert_eq!(three_letter_names(0.35, 2, 3, false, Class::Trusted), 0.35);
        assert!(suggested(&[], "a@example.org", "kit.edu").is_empty());
        assert!(suggested(&[], "a@army.mil", "cisa.gov").is_empty());
    }

    #[test]
    fn short_names_get_no_context_allowance_but_between_peers() {
        // `usaa.com` is a bank, not a slip of `usa.com`.
        assert_eq!(context_allowance(0.6, 3, false, false, 0.3), 0.6);
        let near = |a: f32, b: f32| (a - b).abs() < 1e-6;
        assert!(near(context_allowance(0.6, 3, false, true, 0.3), 0.7));
        assert!(near(context_allowance(0.75, 4, false, false, 0.05), 0.8));
        assert!(suggested(&[], "a@example.org", "usaa.com").is_empty());
    }

    #[test]
    fn peers_keep_their_allowance_only_inside_government_namespaces() {
        let engine = Engine::with_default_policy();
        // Inside a government suffix, and towards a namespace of its own (`*.mod.uk`).
        assert!(engine.peer_allowance(&dom("mid.gov.uk"), &dom("mod.gov.uk")));
        assert!(engine.peer_allowance(&dom("mof.uk"), &dom("mod.uk")));
        // Not towards a company in an open registry, nor for a registered .gov name.
        assert!(!engine.peer_allowance(&dom("nyc.com"), &dom("ngc.com")));
        assert!(!engine.peer_allowance(&dom("cisa.gov"), &dom("cia.gov")));
        assert!(suggested(&[], "a@army.mil", "nyc.com").is_empty());
        assert_eq!(
            suggested(&[], "a@army.mil", "mid.gov.uk"),
            vec!["mod.gov.uk"]
        );
    }

    #[test]
    fn a_different_suffix_must_be_a_slip_of_its_own() {
        let (typed, meant) = (dom("quizardal.it"), dom("qiuzardal.com.au"));
        let (sk, isk) = (
            crate::slips::skeleton(&typed.unicode),
            crate::slips::skeleton(&meant.unicode),
        );
        assert!(unrelated_suffix(&typed, &sk, &meant, &isk, false));
        assert!(suggested(&["qiuzardal.com.au"], "a@example.org", "quizardal.it").is_empty());
        // Suffixes one slip apart (`.co`, `.com`): the whole names are compared.
        let typed = dom("qiuzardal.co");
        let sk = crate::slips::skeleton(&typed.unicode);
        let meant = dom("qiuzardal.com");
        let isk = crate::slips::skeleton(&meant.unicode);
        assert!(!unrelated_suffix(&typed, &sk, &meant, &isk, true));
        let typed = dom("quizardal.co");
        let sk = crate::slips::skeleton(&typed.unicode);
        assert!(!unrelated_suffix(&typed, &sk, &meant, &isk, false));
    }
}
