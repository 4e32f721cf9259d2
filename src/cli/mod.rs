//! The command line's own modules for `audit` and `learn`: reading past mail (files,
//! directories, gzip, standard input, threads, a progress bar) over pure parsers of each log,
//! export and mailbox format. None of this is in the library: the core stays free of I/O.

pub mod audit;
pub mod check;
pub mod chunks;
pub mod exim;
pub mod format;
pub mod headers;
pub mod join;
pub mod judge;
pub mod learn;
pub mod mbox;
pub mod pipeline;
pub mod postfix;
pub mod progress;
pub mod read;
pub mod record;
pub mod report;
pub mod short;
pub mod timestamp;
pub mod trace_csv;
