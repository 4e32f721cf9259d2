//! The one decision both front ends share: the engine (swapped whole on reload), the sender
//! contexts built from each sender's history, the confirm store and the history. No I/O and no
//! clock: times come in as milliseconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use mistype::{Context, Engine};

use crate::confirm::ConfirmStore;
use crate::decide::{self, Decision};
use crate::history::{self, History};
use crate::metrics::Metrics;

/// Sender contexts kept (the cache is emptied when full).
pub const CONTEXT_CACHE: usize = 10_000;

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
    contexts: Mutex<HashMap<String, (u64, Arc<Context>)>>,
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
                contexts: Mutex::new(HashMap::new()),
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
            contexts: Mutex::new(HashMap::new()),
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

    fn context(&self, judge: &Judge, who: &Sender) -> Arc<Context> {
        let version = if who.authenticated {
            lock(&self.history).version(&who.address)
        } else {
            0
        };
        if let Some((v, c)) = lock(&judge.contexts).get(&who.address) {
            if *v == version {
                return c.clone();
            }
        }
        let contacts = if who.authenticated {
            lock(&self.history).contacts(&who.address)
        } else {
            Vec::new()
        };
        let from = (!who.address.is_empty()).then_some(who.address.as_str());
        let ctx = Arc::new(judge.engine.context(from, &contacts));
        let mut cache = lock(&judge.contexts);
        if cache.len() >= CONTEXT_CACHE {
            cache.clear();
        }
        cache.insert(who.address.clone(), (version, ctx.clone()));
        ctx
    }

    /// Decide for one recipient (`<addr>` or `addr`). Changes nothing: [`Service::settle`] does,
    /// once the decision is final.
    pub fn decide(&self, who: &Sender, recipient: &str, now_ms: u64) -> Decision {
        let judge = self
            .judge
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let ctx = self.context(&judge, who);
        let rcpt = bare(recipient);
        let verdict = judge.engine.check_recipient(rcpt, &ctx);
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
