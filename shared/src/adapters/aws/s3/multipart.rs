//! `S3FileStore::put_chunks`: a file from its chunks as they arrive, in
//! 8 MiB parts of a multipart upload (a file under one part is one
//! `PutObject`), so an upload never sits whole in the function's memory. A
//! failed chunk or part aborts the upload: nothing is stored.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;

use super::S3FileStore;
use crate::adapters::aws::sdk_failure::SdkFailure;
use crate::ports::{FileChunks, FileError, FileStore};

/// Bytes per part (S3 takes 5 MiB at the least, but for the last part).
const PART_BYTES: usize = 8 * 1024 * 1024;

fn failed(operation: &str, failure: &SdkFailure) -> FileError {
    FileError::Unavailable(format!("S3 {operation}: {}", failure.describe()))
}

/// The next part: at least [`PART_BYTES`], or what is left at the end
/// (`None`: nothing is left).
async fn next_part(chunks: &mut FileChunks, buffer: &mut BytesMut) -> Result<Option<Bytes>, FileError> {
    while buffer.len() < PART_BYTES {
        match chunks.next().await {
            Some(chunk) => buffer.extend_from_slice(&chunk?),
            None => break,
        }
    }
    Ok((!buffer.is_empty()).then(|| buffer.split().freeze()))
}

impl S3FileStore {
    /// See the module docs.
    pub(super) async fn put_in_parts(&self, key: &str, mut chunks: FileChunks) -> Result<u64, FileError> {
        let object_key = self.object_key(key)?;
        let mut buffer = BytesMut::new();
        let Some(first) = next_part(&mut chunks, &mut buffer).await? else {
            self.put(key, Bytes::new()).await?;
            return Ok(0);
        };
        if first.len() < PART_BYTES {
            let size = first.len() as u64;
            self.put(key, first).await?;
            return Ok(size);
        }
        let (client, bucket) = (&self.client, self.bucket.as_str());
        let created = client
            .create_multipart_upload()
            .bucket(bucket)
            .key(&object_key)
            .send()
            .await
            .map_err(|e| failed("CreateMultipartUpload", &SdkFailure::from_sdk(&e)))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let uploaded = async {
            let (mut parts, mut size, mut part) = (Vec::new(), 0u64, Some(first));
            while let Some(content) = part {
                let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
                size += content.len() as u64;
                let sent = client
                    .upload_part()
                    .bucket(bucket)
                    .key(&object_key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(ByteStream::from(content))
                    .send()
                    .await
                    .map_err(|e| failed("UploadPart", &SdkFailure::from_sdk(&e)))?;
                parts.push(CompletedPart::builder().part_number(number).set_e_tag(sent.e_tag).build());
                part = next_part(&mut chunks, &mut buffer).await?;
            }
            client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(&object_key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| failed("CompleteMultipartUpload", &SdkFailure::from_sdk(&e)))?;
            Ok::<_, FileError>(size)
        }
        .await;
        match uploaded {
            Ok(size) => {
                tracing::debug!(bucket, key = %object_key, size, "file stored in S3 in parts");
                Ok(size)
            }
            Err(error) => {
                let abort =
                    client.abort_multipart_upload().bucket(bucket).key(&object_key).upload_id(&upload_id).send().await;
                if let Err(e) = abort {
                    tracing::warn!(bucket, key = %object_key, failure = %SdkFailure::from_sdk(&e).describe(), "multipart upload not aborted; the bucket's lifecycle rule removes it");
                }
                Err(error)
            }
        }
    }
}
