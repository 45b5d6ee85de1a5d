//! `X-Hub-Signature-256`: HMAC-SHA256 of the exact raw body under the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Name of the header Meta signs webhooks with.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
const PREFIX: &str = "sha256=";

/// Why a signature was refused. Callers answer 401 for every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("the X-Hub-Signature-256 header does not match the body under this bot's app secret")]
    Mismatch,
}

/// The header value Meta would send for `body`: `sha256=<lowercase hex>`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks the header's value against the HMAC of the raw `body`, in constant time. Takes the
/// value's bytes as they came: reading it as text first would scan it once more.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&[u8]>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim_ascii();
    let hex_digest = header
        .strip_prefix(PREFIX.as_bytes())
        .or_else(|| header.strip_prefix(b"SHA256="))
        .ok_or(SignatureError::Malformed)?;
    let claimed = decode_digest(hex_digest).ok_or(SignatureError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    if bool::from(expected.as_slice().ct_eq(&claimed)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// 64 hex digits of either case as 32 bytes; `None` for anything else. Arithmetic on every
/// digit, no branch: each webhook's signature is new, so a branch per digit (as in
/// `hex::decode_to_slice`) is a coin toss for the CPU's predictor (BENCHMARKS.md).
fn decode_digest(hex: &[u8]) -> Option<[u8; 32]> {
    let hex: &[u8; 64] = hex.try_into().ok()?;
    let mut digest = [0u8; 32];
    let mut invalid = 0;
    for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = (nibble(pair[0]), nibble(pair[1]));
        invalid |= (high | low) & 0xf0;
        *byte = (high << 4) | (low & 0x0f);
    }
    (invalid == 0).then_some(digest)
}

/// A hex digit's value, or 0xff for any other byte.
fn nibble(c: u8) -> u8 {
    let digit = c.wrapping_sub(b'0');
    // Setting 0x20 lowers `A`–`F` and leaves `a`–`f`; no other byte lands on them.
    let letter = (c | 0x20).wrapping_sub(b'a');
    let is_digit = 0u8.wrapping_sub(u8::from(digit < 10));
    let is_letter = 0u8.wrapping_sub(u8::from(letter < 6));
    (digit & is_digit) | (letter.wrapping_add(10) & is_letter) | !(is_digit | is_letter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_by_sign_verifies() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign(b"dev-app-secret", body);
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert_eq!(
            verify(b"dev-app-secret", body, Some(header.as_bytes())),
            Ok(())
        );
    }

    #[test]
    fn known_vector_matches_openssl() {
        // printf 'hello' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign(b"secret", b"hello"),
            "sha256=88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b"
        );
    }

    #[test]
    fn every_bad_header_is_refused() {
        let body = b"{}";
        let good = sign(b"s", body);
        assert_eq!(verify(b"s", body, None), Err(SignatureError::Missing));
        assert_eq!(
            verify(b"s", body, Some(b"md5=abc".as_slice())),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"s", body, Some(b"sha256=zz".as_slice())),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"other", body, Some(good.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"s", b"{ }", Some(good.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        // A value that is not even text (HTTP allows such bytes) is malformed, not missing.
        let mut not_text = good.clone().into_bytes();
        not_text[10] = 0xff;
        assert_eq!(
            verify(b"s", body, Some(&not_text)),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn digests_decode_in_either_case_and_nothing_else_does() {
        let digest: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        let lower = hex::encode(&digest);
        assert_eq!(decode_digest(lower.as_bytes()).unwrap().as_slice(), digest);
        let upper = lower.to_uppercase();
        assert_eq!(decode_digest(upper.as_bytes()).unwrap().as_slice(), digest);
        // Every byte that is not a hex digit, in every position's half, is refused.
        for c in (0..=255u8).filter(|c| !c.is_ascii_hexdigit()) {
            for at in [0, 1, 62, 63] {
                let mut bad = lower.clone().into_bytes();
                bad[at] = c;
                assert_eq!(decode_digest(&bad), None, "byte {c:#04x} at {at}");
            }
        }
        assert_eq!(decode_digest(&lower.as_bytes()[..62]), None);
        assert_eq!(decode_digest(format!("{lower}00").as_bytes()), None);
    }

    #[test]
    fn the_exact_bytes_count_not_their_meaning() {
        // Meta escapes non-ASCII; the escaped and unescaped forms are different bodies.
        let escaped = br#"{"body":"caf\u00e9"}"#;
        let raw = r#"{"body":"café"}"#.as_bytes();
        let header = sign(b"s", escaped);
        assert_eq!(verify(b"s", escaped, Some(header.as_bytes())), Ok(()));
        assert_eq!(
            verify(b"s", raw, Some(header.as_bytes())),
            Err(SignatureError::Mismatch)
        );
    }
}
