//! Identifiers shaped like Meta's: `wamid.` message ids, numeric object ids, `fbtrace_id`s, and
//! the opaque paging cursors (base64 without padding).

use std::time::{SystemTime, UNIX_EPOCH};

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode_with(alphabet: &[u8; 64], bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        // A chunk of n bytes gives n + 1 characters (no padding).
        for index in 0..=chunk.len() {
            out.push(char::from(
                alphabet[((word >> (18 - 6 * index)) & 0x3f) as usize],
            ));
        }
    }
    out
}

/// URL-safe base64 without padding: what cursors are made of.
pub fn encode_url_safe(bytes: &[u8]) -> String {
    encode_with(URL_SAFE, bytes)
}

/// Decodes [`encode_url_safe`]'s output; `None` for anything else.
pub fn decode_url_safe(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for byte in text.trim_end_matches('=').bytes() {
        let value = URL_SAFE.iter().position(|&c| c == byte)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// A message id like Meta's: `wamid.` and base64 of a record naming the recipient.
pub fn wamid(recipient: &str) -> String {
    let random: [u8; 9] = rand::random();
    let mut record = Vec::with_capacity(recipient.len() + 32);
    record.extend_from_slice(&[0x1c, 0x18]);
    record.push(u8::try_from(recipient.len().min(255)).unwrap_or(u8::MAX));
    record.extend_from_slice(recipient.as_bytes());
    record.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
    record.extend_from_slice(hex::encode_upper(random).as_bytes());
    record.push(0x00);
    format!("wamid.{}", encode_with(STANDARD, &record))
}

/// A Graph `fbtrace_id`: 23 characters of URL-safe base64.
pub fn fbtrace_id() -> String {
    let random: [u8; 17] = rand::random();
    let mut id = encode_url_safe(&random);
    id.replace_range(0..1, "A");
    id.truncate(23);
    id
}

/// A numeric object id (media, templates), 16 digits like Meta's.
pub fn numeric_id() -> String {
    rand::random_range(1_000_000_000_000_000u64..10_000_000_000_000_000).to_string()
}

/// A conversation id: 32 lowercase hex digits.
pub fn conversation_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        assert_eq!(encode_with(STANDARD, b""), "");
        assert_eq!(encode_with(STANDARD, b"f"), "Zg");
        assert_eq!(encode_with(STANDARD, b"fo"), "Zm8");
        assert_eq!(encode_with(STANDARD, b"foo"), "Zm9v");
        assert_eq!(encode_with(STANDARD, b"foobar"), "Zm9vYmFy");
        assert_eq!(encode_url_safe(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn url_safe_round_trips() {
        for bytes in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"offset:1234",
            &[0xff, 0xfe, 0x00, 0x10],
        ] {
            assert_eq!(
                decode_url_safe(&encode_url_safe(bytes)).as_deref(),
                Some(bytes)
            );
        }
        assert_eq!(decode_url_safe("not base64!"), None);
    }

    #[test]
    fn ids_look_like_metas() {
        let id = wamid("15551234567");
        assert!(id.starts_with("wamid.HBg"), "{id}");
        assert_ne!(wamid("15551234567"), id);
        assert_eq!(fbtrace_id().len(), 23);
        assert_eq!(numeric_id().len(), 16);
        assert_eq!(conversation_id().len(), 32);
    }
}
