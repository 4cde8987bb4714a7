//! The `FileStore` port: whole files by key (import files, exports).

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use futures::StreamExt as _;

/// What went wrong with the file store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The key is not a safe relative path.
    #[error("invalid file key: {0}")]
    InvalidKey(String),
    /// The store could not be reached or failed. Retryable.
    #[error("file store unavailable: {0}")]
    Unavailable(String),
    /// The file could not be read as it arrived (cut off); nothing was stored.
    #[error("the file could not be received: {0}")]
    Incoming(String),
    /// The file is larger than its route takes; nothing was stored.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The most bytes taken.
        limit: u64,
    },
}

impl FileError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, FileError::Unavailable(_))
    }
}

/// Checks a key is a relative path of plain segments (`a/b.csv`): no empty,
/// `.` or `..` segment, no backslash, no control character.
pub fn validate_file_key(key: &str) -> Result<(), FileError> {
    let bad = key.is_empty()
        || key.len() > 1024
        || key.contains('\\')
        || key.chars().any(char::is_control)
        || key.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..");
    if bad { Err(FileError::InvalidKey(format!("`{key}` is not a relative path of plain segments"))) } else { Ok(()) }
}

/// A file's bytes as they arrive (an upload read off the network).
pub type FileChunks = Pin<Box<dyn Stream<Item = Result<Bytes, FileError>> + Send>>;

/// A file already in memory, as chunks.
pub fn chunks_of(content: Bytes) -> FileChunks {
    Box::pin(futures::stream::once(async move { Ok(content) }))
}

/// Stores whole files by key.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Writes (or replaces) the file. Idempotent.
    async fn put(&self, key: &str, content: Bytes) -> Result<(), FileError>;

    /// Writes (or replaces) the file from its chunks as they arrive, without
    /// holding the whole file in memory where the backend allows (a
    /// directory writes each chunk; S3 uploads parts); answers its size. A
    /// chunk that fails stores nothing. This default gathers the chunks and
    /// puts them at once.
    async fn put_chunks(&self, key: &str, mut chunks: FileChunks) -> Result<u64, FileError> {
        let mut content = bytes::BytesMut::new();
        while let Some(chunk) = chunks.next().await {
            content.extend_from_slice(&chunk?);
        }
        let size = content.len() as u64;
        self.put(key, content.freeze()).await?;
        Ok(size)
    }

    /// The file, if it exists.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, FileError>;

    /// Keys under the prefix (`""` for all), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, FileError>;

    /// Removes the file; removing nothing is fine.
    async fn delete(&self, key: &str) -> Result<(), FileError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_must_be_plain_relative_paths() {
        assert!(validate_file_key("imports/2026/roster.zip").is_ok());
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\\b", "a/"] {
            assert!(validate_file_key(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
