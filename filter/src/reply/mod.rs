//! The filter's answers: what a refused send, a send that could not be judged and the verdict
//! endpoint get back, and the response headers of a send that passes with a verdict.
//!
//! - `action`: [`Action`] (pass, or answer locally), the verdict headers, and the one place
//!   where the headers and bytes of a local reply are built;
//! - `refusal`: why a send is refused ([`Code`], [`Refusal`]) and the sentence that names a
//!   blocked send's misaddressed recipients;
//! - `dialect`: a refusal in each API's own error dialect ([`refuse`], [`blocked`]) and the
//!   verdict endpoint's answers ([`verdict`], [`bad_request`]), with the table of dialects;
//! - `roundcube`: the page Roundcube's compose window displays for a blocked send.
//!
//! What decides which answer a request gets is `crate::decide`; this module only words it.

mod action;
mod dialect;
mod refusal;
mod roundcube;

pub use action::{
    ascii_json, confirmed_headers, verdict_headers, Action, CONFIRMED, FINDINGS_HEADER,
    MAX_HEADER_FINDINGS, VERDICT_HEADER,
};
pub use dialect::{bad_request, blocked, refuse, verdict};
pub use refusal::{Code, Refusal};
