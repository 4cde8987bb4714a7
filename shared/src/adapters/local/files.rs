//! `DirFileStore`: the `FileStore` port over a directory. A key `a/b.csv` is
//! the file `<root>/a/b.csv`; writes are atomic (temporary file, then
//! rename), so a reader sees the old file or the new one, never half.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::ports::{FileChunks, FileError, FileStore, validate_file_key};

/// Names of files being written start with this; they are not files of the
/// store, and no key may use it.
const PARTIAL_MARK: &str = ".~partial-";

/// Files in a directory (created on the first write).
#[derive(Debug, Clone)]
pub struct DirFileStore {
    root: PathBuf,
}

impl DirFileStore {
    /// A store over `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, FileError> {
        validate_file_key(key)?;
        if key.split('/').any(|segment| segment.starts_with(PARTIAL_MARK)) {
            return Err(FileError::InvalidKey(format!("`{key}` uses the store's reserved `{PARTIAL_MARK}` names")));
        }
        Ok(self.root.join(key))
    }
}

fn unavailable(operation: &str, key: &str, error: &std::io::Error) -> FileError {
    FileError::Unavailable(format!("{operation} `{key}`: {error}"))
}

/// Every file key under `dir` (whose key is `dir_key`), recursively.
fn walk(dir: &Path, dir_key: &str, keys: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(PARTIAL_MARK) {
            continue;
        }
        let key = if dir_key.is_empty() { name } else { format!("{dir_key}/{name}") };
        // Symbolic links are not followed: the store is the tree itself.
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&entry.path(), &key, keys)?;
        } else if file_type.is_file() && validate_file_key(&key).is_ok() {
            keys.push(key);
        }
    }
    Ok(())
}

#[async_trait]
impl FileStore for DirFileStore {
    async fn put(&self, key: &str, content: Bytes) -> Result<(), FileError> {
        let path = self.path_of(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable("put", key, &e))?;
        let partial = dir.join(format!("{PARTIAL_MARK}{}", uuid::Uuid::new_v4().simple()));
        if let Err(error) = tokio::fs::write(&partial, &content).await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(unavailable("put", key, &error));
        }
        if let Err(error) = tokio::fs::rename(&partial, &path).await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(unavailable("put", key, &error));
        }
        tracing::debug!(root = %self.root.display(), key, size = content.len(), "file stored");
        Ok(())
    }

    async fn put_chunks(&self, key: &str, mut chunks: FileChunks) -> Result<u64, FileError> {
        let path = self.path_of(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable("put", key, &e))?;
        let partial = dir.join(format!("{PARTIAL_MARK}{}", uuid::Uuid::new_v4().simple()));
        // Each chunk goes to disk as it comes; only a complete file is renamed into place.
        let written = async {
            let mut file = tokio::fs::File::create(&partial).await.map_err(|e| unavailable("put", key, &e))?;
            let mut size = 0u64;
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                file.write_all(&chunk).await.map_err(|e| unavailable("put", key, &e))?;
                size += chunk.len() as u64;
            }
            file.flush().await.map_err(|e| unavailable("put", key, &e))?;
            tokio::fs::rename(&partial, &path).await.map_err(|e| unavailable("put", key, &e))?;
            Ok::<_, FileError>(size)
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        let size = written?;
        tracing::debug!(root = %self.root.display(), key, size, "file stored from its chunks");
        Ok(size)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, FileError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(content) => Ok(Some(Bytes::from(content))),
            Err(error)
                if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory) =>
            {
                Ok(None)
            }
            Err(error) => Err(unavailable("get", key, &error)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, FileError> {
        // Walk only the deepest directory the prefix names. If that part is
        // not a valid key, no valid key can start with the prefix.
        let dir_key = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
        if !dir_key.is_empty() && validate_file_key(dir_key).is_err() {
            return Ok(Vec::new());
        }
        let start = if dir_key.is_empty() { self.root.clone() } else { self.root.join(dir_key) };
        let (dir_key, prefix_owned) = (dir_key.to_owned(), prefix.to_owned());
        let mut keys = tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            walk(&start, &dir_key, &mut keys).map(|()| keys)
        })
        .await
        .map_err(|e| FileError::Unavailable(format!("list `{prefix_owned}`: {e}")))?
        .map_err(|e| unavailable("list", prefix, &e))?;
        keys.retain(|key| key.starts_with(prefix));
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(()),
            Err(error) => Err(unavailable("delete", key, &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_round_trip_and_list_sorted_under_a_prefix() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = DirFileStore::new(dir.path().join("files"));
        assert_eq!(store.list("").await?, Vec::<String>::new());
        for key in ["imports/b.csv", "imports/a.csv", "imports/2026/x.zip", "exports/e.csv"] {
            store.put(key, Bytes::from(key.to_owned())).await?;
        }
        assert_eq!(store.get("imports/a.csv").await?, Some(Bytes::from("imports/a.csv")));
        assert_eq!(store.list("imports/").await?, ["imports/2026/x.zip", "imports/a.csv", "imports/b.csv"]);
        assert_eq!(store.list("imp").await?, ["imports/2026/x.zip", "imports/a.csv", "imports/b.csv"]);
        assert_eq!(store.list("imports/2026/").await?, ["imports/2026/x.zip"]);
        assert_eq!(store.list("nothing/here/").await?, Vec::<String>::new());
        assert_eq!(store.get("imports").await?, None);
        store.delete("imports/a.csv").await?;
        store.delete("imports/a.csv").await?;
        assert_eq!(store.get("imports/a.csv").await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn unsafe_and_reserved_keys_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = DirFileStore::new(dir.path());
        for bad in ["../escape", "/etc/passwd", "a/.~partial-1"] {
            assert!(matches!(store.put(bad, Bytes::new()).await, Err(FileError::InvalidKey(_))), "{bad}");
        }
        assert_eq!(store.list("../").await?, Vec::<String>::new());
        Ok(())
    }
}
