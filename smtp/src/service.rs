//! The one decision both front ends share: the engine (swapped whole on reload), the sender
//! contexts built from each sender's history, the confirm store and the history. No I/O and no
//! clock: times come in as milliseconds.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use mistype::{Context, Engine};

use crate::confirm::ConfirmStore;
use crate::decide::{self, Decision};
use crate::history::{self, History};
use crate::metrics::Metrics;

/// Sender contexts kept (the cache is emptied when full).
pub const CONTEXT_CACHE: usize = 10_000;
/// Recipient domains remembered as clean, per context and in all (past either, no more are
/// added, or, in all, the cache is emptied).
pub const CLEAN_PER_CONTEXT: usize = 4_096;
/// See [`CLEAN_PER_CONTEXT`].
pub const CLEAN_IN_ALL: usize = 200_000;

/// How the service decides.
#[derive(Debug, Clone)]
pub struct Config {
    /// The decision table's settings (dry run, sure warnings).
    pub decide: decide::Settings,
    /// The SMTP code and enhanced status of a refusal (`550 5.1.1`).
    pub reject_code: String,
    /// The domain of a SASL login name without one (`jan` becomes `jan@DOMAIN`).
    pub sasl_domain: Option<String>,
    /// The confirm window.
    pub confirm_window_ms: u64,
    /// Most refused pairs remembered.
    pub confirm_cap: usize,
    /// The history's limits.
    pub history: history::Limits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            decide: decide::Settings::default(),
            reject_code: "550 5.1.1".to_string(),
            sasl_domain: None,
            confirm_window_ms: crate::confirm::DEFAULT_WINDOW_MS,
            confirm_cap: crate::confirm::DEFAULT_CAP,
            history: history::Limits::default(),
        }
    }
}

/// Who sends: the address the engine takes as context, and whether the MTA authenticated it
/// (only an authenticated sender's mail feeds its history: an envelope sender can be anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The address, lower case; empty for the null sender.
    pub address: String,
    /// Logged in (SASL).
    pub authenticated: bool,
}

/// The engine and the contexts built with it.
#[derive(Debug)]
struct Judge {
    engine: Engine,
    contexts: Mutex<Contexts>,
}

/// Contexts by sender, each with the recipient domains the engine found nothing wrong with in
/// it: most mail goes to few domains, and a domain judged clean for a context is clean for every
/// plain address in it (the engine judges the domain; the local part only fills in the words).
#[derive(Debug, Default)]
struct Contexts {
    /// Senders without contacts of their own, by domain (lower case).
    by_domain: HashMap<Box<str>, Known>,
    /// The others, by address (lower case).
    by_address: HashMap<Box<str>, Known>,
    clean: usize,
}

/// Where a sender's context is kept.
#[derive(Debug, Clone, Copy)]
enum Key<'a> {
    Domain(&'a str),
    Address(&'a str),
}

impl Contexts {
    fn get(&self, key: Key<'_>) -> Option<&Known> {
        match key {
            Key::Domain(d) => self.by_domain.get(d),
            Key::Address(a) => self.by_address.get(a),
        }
    }

    fn get_mut(&mut self, key: Key<'_>) -> Option<&mut Known> {
        match key {
            Key::Domain(d) => self.by_domain.get_mut(d),
            Key::Address(a) => self.by_address.get_mut(a),
        }
    }

    fn insert(&mut self, key: Key<'_>, known: Known) {
        if self.by_domain.len() + self.by_address.len() >= CONTEXT_CACHE {
            *self = Contexts::default();
        }
        match key {
            Key::Domain(d) => self.by_domain.insert(d.into(), known),
            Key::Address(a) => self.by_address.insert(a.into(), known),
        };
    }
}

#[derive(Debug)]
struct Known {
    /// The sender's history version it was built with.
    version: u64,
    ctx: Arc<Context>,
    clean: HashSet<Box<str>>,
}

/// `local@domain` with a plain dot-atom local part and an ASCII domain: the address the engine
/// reads exactly as its domain (no quoting, comments, lists or IDN). The domain, as written.
fn plain_domain(addr: &str) -> Option<&str> {
    let (local, domain) = addr.split_once('@')?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b == b'.' || atext(b));
    let domain_ok = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    (local_ok && domain_ok).then_some(domain)
}

fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The shared state of the service.
#[derive(Debug)]
pub struct Service {
    cfg: Config,
    judge: RwLock<Arc<Judge>>,
    confirm: Mutex<ConfirmStore>,
    history: Mutex<History>,
    /// The counters.
    pub metrics: Metrics,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these half-written in a way that matters more than stopping.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `<addr>` or `addr` → `addr`, trimmed.
pub fn bare(addr: &str) -> &str {
    let a = addr.trim();
    a.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(a)
        .trim()
}

impl Service {
    /// A service judging with `engine`, starting from `history`.
    pub fn new(engine: Engine, cfg: Config, history: History) -> Service {
        let confirm = ConfirmStore::new(cfg.confirm_window_ms, cfg.confirm_cap);
        Service {
            judge: RwLock::new(Arc::new(Judge {
                engine,
                contexts: Mutex::new(Contexts::default()),
            })),
            confirm: Mutex::new(confirm),
            history: Mutex::new(history),
            metrics: Metrics::default(),
            cfg,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Judge with a new engine from now on (a reload). Decisions under way finish with the old.
    pub fn replace_engine(&self, engine: Engine) {
        let j = Arc::new(Judge {
            engine,
            contexts: Mutex::new(Contexts::default()),
        });
        *self.judge.write().unwrap_or_else(PoisonError::into_inner) = j;
    }

    /// The sender from the MTA's attributes: the SASL login when there is one (with
    /// `sasl_domain` added when it has no domain), else the envelope sender.
    pub fn sender(&self, sasl_username: Option<&str>, envelope: Option<&str>) -> Sender {
        if let Some(user) = sasl_username.map(str::trim).filter(|u| !u.is_empty()) {
            let address = match (&self.cfg.sasl_domain, user.contains('@')) {
                (Some(d), false) => format!("{user}@{d}"),
                _ => user.to_string(),
            };
            return Sender {
                address: address.to_ascii_lowercase(),
                authenticated: true,
            };
        }
        Sender {
            address: bare(envelope.unwrap_or("")).to_ascii_lowercase(),
            authenticated: false,
        }
    }

    /// The key of `who`'s context and the history version it depends on. A sender without
    /// contacts of its own is judged as its domain (the engine's context is the sender's domain
    /// and contacts), so that every plain address of a domain shares one context.
    fn context_key<'a>(&self, who: &'a Sender) -> (Key<'a>, u64) {
        let version = if who.authenticated {
            lock(&self.history).version(&who.address)
        } else {
            0
        };
        match plain_domain(&who.address) {
            Some(d) if version == 0 => (Key::Domain(d), 0),
            _ => (Key::Address(&who.address), version),
        }
    }

    fn build_context(&self, judge: &Judge, who: &Sender) -> Context {
        let contacts = if who.authenticated {
            lock(&self.history).contacts(&who.address)
        } else {
            Vec::new()
        };
        let from = (!who.address.is_empty()).then_some(who.address.as_str());
        judge.engine.context(from, &contacts)
    }

    /// Decide for one recipient (`<addr>` or `addr`). Changes nothing: [`Service::settle`] does,
    /// once the decision is final.
    pub fn decide(&self, who: &Sender, recipient: &str, now_ms: u64) -> Decision {
        let judge = self
            .judge
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let rcpt = bare(recipient);
        let domain = plain_domain(rcpt).map(lower);
        let (key, version) = self.context_key(who);
        let cached = {
            let cache = lock(&judge.contexts);
            match cache.get(key) {
                Some(k) if k.version == version => {
                    if domain.as_deref().is_some_and(|d| k.clean.contains(d)) {
                        return Decision::Clean;
                    }
                    Some(k.ctx.clone())
                }
                _ => None,
            }
        };
        let ctx = match cached {
            Some(c) => c,
            None => {
                let ctx = Arc::new(self.build_context(&judge, who));
                lock(&judge.contexts).insert(
                    key,
                    Known {
                        version,
                        ctx: ctx.clone(),
                        clean: HashSet::new(),
                    },
                );
                ctx
            }
        };
        let verdict = judge.engine.check_recipient(rcpt, &ctx);
        if verdict.findings.is_empty() && verdict.errors.is_empty() {
            if let Some(d) = domain {
                let mut cache = lock(&judge.contexts);
                if cache.clean >= CLEAN_IN_ALL {
                    for k in cache.by_domain.values_mut() {
                        k.clean.clear();
                    }
                    for k in cache.by_address.values_mut() {
                        k.clean.clear();
                    }
                    cache.clean = 0;
                }
                let added = match cache.get_mut(key) {
                    Some(k) if k.version == version && k.clean.len() < CLEAN_PER_CONTEXT => {
                        k.clean.insert(d.into())
                    }
                    _ => false,
                };
                cache.clean += usize::from(added);
            }
            return Decision::Clean;
        }
        decide::decide(verdict, self.cfg.decide, || {
            lock(&self.confirm).confirmed(&who.address, rcpt, now_ms)
        })
    }

    /// Act on a final decision: a refusal is remembered for the window; a recipient that goes
    /// through counts in an authenticated sender's history.
    pub fn settle(&self, who: &Sender, recipient: &str, d: &Decision, now_ms: u64) {
        let rcpt = bare(recipient);
        match d {
            Decision::Refuse(_) => lock(&self.confirm).remember(&who.address, rcpt, now_ms),
            Decision::Unjudged(_) => {}
            _ if who.authenticated => {
                if let Some((_, domain)) = rcpt.rsplit_once('@') {
                    lock(&self.history).record(&who.address, domain);
                }
            }
            _ => {}
        }
    }

    /// The refusal line for the policy service: `550 5.1.1 text`.
    pub fn reject_line(&self, text: &str) -> String {
        format!("{} {text}", self.cfg.reject_code)
    }

    /// The history file's text, when something changed since the last call.
    pub fn history_to_save(&self) -> Option<String> {
        let mut h = lock(&self.history);
        h.take_changed().then(|| h.to_text())
    }

    /// The history file's text, whatever changed.
    pub fn history_text(&self) -> String {
        lock(&self.history).to_text()
    }

    /// Gauges for the metrics page: pairs in the confirm store, senders with a history.
    pub fn gauges(&self) -> [(&'static str, &'static str, u64); 2] {
        [
            (
                "mistype_smtp_confirm_pairs",
                "Refused (sender, recipient) pairs remembered for a resend.",
                lock(&self.confirm).len() as u64,
            ),
            (
                "mistype_smtp_history_senders",
                "Senders whose recipient domains are kept.",
                lock(&self.history).senders() as u64,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(cfg: Config) -> Service {
        let h = History::new(cfg.history);
        Service::new(Engine::with_default_policy(), cfg, h)
    }

    #[test]
    fn the_sender_is_the_login_then_the_envelope() {
        let s = svc(Config {
            sasl_domain: Some("mindef.nl".into()),
            ..Config::default()
        });
        assert_eq!(
            s.sender(Some("Jan"), Some("other@x.org")),
            Sender {
                address: "jan@mindef.nl".into(),
                authenticated: true
            }
        );
        assert_eq!(s.sender(Some("jan@army.nl"), None).address, "jan@army.nl");
        assert_eq!(
            s.sender(Some(""), Some("<Ray.K@army.mil>")),
            Sender {
                address: "ray.k@army.mil".into(),
                authenticated: false
            }
        );
        assert_eq!(s.sender(None, Some("<>")).address, "");
    }

    #[test]
    fn refused_then_confirmed_within_the_window() {
        let s = svc(Config::default());
        let who = s.sender(None, Some("ray.k@army.mil"));
        let d = s.decide(&who, "<c@navy.ml>", 0);
        assert_eq!(d.label(), "refused");
        s.settle(&who, "<c@navy.ml>", &d, 0);
        assert_eq!(s.decide(&who, "c@navy.ml", 60_000).label(), "confirmed");
        let other = s.sender(None, Some("ann@army.mil"));
        assert_eq!(s.decide(&other, "c@navy.ml", 60_000).label(), "refused");
        assert_eq!(s.decide(&who, "c@navy.ml", 600_001).label(), "refused");
    }

    #[test]
    fn the_history_makes_a_partner_a_contact_and_its_slip_a_finding() {
        let s = svc(Config::default());
        let jan = s.sender(Some("jan@northwind-traders.com"), None);
        // Before: a slip of an unknown partner's name is nothing to the engine.
        assert_eq!(s.decide(&jan, "p@kalomertan.de", 0).label(), "clean");
        assert_eq!(s.decide(&jan, "p@klaomertan.de", 0).label(), "clean");
        for _ in 0..3 {
            let d = s.decide(&jan, "p@kalomertan.de", 0);
            s.settle(&jan, "p@kalomertan.de", &d, 0);
        }
        let d = s.decide(&jan, "p@klaomertan.de", 0);
        let f = d.finding().map(|f| f.intended.clone());
        assert_eq!(f, Some(Some("kalomertan.de".to_string())), "{d:?}");
        // Another sender has no such history; the unauthenticated envelope feeds none.
        let ann = s.sender(Some("ann@northwind-traders.com"), None);
        assert_eq!(s.decide(&ann, "p@klaomertan.de", 0).label(), "clean");
        let forged = s.sender(None, Some("x@northwind-traders.com"));
        for _ in 0..5 {
            s.settle(&forged, "p@kalomertan.de", &Decision::Clean, 0);
        }
        assert_eq!(s.history_text().lines().count(), 1);
    }

    #[test]
    fn a_domain_found_clean_is_clean_for_that_sender_domain_only() {
        let s = svc(Config::default());
        let army = s.sender(None, Some("ray.k@army.mil"));
        let nw = s.sender(None, Some("ann@northwind-traders.com"));
        // Nothing wrong with it from army.mil: remembered as clean for army.mil's context.
        assert_eq!(
            s.decide(&army, "a@northwnd-traders.com", 0).label(),
            "clean"
        );
        assert_eq!(
            s.decide(&army, "b@Northwnd-Traders.com", 0).label(),
            "clean"
        );
        // From northwind-traders.com it is a slip of the sender's own domain.
        let d = s.decide(&nw, "a@northwnd-traders.com", 0);
        let meant = d.finding().and_then(|f| f.intended.clone());
        assert_eq!(meant.as_deref(), Some("northwind-traders.com"), "{d:?}");
        // Another address of army.mil shares the context; an address the engine cannot read is
        // still judged (and not taken for the clean domain).
        let other = s.sender(None, Some("ops@army.mil"));
        assert_eq!(
            s.decide(&other, "c@northwnd-traders.com", 0).label(),
            "clean"
        );
        assert_eq!(
            s.decide(&other, "c@@northwnd-traders.com", 0).label(),
            "unjudged"
        );
    }

    #[test]
    fn a_new_engine_judges_from_then_on() {
        let s = svc(Config::default());
        let who = s.sender(None, Some("a@partner.example"));
        assert_eq!(s.decide(&who, "x@northwnd-defence.com", 0).label(), "clean");
        let policy =
            mistype::Policy::from_json(r#"{"protected": ["northwind-defence.com"]}"#).unwrap();
        s.replace_engine(Engine::new(&policy));
        assert_eq!(
            s.decide(&who, "x@northwnd-defence.com", 0).label(),
            "refused"
        );
    }
}
