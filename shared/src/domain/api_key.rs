use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an API key grants. The key itself is never stored: the store is keyed by
/// [`api_key_hash`], so a leaked table does not leak working keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub bot_id: String,
    /// Requests per second allowed to this key.
    pub rate_limit_per_second: u32,
    /// Unix seconds.
    pub created_at: i64,
}

/// The stored form of an API key: SHA-256, lowercase hex. A fast hash is enough because keys
/// are long random strings, not passwords.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            api_key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
