//! [`MediaStore`] on a local folder, for the local stack: each object is written to a temporary
//! file while hashed, renamed into place only if its sha256 is right. Its URL is the local
//! stack's `GET /_media/{token}`, where the token names the object and its expiry, signed with
//! HMAC-SHA256 under a key the stack makes at start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::ports::{ByteStream, MediaError, MediaObject, MediaStore, MediaUrl};

pub struct LocalMediaFolder {
    root: PathBuf,
    /// Where the stack serves `/_media/{token}`, e.g. `http://127.0.0.1:3000`.
    base_url: String,
    signing_key: Vec<u8>,
}

/// What is kept beside each file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sidecar {
    size: u64,
    sha256: String,
    mime_type: String,
}

fn unavailable(error: impl std::fmt::Display) -> MediaError {
    MediaError::Unavailable(error.to_string())
}

impl LocalMediaFolder {
    pub fn new(root: impl Into<PathBuf>, base_url: &str, signing_key: Vec<u8>) -> Self {
        Self {
            root: root.into(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            signing_key,
        }
    }

    /// The file's name: the key in hex, so no key can name a path outside the folder.
    fn file(&self, key: &str) -> PathBuf {
        self.root.join(hex::encode(key))
    }

    fn sidecar(&self, key: &str) -> PathBuf {
        self.root.join(format!("{}.json", hex::encode(key)))
    }

    fn signature(&self, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key)
            .expect("HMAC takes a key of any length");
        mac.update(payload.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The file a `/_media/{token}` token names, with what it is, if the token is this folder's
    /// and has not expired at `now`.
    pub async fn open(&self, token: &str, now: i64) -> Option<(PathBuf, MediaObject)> {
        let (payload, signature) = token.rsplit_once('.')?;
        let (hex_key, expires_at) = payload.split_once('.')?;
        let expected = self.signature(payload);
        let valid: bool =
            subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), signature.as_bytes()).into();
        if !valid || expires_at.parse::<i64>().ok()? < now {
            return None;
        }
        let key = String::from_utf8(hex::decode(hex_key).ok()?).ok()?;
        let object = self.stored(&key).await.ok()??;
        Some((self.file(&key), object))
    }

    async fn read_sidecar(path: &Path) -> Result<Option<Sidecar>, MediaError> {
        match tokio::fs::read(path).await {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Writes `body` to `temp`, returning its size and sha256.
    async fn write(temp: &Path, mut body: ByteStream) -> Result<(u64, String), MediaError> {
        let mut file = tokio::fs::File::create(temp).await.map_err(unavailable)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| MediaError::Source(error.to_string()))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(unavailable)?;
        }
        file.flush().await.map_err(unavailable)?;
        file.sync_all().await.map_err(unavailable)?;
        Ok((size, hex::encode(hasher.finalize())))
    }
}

#[async_trait]
impl MediaStore for LocalMediaFolder {
    async fn stored(&self, key: &str) -> Result<Option<MediaObject>, MediaError> {
        let Some(sidecar) = Self::read_sidecar(&self.sidecar(key)).await? else {
            return Ok(None);
        };
        if !tokio::fs::try_exists(self.file(key))
            .await
            .map_err(unavailable)?
        {
            return Ok(None);
        }
        Ok(Some(MediaObject {
            size: sidecar.size,
            sha256: sidecar.sha256,
            mime_type: sidecar.mime_type,
        }))
    }

