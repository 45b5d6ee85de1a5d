//! [`MediaStore`] on a local folder, for the local stack: each object is written to a temporary
//! file while hashed, renamed into place only if its sha256 is right. Its URL is the local
//! stack's `GET /_media/{token}`, where the token names the object and its expiry, signed with
//! HMAC-SHA256 under a key the stack makes at start. An upload URL is the stack's
//! `PUT /_media/uploads/{token}`, whose token also signs the type, length and file name the PUT
//! must have, as a presigned S3 PUT does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::ports::{
    ByteStream, MediaError, MediaObject, MediaStore, MediaUrl, OpenedUpload, UploadTerms, UploadUrl,
};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
}

/// Why the stack refuses the PUT of an upload.
#[derive(Debug, thiserror::Error)]
pub enum UploadRefused {
    #[error("this upload URL is unknown or has expired; ask for a new one")]
    UnknownOrExpired,
    #[error("the upload URL was made for {0}")]
    Mismatch(String),
    #[error(transparent)]
    Media(#[from] MediaError),
}

/// What an upload token signs.
struct UploadToken {
    key: String,
    size: u64,
    mime_type: String,
    filename: Option<String>,
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

    /// `payload.signature`, with the payload's dot-separated fields after its expiry.
    fn sign(&self, fields: &[&str], expires_at: i64) -> String {
        let payload = format!("{}.{expires_at}", fields.join("."));
        let signature = self.signature(&payload);
        format!("{payload}.{signature}")
    }

