//! The commands: one module each. `explain` is the default (addresses on the command line).

pub mod audit;
pub mod check;
pub mod explain;
pub mod learn;
pub mod policy;
