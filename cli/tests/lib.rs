//! Integration tests: the `mistype` binary as a user runs it (the commands, audits of every
//! input format, the README's and docs' console examples).

mod audit;
mod commands;
mod readme;
mod support;
