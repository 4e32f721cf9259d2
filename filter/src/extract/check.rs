//! The check-request JSON of `docs/contract.md` (`check_path` and `verdict_path`).

use super::request::err;
use crate::send::{Api, ExtractError, Send};
use mistype::CheckRequest;

pub fn extract(body: &[u8]) -> Result<Send, ExtractError> {
    let Ok(text) = std::str::from_utf8(body) else {
        return err(Api::Check, "body is not UTF-8");
    };
    let r = CheckRequest::from_json(text).or_else(|e| err(Api::Check, e.to_string()))?;
    Ok(Send {
        api: Api::Check,
        id: r.id,
        from: r.from,
        to: r.to,
        cc: r.cc,
        bcc: r.bcc,
        contacts: r.contacts,
        ..Send::new(Api::Check)
    })
}
