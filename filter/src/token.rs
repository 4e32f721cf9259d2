//! Confirm tokens: a blocked send may be resent with a token that is good for that exact send
//! (same sender, same recipient set) until it expires.
//!
//! A token is base64url (no padding) of 56 bytes:
//!
//! | bytes | what |
//! |---|---|
//! | 0..8 | expiry, Unix seconds, big-endian |
//! | 8..24 | HMAC-SHA256(secret, `"mistype-confirm-v1/sender\0" exp sender`), first 16 bytes |
//! | 24..56 | HMAC-SHA256(secret, `"mistype-confirm-v1/send\0" exp sender \0 rcpt1 \0 rcpt2 ...`) |
//!
//! The first tag tells a token this filter issued for this sender (recipients altered) from one
//! it never issued (forged); the expiry is only trusted once a tag checks out. Recipients are
//! compared as the set of their lower-case addresses, sorted and deduplicated, so reordering the
//! list or changing display names keeps the token good; adding, removing or changing an address
//! does not. The core stays clock-free: the caller supplies `now`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

const SENDER_TAG_LEN: usize = 16;
const SEND_TAG_LEN: usize = 32;
const TOKEN_LEN: usize = 8 + SENDER_TAG_LEN + SEND_TAG_LEN;

/// What a token is bound to: the sender and the recipient set of one send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    sender: String,
    recipients: Vec<String>,
}

impl Binding {
    /// Normalises the sender and recipients: each entry (a mailbox or an address list) is parsed
    /// with the core's RFC 5322 parser; addresses are lower-cased, sorted and deduplicated.
    /// Entries that do not parse are kept as trimmed lower-case text.
    pub fn new<'a>(sender: Option<&str>, recipients: impl IntoIterator<Item = &'a str>) -> Binding {
        let mut list = Vec::new();
        for r in recipients {
            if r.trim().is_empty() {
                continue;
            }
            for m in mistype::parse_address_list(r) {
                match m {
                    Ok(mb) => list.push(mb.address().to_lowercase()),
                    Err(e) => list.push(e.input.trim().to_lowercase()),
                }
            }
        }
        list.sort();
        list.dedup();
        let sender = sender
            .and_then(|s| {
                mistype::parse_address_list(s)
                    .into_iter()
                    .next()
                    .map(|m| match m {
                        Ok(mb) => mb.address().to_lowercase(),
                        Err(e) => e.input.trim().to_lowercase(),
                    })
            })
            .unwrap_or_default();
        Binding {
            sender,
            recipients: list,
        }
    }

    /// The normalised recipient addresses.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token at all (bad base64 or length).
    Malformed,
    /// Not issued by this filter (wrong key) or issued for another sender.
    Forged,
    /// Issued for this sender, but for other recipients.
    AlteredRecipients,
    /// Genuine, but past its expiry.
    Expired,
}

