//! Scoring: how likely a typed domain is a slip of one reference. A weighted edit distance (see
//! `slips`), lowered by context (the sender's own domain and suffix, contacts, protected
//! domains), against a budget that grows with the length of the name (short names need a
//! near-certain slip) and that the rules below adjust, each for the cases its comment names.

use crate::domain::{last_label, Domain};
use crate::index::{Class, Ref};
use crate::policy::Protection;
use crate::registries::{closed_and_unregistered, registered_gov};
use crate::slips::{cost, cost_named, one_slip_in_name, plain_idn};
use crate::verdict::{Kind, Severity, SURE_WARNING_SCORE};

/// A possible intended domain for a typed one.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub intended: Domain,
    pub class: Class,
    pub protected: bool,
    pub kind: Kind,
    /// The slip's cost before context (see `slips`), or a structural candidate's fixed cost.
    pub slip_cost: f32,
    /// The cost after context (the sender, contacts, protection) and the popular-suffix prior:
    /// what candidates are ranked by.
    pub cost_in_context: f32,
    pub budget: f32,
    /// Found only by the wider budget of a short name in an open registry (see
    /// [`short_open_name`]): a warning to check, never a refusal.
    pub weak: bool,
}

impl Candidate {
    /// One plain edit in the name of `typed`, in its suffix (see [`one_slip_in_name`]): what
    /// ties are made of.
    pub(crate) fn is_one_slip_in_name(&self, typed: &Domain) -> bool {
        self.kind == Kind::LabelTypo && one_slip_in_name(typed, &self.intended)
    }
}

/// Two candidates this close are equally likely: report both.
pub(crate) const TIE_MARGIN: f32 = 0.08;

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

/// The score a finding for `c` reports (`Finding::score`, two decimals): a confidence, not a
/// calibrated probability: 0.99 for a slip the context makes certain, falling towards 0.6 at the
/// edge of the budget. A weak candidate (a short name one ordinary slip from a reference may be
/// a real one) is worth a look, never a refusal: at most [`WEAK_SCORE`], under the score from
/// which the filter refuses a warning ([`SURE_WARNING_SCORE`]).
pub(crate) fn confidence(c: &Candidate) -> f64 {
    let score = (0.99 - 0.4 * (c.cost_in_context.max(0.0) / c.budget).min(1.0)).clamp(0.5, 0.99);
    let score = if c.weak { score.min(WEAK_SCORE) } else { score };
    (f64::from(score) * 100.0).round() / 100.0
}

/// The highest score of a weak finding (a short name one ordinary slip from a reference, or a
/// tie's mate).
pub(crate) const WEAK_SCORE: f32 = 0.6;
const _: () = assert!((WEAK_SCORE as f64) < SURE_WARNING_SCORE);

// The scores of the findings with no slip to weigh, fixed by what they are.
/// A suffix that cannot exist, with the popular one a slip away (`gmail.cmo`).
pub(crate) const REPAIRED_SUFFIX_SCORE: f64 = 0.8;
/// A suffix that cannot exist and no repair, or no suffix at all: no mail can arrive.
pub(crate) const NO_SUFFIX_SCORE: f64 = 0.99;
/// An international name under a military registry, which holds none.
pub(crate) const NOT_ASCII_UNDER_MIL_SCORE: f64 = 0.9;
/// A label that mixes writing systems.
pub(crate) const MIXED_SCRIPTS_SCORE: f64 = 0.7;
/// A destination the policy's rule stops, with no slip found.
pub(crate) const RULE_SCORE: f64 = 0.99;

