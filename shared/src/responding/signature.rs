//! `X-Intaj-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the way
//! Stripe signs its webhooks: the time is signed with the body, so a receiver can refuse a
//! replayed request older than a few minutes.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-intaj-signature";

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not t=<unix seconds>,v1=<64 hex digits>")]
    Malformed,
    #[error("the signature does not match the body under this secret")]
    Mismatch,
    #[error("the signature is older than the tolerance (a replay?)")]
    TooOld,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` signed at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks `header` for `body` in constant time, refusing signatures made more than
/// `tolerance_seconds` before `now`.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_seconds: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut claimed = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(value, &mut digest).map_err(|_| SignatureError::Malformed)?;
                claimed = Some(digest);
            }
            _ => {}
        }
    }
    let (Some(timestamp), Some(claimed)) = (timestamp, claimed) else {
        return Err(SignatureError::Malformed);
    };
    let expected = mac(secret, timestamp, body).finalize().into_bytes();
    if !bool::from(expected.as_slice().ct_eq(&claimed)) {
        return Err(SignatureError::Mismatch);
    }
    if now - timestamp > tolerance_seconds {
        return Err(SignatureError::TooOld);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_is_refused() {
        let header = sign(b"secret", 1_760_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1760000000,v1="));
        assert_eq!(
            verify(b"secret", &header, b"{\"a\":1}", 1_760_000_010, 300),
            Ok(())
        );
        assert_eq!(
            verify(b"secret", &header, b"{\"a\":2}", 1_760_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, b"{\"a\":1}", 1_760_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        // The time is signed too: moving it breaks the signature.
        let moved = header.replace("t=1760000000", "t=1760000500");
        assert_eq!(
            verify(b"secret", &moved, b"{\"a\":1}", 1_760_000_510, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", &header, b"{\"a\":1}", 1_760_000_301, 300),
            Err(SignatureError::TooOld)
        );
        assert_eq!(
            verify(b"secret", "v1=abc", b"", 0, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn the_digest_is_hmac_sha256_of_time_dot_body() {
        // echo -n '1.x' | openssl dgst -sha256 -hmac k
        assert_eq!(
            sign(b"k", 1, b"x"),
            "t=1,v1=976cb87e4f568d1c0f03f32859e90af8597cf00b978ba37c229c97d3a15b8449"
        );
    }
}
