//! What a body reader hands to its API's extractor: the parts of the body it kept (a pruned JSON
//! document, a message's head, multipart parts, form fields), or that there was nothing to keep.

use super::head::Head;
use super::json::Doc;
use super::multipart::Part;

/// What was read of a body, as the API modules take it.
#[derive(Debug)]
pub enum Read {
    /// Nothing (the request names a stored message; its body does not matter).
    Nothing,
    /// Only white space, or nothing.
    Blank,
    /// The whole body (a check request).
    Whole(Vec<u8>),
    /// A JSON document, pruned to what the API reads.
    Json(Result<Doc, String>),
    /// The head of a message: the body itself, or the string of a JSON send read before the end.
    Head(Head),
    /// A multipart body's parts.
    Parts(Result<Vec<Part>, String>),
    /// A form's fields.
    Fields(Result<Vec<(String, String)>, String>),
}
