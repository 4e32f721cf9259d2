//! The per-request context: the sender (their domain and whether it is protected) and the
//! sender's contacts, indexed like the policy's references. Prepared once per request and reused
//! for every recipient (and every keystroke in the browser).

use crate::address::{clip, parse_address_list};
use crate::domain::{normalize, Domain};
use crate::index::{Class, Ref, RefSet};
use crate::policy::{Protection, Rule};
use crate::verdict::{RecipientError, RecipientErrorKind};

/// The sender of a request.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    /// The sender's domain.
    pub domain: Domain,
    /// The sender's own domain is protected (government, military, defence).
    pub protected: bool,
}

/// The per-request context: the sender and the sender's contacts, prepared once and reused for
/// every recipient (and every keystroke in the browser).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub(crate) sender: Option<Sender>,
    pub(crate) refs: RefSet,
    /// The policy's destination rules whose sender pattern matches the sender (set by the engine
    /// that prepares the context): the only ones a recipient of this request can meet.
    pub(crate) sender_rules: Vec<Rule>,
    errors: Vec<RecipientError>,
}

impl Context {
    /// The context of a request from `from` with `contacts` (addresses or bare domains;
    /// unusable ones are skipped, and those after the first `max_contacts`), indexed like the
    /// policy's references; `protection` says which of them are protected.
    pub(crate) fn prepare(
        protection: &Protection,
        max_contacts: usize,
        from: Option<&str>,
        contacts: &[String],
    ) -> Context {
        let mut errors = Vec::new();
        let mut refs = Vec::new();
        let mut sender = None;
        if let Some(f) = from.filter(|f| !f.trim().is_empty()) {
            match parse_address_list(f).into_iter().next() {
                Some(Ok(m)) => match normalize(&m.domain) {
                    Ok(domain) => {
                        let protected = protection.is_protected(&domain.ascii);
                        refs.push(Ref::new(domain.clone(), Class::Sender, protected));
                        sender = Some(Sender { domain, protected });
                    }
                    Err(e) => errors.push(RecipientError {
                        recipient: clip(f, 256),
                        kind: RecipientErrorKind::Sender,
                        message: format!("the sender's domain: {e}; judged without sender context"),
                    }),
                },
                Some(Err(e)) => errors.push(RecipientError {
                    recipient: clip(f, 256),
                    kind: RecipientErrorKind::Sender,
                    message: format!("the sender: {}; judged without sender context", e.message),
                }),
                None => {}
            }
        }
        for c in contacts.iter().take(max_contacts) {
            let domain_text = match c.rfind('@') {
                Some(_) => match parse_address_list(c).into_iter().next() {
                    Some(Ok(m)) => m.domain,
                    _ => continue,
                },
                None => c.clone(),
            };
            if let Ok(domain) = normalize(&domain_text) {
                let protected = protection.is_protected(&domain.ascii);
                refs.push(Ref::new(domain, Class::Contact, protected));
            }
        }
        Context {
            sender,
            refs: RefSet::build(refs),
            sender_rules: Vec::new(),
            errors,
        }
    }

    /// What could not be read of the sender, for the verdict's errors.
    pub(crate) fn errors(&self) -> &[RecipientError] {
        &self.errors
    }
}
