//! JSON's bytes as both JSON readers scan them: white space, and a string's run up to its next
//! quote, backslash or control character.

pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The index of the first byte at or after `i` that is not white space.
pub(super) fn skip_space(input: &[u8], mut i: usize) -> usize {
    while input.get(i).is_some_and(|&c| is_space(c)) {
        i += 1;
    }
    i
}

/// Each byte of a word: `0x01`.
const ONES: u64 = u64::from_le_bytes([0x01; 8]);
/// Each byte of a word: `0x80`.
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each byte of `w` that is a quote or a backslash, and (with `control`) of each
/// byte below `0x20`; the lowest bit set marks the first such byte (above it, a bit may be set
/// by the borrow of a lower match: only the lowest is read).
fn stops(w: u64, control: bool) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut m = zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')));
    if control {
        m |= w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    }
    m
}

/// The length of a string's run up to its next quote or backslash, and (with `control`) control
/// character, or the whole of `rest`. Most strings of a send are short (keys, addresses): they
/// are scanned a word at a time. A long one (a message body, an attachment) that is only
/// skipped is searched by `memchr`.
pub(super) fn run_until(rest: &[u8], control: bool) -> usize {
    /// How far a skipped string is scanned a word at a time before `memchr` takes over.
    const WORD_SCAN: usize = 64;
    let mut at = 0;
    for chunk in rest.chunks_exact(8) {
        if !control && at == WORD_SCAN {
            return at + memchr::memchr2(b'"', b'\\', &rest[at..]).unwrap_or(rest.len() - at);
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let m = stops(u64::from_le_bytes(w), control);
        if m != 0 {
            return at + (m.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let stop = |b: u8| b == b'"' || b == b'\\' || (control && b < 0x20);
    match rest[at..].iter().position(|&b| stop(b)) {
        Some(p) => at + p,
        None => rest.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_run_ends_at_the_first_stop_in_any_byte_of_a_word_and_past_the_word_scan() {
        // Every length and position around the word size and the end of the word scan; bytes
        // that differ from a stop in one bit, and non-ASCII bytes, around it.
        let lens = (0..=20).chain([63, 64, 65, 71, 72, 73, 200]);
        for len in lens {
            let mut plain: Vec<u8> = (0..len)
                .map(|i| [b'a', 0xa2, b'#', 0xdc, b' ', b'!'][i % 6])
                .collect();
            if len > 3 {
                plain[3] = b'"' ^ 0x80;
            }
            for control in [false, true] {
                assert_eq!(run_until(&plain, control), len, "no stop in {len} bytes");
                let ats =
                    (0..len).filter(|&at| at < 20 || at % 8 == 0 || at % 8 == 7 || at + 1 >= len);
                for at in ats {
                    for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                        let mut bytes = plain.clone();
                        bytes[at] = stop;
                        // A second stop further on does not count.
                        if at + 2 < len {
                            bytes[len - 1] = b'"';
                            bytes[at + 1] = 0x01;
                        }
                        let is_stop = stop == b'"' || stop == b'\\' || control;
                        let want = if is_stop {
                            at
                        } else if at + 2 < len {
                            // (A control character, not asked for: the next stop is the quote
                            // at the end.)
                            len - 1
                        } else {
                            len
                        };
                        assert_eq!(
                            run_until(&bytes, control),
                            want,
                            "{stop:#x} at {at} of {len}, control {control}"
                        );
                    }
                }
            }
        }
    }
}
