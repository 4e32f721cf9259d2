//! Integration tests: the shared case corpus, the golden verdicts, accuracy, the skeletons.

mod cases;
mod support;
mod uts39;
