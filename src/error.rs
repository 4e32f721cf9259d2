//! The one error type of the core.

use std::fmt;

/// What went wrong; see [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The policy JSON is malformed or holds a value that cannot be used.
    Policy,
    /// A check request is not valid JSON or has a key of the wrong type.
    Request,
}

/// An error that names the bad input and says what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message alone, without the "invalid policy:" prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Policy => write!(f, "invalid policy: {}", self.message),
            ErrorKind::Request => write!(f, "invalid check request: {}", self.message),
        }
    }
}

impl std::error::Error for Error {}
