//! The vocabulary of the JSON readers (`json`'s streaming reader and its whole-piece reader):
//! where a value is in a document ([`Seg`]s from the root), what kind it is, and what an API's
//! [`Selector`] keeps of it, with what that means for the value and its members.

/// The deepest nesting read (`serde_json`'s limit).
pub(super) const MAX_DEPTH: usize = 128;
/// The longest key that is decoded; a longer one matches no selector and is skipped with its value.
pub(super) const MAX_KEY: usize = 4096;

use super::head::Encoding;

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// An object member, by its (decoded) name.
    Key(String),
    /// An array element, by its index.
    Index(usize),
}

impl Seg {
    /// The member name, if this is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Seg::Key(k) => Some(k),
            Seg::Index(_) => None,
        }
    }
}

/// What a value is, as its first byte says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{`.
    Object,
    /// `[`.
    Array,
    /// `"`.
    String,
    /// A number, `true`, `false` or `null`.
    Other,
}

/// What the reader keeps of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// All of it.
    Keep,
    /// An object's or array's members, each selected in turn (of any other value: its placeholder).
    Descend,
    /// A string that holds a message: its head is read ([`Head`]); the value is a placeholder.
    Head(Encoding),
    /// Nothing but a placeholder of its type.
    Skip,
}

/// An API's choice of what to keep: the path of a value (keys and indexes from the root) and its
/// kind.
pub type Selector = fn(&[Seg], Kind) -> Select;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Members are selected one by one.
    Select,
    /// Everything is kept.
    All,
    /// Nothing is kept.
    Skip,
}

/// What happens to a value when it is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// It goes into its container (or becomes the root) whole.
    Keep,
    /// A placeholder of its type goes in its place.
    Placeholder,
    /// Nothing (its container is skipped).
    Drop,
}

/// What is kept of a value that a selector chose `sel` for (a member of a container read in
/// [`Mode::Select`]): its fate, its members' mode, and the choice as it stands (a choice that
/// does not fit the value's kind is a skip).
#[inline]
pub(super) fn chosen(sel: Select, kind: Kind) -> (Fate, Mode, Select) {
    let container = matches!(kind, Kind::Object | Kind::Array);
    match sel {
        Select::Keep => (Fate::Keep, Mode::All, sel),
        Select::Descend if container => (Fate::Keep, Mode::Select, sel),
        Select::Head(_) if kind == Kind::String => (Fate::Placeholder, Mode::Skip, sel),
        _ => (Fate::Placeholder, Mode::Skip, Select::Skip),
    }
}
