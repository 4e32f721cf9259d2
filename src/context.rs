//! The per-request context: the sender (their domain and whether it is protected) and the
//! sender's contacts, indexed like the policy's references. Prepared once per request and reused
//! for every recipient (and every keystroke in the browser). The index is built on first use: a
//! request whose recipients are all plainly clean (the common case) never needs it.

use std::sync::OnceLock;

use crate::address::{clip, first_domain};
use crate::domain::{normalize, Domain};
use crate::index::{Class, Ref, RefSet};
use crate::policy::Protection;
use crate::verdict::{RecipientError, RecipientErrorKind};

/// The most references a context is looked through one by one (the sender and a few contacts)
/// before it is indexed.
const SMALL_CONTEXT: usize = 8;

/// The sender of a request, as its context holds it (the context's first reference).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sender<'a> {
    /// The sender's domain.
    pub domain: &'a Domain,
    /// The sender's own domain is protected (government, military, defence).
    pub protected: bool,
}

/// The per-request context: the sender and the sender's contacts, prepared once and reused for
/// every recipient (and every keystroke in the browser).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The sender's reference is the first of `read`.
    has_sender: bool,
    /// The sender's and the contacts' references, in order.
    read: Vec<Ref>,
    /// `read`, indexed like the policy's references: built on first use (a `OnceLock`, so that a
    /// context can be shared between threads, as the SMTP service does).
    index: OnceLock<RefSet>,
    /// The indexes of the policy's destination rules whose sender pattern matches the sender
    /// (set by the engine that prepares the context, into its policy's rules): the only ones a
    /// recipient of this request can meet.
    pub(crate) sender_rules: Vec<usize>,
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
        let mut has_sender = false;
        if let Some(f) = from.filter(|f| !crate::text::is_blank(f)) {
            match first_domain(f) {
                Some(Ok(domain_text)) => match normalize(&domain_text) {
                    Ok(domain) => {
                        let protected = protection.is_protected(&domain.ascii);
                        refs.push(Ref::new(domain, Class::Sender, protected));
                        has_sender = true;
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
                Some(_) => match first_domain(c) {
                    Some(Ok(d)) => d,
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
            has_sender,
            read: refs,
            index: OnceLock::new(),
            sender_rules: Vec::new(),
            errors,
        }
    }

    /// The sender, if the request names one that could be read.
    pub(crate) fn sender(&self) -> Option<Sender<'_>> {
        let r = self.read.first().filter(|_| self.has_sender)?;
        Some(Sender {
            domain: &r.domain,
            protected: r.protected,
        })
    }

    /// The sender's and the contacts' references, indexed (built on the first call).
    pub(crate) fn refs(&self) -> &RefSet {
        self.index
            .get_or_init(|| RefSet::build(self.read.iter().cloned()))
    }

    /// The class of the context's reference named `ascii` (a lower-case ASCII name), as the
    /// index would give it (the strongest class of a name read twice); a small context is
    /// looked through without building its index.
    pub(crate) fn class_of(&self, ascii: &str) -> Option<Class> {
        if self.index.get().is_some() || self.read.len() > SMALL_CONTEXT {
            return self.refs().get(ascii).map(|r| r.class);
        }
        self.read
            .iter()
            .filter(|r| r.domain.ascii == ascii)
            .map(|r| r.class)
            .max()
    }

    /// What could not be read of the sender, for the verdict's errors.
    pub(crate) fn errors(&self) -> &[RecipientError] {
        &self.errors
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::index::Class;

    fn engine() -> Engine {
        Engine::from_policy_json(r#"{"known": ["gmail.com"], "protected": ["army.mil"]}"#).unwrap()
    }

    #[test]
    fn the_index_is_built_only_when_a_search_needs_it() {
        let e = engine();
        let ctx = e.context(Some("Ray <ray@army.mil>"), &["friend.ml".to_string()]);
        // Plainly clean: a reference, a contact, the sender's own domain.
        for r in ["x@gmail.com", "x@friend.ml", "x@army.mil"] {
            assert!(e.check_recipient(r, &ctx).findings.is_empty(), "{r}");
        }
        assert!(ctx.index.get().is_none());
        // A slip of the contact is found through the index.
        let v = e.check_recipient("x@freind.ml", &ctx);
        assert!(ctx.index.get().is_some());
        assert!(!v.findings.is_empty());
    }

    #[test]
    fn a_small_context_is_looked_through_as_its_index_finds_it() {
        let e = engine();
        let contacts = |n: usize| -> Vec<String> {
            let mut c = vec!["friend.ml".to_string(), "ray@army.mil".to_string()];
            c.extend((0..n).map(|i| format!("c{i}.example.org")));
            c
        };
        // Below, at and above the size that is looked through one by one.
        for n in [0, super::SMALL_CONTEXT - 3, super::SMALL_CONTEXT + 5] {
            let looked = e.context(Some("ray@army.mil"), &contacts(n));
            let indexed = e.context(Some("ray@army.mil"), &contacts(n));
            indexed.refs();
            for name in [
                "army.mil",
                "friend.ml",
                "c0.example.org",
                "gmail.com",
                "navy.mil",
            ] {
                assert_eq!(
                    looked.class_of(name),
                    indexed.class_of(name),
                    "{name} ({n})"
                );
            }
            // The sender's domain, also a contact, has the stronger class.
            assert_eq!(looked.class_of("army.mil"), Some(Class::Sender));
            assert_eq!(looked.class_of("friend.ml"), Some(Class::Contact));
            assert_eq!(looked.class_of("navy.mil"), None);
        }
    }
}
