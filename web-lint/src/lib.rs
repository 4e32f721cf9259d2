//! mistype web-lint (being built).
