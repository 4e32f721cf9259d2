//! A read JSON document: what the reader ([`super::json`]) kept of a body, as one flat list of
//! nodes and one string of text, so that keeping a send's recipient fields costs a few growing
//! buffers instead of an allocation per value, and dropping it costs nothing per value.
//!
//! The nodes are in document order: a container comes first and records where its members end,
//! and each member follows with its key (a span of the text). An object keeps its members as
//! written, duplicates included; [`Val::get`] and [`Val::members`] answer as a whole parse does
//! (the last of duplicate keys counts; members in the order of their keys).

/// A span of the tree's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Leaf {
    Null,
    True,
    False,
    /// A number; its text is its digits (empty: a skipped number's placeholder, zero).
    Number,
    String,
    Array,
    Object,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    leaf: Leaf,
    /// The member's key, when the node is an object's member.
    key: Option<Span>,
    /// A string's decoded text, a number's digits.
    text: Span,
    /// The index after this node's last descendant.
    end: u32,
}

/// A read document's values.
#[derive(Default)]
pub struct Tree {
    nodes: Vec<Node>,
    text: String,
}

/// The nodes with their keys and text (whatever text they are spans of), so that two trees of
/// the same values show the same.
impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.nodes.iter().map(|n| {
                let key = n.key.map(|k| self.str_of(k));
                (n.leaf, key, self.str_of(n.text), n.end)
            }))
            .finish()
    }
}

/// A value of a [`Tree`].
#[derive(Clone, Copy, Debug)]
pub struct Val<'a> {
    tree: &'a Tree,
    at: usize,
}

