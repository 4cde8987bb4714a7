//! `S3FileStore`: the `FileStore` port over one S3 bucket, optionally under
//! a key prefix (so one bucket can hold several stores).

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

mod multipart;

use super::sdk_failure::SdkFailure;
use crate::ports::{FileChunks, FileError, FileStore, validate_file_key};

/// Files as objects of one bucket, keyed `prefix/key`.
#[derive(Debug, Clone)]
pub struct S3FileStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// `""` or a prefix ending in `/`.
    base: String,
}

impl S3FileStore {
    /// A store over `bucket`, its keys under `prefix` (slashes around it are
    /// ignored: `Some("imports")` stores `roster.csv` as `imports/roster.csv`).
    ///
    /// Against an emulator (moto), build the client path-style:
    /// `aws_sdk_s3::config::Builder::from(&sdk_config).force_path_style(true)`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, prefix: Option<String>) -> Self {
        let trimmed = prefix.as_deref().unwrap_or_default().trim_matches('/');
        let base = if trimmed.is_empty() { String::new() } else { format!("{trimmed}/") };
        Self { client, bucket: bucket.into(), base }
    }

    fn object_key(&self, key: &str) -> Result<String, FileError> {
        validate_file_key(key)?;
        Ok(format!("{}{key}", self.base))
    }
}

fn unavailable(operation: &str, failure: &SdkFailure) -> FileError {
    FileError::Unavailable(format!("S3 {operation}: {}", failure.describe()))
}

#[async_trait]
impl FileStore for S3FileStore {
    async fn put(&self, key: &str, content: Bytes) -> Result<(), FileError> {
        let object_key = self.object_key(key)?;
        let size = content.len();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .body(ByteStream::from(content))
            .send()
            .await
            .map_err(|e| unavailable("PutObject", &SdkFailure::from_sdk(&e)))?;
        tracing::debug!(bucket = %self.bucket, key = %object_key, size, "file stored in S3");
        Ok(())
    }

    async fn put_chunks(&self, key: &str, chunks: FileChunks) -> Result<u64, FileError> {
        self.put_in_parts(key, chunks).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, FileError> {
        let object_key = self.object_key(key)?;
        let output = match self.client.get_object().bucket(&self.bucket).key(&object_key).send().await {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(unavailable("GetObject", &SdkFailure::from_sdk(&error))),
        };
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| FileError::Unavailable(format!("S3 GetObject body could not be read: {e}")))?;
        Ok(Some(body.into_bytes()))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, FileError> {
        let full_prefix = format!("{}{prefix}", self.base);
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(&full_prefix).into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable("ListObjectsV2", &SdkFailure::from_sdk(&e)))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key())
                    .filter_map(|key| key.strip_prefix(&self.base))
                    // Objects other tools wrote under odd names are not files of this store.
                    .filter(|key| validate_file_key(key).is_ok())
                    .map(str::to_owned),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        let object_key = self.object_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .send()
            .await
            .map_err(|e| unavailable("DeleteObject", &SdkFailure::from_sdk(&e)))?;
        Ok(())
    }
}