/// A slip towards a protected domain blocks; any other warns.
pub(crate) fn severity_of(c: &Candidate) -> Severity {
    if c.protected && !c.weak {
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
/// between protected peers (see [`peer_allowance`]).
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
fn unrelated_suffix(
    d: &Domain,
    typed_skeleton: &str,
    intended: &Domain,
    intended_skeleton: &str,
    same_head: bool,
) -> bool {
    !same_head
        && d.suffix_known
        && d.suffix() != intended.suffix()
        && dots(d.head()) == dots(intended.head())
        && intended_skeleton != typed_skeleton
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
/// that does not bounces. Whether that rule judges `d` against `intended`: both in the same
/// academic suffix, unless the intended name is the sender's own or a contact's, or `lookalike`:
/// the typed name is international or reads the same as the intended one (`0x.ac.uk`,
/// `cluke.edu`), an imitation rather than another institution, judged like any other.
fn academic_rule(
    d: &Domain,
    intended: &Domain,
    same_head: bool,
    class: Class,
    lookalike: bool,
) -> bool {
    let s = d.suffix();
    let academic = s == "edu" || s.starts_with("ac.") || s.starts_with("edu.");
    academic
        && !lookalike
        && !same_head
        && s == intended.suffix()
        && !matches!(class, Class::Sender | Class::Contact)
}

/// Where the academic rule judges (see [`academic_rule`]), only the strongest slips count (see
/// [`strong_slip`]), and a character run on past the end. Longer names take more, by how often
/// two real names of that length are one slip apart among the 1,618 US universities' `.edu`
/// names of the public swot list:
/// - a letter added or left out, from six letters: 55–70% of the three- and four-letter names
///   have another one letter longer or shorter, 4–7% of those of six to eight letters;
/// - a vowel changed inside the name (not its first or last letter), from seven letters: none of
///   those names has such a neighbour (`umich`/`emich` and `clarke`/`clarku` are shorter or
///   differ at an end);
/// - any single slip, from nine letters: none of those names has a neighbour one changed letter
///   away, where 1–4% of the seven- and eight-letter ones do (`stamford.edu` beside
///   `stanford.edu`).
///
/// A digit in a name of letters is never another institution's.
fn academic_registry(budget: f32, d: &Domain, intended: &Domain) -> f32 {
    let (t, i) = (d.head().as_bytes(), intended.head().as_bytes());
    if i.len() >= 9
        || (i.len() >= 6 && one_letter_more_or_less(t, i))
        || (i.len() >= 7 && vowel_changed_inside(t, i))
    {
        return budget;
    }
    // Institutions are named by words and initials: a digit in a name of letters (`d1au.edu`,
    // `h4rvard.edu`) is a slip of the hand at any length.
    if t.iter().any(u8::is_ascii_digit) && !i.iter().any(u8::is_ascii_digit) {
        return budget.max(SHORT_OPEN_BUDGET);
    }
    // One character run on past the end (`dukea.edu`, `ox1.ac.uk`): the shape of a slip, not of
    // another institution's name. A letter after a short name may be a sister campus's
    // (`byuh.edu`, `asub.edu`), a digit never is.
    if t.len() == i.len() + 1
        && t.starts_with(i)
        && (i.len() >= 4 || t.last().is_some_and(u8::is_ascii_digit))
    {
        return budget.max(SHORT_OPEN_BUDGET);
    }
    if !strong_slip(t, i) {
        return 0.0;
    }
    budget.min(0.55)
}

/// How far a short name in an open registry may be slipped and still be worth a word.
pub(crate) const SHORT_OPEN_BUDGET: f32 = 0.8;

/// Names of two or three letters in open registries: every one is somebody's, so a single slip
/// beyond the strong ones (a neighbouring key, a vowel, a letter dropped or added) lands on a
/// name that may well be real (`nyc.com` beside `ngc.com`, `tim.de` beside `tum.de`). It is still
/// the likeliest explanation when the intended name is a reference: one slip of any kind is
/// worth a word, at [`SHORT_OPEN_BUDGET`], but only as a warning to check (see [`Candidate::weak`]).
/// Not where a closed registry's rule or the academic one decides, nor for a registered `.gov`
/// name (`cisa.gov`).
fn short_open_name(
    budget: f32,
    d: &Domain,
    intended: &Domain,
    head_len: usize,
    same_head: bool,
) -> f32 {
    if head_len <= 3
        && !same_head
        && !registered_gov(d)
        && !closed_and_unregistered(d)
        && d.suffix() == intended.suffix()
    {
        budget.max(SHORT_OPEN_BUDGET)
    } else {
        budget
    }
}

/// `t` is `i` with one vowel changed for another, neither at the first nor the last letter.
fn vowel_changed_inside(t: &[u8], i: &[u8]) -> bool {
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    let mut diff = t.iter().zip(i).enumerate().filter(|(_, (a, b))| a != b);
    match (diff.next(), diff.next()) {
        (Some((k, (&a, &b))), None) => {
            t.len() == i.len() && k > 0 && k + 1 < i.len() && vowel(a) && vowel(b)
        }
        _ => false,
    }
}

/// `t` is `i` with one character added or left out.
fn one_letter_more_or_less(t: &[u8], i: &[u8]) -> bool {
    let (long, short) = if t.len() > i.len() { (t, i) } else { (i, t) };
    if long.len() != short.len() + 1 {
        return false;
    }
    let pre = long.iter().zip(short).take_while(|(a, b)| a == b).count();
    long[pre + 1..] == short[pre..]
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

/// Score a slip from `r` to `d`; `None` when it is out of budget or not a slip. `protection`:
/// what the policy protects; `typed_skeleton`: the look-alike form of `d` (its skeleton);
/// `sender_protected`: the sender's own domain is protected.
pub(crate) fn score(
    protection: &Protection,
    d: &Domain,
    typed_skeleton: &str,
    r: &Ref,
    sender_protected: bool,
) -> Option<Candidate> {
    let (intended, class, protected, intended_skeleton) =
        (&r.domain, r.class, r.protected, r.skeleton());
    if intended.ascii == d.ascii {
        return None;
    }
    let intended_protected = protected || protection.is_protected(&intended.ascii);
    let class_bonus = class_bonus(class, intended_protected);
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
    let peer_allowance =
        sender_protected && intended_protected && peer_allowance(protection, d, intended);
    let budget = context_allowance(budget, head_len, same_head, peer_allowance, class_bonus);
    let lookalike = !d.unicode.is_ascii() || intended_skeleton == typed_skeleton;
    let (strong_budget, budget) = if academic_rule(d, intended, same_head, class, lookalike) {
        let b = academic_registry(budget, d, intended);
        (b, b)
    } else {
        (
            budget,
            short_open_name(budget, d, intended, head_len, same_head),
        )
    };
    if unrelated_suffix(d, typed_skeleton, intended, intended_skeleton, same_head)
        || across_countries(d, intended, same_head, class)
    {
        return None;
    }
    let slip_cost = if intended_skeleton == typed_skeleton {
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
        let folded = if typed_skeleton != d.ascii || intended_skeleton != intended.ascii {
            cost_named(
                typed_skeleton.as_bytes(),
                intended_skeleton.as_bytes(),
                name_len(intended_skeleton),
                budget,
            )
            .map(|c| c + 0.1)
        } else {
            None
        };
        // An international name also as plain letters with its glyphs (`aŗnny`: `arnny`).
        let plain = plain_idn(&d.unicode).and_then(|p| {
            cost_named(
                p.as_bytes(),
                intended.ascii.as_bytes(),
                name_len(&intended.ascii),
                budget,
            )
            .map(|c| c + 0.1)
        });
        [raw, folded, plain].into_iter().flatten().reduce(f32::min)
    } else {
        None
    }?;
    // Among otherwise equal slips, .com is by far the likeliest destination.
    let popular = if intended.suffix() == "com" { 0.1 } else { 0.0 };
    let cost_in_context = slip_cost - class_bonus - popular;
    if slip_cost > budget {
        return None;
    }
    Some(Candidate {
        kind: kind_of(d, typed_skeleton, intended, intended_skeleton),
        intended: intended.clone(),
        class,
        protected: intended_protected,
        slip_cost,
        cost_in_context,
        // A strong slip is scored against the budget it met.
        budget: if slip_cost > strong_budget {
            budget
        } else {
            strong_budget
        },
        weak: slip_cost > strong_budget,
    })
}

/// Between protected peers (both the sender's domain and the intended one protected), a
/// short name one slip from another member's keeps its context allowance: inside a
/// government suffix (`mid.gov.uk` from `army.mil`), or towards a name that is a government
/// namespace of its own (`mof.uk` for `mod.uk`, whose `*.mod.uk` the policy protects). Not
/// towards a company in an open registry (`nyc.com` is not `ngc.com`), nor for a registered
/// `.gov` name (`cisa.gov`).
fn peer_allowance(protection: &Protection, d: &Domain, intended: &Domain) -> bool {
    if protection.is_protected(&d.ascii) {
        !registered_gov(d)
    } else {
        protection.in_namespace(&intended.ascii)
    }
}

/// A candidate found by structure (embedded name, dropped dot, missing suffix) rather than
/// by edit distance: a fixed cost, lowered by context like any other.
pub(crate) fn structural(
    protection: &Protection,
    intended: Domain,
    class: Class,
    protected: bool,
    kind: Kind,
    slip_cost: f32,
    budget: f32,
) -> Candidate {
    let protected = protected || protection.is_protected(&intended.ascii);
    Candidate {
        intended,
        class,
        protected,
        kind,
        slip_cost,
        cost_in_context: slip_cost - class_bonus(class, protected),
        budget,
        weak: false,
    }
}

/// The kind of slip from `intended` to `d` (`typed_skeleton`, `intended_skeleton`: their skeletons).
fn kind_of(d: &Domain, typed_skeleton: &str, intended: &Domain, intended_skeleton: &str) -> Kind {
    // The same look, or an international name that reads as plain letters (`aŗnny.mil`).
    if intended_skeleton == typed_skeleton || (!d.unicode.is_ascii() && typed_skeleton.is_ascii()) {
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
    use crate::{CheckRequest, Engine, Policy};

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

    /// The intended domains of the findings above a weak warning's score (see
    /// [`short_open_name`]): the ones that may stop a send.
    fn suggested_firmly(from: &str, to: &str) -> Vec<String> {
        let engine = Engine::with_default_policy();
        let request = CheckRequest {
            from: Some(from.to_string()),
            to: vec![format!("x@{to}")],
            ..CheckRequest::default()
        };
        let v = engine.check(&request);
        v.findings
            .into_iter()
            .filter(|f| f.score > f64::from(WEAK_SCORE) + 1e-9)
            .filter_map(|f| f.intended)
            .collect()
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
    fn academic_registries_take_strong_slips_and_run_on_characters() {
        let (duke, ox) = (dom("duke.edu"), dom("ox.ac.uk"));
        // Another institution's name: no budget; a strong slip: a little.
        assert_eq!(academic_registry(1.05, &dom("dike.edu"), &duke), 0.0);
        assert_eq!(academic_registry(0.75, &dom("dukke.edu"), &duke), 0.55);
        // A character run on past the end; after a short name, a digit only (`byuh.edu` is BYU
        // Hawaii).
        assert_eq!(
            academic_registry(0.75, &dom("dukea.edu"), &duke),
            SHORT_OPEN_BUDGET
        );
        assert_eq!(
            academic_registry(0.35, &dom("ox1.ac.uk"), &ox),
            SHORT_OPEN_BUDGET
        );
        assert_eq!(
            academic_registry(0.6, &dom("byuh.edu"), &dom("byu.edu")),
            0.0
        );
        // Six letters and more: a letter added or left out, not a changed one.
        let texas = dom("utexas.edu");
        assert_eq!(academic_registry(1.05, &dom("uteas.edu"), &texas), 1.05);
        assert_eq!(academic_registry(1.05, &dom("hutexas.edu"), &texas), 1.05);
        assert_eq!(academic_registry(1.05, &dom("utexes.edu"), &texas), 0.0);
        assert_eq!(academic_registry(1.05, &dom("ut3xas.edu"), &texas), 1.05);
        assert_eq!(
            academic_registry(0.6, &dom("da7.edu"), &dom("dau.edu")),
            SHORT_OPEN_BUDGET
        );
        assert_eq!(
            academic_registry(1.3, &dom("stamford.edu"), &dom("stanford.edu")),
            0.0
        );
        // Seven letters and more: a vowel changed inside; nine and more: any slip.
        let harvard = dom("harvard.edu");
        assert_eq!(academic_registry(1.3, &dom("harverd.edu"), &harvard), 1.3);
        assert_eq!(academic_registry(1.3, &dom("harvarb.edu"), &harvard), 0.0);
        assert_eq!(
            academic_registry(1.3, &dom("pacificu.edu"), &dom("pacifica.edu")),
            0.0
        );
        assert_eq!(
            academic_registry(1.5, &dom("westpoimt.edu"), &dom("westpoint.edu")),
            1.5
        );
        assert!(vowel_changed_inside(b"harvird", b"harvard"));
        assert!(!vowel_changed_inside(b"emich", b"amich"));
        assert!(!vowel_changed_inside(b"clarku", b"clarke"));
        assert!(one_letter_more_or_less(b"harard", b"harvard"));
        assert!(!one_letter_more_or_less(b"harvrad", b"harvard"));
        // Who the rule judges: not the sender's own name, not a look-alike, not another suffix.
        assert!(academic_rule(
            &dom("dike.edu"),
            &duke,
            false,
            Class::Trusted,
            false
        ));
        assert!(!academic_rule(
            &dom("dike.edu"),
            &duke,
            false,
            Class::Sender,
            false
        ));
        assert!(!academic_rule(
            &dom("0x.ac.uk"),
            &ox,
            false,
            Class::Trusted,
            true
        ));
        assert!(!academic_rule(
            &dom("dike.com"),
            &duke,
            false,
            Class::Trusted,
            false
        ));
    }

    #[test]
    fn short_names_in_open_registries_are_worth_a_check() {
        let (tum, ey) = (dom("tum.de"), dom("ey.com"));
        // One ordinary slip of a short reference: the wider budget.
        assert_eq!(
            short_open_name(0.55, &dom("tim.de"), &tum, 3, false),
            SHORT_OPEN_BUDGET
        );
        assert_eq!(
            short_open_name(0.35, &dom("ry.com"), &ey, 2, false),
            SHORT_OPEN_BUDGET
        );
        // Not for longer names, another suffix, the same name, a registered .gov name, or a
        // closed registry (its own rule decides).
        assert_eq!(
            short_open_name(0.75, &dom("tumx.de"), &dom("tumx.de"), 4, false),
            0.75
        );
        assert_eq!(short_open_name(0.55, &dom("tim.at"), &tum, 3, false), 0.55);
        assert_eq!(short_open_name(0.55, &dom("tum.at"), &tum, 3, true), 0.55);
        assert_eq!(
            short_open_name(0.55, &dom("cisa.gov"), &dom("cia.gov"), 3, false),
            0.55
        );
        assert_eq!(
            short_open_name(1.25, &dom("arm.mil"), &dom("af.mil"), 2, false),
            1.25
        );
        // What it finds is a warning to check, below the filter's refusal score.
        let check = |to: &str| {
            let engine = Engine::with_default_policy();
            let request = CheckRequest {
                to: vec![format!("x@{to}")],
                ..CheckRequest::default()
            };
            engine.check(&request).findings
        };
        let f = check("tim.de");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].intended.as_deref(), Some("tum.de"));
        assert_eq!(f[0].severity, Severity::Warn);
        assert!(f[0].score <= f64::from(WEAK_SCORE) + 1e-9);
        assert!(f[0].reason.contains("short names are often real domains"));
        // A protected short name too: `nyc.com` warns of `ngc.com`, it does not block.
        let f = check("nyc.com");
        assert_eq!(f[0].intended.as_deref(), Some("ngc.com"));
        assert_eq!(f[0].severity, Severity::Warn);
        // A strong slip of a short name keeps its full weight (`wixx.com`).
        let f = check("wixx.com");
        assert!(f[0].score > f64::from(WEAK_SCORE));
    }

    #[test]
    fn peers_keep_their_allowance_only_inside_government_namespaces() {
        let p = Protection::of(&Policy::embedded());
        // Inside a government suffix, and towards a namespace of its own (`*.mod.uk`).
        assert!(peer_allowance(&p, &dom("mid.gov.uk"), &dom("mod.gov.uk")));
        assert!(peer_allowance(&p, &dom("mof.uk"), &dom("mod.uk")));
        // Not towards a company in an open registry, nor for a registered .gov name.
        assert!(!peer_allowance(&p, &dom("nyc.com"), &dom("ngc.com")));
        assert!(!peer_allowance(&p, &dom("cisa.gov"), &dom("cia.gov")));
        // `nyc.com` is only worth a check (a short name in an open registry), never a block.
        assert!(suggested_firmly("a@army.mil", "nyc.com").is_empty());
        assert_eq!(
            suggested(&[], "a@army.mil", "mid.gov.uk"),
            vec!["mod.gov.uk"]
        );
    }

    #[test]
    fn a_different_suffix_must_be_a_slip_of_its_own() {
        let (typed, meant) = (dom("quizardal.it"), dom("qiuzardal.com.au"));
        let (typed_skeleton, intended_skeleton) = (
            crate::slips::skeleton(&typed.unicode),
            crate::slips::skeleton(&meant.unicode),
        );
        assert!(unrelated_suffix(
            &typed,
            &typed_skeleton,
            &meant,
            &intended_skeleton,
            false
        ));
        assert!(suggested(&["qiuzardal.com.au"], "a@example.org", "quizardal.it").is_empty());
        // Suffixes one slip apart (`.co`, `.com`): the whole names are compared.
        let typed = dom("qiuzardal.co");
        let typed_skeleton = crate::slips::skeleton(&typed.unicode);
        let meant = dom("qiuzardal.com");
        let intended_skeleton = crate::slips::skeleton(&meant.unicode);
        assert!(!unrelated_suffix(
            &typed,
            &typed_skeleton,
            &meant,
            &intended_skeleton,
            true
        ));
        let typed = dom("quizardal.co");
        let typed_skeleton = crate::slips::skeleton(&typed.unicode);
        assert!(!unrelated_suffix(
            &typed,
            &typed_skeleton,
            &meant,
            &intended_skeleton,
            false
        ));
    }
}
