//! # mistype-smtp
//!
//! mistype at the mail server: a Postfix policy service (`check_policy_service`) and a milter
//! (Sendmail, Postfix `smtpd_milters` and `non_smtpd_milters`) with one decision: a misaddressed
//! recipient is refused at submission with a reason the sender reads in their own mail client,
//! and sending it again within a window confirms it. The binary is `mistype-smtpd`
//! (`docs/smtp.md`).
//!
//! The protocols, the decision, the words, the confirm store and the sender history are pure
//! modules (bytes and values in, bytes and values out; times given as numbers); only
//! [`server`] does I/O.
#![deny(missing_docs)]
// A service at the mail server must not panic on what a client sends.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod confirm;
pub mod decide;
pub mod engine;
pub mod history;
pub mod log;
pub mod metrics;
pub mod milter;
pub mod milter_proto;
pub mod policy;
pub mod policy_proto;
pub mod reply;
pub mod server;
pub mod service;