/// A value by its type, to match on.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    Null,
    Bool(bool),
    /// A number, as written.
    Number(&'a str),
    String(&'a str),
    Array(Val<'a>),
    Object(Val<'a>),
}

impl Span {
    /// Bytes `start..end` of the tree's text.
    fn of((start, end): (usize, usize)) -> Span {
        Span {
            start: to_u32(start),
            end: to_u32(end),
        }
    }
}

fn to_u32(n: usize) -> u32 {
    // The text and the nodes are bounded by the reader's limit on what it keeps (4 MiB).
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The most nodes, and bytes of text, whose buffers a dropped tree leaves for the next one.
const SPARE_NODES: usize = 4096;
const SPARE_TEXT: usize = 64 * 1024;

thread_local! {
    /// A dropped tree's buffers, emptied, for the next tree on this thread (in the filter, the
    /// next request of the same Wasm VM): reading a send allocates no tree once one of its size
    /// has been read.
    static SPARE: std::cell::RefCell<Option<(Vec<Node>, String)>> =
        const { std::cell::RefCell::new(None) };
}

impl Drop for Tree {
    fn drop(&mut self) {
        let (mut nodes, mut text) = (
            std::mem::take(&mut self.nodes),
            std::mem::take(&mut self.text),
        );
        if nodes.capacity() == 0 || nodes.capacity() > SPARE_NODES || text.capacity() > SPARE_TEXT {
            return;
        }
        nodes.clear();
        text.clear();
        super::spare::keep(&SPARE, (nodes, text));
    }
}

impl Tree {
    /// An empty tree with room for `nodes` nodes and `text` bytes of text.
    pub(super) fn with_capacity(nodes: usize, text: usize) -> Tree {
        let (mut n, mut t) = super::spare::take(&SPARE).unwrap_or_default();
        n.reserve(nodes);
        t.reserve(text);
        Tree { nodes: n, text: t }
    }

    /// Empty again (its buffers kept).
    pub(super) fn clear(&mut self) {
        self.nodes.clear();
        self.text.clear();
    }

    /// Appends a node (a leaf until [`Tree::close`] says where its members end), with the key
    /// of the member it is, if it is one; its index.
    pub(super) fn push(&mut self, leaf: Leaf, key: Option<&str>) -> usize {
        let key = key.map(|k| self.add_text(k));
        self.push_node(leaf, key)
    }

    /// Sets the text of the node at `at` (a string or a number).
    pub(super) fn set_text(&mut self, at: usize, text: &str) {
        let span = self.add_text(text);
        self.set_node_text(at, span);
    }

    /// Adds `text` to the tree's text whole, for keys and values that are spans of it
    /// ([`Tree::push_spanned`], [`Tree::set_span`]): a document read from one piece, whose keys
    /// and strings stand in it as they are, is copied once instead of string by string. The
    /// offset of `text` in the tree's text.
    pub(super) fn add_source(&mut self, text: &str) -> usize {
        let start = self.text.len();
        self.text.push_str(text);
        start
    }

    /// [`Tree::push`] with the key given as bytes `start..end` of the tree's text.
    pub(super) fn push_spanned(&mut self, leaf: Leaf, key: Option<(usize, usize)>) -> usize {
        self.push_node(leaf, key.map(Span::of))
    }

    /// [`Tree::set_text`] with the text given as bytes `start..end` of the tree's text.
    pub(super) fn set_span(&mut self, at: usize, text: (usize, usize)) {
        self.set_node_text(at, Span::of(text));
    }

    fn push_node(&mut self, leaf: Leaf, key: Option<Span>) -> usize {
        let at = self.nodes.len();
        self.nodes.push(Node {
            leaf,
            key,
            text: Span::default(),
            end: to_u32(at + 1),
        });
        at
    }

    fn set_node_text(&mut self, at: usize, text: Span) {
        if let Some(n) = self.nodes.get_mut(at) {
            n.text = text;
        }
    }

    /// The container at `at` is complete: its members are the nodes after it, up to here.
    pub(super) fn close(&mut self, at: usize) {
        let end = to_u32(self.nodes.len());
        if let Some(n) = self.nodes.get_mut(at) {
            n.end = end;
        }
    }

    fn add_text(&mut self, s: &str) -> Span {
        let start = self.add_source(s);
        Span::of((start, self.text.len()))
    }

    fn str_of(&self, s: Span) -> &str {
        self.text
            .get(s.start as usize..s.end as usize)
            .unwrap_or_default()
    }

    /// The document's value (`null` for a tree with nothing in it).
    pub fn root(&self) -> Val<'_> {
        Val { tree: self, at: 0 }
    }
}

impl<'a> Val<'a> {
    fn node(self) -> Option<&'a Node> {
        self.tree.nodes.get(self.at)
    }

    /// The value by its type.
    pub fn view(self) -> View<'a> {
        let Some(n) = self.node() else {
            return View::Null;
        };
        match n.leaf {
            Leaf::Null => View::Null,
            Leaf::True => View::Bool(true),
            Leaf::False => View::Bool(false),
            Leaf::Number => View::Number(match self.tree.str_of(n.text) {
                "" => "0",
                t => t,
            }),
            Leaf::String => View::String(self.tree.str_of(n.text)),
            Leaf::Array => View::Array(self),
            Leaf::Object => View::Object(self),
        }
    }

    /// The string, if this is one.
    pub fn as_str(self) -> Option<&'a str> {
        match self.view() {
            View::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(self) -> bool {
        matches!(self.view(), View::Null)
    }

    pub fn is_object(self) -> bool {
        matches!(self.view(), View::Object(_))
    }

    /// This object, if it is one.
    pub fn as_object(self) -> Option<Val<'a>> {
        self.is_object().then_some(self)
    }

    /// This array, if it is one.
    pub fn as_array(self) -> Option<Val<'a>> {
        matches!(self.view(), View::Array(_)).then_some(self)
    }

    /// This container's direct members, in document order, with their keys (objects).
    fn children(self) -> impl Iterator<Item = (Option<&'a str>, Val<'a>)> + 'a {
        let tree = self.tree;
        let (mut at, end) = match self.node() {
            Some(n) if matches!(n.leaf, Leaf::Array | Leaf::Object) => {
                (self.at + 1, n.end as usize)
            }
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let n = tree.nodes.get(at)?;
            let child = Val { tree, at };
            at = (n.end as usize).max(at + 1);
            Some((n.key.map(|k| tree.str_of(k)), child))
        })
    }

    /// An array's elements (none for any other value).
    pub fn items(self) -> impl Iterator<Item = Val<'a>> + 'a {
        let array = matches!(self.view(), View::Array(_));
        self.children().filter(move |_| array).map(|(_, v)| v)
    }

    /// An array's element at `i`.
    pub fn at(self, i: usize) -> Option<Val<'a>> {
        self.items().nth(i)
    }

    /// An object's member named `key` (the last, if the key is repeated).
    pub fn get(self, key: &str) -> Option<Val<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// An object's member named `key` with its key (the last, if the key is repeated).
    #[inline(never)]
    pub fn entry(self, key: &str) -> Option<(&'a str, Val<'a>)> {
        if !self.is_object() {
            return None;
        }
        self.children()
            .filter_map(|(k, v)| Some((k?, v)))
            .filter(|(k, _)| *k == key)
            .last()
    }

    /// An object's member named `key`, the name compared without regard to ASCII case (an exact
    /// match first; else the first in the order of [`Val::members`]).
    pub fn entry_ignore_case(self, key: &str) -> Option<(&'a str, Val<'a>)> {
        if let Some(e) = self.entry(key) {
            return Some(e);
        }
        let any = self
            .children()
            .any(|(k, _)| k.is_some_and(|k| k.eq_ignore_ascii_case(key)));
        if !any {
            return None;
        }
        self.members()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// An object's members as a whole parse has them: one per key (the last of duplicates), in
    /// the order of their keys.
    pub fn members(self) -> Vec<(&'a str, Val<'a>)> {
        if !self.is_object() {
            return Vec::new();
        }
        let mut m: Vec<(&'a str, Val<'a>)> =
            self.children().filter_map(|(k, v)| Some((k?, v))).collect();
        // Stable: of equal keys, the last written stays last, and its value is the one kept.
        m.sort_by(|a, b| a.0.cmp(b.0));
        m.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        m
    }

    /// The value as a `serde_json` value (the tests' oracle is a whole parse).
    #[cfg(test)]
    pub fn to_value(self) -> serde_json::Value {
        use serde_json::{Map, Number, Value};
        match self.view() {
            View::Null => Value::Null,
            View::Bool(b) => Value::Bool(b),
            View::Number(n) => n.parse::<Number>().map_or(Value::Null, Value::Number),
            View::String(s) => Value::String(s.to_owned()),
            View::Array(a) => Value::Array(a.items().map(|v| v.to_value()).collect()),
            View::Object(o) => Value::Object(
                o.members()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// `{"a": [1, "x", {"b": null}], "a": true, "c": {}}` built by hand.
    fn sample() -> Tree {
        let mut t = Tree::default();
        let root = t.push(Leaf::Object, None);
        let a = t.push(Leaf::Array, Some("a"));
        let one = t.push(Leaf::Number, None);
        t.set_text(one, "1");
        let x = t.push(Leaf::String, None);
        t.set_text(x, "x");
        let inner = t.push(Leaf::Object, None);
        t.push(Leaf::Null, Some("b"));
        t.close(inner);
        t.close(a);
        t.push(Leaf::True, Some("a"));
        let c = t.push(Leaf::Object, Some("c"));
        t.close(c);
        t.close(root);
        t
    }

    #[test]
    fn members_and_items_as_a_whole_parse() {
        let t = sample();
        let root = t.root();
        assert_eq!(
            root.to_value(),
            serde_json::json!({"a": true, "c": {}}),
            "the last duplicate counts"
        );
        assert!(matches!(
            root.get("a").map(|v| v.view()),
            Some(View::Bool(true))
        ));
        let keys: Vec<&str> = root.members().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "c"]);
        // The first `a`, read by position: its elements in order, nested values skipped over.
        let (_, first) = root.children().next().unwrap();
        let items: Vec<Value> = first.items().map(|v| v.to_value()).collect();
        assert_eq!(
            items,
            [
                serde_json::json!(1),
                "x".into(),
                serde_json::json!({"b": null})
            ]
        );
        assert_eq!(first.at(1).and_then(|v| v.as_str()), Some("x"));
        assert!(first.at(3).is_none());
        // An array has no members and an object no items.
        assert!(first.get("b").is_none() && first.members().is_empty());
        assert_eq!(root.items().count(), 0);
    }

    #[test]
    fn an_empty_tree_is_null() {
        let t = Tree::default();
        assert!(t.root().is_null());
        assert_eq!(t.root().to_value(), Value::Null);
    }
}
