//! The S3 media store on moto (skipped when it is not running, unless
//! `INTAJ_TEST_REQUIRE_SERVICES=1`): a file of more than one part streamed through a multipart
//! upload and read back by its presigned URL, and an upload with the wrong sha256 aborted,
//! leaving no object and no upload.

use std::time::Duration;

use bytes::Bytes;
use intaj_shared::adapters::S3MediaStore;
use intaj_shared::adapters::s3_media::PART_SIZE;
use intaj_shared::bootstrap::s3_client;
use intaj_shared::ports::{ByteStream, MediaError, MediaStore};
use intaj_test_support::{LocalServices, unique};
use sha2::{Digest, Sha256};

/// A bucket of this run, and the store on it.
async fn store() -> Option<(aws_sdk_s3::Client, String, S3MediaStore)> {
    let config = LocalServices::from_env("s3_media")?.moto_config().await;
    let client = s3_client(&config, true);
    let bucket = unique("intaj-media");
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let store = S3MediaStore::new(client.clone(), bucket.clone());
    Some((client, bucket, store))
}

/// `bytes` in chunks of 64 KiB, as a download arrives.
fn chunked(bytes: &Bytes) -> ByteStream {
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..bytes.len())
        .step_by(64 * 1024)
        .map(|start| Ok(bytes.slice(start..(start + 64 * 1024).min(bytes.len()))))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

/// A file of one part and a bit, not a repeating pattern.
fn file() -> Bytes {
    let size = PART_SIZE + 300 * 1024 + 7;
    let mut state = 0x2545_f491_u32;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

#[tokio::test]
async fn a_file_larger_than_a_part_is_streamed_in_parts_and_read_back_by_its_url() {
    let Some((client, bucket, store)) = store().await else {
        return;
    };
    let bytes = file();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let key = "media/demo/1234";
    assert_eq!(store.stored(key).await.unwrap(), None);

    let kept = store
        .put(key, "video/mp4", &sha256.to_uppercase(), chunked(&bytes))
        .await
        .unwrap();
    assert_eq!(
        (kept.size, kept.sha256.as_str()),
        (bytes.len() as u64, sha256.as_str())
    );
    assert_eq!(store.stored(key).await.unwrap(), Some(kept.clone()));

    // Two parts: S3 reports a multipart object's ETag as `"<md5 of the parts' md5s>-<parts>"`.
    let head = client
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert!(
        head.e_tag().unwrap_or_default().ends_with("-2\""),
        "{:?}",
        head.e_tag()
    );
    assert_eq!(head.content_type(), Some("video/mp4"));

    let url = store
        .url(key, 1_000, Duration::from_secs(900))
        .await
        .unwrap();
    assert_eq!(url.expires_at, 1_900);
    assert!(url.url.contains("X-Amz-Signature="), "{}", url.url);
    let response = intaj_shared::http_clients::http_client()
        .get(&url.url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let read = response.bytes().await.unwrap();
    assert_eq!(read.len(), bytes.len());
    assert!(read == bytes, "the same bytes");
}

#[tokio::test]
async fn a_wrong_sha256_aborts_the_upload_and_keeps_nothing() {
    let Some((client, bucket, store)) = store().await else {
        return;
    };
    let bytes = file();
    let wrong = hex::encode(Sha256::digest(b"another file"));
    let key = "media/demo/5678";
    let refused = store.put(key, "video/mp4", &wrong, chunked(&bytes)).await;
    assert!(
        matches!(&refused, Err(MediaError::Corrupt { expected, .. }) if *expected == wrong),
        "{refused:?}"
    );
    assert_eq!(store.stored(key).await.unwrap(), None);
    let uploads = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(
        uploads.uploads().is_empty(),
        "aborted: {:?}",
        uploads.uploads()
    );
}

#[tokio::test]
async fn an_upload_put_by_its_presigned_url_is_read_back_as_a_stream_with_its_terms() {
    use futures::StreamExt;
    use intaj_shared::ports::UploadTerms;

    let Some((_, _, store)) = store().await else {
        return;
    };
    let key = "uploads/demo/0123456789abcdef0123456789abcdef";
    assert!(store.open(key).await.unwrap().is_none(), "nothing PUT yet");
    let bytes = file();
    let terms = UploadTerms {
        mime_type: "application/pdf",
        size: bytes.len() as u64,
        filename: Some("Facture n°7.pdf"),
    };
    // Signed from a `now` in the past: the URL carries that time and its 15 minutes, which is
    // what S3 enforces (moto 5.2.5 does not enforce a presigned URL's expiry).
    let now = 1_700_000_000;
    let url = store
        .upload_url(key, terms, now, Duration::from_secs(900))
        .await
        .unwrap();
    assert_eq!(url.expires_at, now + 900);
    assert!(
        url.url.contains("X-Amz-Date=20231114T221320Z"),
        "{}",
        url.url
    );
    assert!(url.url.contains("X-Amz-Expires=900"), "{}", url.url);
    let header = |name: &str| {
        url.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(header("content-type"), Some("application/pdf"));
    assert_eq!(
        header("x-amz-meta-filename"),
        Some("Facture%20n%C2%B07%2Epdf")
    );

    // Now a URL valid from now, PUT as a business would: the answered headers, the bytes.
    let url = store
        .upload_url(
            key,
            terms,
            intaj_shared::clock::unix_now(),
            Duration::from_secs(900),
        )
        .await
        .unwrap();
    let mut put = intaj_shared::http_clients::http_client()
        .put(&url.url)
        .body(bytes.clone());
    for (name, value) in &url.headers {
        put = put.header(name, value);
    }
    let response = put.send().await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);

    let opened = store.open(key).await.unwrap().expect("the upload is there");
    assert_eq!(
        (
            opened.size,
            opened.mime_type.as_str(),
            opened.filename.as_deref()
        ),
        (
            bytes.len() as u64,
            "application/pdf",
            Some("Facture n°7.pdf")
        )
    );
    let mut read = Vec::new();
    let mut body = opened.body;
    while let Some(chunk) = body.next().await {
        read.extend_from_slice(&chunk.unwrap());
    }
    assert!(read == bytes, "the same bytes");
}