    /// The fields of a token this folder signed, if it has not expired at `now`.
    fn verify<'t>(&self, token: &'t str, now: i64) -> Option<Vec<&'t str>> {
        let (payload, signature) = token.rsplit_once('.')?;
        let expected = self.signature(payload);
        let valid: bool =
            subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), signature.as_bytes()).into();
        let (fields, expires_at) = payload.rsplit_once('.')?;
        if !valid || expires_at.parse::<i64>().ok()? < now {
            return None;
        }
        Some(fields.split('.').collect())
    }

    /// The file a `/_media/{token}` token names, with what it is, if the token is this folder's
    /// and has not expired at `now`.
    pub async fn open_url(&self, token: &str, now: i64) -> Option<(PathBuf, MediaObject)> {
        let [hex_key] = self.verify(token, now)?[..] else {
            return None;
        };
        let key = String::from_utf8(hex::decode(hex_key).ok()?).ok()?;
        let object = self.stored(&key).await.ok()??;
        Some((self.file(&key), object))
    }

    fn upload_token(&self, token: &str, now: i64) -> Option<UploadToken> {
        let text = |field: &str| String::from_utf8(hex::decode(field).ok()?).ok();
        let [hex_key, size, hex_mime, hex_filename] = self.verify(token, now)?[..] else {
            return None;
        };
        Some(UploadToken {
            key: text(hex_key)?,
            size: size.parse().ok()?,
            mime_type: text(hex_mime)?,
            filename: Some(text(hex_filename)?).filter(|name| !name.is_empty()),
        })
    }

    /// `PUT /_media/uploads/{token}`: keeps `body` as the upload the token names, if the token is
    /// valid at `now` and the PUT has the type and length it was signed for.
    pub async fn accept_upload(
        &self,
        token: &str,
        now: i64,
        content_type: Option<&str>,
        content_length: Option<u64>,
        body: ByteStream,
    ) -> Result<(), UploadRefused> {
        let upload = self
            .upload_token(token, now)
            .ok_or(UploadRefused::UnknownOrExpired)?;
        if content_type != Some(upload.mime_type.as_str()) || content_length != Some(upload.size) {
            return Err(UploadRefused::Mismatch(format!(
                "Content-Type {} and Content-Length {}",
                upload.mime_type, upload.size
            )));
        }
        let (temp, size, sha256) = self.write_temp(body).await?;
        if size != upload.size {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(UploadRefused::Mismatch(format!("{} bytes", upload.size)));
        }
        let sidecar = Sidecar {
            size,
            sha256,
            mime_type: upload.mime_type,
            filename: upload.filename,
        };
        self.commit(&temp, &upload.key, &sidecar).await?;
        Ok(())
    }

    /// Writes `body` to a new temporary file: its path, size and sha256.
    async fn write_temp(&self, body: ByteStream) -> Result<(PathBuf, u64, String), MediaError> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(unavailable)?;
        let temp = self.root.join(format!(
            ".upload-{}",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        match Self::write(&temp, body).await {
            Ok((size, sha256)) => Ok((temp, size, sha256)),
            Err(error) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(error)
            }
        }
    }

    /// Moves a written file into place under `key`, then its sidecar.
    async fn commit(&self, temp: &Path, key: &str, sidecar: &Sidecar) -> Result<(), MediaError> {
        tokio::fs::rename(temp, self.file(key))
            .await
            .map_err(unavailable)?;
        let sidecar_temp = temp.with_extension("json");
        let json = serde_json::to_vec(sidecar).map_err(unavailable)?;
        tokio::fs::write(&sidecar_temp, json)
            .await
            .map_err(unavailable)?;
        tokio::fs::rename(&sidecar_temp, self.sidecar(key))
            .await
            .map_err(unavailable)
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
        let (temp, size, sha256) = self.write_temp(body).await?;
        if !sha256.eq_ignore_ascii_case(expected_sha256) {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(MediaError::Corrupt {
                expected: expected_sha256.to_ascii_lowercase(),
                actual: sha256,
            });
        }
        let sidecar = Sidecar {
            size,
            sha256,
            mime_type: mime_type.to_owned(),
            filename: None,
        };
        self.commit(&temp, key, &sidecar).await?;
        Ok(MediaObject {
            size,
            sha256: sidecar.sha256,
            mime_type: sidecar.mime_type,
        })
    }

    async fn url(&self, key: &str, now: i64, valid_for: Duration) -> Result<MediaUrl, MediaError> {
        let expires_at = now + valid_for.as_secs() as i64;
        let token = self.sign(&[&hex::encode(key)], expires_at);
        Ok(MediaUrl {
            url: format!("{}/_media/{token}", self.base_url),
            expires_at,
        })
    }

    async fn upload_url(
        &self,
        key: &str,
        terms: UploadTerms<'_>,
        now: i64,
        valid_for: Duration,
    ) -> Result<UploadUrl, MediaError> {
        let expires_at = now + valid_for.as_secs() as i64;
        let fields = [
            hex::encode(key),
            terms.size.to_string(),
            hex::encode(terms.mime_type),
            hex::encode(terms.filename.unwrap_or_default()),
        ];
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let token = self.sign(&fields, expires_at);
        Ok(UploadUrl {
            url: format!("{}/_media/uploads/{token}", self.base_url),
            headers: vec![("content-type".to_owned(), terms.mime_type.to_owned())],
            expires_at,
        })
    }

    async fn open(&self, key: &str) -> Result<Option<OpenedUpload>, MediaError> {
        let Some(sidecar) = Self::read_sidecar(&self.sidecar(key)).await? else {
            return Ok(None);
        };
        let file = match tokio::fs::File::open(self.file(key)).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(unavailable(error)),
        };
        let body = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
        Ok(Some(OpenedUpload {
            size: sidecar.size,
            mime_type: sidecar.mime_type,
            filename: sidecar.filename,
            body: Box::pin(body),
        }))
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
        let (path, object) = folder.open_url(token, 1_060).await.unwrap();
        assert_eq!(object, kept);
        assert_eq!(tokio::fs::read(path).await.unwrap(), b"hello world");
        assert!(folder.open_url(token, 1_061).await.is_none(), "expired");
        let forged = token.replace(&hex::encode("media/b/1"), &hex::encode("media/b/2"));
        assert!(
            folder.open_url(&forged, 1_000).await.is_none(),
            "not signed"
        );
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

    async fn read_all(mut body: ByteStream) -> Vec<u8> {
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        bytes
    }

    #[tokio::test]
    async fn an_upload_is_kept_only_as_its_url_was_signed_and_reads_back() {
        let (folder, root) = folder("upload");
        let terms = UploadTerms {
            mime_type: "application/pdf",
            size: 9,
            filename: Some("Invoice №7.pdf"),
        };
        let url = folder
            .upload_url("uploads/b/u1", terms, 1_000, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(url.expires_at, 1_060);
        assert_eq!(
            url.headers,
            vec![("content-type".to_owned(), "application/pdf".to_owned())]
        );
        let token = url.url.rsplit('/').next().unwrap();
        let put = |now, content_type, length, parts: &[&'static [u8]]| {
            folder.accept_upload(token, now, content_type, length, body(parts))
        };
        let expired = put(1_061, Some("application/pdf"), Some(9), &[b"%PDF-1.7\n"]).await;
        assert!(
            matches!(expired, Err(UploadRefused::UnknownOrExpired)),
            "{expired:?}"
        );
        let retyped = put(1_000, Some("image/png"), Some(9), &[b"%PDF-1.7\n"]).await;
        assert!(
            matches!(retyped, Err(UploadRefused::Mismatch(_))),
            "{retyped:?}"
        );
        let longer = put(
            1_000,
            Some("application/pdf"),
            Some(9),
            &[b"%PDF-1.7\n", b"more"],
        )
        .await;
        assert!(
            matches!(longer, Err(UploadRefused::Mismatch(_))),
            "{longer:?}"
        );
        assert!(
            folder.open("uploads/b/u1").await.unwrap().is_none(),
            "nothing kept yet"
        );

        put(
            1_000,
            Some("application/pdf"),
            Some(9),
            &[b"%PDF-", b"1.7\n"],
        )
        .await
        .unwrap();
        let opened = folder.open("uploads/b/u1").await.unwrap().unwrap();
        assert_eq!(
            (
                opened.size,
                opened.mime_type.as_str(),
                opened.filename.as_deref()
            ),
            (9, "application/pdf", Some("Invoice №7.pdf"))
        );
        assert_eq!(read_all(opened.body).await, b"%PDF-1.7\n");
        let forged = token.replacen(
            &hex::encode("uploads/b/u1"),
            &hex::encode("uploads/c/u1"),
            1,
        );
        let refused = folder
            .accept_upload(
                &forged,
                1_000,
                Some("application/pdf"),
                Some(9),
                body(&[b"x"]),
            )
            .await;
        assert!(
            matches!(refused, Err(UploadRefused::UnknownOrExpired)),
            "{refused:?}"
        );
        let _ = tokio::fs::remove_dir_all(root).await;
    }
}
