//! The output formats: the explanation of a check for people (`explain`), the audit's report
//! for people and its JSON lines and CSV for machines (`report`). Pure: the commands write the
//! strings.

pub mod explain;
pub mod report;
