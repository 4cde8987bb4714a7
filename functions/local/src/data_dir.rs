//! The local data directory (`./.schoolbell/` by default): the embedded
//! store, the queues, the token signing secret, the page cursor key, the
//! file store, and what the simulated providers sent: the email outbox,
//! the texts and the calls, one file a message.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// The directory or one of its files could not be read or written.
    #[error("data directory {path}: {source}")]
    Io {
        /// What was being accessed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The secret file exists but does not hold a usable secret.
    #[error("secret file {0} is corrupt: delete it to make a new one ({1})")]
    CorruptSecret(PathBuf, &'static str),
}

/// Bytes of the HS256 signing secret.
const SECRET_BYTES: usize = 32;
/// Bytes of the key that seals page cursors.
const CURSOR_KEY_BYTES: usize = schoolbell::services::cursors::CURSOR_KEY_BYTES;

/// A data directory, created on first use.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io { path: path.to_path_buf(), source }
}

impl DataDir {
    /// Opens the directory, creating it (and its subfolders) if missing.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, DataDirError> {
        let root = root.into();
        for dir in [root.clone(), root.join("outbox"), root.join("texts"), root.join("calls"), root.join("files")] {
            fs::create_dir_all(&dir).map_err(io(&dir))?;
            owner_only(&dir, 0o700)?;
        }
        let data = Self { root };
        let store = data.store_path();
        if store.exists() {
            owner_only(&store, 0o600)?;
        }
        Ok(data)
    }

    /// Makes the store file (created by the embedded table) the owner's only.
    pub fn secure_store(&self) -> Result<(), DataDirError> {
        owner_only(&self.store_path(), 0o600)
    }

    /// The embedded store's file.
    pub fn store_path(&self) -> PathBuf {
        self.root.join("store.redb")
    }

    /// The local queues' file: plan and send tasks not yet done.
    pub fn queues_path(&self) -> PathBuf {
        self.root.join("queues.redb")
    }

    /// Where the outbox writes `.eml` files.
    pub fn outbox_dir(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// Where the simulated carrier writes each text as a JSON file.
    pub fn texts_dir(&self) -> PathBuf {
        self.root.join("texts")
    }

    /// Where the simulated voice service writes each call as a JSON file.
    pub fn calls_dir(&self) -> PathBuf {
        self.root.join("calls")
    }

    /// Where the local file store keeps import files.
    pub fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    /// The local token signing secret, created (random, mode 0600) on first use.
    pub fn signing_secret(&self) -> Result<Vec<u8>, DataDirError> {
        self.secret("secret.key", SECRET_BYTES, "tokens signed with it stop working")
    }

    /// The key that seals the page cursors the API hands out, created
    /// (random, mode 0600) on first use and kept, so cursors outlive a restart.
    pub fn cursor_key(&self) -> Result<[u8; CURSOR_KEY_BYTES], DataDirError> {
        let path = self.root.join("cursor.key");
        let key = self.secret("cursor.key", CURSOR_KEY_BYTES, "cursors handed out before stop working")?;
        key.get(..CURSOR_KEY_BYTES)
            .and_then(|key| key.try_into().ok())
            .ok_or(DataDirError::CorruptSecret(path, "cursors handed out before stop working"))
    }

    /// A random secret of at least `bytes` bytes kept (hex) in the file
    /// `name`, made by whichever process asks first; `lost` says what
    /// replacing it would break.
    fn secret(&self, name: &str, bytes: usize, lost: &'static str) -> Result<Vec<u8>, DataDirError> {
        let path = self.root.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => {
                decode_hex(text.trim()).filter(|s| s.len() >= bytes).ok_or(DataDirError::CorruptSecret(path, lost))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
                let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(&path) {
                    Ok(mut file) => {
                        file.write_all(hex.as_bytes()).map_err(io(&path))?;
                        Ok(secret)
                    }
                    // Another process made it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.secret(name, bytes, lost),
                    Err(e) => Err(io(&path)(e)),
                }
            }
            Err(e) => Err(io(&path)(e)),
        }
    }
}

/// The data directory holds families' numbers and addresses and the token
/// secret: only its owner may read it (directories 0700, the store 0600).
fn owner_only(path: &Path, mode: u32) -> Result<(), DataDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_the_owner_may_read_the_data_directory_and_its_store() -> Result<(), DataDirError> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().map_err(io(Path::new("tmp")))?;
        let data = DataDir::open(dir.path().join("data"))?;
        fs::write(data.store_path(), b"").map_err(io(Path::new("store")))?;
        data.secure_store()?;
        let mode = |path: &Path| fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or_default();
        for sub in ["", "outbox", "texts", "calls", "files"] {
            assert_eq!(mode(&dir.path().join("data").join(sub)), 0o700, "{sub}");
        }
        assert_eq!(mode(&data.store_path()), 0o600);
        Ok(())
    }

    #[test]
    fn the_secret_is_made_once_and_kept() -> Result<(), DataDirError> {
        let dir = tempfile::tempdir().map_err(io(Path::new("tmp")))?;
        let data = DataDir::open(dir.path().join("nested"))?;
        let first = data.signing_secret()?;
        assert_eq!(first.len(), SECRET_BYTES);
        assert_eq!(DataDir::open(dir.path().join("nested"))?.signing_secret()?, first);
        Ok(())
    }

    #[test]
    fn a_corrupt_secret_is_reported_not_replaced() -> Result<(), DataDirError> {
        let dir = tempfile::tempdir().map_err(io(Path::new("tmp")))?;
        let data = DataDir::open(dir.path())?;
        fs::write(dir.path().join("secret.key"), "zz").map_err(io(dir.path()))?;
        assert!(matches!(data.signing_secret(), Err(DataDirError::CorruptSecret(..))));
        fs::write(dir.path().join("cursor.key"), "00ff").map_err(io(dir.path()))?;
        assert!(matches!(data.cursor_key(), Err(DataDirError::CorruptSecret(..))));
        Ok(())
    }

    #[test]
    fn the_cursor_key_is_made_once_kept_and_only_the_owner_may_read_it() -> Result<(), DataDirError> {
        let dir = tempfile::tempdir().map_err(io(Path::new("tmp")))?;
        let data = DataDir::open(dir.path())?;
        let first = data.cursor_key()?;
        assert_eq!(DataDir::open(dir.path())?.cursor_key()?, first);
        assert_ne!(first.to_vec(), data.signing_secret()?, "a key of its own");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join("cursor.key")).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.map_err(io(dir.path()))?, 0o600);
        }
        Ok(())
    }
}
