//! The input formats of `audit` and `learn`, each a pure parser (no I/O): Postfix and Exim logs
//! and the joining of their lines into messages, mbox files and message headers (mbox, Maildir,
//! `.eml`), the vendors' message-trace CSV exports, time stamps; which format an input is; and
//! what every parser produces (`record`).

pub mod exim;
pub mod format;
pub mod headers;
pub mod join;
pub mod mbox;
pub mod postfix;
pub mod record;
pub mod short;
pub mod timestamp;
pub mod trace_csv;
