//! Integration tests: the shared case corpus, the golden verdicts, accuracy, and the CLI.

mod audit;
mod cases;
mod cli;
mod readme;
mod support;
mod uts39;