    async fn put(
        &self,
        key: &str,
        mime_type: &str,
        expected_sha256: &str,
        body: ByteStream,
    ) -> Result<MediaObject, MediaError> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(unavailable)?;
        let temp = self.root.join(format!(
            ".upload-{}",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let written = Self::write(&temp, body).await;
        let (size, sha256) = match written {
            Ok(written) => written,
            Err(error) => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(error);
            }
        };
        if !sha256.eq_ignore_ascii_case(expected_sha256) {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(MediaError::Corrupt {
                expected: expected_sha256.to_ascii_lowercase(),
                actual: sha256,
            });
        }
        tokio::fs::rename(&temp, self.file(key))
            .await
            .map_err(unavailable)?;
        let object = MediaObject {
            size,
            sha256,
            mime_type: mime_type.to_owned(),
        };
        let sidecar = Sidecar {
            size,
            sha256: object.sha256.clone(),
            mime_type: object.mime_type.clone(),
        };
        let sidecar_temp = temp.with_extension("json");
        let json = serde_json::to_vec(&sidecar).map_err(unavailable)?;
        tokio::fs::write(&sidecar_temp, json)
            .await
            .map_err(unavailable)?;
        tokio::fs::rename(&sidecar_temp, self.sidecar(key))
            .await
            .map_err(unavailable)?;
        Ok(object)
    }

    async fn url(&self, key: &str, now: i64, valid_for: Duration) -> Result<MediaUrl, MediaError> {
        let expires_at = now + valid_for.as_secs() as i64;
        let payload = format!("{}.{expires_at}", hex::encode(key));
        let signature = self.signature(&payload);
        Ok(MediaUrl {
            url: format!("{}/_media/{payload}.{signature}", self.base_url),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&'static [u8]]) -> ByteStream {
        let parts: Vec<Result<bytes::Bytes, std::io::Error>> = parts
            .iter()
            .map(|part| Ok(bytes::Bytes::from_static(part)))
            .collect();
        Box::pin(futures::stream::iter(parts))
    }

    fn folder(name: &str) -> (LocalMediaFolder, PathBuf) {
        let root = std::env::temp_dir().join(format!(
            "intaj-media-{name}-{}-{}",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        ));
        (
            LocalMediaFolder::new(&root, "http://127.0.0.1:3000", b"key".to_vec()),
            root,
        )
    }

    #[tokio::test]
    async fn a_checked_file_is_kept_and_served_by_a_signed_token_until_it_expires() {
        let (folder, root) = folder("kept");
        let sha = hex::encode(Sha256::digest(b"hello world"));
        let kept = folder
            .put(
                "media/b/1",
                "image/jpeg",
                &sha.to_uppercase(),
                body(&[b"hello ", b"world"]),
            )
            .await
            .unwrap();
        assert_eq!(kept.size, 11);
        assert_eq!(
            folder.stored("media/b/1").await.unwrap(),
            Some(kept.clone())
        );
        let url = folder
            .url("media/b/1", 1_000, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(url.expires_at, 1_060);
        let token = url.url.rsplit('/').next().unwrap();
        let (path, object) = folder.open(token, 1_060).await.unwrap();
        assert_eq!(object, kept);
        assert_eq!(tokio::fs::read(path).await.unwrap(), b"hello world");
        assert!(folder.open(token, 1_061).await.is_none(), "expired");
        let forged = token.replace(&hex::encode("media/b/1"), &hex::encode("media/b/2"));
        assert!(folder.open(&forged, 1_000).await.is_none(), "not signed");
        let _ = tokio::fs::remove_dir_all(root).await;
    }

    #[tokio::test]
    async fn a_file_with_the_wrong_sha256_leaves_nothing() {
        let (folder, root) = folder("corrupt");
        let wrong = hex::encode(Sha256::digest(b"something else"));
        let refused = folder
            .put("media/b/2", "image/jpeg", &wrong, body(&[b"hello"]))
            .await;
        assert!(
            matches!(refused, Err(MediaError::Corrupt { .. })),
            "{refused:?}"
        );
        assert_eq!(folder.stored("media/b/2").await.unwrap(), None);
        let mut left = tokio::fs::read_dir(&root).await.unwrap();
        assert!(
            left.next_entry().await.unwrap().is_none(),
            "no temporary file left"
        );
        let _ = tokio::fs::remove_dir_all(root).await;
    }
}
