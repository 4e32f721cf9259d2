//! The reading machinery: files, directories, gzip and standard input (`reader`), cut into
//! chunks of whole lines (`chunks`), parsed on worker threads with the order kept (`threads`),
//! with a progress bar for long runs (`progress`).

pub mod chunks;
pub mod progress;
pub mod reader;
pub mod threads;