impl TokenError {
    /// A short name for replies, logs and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::Forged => "forged",
            TokenError::AlteredRecipients => "altered-recipients",
            TokenError::Expired => "expired",
        }
    }

    /// A sentence for the person who sent it.
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Malformed => "the confirm token is not a mistype token",
            TokenError::Forged => "the confirm token was not issued for this sender by this filter",
            TokenError::AlteredRecipients => {
                "the recipients changed since the token was issued; confirm the new recipients"
            }
            TokenError::Expired => "the confirm token has expired; confirm again",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TokenError {}

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub struct Signer {
    mac: HmacSha256,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    /// A signer with this secret (HMAC takes keys of any length; an error here is a bug in
    /// the `hmac` crate and is reported, not panicked on).
    pub fn new(secret: &[u8]) -> Result<Signer, String> {
        HmacSha256::new_from_slice(secret)
            .map(|mac| Signer { mac })
            .map_err(|e| format!("HMAC-SHA256 refused the key: {e}"))
    }

    fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    fn sender_tag(&self, exp: u64, b: &Binding) -> HmacSha256 {
        let mut m = self.mac();
        m.update(b"mistype-confirm-v1/sender\0");
        m.update(&exp.to_be_bytes());
        m.update(b.sender.as_bytes());
        m
    }

    fn send_tag(&self, exp: u64, b: &Binding) -> HmacSha256 {
        let mut m = self.mac();
        m.update(b"mistype-confirm-v1/send\0");
        m.update(&exp.to_be_bytes());
        m.update(b.sender.as_bytes());
        for r in &b.recipients {
            m.update(b"\0");
            m.update(r.as_bytes());
        }
        m
    }

    /// A token for this send, good until `expires_at` (Unix seconds).
    pub fn issue(&self, b: &Binding, expires_at: u64) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_LEN);
        bytes.extend_from_slice(&expires_at.to_be_bytes());
        let t1 = self.sender_tag(expires_at, b).finalize().into_bytes();
        bytes.extend_from_slice(&t1[..SENDER_TAG_LEN]);
        let t2 = self.send_tag(expires_at, b).finalize().into_bytes();
        bytes.extend_from_slice(&t2[..]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks a token presented for this send at `now` (Unix seconds).
    pub fn verify(&self, token: &str, b: &Binding, now: u64) -> Result<(), TokenError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim().trim_end_matches('='))
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() != TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&bytes[..8]);
        let exp = u64::from_be_bytes(exp);
        self.sender_tag(exp, b)
            .verify_truncated_left(&bytes[8..8 + SENDER_TAG_LEN])
            .map_err(|_| TokenError::Forged)?;
        self.send_tag(exp, b)
            .verify_slice(&bytes[8 + SENDER_TAG_LEN..])
            .map_err(|_| TokenError::AlteredRecipients)?;
        if now > exp {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_767_225_600;

    fn binding(rcpts: &[&str]) -> Binding {
        Binding::new(Some("Sgt Ray <Ray.K@Army.mil>"), rcpts.iter().copied())
    }

    #[test]
    fn valid_token_round_trip() {
        let s = Signer::new(b"0123456789abcdef").unwrap();
        let b = binding(&["Lt J <j.smith@navy.ml>", "x@gmail.com"]);
        let t = s.issue(&b, NOW + 600);
        assert_eq!(t.len(), 75);
        assert!(t
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(s.verify(&t, &b, NOW), Ok(()));
        assert_eq!(s.verify(&t, &b, NOW + 600), Ok(()));
        // Order, case, display names and duplicates do not matter; lists are split.
        let same = Binding::new(
            Some("ray.k@army.mil"),
            ["X@GMAIL.COM, j.smith@navy.ml", "x@gmail.com"]
                .iter()
                .copied(),
        );
        assert_eq!(s.verify(&t, &same, NOW), Ok(()));
    }

    #[test]
    fn expired() {
        let s = Signer::new(b"0123456789abcdef").unwrap();
        let b = binding(&["c@navy.ml"]);
        let t = s.issue(&b, NOW + 10);
        assert_eq!(s.verify(&t, &b, NOW + 11), Err(TokenError::Expired));
    }

    #[test]
    fn altered_recipients() {
        let s = Signer::new(b"0123456789abcdef").unwrap();
        let t = s.issue(&binding(&["c@navy.ml"]), NOW + 600);
        for other in [&["c@navy.ml", "d@navy.ml"][..], &["d@navy.ml"], &[]] {
            assert_eq!(
                s.verify(&t, &binding(other), NOW),
                Err(TokenError::AlteredRecipients)
            );
        }
    }

    #[test]
    fn forged() {
        let s = Signer::new(b"0123456789abcdef").unwrap();
        let b = binding(&["c@navy.ml"]);
        // Another key.
        let t = Signer::new(b"another-secret-0123")
            .unwrap()
            .issue(&b, NOW + 600);
        assert_eq!(s.verify(&t, &b, NOW), Err(TokenError::Forged));
        // Another sender.
        let t = s.issue(&b, NOW + 600);
        let other = Binding::new(Some("mallory@army.mil"), ["c@navy.ml"]);
        assert_eq!(s.verify(&t, &other, NOW), Err(TokenError::Forged));
        // A pushed-out expiry.
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        bytes[7] ^= 0x01;
        let t2 = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(s.verify(&t2, &b, NOW), Err(TokenError::Forged));
        // An expired token cannot be revived by editing the expiry.
        let old = s.issue(&b, NOW - 1);
        let mut bytes = URL_SAFE_NO_PAD.decode(&old).unwrap();
        bytes[..8].copy_from_slice(&(NOW + 999).to_be_bytes());
        assert_eq!(
            s.verify(&URL_SAFE_NO_PAD.encode(&bytes), &b, NOW),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn malformed() {
        let s = Signer::new(b"0123456789abcdef").unwrap();
        let b = binding(&["c@navy.ml"]);
        for t in ["", "not a token", "AAAA", "*&^%"] {
            assert_eq!(s.verify(t, &b, NOW), Err(TokenError::Malformed), "{t}");
        }
        let long = URL_SAFE_NO_PAD.encode([0u8; TOKEN_LEN + 1]);
        assert_eq!(s.verify(&long, &b, NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn bindings_normalise() {
        let b = Binding::new(
            None,
            ["B <b@x.org>, a@X.org", "", "a@x.org"].iter().copied(),
        );
        assert_eq!(b.recipients(), ["a@x.org", "b@x.org"]);
        assert_eq!(b.sender, "");
    }
}
