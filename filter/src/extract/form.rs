//! HTML form bodies: `application/x-www-form-urlencoded` and `multipart/form-data`.

use super::mime;

/// The fields of a form body (file uploads skipped), in order.
pub fn fields(content_type: Option<&str>, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let is_multipart = content_type
        .map(|ct| super::media_type(ct) == "multipart/form-data")
        .unwrap_or(false);
    if is_multipart {
        let ct = content_type.unwrap_or_default();
        let parts = mime::multipart_parts(ct, body)?;
        Ok(parts
            .into_iter()
            .filter(|p| !p.is_file)
            .filter_map(|p| {
                p.name
                    .map(|n| (n, String::from_utf8_lossy(&p.body).into_owned()))
            })
            .collect())
    } else {
        if std::str::from_utf8(body).is_err() {
            return Err("form body is not UTF-8 text".into());
        }
        Ok(form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect())
    }
}

/// The first value of `name`.
pub fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The query string's parameters.
pub fn query(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_and_multipart() {
        let f = fields(
            Some("application/x-www-form-urlencoded"),
            b"_to=Lt+Ray+%3Cray%40base.example.ml%3E&_cc=&_draft=",
        )
        .unwrap();
        assert_eq!(get(&f, "_to"), Some("Lt Ray <ray@base.example.ml>"));
        assert_eq!(get(&f, "_cc"), Some(""));
        assert_eq!(get(&f, "_bcc"), None);
        let f = fields(None, b"a=1").unwrap();
        assert_eq!(get(&f, "a"), Some("1"));
        assert!(fields(None, b"a=\xff").is_err());
        assert!(fields(Some("multipart/form-data; boundary=Q"), b"no parts").is_err());
    }
}
